//! Grouped-query attention with per-head sinks and an optional sliding
//! window, as transformers' `eager_attention_forward` computes it: the
//! sink's logit joins the softmax denominator only.

use std::cell::RefCell;

use mxfp4::vector;
use rayon::prelude::*;

use crate::config::{Config, LayerType};
use crate::error::Result;
use crate::kv_cache::LayerCache;
use crate::layers::linear::{DenseFormat, Linear, f32_vec};
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
    pub fn load(ckpt: &'a Checkpoint, config: &Config, layer: usize, dense: DenseFormat) -> Result<Self> {
        let p = format!("model.layers.{layer}.self_attn");
        let (h, kvh, d, hidden) =
            (config.num_attention_heads, config.num_key_value_heads, config.head_dim(), config.hidden_size);
        let bias = config.attention_bias;
        Ok(Self {
            q: Linear::load_dense(ckpt, &format!("{p}.q_proj"), h * d, hidden, bias, dense)?,
            k: Linear::load_dense(ckpt, &format!("{p}.k_proj"), kvh * d, hidden, bias, dense)?,
            v: Linear::load_dense(ckpt, &format!("{p}.v_proj"), kvh * d, hidden, bias, dense)?,
            o: Linear::load_dense(ckpt, &format!("{p}.o_proj"), hidden, h * d, bias, dense)?,
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
        // Side by side: one decode token's k and v products are short.
        let ((mut q, mut k), v) = rayon::join(
            || rayon::join(|| self.q.forward_slice(x, n), || self.k.forward_slice(x, n)),
            || self.v.forward_slice(x, n),
        );
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

    /// Softmax attention of queries at positions `pos ..` over `cache`: one
    /// task per query and head, spread over the rayon threads.
    fn attend(&self, q: &[f32], pos: usize, cache: &LayerCache, out: &mut [f32]) {
        let d = self.head_dim;
        let (qd, kd) = (self.heads * d, self.kv_heads * d);
        let group = self.heads / self.kv_heads;
        let scale = (d as f32).powf(-0.5);
        out.par_chunks_mut(d).enumerate().for_each(|(i, oh)| {
            let (t, h) = (i / self.heads, i % self.heads);
            let qpos = pos + t;
            // Visible keys: causal, and within the window on sliding layers.
            let first = self.window.map_or(0, |w| (qpos + 1).saturating_sub(w)).max(cache.start);
            let (lo, hi) = (first - cache.start, qpos + 1 - cache.start);
            let kv = (h / group) * d;
            let qh = &q[t * qd + h * d..][..d];
            SCORES.with_borrow_mut(|scores| {
                scores.resize(hi - lo, 0.0);
                let keys = &cache.keys[lo * kd + kv..];
                let max = vector::scaled_dots(qh, keys, kd, scale, scores).max(self.sinks[h]);
                let denom = vector::exp_shifted(scores, max) + (self.sinks[h] - max).exp();
                oh.fill(0.0);
                vector::add_weighted_rows(scores, &cache.values[lo * kd + kv..], kd, oh);
                oh.iter_mut().for_each(|o| *o /= denom);
            });
        });
    }
}

thread_local! {
    /// One query's attention scores: a buffer per thread, reused by every
    /// task that thread runs, rather than an allocation per task on each
    /// rayon worker (churn in the allocator's per-thread arenas under load).
    static SCORES: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}
