//! Rotary position embeddings with YaRN scaling, computed exactly as
//! transformers' `_compute_yarn_parameters` does (f32 frequencies, the ramp
//! bounds rounded only when `truncate` is set), applied NeoX style: the
//! two halves of each head rotate together.

use std::f64::consts::PI;

use crate::config::Config;

pub struct Rope {
    /// One frequency per pair of dimensions: `head_dim / 2` values.
    inv_freq: Vec<f32>,
    /// YaRN's attention factor, multiplied into cos and sin.
    scale: f32,
}

impl Rope {
    pub fn new(config: &Config) -> Self {
        let dim = config.head_dim();
        let base = config.rope_theta();
        // base^(2i / dim) in f32, as torch computes `base ** (arange / dim)`.
        let pos_freqs: Vec<f32> = (0..dim / 2).map(|i| (base as f32).powf((2 * i) as f32 / dim as f32)).collect();
        let Some(yarn) = config.rope_scaling().filter(|r| r.rope_type == "yarn") else {
            return Self { inv_freq: pos_freqs.iter().map(|p| 1.0 / p).collect(), scale: 1.0 };
        };
        let factor = yarn.factor;
        let original = yarn.original_max_position_embeddings.unwrap_or(config.max_position_embeddings) as f64;
        let correction_dim = |rotations: f64| dim as f64 * (original / (rotations * 2.0 * PI)).ln() / (2.0 * base.ln());
        let (mut low, mut high) = (correction_dim(yarn.beta_fast), correction_dim(yarn.beta_slow));
        if yarn.truncate {
            (low, high) = (low.floor(), high.ceil());
        }
        let (low, mut high) = (low.max(0.0) as f32, high.min(dim as f64 - 1.0) as f32);
        if low == high {
            high += 0.001;
        }
        let inv_freq = pos_freqs
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let ramp = ((i as f32 - low) / (high - low)).clamp(0.0, 1.0);
                let extrapolation = 1.0 - ramp;
                let (inter, extra) = (1.0 / (factor as f32 * p), 1.0 / p);
                inter * (1.0 - extrapolation) + extra * extrapolation
            })
            .collect();
        let scale = match (yarn.attention_factor, yarn.mscale, yarn.mscale_all_dim) {
            (Some(a), _, _) => a,
            (None, Some(m), Some(all)) if m != 0.0 && all != 0.0 => mscale(factor, m) / mscale(factor, all),
            _ => mscale(factor, 1.0),
        };
        Self { inv_freq, scale: scale as f32 }
    }

    /// Rotates the heads of `q` and `k` (each `head_dim` values) in place,
    /// all at `position`.
    pub fn apply(&self, position: usize, q: &mut [f32], k: &mut [f32]) {
        let half = self.inv_freq.len();
        let (cos, sin): (Vec<f32>, Vec<f32>) = self
            .inv_freq
            .iter()
            .map(|f| {
                let angle = position as f32 * f;
                (angle.cos() * self.scale, angle.sin() * self.scale)
            })
            .unzip();
        for head in q.chunks_exact_mut(2 * half).chain(k.chunks_exact_mut(2 * half)) {
            let (x1, x2) = head.split_at_mut(half);
            for i in 0..half {
                let (a, b) = (x1[i], x2[i]);
                x1[i] = a * cos[i] - b * sin[i];
                x2[i] = b * cos[i] + a * sin[i];
            }
        }
    }
}

fn mscale(factor: f64, m: f64) -> f64 {
    if factor <= 1.0 { 1.0 } else { 0.1 * m * factor.ln() + 1.0 }
}
