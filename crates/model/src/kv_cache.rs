//! Per-sequence key/value cache. Sliding-window layers keep at most twice
//! the window, so their memory stays bounded however long the sequence
//! grows.

/// Keys and values of one layer, `[positions][kv_heads * head_dim]`, after
/// rotary embedding.
#[derive(Clone, Debug, Default)]
pub struct LayerCache {
    pub keys: Vec<f32>,
    pub values: Vec<f32>,
    /// Absolute position of the first cached entry.
    pub start: usize,
    /// Most entries kept (`None`: all).
    pub window: Option<usize>,
}

impl LayerCache {
    pub fn new(window: Option<usize>) -> Self {
        Self { window, ..Self::default() }
    }

    /// Entries held, `keys.len() / stride`.
    pub fn len(&self, stride: usize) -> usize {
        self.keys.len() / stride
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn append(&mut self, keys: &[f32], values: &[f32]) {
        self.keys.extend_from_slice(keys);
        self.values.extend_from_slice(values);
    }

    /// Drops entries no future query can see: a query at position `q`
    /// needs keys down to `q - window + 1`, so `window - 1` past entries
    /// suffice; one more is kept for simplicity. Entries are dropped a
    /// window's worth at a time, once twice the window is held: dropping
    /// one per token moved the whole window in memory at every step.
    pub fn trim(&mut self, stride: usize) {
        let Some(window) = self.window else { return };
        let len = self.len(stride);
        if len >= 2 * window {
            let drop = len - window;
            self.keys.drain(..drop * stride);
            self.values.drain(..drop * stride);
            self.start += drop;
        }
    }
}

/// The cache of one sequence: a [`LayerCache`] per layer and the number of
/// positions processed so far.
#[derive(Clone, Debug)]
pub struct Cache {
    pub layers: Vec<LayerCache>,
    pub position: usize,
}

impl Cache {
    pub fn new(windows: impl IntoIterator<Item = Option<usize>>) -> Self {
        Self { layers: windows.into_iter().map(LayerCache::new).collect(), position: 0 }
    }

    /// Floats held in keys and values over all layers.
    pub fn floats(&self) -> usize {
        self.layers.iter().map(|l| l.keys.len() + l.values.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One entry per step, as decode appends them: the cache holds between
    /// one and two windows, and entry `i` of it is always position
    /// `start + i`, the last `window` positions among them.
    #[test]
    fn sliding_cache_keeps_the_window_and_its_positions() {
        let (window, stride) = (4, 3);
        let mut cache = LayerCache::new(Some(window));
        for pos in 0..40 {
            let entry: Vec<f32> = (0..stride).map(|i| (pos * stride + i) as f32).collect();
            cache.append(&entry, &entry);
            cache.trim(stride);
            let len = cache.len(stride);
            assert!(len >= window.min(pos + 1) && len < 2 * window, "position {pos}: {len} entries");
            assert_eq!(cache.start + len, pos + 1, "position {pos}");
            for (i, key) in cache.keys.chunks_exact(stride).enumerate() {
                assert_eq!(key[0], ((cache.start + i) * stride) as f32, "position {pos}, entry {i}");
            }
            assert_eq!(cache.values, cache.keys);
        }
    }
}
