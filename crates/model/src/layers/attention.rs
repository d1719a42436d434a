//! Grouped-query attention with per-head sinks and an optional sliding
//! window, as transformers' `eager_attention_forward` computes it: the
//! sink's logit joins the softmax denominator only.

use crate::config::{Config, LayerType};
use crate::error::Result;
use crate::kv_cache::LayerCache;
use crate::layers::linear::{Linear, f32_vec};
use crate::layers::rope::Rope;
use crate::weights::Checkpoint;

pub struct Attention<'a> {
    q: Linear<'a>,
    k: Linear<'a>,
    v: Linear<'a>,
    o: Linear<'a>,
    sinks: Vec<f32>,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    /// Keys visible to a query: positions `q - window + 1 ..= q`.
    pub window: Option<usize>,
}

impl<'a> Attention<'a> {
    pub fn load(ckpt: &'a Checkpoint, config: &Config, layer: usize) -> Result<Self> {
        let p = format!("model.layers.{layer}.self_attn");
        let (h, kvh, d, hidden) =
            (config.num_attention_heads, config.num_key_value_heads, config.head_dim(), config.hidden_size);
        let bias = config.attention_bias;
        Ok(Self {
            q: Linear::load_bf16(ckpt, &format!("{p}.q_proj"), h * d, hidden, bias)?,
            k: Linear::load_bf16(ckpt, &format!("{p}.k_proj"), kvh * d, hidden, bias)?,
            v: Linear::load_bf16(ckpt, &format!("{p}.v_proj"), kvh * d, hidden, bias)?,
            o: Linear::load_bf16(ckpt, &format!("{p}.o_proj"), hidden, h * d, bias)?,
            sinks: f32_vec(ckpt, &format!("{p}.sinks"), &[h])?,
            heads: h,
            kv_heads: kvh,
            head_dim: d,
            window: (config.layer_type(layer) == LayerType::SlidingAttention).then_some(config.sliding_window),
        })
    }

    /// Attention for a batch of sequences whose normalized hidden states are
    /// stacked in `x` (`[tokens, hidden]`): sequence `s` owns `lens[s]`
    /// consecutive rows starting at absolute position `positions[s]`, and
    /// its cache `caches[s]`. Returns `[tokens, hidden]`.
    pub fn forward(
        &self,
        x: &[f32],
        lens: &[usize],
        positions: &[usize],
        caches: &mut [&mut LayerCache],
        rope: &Rope,
    ) -> Vec<f32> {
        let n: usize = lens.iter().sum();
        let (qd, kd) = (self.heads * self.head_dim, self.kv_heads * self.head_dim);
        let mut q = self.q.forward_slice(x, n);
        let mut k = self.k.forward_slice(x, n);
        let v = self.v.forward_slice(x, n);
        let mut out = vec![0.0f32; n * qd];
        let mut row = 0;
        for ((&len, &pos), cache) in lens.iter().zip(positions).zip(caches.iter_mut()) {
            for t in 0..len {
                rope.apply(
                    pos + t,
                    &mut q[(row + t) * qd..(row + t + 1) * qd],
                    &mut k[(row + t) * kd..(row + t + 1) * kd],
                );
            }
            cache.append(&k[row * kd..(row + len) * kd], &v[row * kd..(row + len) * kd]);
            self.attend(&q[row * qd..(row + len) * qd], pos, cache, &mut out[row * qd..(row + len) * qd]);
            cache.trim(kd);
            row += len;
        }
        self.o.forward_slice(&out, n)
    }

    /// Softmax attention of queries at positions `pos ..` over `cache`.
    fn attend(&self, q: &[f32], pos: usize, cache: &LayerCache, out: &mut [f32]) {
        let d = self.head_dim;
        let (qd, kd) = (self.heads * d, self.kv_heads * d);
        let group = self.heads / self.kv_heads;
        let scale = (d as f32).powf(-0.5);
        let keys = cache.len(kd);
        let mut scores = vec![0.0f32; keys];
        for (t, (qt, ot)) in q.chunks_exact(qd).zip(out.chunks_exact_mut(qd)).enumerate() {
            let qpos = pos + t;
            // Visible keys: causal, and within the window on sliding layers.
            let first = self.window.map_or(0, |w| (qpos + 1).saturating_sub(w)).max(cache.start);
            let (lo, hi) = (first - cache.start, qpos + 1 - cache.start);
            for h in 0..self.heads {
                let kvh = h / group;
                let qh = &qt[h * d..(h + 1) * d];
                let mut max = self.sinks[h];
                for (j, score) in scores.iter_mut().enumerate().take(hi).skip(lo) {
                    let kj = &cache.keys[j * kd + kvh * d..j * kd + (kvh + 1) * d];
                    *score = qh.iter().zip(kj).map(|(a, b)| a * b).sum::<f32>() * scale;
                    max = max.max(*score);
                }
                let mut denom = (self.sinks[h] - max).exp();
                for s in &mut scores[lo..hi] {
                    *s = (*s - max).exp();
                    denom += *s;
                }
                let oh = &mut ot[h * d..(h + 1) * d];
                oh.fill(0.0);
                for (j, &p) in scores.iter().enumerate().take(hi).skip(lo) {
                    let vj = &cache.values[j * kd + kvh * d..j * kd + (kvh + 1) * d];
                    let w = p / denom;
                    for (o, &vv) in oh.iter_mut().zip(vj) {
                        *o += w * vv;
                    }
                }
            }
        }
    }
}
