//! The mixture of experts: a linear router picks the top-k experts of each
//! token, softmax over those k logits weights their outputs. Each expert is
//! a clamped SwiGLU MLP whose weights stay MXFP4; tokens routed to the same
//! expert are computed together, so its weights are read once per step.

use mxfp4::Mxfp4Experts;
use rayon::prelude::*;

use crate::config::Config;
use crate::error::Result;
use crate::layers::linear::{Linear, f32_vec};
use crate::weights::Checkpoint;

pub struct Moe<'a> {
    router: Linear<'a>,
    gate_up: Mxfp4Experts<'a>,
    gate_up_bias: Vec<f32>,
    down: Mxfp4Experts<'a>,
    down_bias: Vec<f32>,
    top_k: usize,
    limit: f32,
    alpha: f32,
}

impl<'a> Moe<'a> {
    pub fn load(ckpt: &'a Checkpoint, config: &Config, layer: usize) -> Result<Self> {
        let p = format!("model.layers.{layer}.mlp");
        let (e, h, i) = (config.num_local_experts, config.hidden_size, config.intermediate_size);
        Ok(Self {
            router: Linear::load_bf16(ckpt, &format!("{p}.router"), e, h, true)?,
            gate_up: ckpt.mxfp4_experts(&format!("{p}.experts.gate_up_proj"), e, 2 * i, h)?,
            gate_up_bias: f32_vec(ckpt, &format!("{p}.experts.gate_up_proj_bias"), &[e, 2 * i])?,
            down: ckpt.mxfp4_experts(&format!("{p}.experts.down_proj"), e, h, i)?,
            down_bias: f32_vec(ckpt, &format!("{p}.experts.down_proj_bias"), &[e, h])?,
            top_k: config.experts_per_token(),
            limit: config.swiglu_limit as f32,
            alpha: config.swiglu_alpha as f32,
        })
    }

    /// `x` is `[n, hidden]`; returns `[n, hidden]`.
    pub fn forward(&self, x: &[f32], n: usize) -> Vec<f32> {
        let (experts, hidden) = (self.gate_up.experts(), self.down.rows());
        let logits = self.router.forward_slice(x, n);
        // Tokens of each expert, with their routing weights.
        let mut routed: Vec<Vec<(usize, f32)>> = vec![Vec::new(); experts];
        for (t, row) in logits.chunks_exact(experts).enumerate() {
            for (e, w) in top_k_softmax(row, self.top_k) {
                routed[e].push((t, w));
            }
        }
        // The experts run side by side: each one's two products are parallel
        // too, but a product of one token is too short to keep every thread
        // busy to its end.
        let active: Vec<(usize, &[(usize, f32)])> =
            routed.iter().enumerate().filter(|(_, t)| !t.is_empty()).map(|(e, t)| (e, t.as_slice())).collect();
        let outputs: Vec<Vec<f32>> = active.par_iter().map(|&(e, tokens)| self.expert(e, tokens, x)).collect();
        let mut out = vec![0.0f32; n * hidden];
        for (&(_, tokens), down) in active.iter().zip(&outputs) {
            for (&(t, w), d) in tokens.iter().zip(down.chunks_exact(hidden)) {
                for (o, &v) in out[t * hidden..(t + 1) * hidden].iter_mut().zip(d) {
                    *o += w * v;
                }
            }
        }
        out
    }

    /// Expert `e` on the rows of `x` its `tokens` name: `[tokens, hidden]`.
    fn expert(&self, e: usize, tokens: &[(usize, f32)], x: &[f32]) -> Vec<f32> {
        let (hidden, inter, m) = (self.down.rows(), self.down.cols(), tokens.len());
        let xs: Vec<f32> = tokens.iter().flat_map(|&(t, _)| &x[t * hidden..(t + 1) * hidden]).copied().collect();
        let mut gate_up = vec![0.0f32; m * 2 * inter];
        let gu_bias = &self.gate_up_bias[e * 2 * inter..(e + 1) * 2 * inter];
        mxfp4::linear(self.gate_up.expert(e), &xs, m, Some(gu_bias), &mut gate_up);
        let act: Vec<f32> = gate_up.chunks_exact(2).map(|gl| self.swiglu(gl[0], gl[1])).collect();
        let mut down = vec![0.0f32; m * hidden];
        mxfp4::linear(self.down.expert(e), &act, m, Some(&self.down_bias[e * hidden..(e + 1) * hidden]), &mut down);
        down
    }

    /// Interleaved gate (even) and linear (odd) halves of `gate_up`.
    fn swiglu(&self, gate: f32, linear: f32) -> f32 {
        let gate = gate.min(self.limit);
        let linear = linear.clamp(-self.limit, self.limit);
        let glu = gate / (1.0 + (-gate * self.alpha).exp());
        (linear + 1.0) * glu
    }
}

/// The `k` largest logits' indices, ascending by index, each with its
/// softmax weight over those `k` logits only.
fn top_k_softmax(logits: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut order: Vec<usize> = (0..logits.len()).collect();
    // Largest first; ties to the lower index, as torch.topk on CPU.
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
    order.truncate(k);
    let max = logits[order[0]];
    let exps: Vec<f32> = order.iter().map(|&i| (logits[i] - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    let mut picked: Vec<(usize, f32)> = order.into_iter().zip(exps.into_iter().map(|e| e / sum)).collect();
    picked.sort_by_key(|&(i, _)| i);
    picked
}

#[cfg(test)]
mod tests {
    use super::top_k_softmax;

    #[test]
    fn softmax_runs_over_the_chosen_logits_only() {
        let picked = top_k_softmax(&[0.0, 3.0, -1.0, 3.0_f32.ln() + 3.0], 2);
        assert_eq!(picked.iter().map(|p| p.0).collect::<Vec<_>>(), [1, 3]);
        assert!((picked[0].1 - 0.25).abs() < 1e-6 && (picked[1].1 - 0.75).abs() < 1e-6, "{picked:?}");
    }
}
