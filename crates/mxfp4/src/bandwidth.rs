//! The machine's read bandwidth, the limit that decoding (which streams
//! every weight once per token) is measured against: all rayon threads each
//! sum their part of a buffer far larger than the caches.

use std::hint::black_box;
use std::time::Instant;

use crate::huge::HugeBuf;

/// The threads the probe reads with: rayon's global pool (as the kernels).
pub fn threads() -> usize {
    rayon::current_num_threads()
}

/// GB/s (10^9 bytes) of all rayon threads reading a fresh buffer of `bytes`
/// (rounded down to 8), best of `passes`.
pub fn read_bandwidth(bytes: usize, passes: usize) -> f64 {
    read_bandwidth_of(&ProbeBuffer::new(bytes / 8), passes)
}

/// `words` distinct non-zero u64 (a zeroed allocation could map one shared
/// page), on transparent huge pages where the kernel grants them: decode
/// reads its weights from page-cache folios that are mostly 2 MiB, and on
/// 4 KiB pages the probe would read measurably slower than the weights do.
pub struct ProbeBuffer(HugeBuf<u64>);

impl ProbeBuffer {
    pub fn new(words: usize) -> Self {
        let mut buf = HugeBuf::zeroed(words);
        buf.iter_mut().enumerate().for_each(|(i, v)| *v = i as u64 ^ 0x9E37_79B9_7F4A_7C15);
        Self(buf)
    }
}

impl std::ops::Deref for ProbeBuffer {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        &self.0
    }
}

/// GB/s of all rayon threads each summing its share of `buf`, best of `passes`.
pub fn read_bandwidth_of(buf: &[u64], passes: usize) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..passes.max(1) {
        let start = Instant::now();
        black_box(parallel_sum(buf));
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::mem::size_of_val(buf) as f64 / best / 1e9
}

/// Wrapping sum of `buf` on all rayon threads, each over its own part.
pub fn parallel_sum(buf: &[u64]) -> u64 {
    rayon::broadcast(|ctx| {
        let part = buf.len().div_ceil(ctx.num_threads());
        let lo = (ctx.index() * part).min(buf.len());
        let hi = (lo + part).min(buf.len());
        sum(&buf[lo..hi])
    })
    .into_iter()
    .fold(0, u64::wrapping_add)
}

/// Wrapping sum, vectorized as wide as the CPU goes: on Zen 3 a plain SSE2
/// loop reads DRAM measurably slower than an AVX2 one.
fn sum(p: &[u64]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU just reported AVX2, the feature `sum_avx2` is
        // compiled for.
        return unsafe { sum_avx2(p) };
    }
    p.iter().fold(0u64, |a, &v| a.wrapping_add(v))
}

/// Wrapping integer adds reassociate freely, so this compiles to 256-bit
/// loads and adds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sum_avx2(p: &[u64]) -> u64 {
    p.iter().fold(0u64, |a, &v| a.wrapping_add(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_sum_adds_every_element_once() {
        let buf: Vec<u64> = (0..100_003).collect();
        assert_eq!(parallel_sum(&buf), 100_003 * 100_002 / 2);
        assert!(read_bandwidth(1 << 20, 1) > 0.0);
    }
}
