//! The most likely next token without every logit: an 8-bit copy of the
//! bf16 unembedding gives each vocabulary row an approximate logit and a
//! rigorous bound on its distance from the exact one, and only the rows
//! whose interval reaches the best lower bound get their exact bf16 logit.
//! The winner is the exact argmax, as the full unembedding would pick it,
//! after reading about 0.56 of its bytes (1.125 bytes per weight instead of
//! 2, plus a few dozen rows).
//!
//! The bound on `|exact - approx|` for row `r` and activations `x`, where
//! `d` is the largest 8-bit block scale of the row (its weights are at
//! most `127 d` in magnitude, and each is rounded by at most `d / 2`):
//! - weight rounding: `sum |w - q d| |x| <= d / 2 * |x|_1`;
//! - activation rounding (the integer kernels round `x` per block of 32 to
//!   within `2^-15` of the block's largest magnitude, see `mxfp4::quant`,
//!   and flush blocks below `2^-126` to zero):
//!   `sum |q d| |x - x'| <= 127 d * 32 * sum_b max(2^-15 max_b |x|, 2^-126)`;
//! - f32 rounding in both kernels: under `2 * 2880 * 2^-24 < 4e-4` of
//!   `sum |w| |x| <= 127 d * |x|_1` for these row lengths; the bound uses
//!   `1e-3` to cover longer rows' sums too.

use half::bf16;
use mxfp4::format::BLOCK_ELEMS;
use mxfp4::{Bf16Matrix, Q8Matrix};

use crate::error::Result;
use crate::sampling::argmax;

/// Most candidate rows worth gathering and computing exactly; past this (activations
/// that make the bound useless) the caller computes every logit instead.
const MAX_CANDIDATES: usize = 4096;

pub struct ArgmaxHead {
    approx: Q8Matrix,
    /// The largest block scale of each row (NaN where a block is not finite).
    row_step: Vec<f32>,
}

impl ArgmaxHead {
    /// Quantizes `head` (vocabulary rows x hidden columns) to 8 bits per weight.
    pub fn new(name: &str, head: &Bf16Matrix<'_>) -> Result<Self> {
        let approx = Q8Matrix::quantize(name, head)?;
        let row_step = (0..approx.rows())
            .map(|r| {
                approx
                    .row_scales(r)
                    .iter()
                    .fold(0.0f32, |m, &s| if s.is_nan() || m.is_nan() { f32::NAN } else { m.max(s) })
            })
            .collect();
        Ok(Self { approx, row_step })
    }

    /// Bytes the 8-bit copy holds.
    pub fn byte_len(&self) -> usize {
        self.approx.byte_len() + self.row_step.len() * size_of::<f32>()
    }

    /// For each of the `n` activation rows of `x` (`n x hidden`), the row
    /// of `head` (the matrix this was made from) with the largest
    /// `head . x`, lowest index on ties, as `mxfp4::linear` of that one
    /// activation row computes it; `None` where no logit is finite or the
    /// activations leave the bound too loose to save anything. The 8-bit
    /// copy is read once for all of them.
    pub fn argmax(&self, head: &Bf16Matrix<'_>, x: &[f32], n: usize) -> Vec<Option<u32>> {
        let vocab = self.approx.rows();
        let mut approx = vec![0.0f32; n * vocab];
        mxfp4::linear(&self.approx, x, n, None, &mut approx);
        x.chunks_exact(head.cols())
            .zip(approx.chunks_exact(vocab))
            .map(|(x, approx)| self.resolve(head, x, approx))
            .collect()
    }

    /// The exact argmax for activations `x` whose approximate logits are `approx`.
    fn resolve(&self, head: &Bf16Matrix<'_>, x: &[f32], approx: &[f32]) -> Option<u32> {
        let radius_per_step = radius_per_step(x)?;
        let bounds = approx.iter().zip(&self.row_step).map(|(&a, &d)| (a, d * radius_per_step));
        // NaN lower bounds (rows with a non-finite weight) never set the bar.
        let bar = bounds.clone().map(|(a, r)| a - r).fold(f32::NEG_INFINITY, f32::max);
        // A NaN upper bound is not below the bar: such rows are computed exactly.
        let below = |a: f32, r: f32| (a + r).partial_cmp(&bar) == Some(std::cmp::Ordering::Less);
        let candidates: Vec<usize> = bounds.enumerate().filter(|&(_, (a, r))| !below(a, r)).map(|(i, _)| i).collect();
        if candidates.len() > MAX_CANDIDATES {
            return None;
        }
        let rows: Vec<bf16> = candidates.iter().flat_map(|&r| head.row(r)).copied().collect();
        let rows = Bf16Matrix::new("argmax head candidates", &rows, candidates.len(), head.cols()).ok()?;
        let mut exact = vec![0.0f32; candidates.len()];
        mxfp4::linear(rows, x, 1, None, &mut exact);
        // The sampler's own argmax: the same tie rule as over the full logits.
        let best = argmax(&exact) as usize;
        (exact.get(best).is_some_and(|&l| l > f32::NEG_INFINITY)).then(|| candidates[best] as u32)
    }
}

/// The bound on `|exact - approx|` per unit of a row's largest block scale
/// (see the module doc); `None` when `x` is not finite.
fn radius_per_step(x: &[f32]) -> Option<f32> {
    let l1: f32 = x.iter().map(|v| v.abs()).sum();
    let rounded: f32 = x
        .chunks(BLOCK_ELEMS)
        .map(|b| {
            let max = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            BLOCK_ELEMS as f32 * (max * 2f32.powi(-15)).max(2f32.powi(-126))
        })
        .sum();
    let radius = l1 * (0.5 + 127.0 * 1e-3) + 127.0 * rounded;
    // A margin for the rounding of this sum itself.
    radius.is_finite().then_some(radius * 1.001)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, seed: u64, scale: f32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * scale
            })
            .collect()
    }

    fn full_argmax(head: &Bf16Matrix<'_>, x: &[f32]) -> u32 {
        let mut logits = vec![0.0f32; head.rows()];
        mxfp4::linear(*head, x, 1, None, &mut logits);
        argmax(&logits)
    }

    #[test]
    fn picks_the_full_unembeddings_argmax() {
        let (rows, cols) = (3000, 256);
        let data: Vec<bf16> = random(rows * cols, 1, 0.2).into_iter().map(bf16::from_f32).collect();
        let head = Bf16Matrix::new("w", &data, rows, cols).unwrap();
        let argmax = ArgmaxHead::new("w", &head).unwrap();
        for seed in 0..40 {
            let x = random(cols, 100 + seed, 4.0);
            assert_eq!(argmax.argmax(&head, &x, 1), [Some(full_argmax(&head, &x))], "seed {seed}");
        }
        // Several activation rows share one pass over the 8-bit copy.
        let xs = random(3 * cols, 99, 4.0);
        let want: Vec<Option<u32>> = xs.chunks(cols).map(|x| Some(full_argmax(&head, x))).collect();
        assert_eq!(argmax.argmax(&head, &xs, 3), want);
    }

    #[test]
    fn near_ties_resolve_as_the_full_unembedding_does() {
        // Rows that differ in a single low bit: their 8-bit copies are equal.
        let (rows, cols) = (64, 128);
        let base = random(cols, 7, 1.0);
        let mut data: Vec<bf16> = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            data.extend(base.iter().enumerate().map(|(j, &v)| {
                let w = bf16::from_f32(v);
                if j == r % cols { bf16::from_bits(w.to_bits() ^ 1) } else { w }
            }));
        }
        let head = Bf16Matrix::new("w", &data, rows, cols).unwrap();
        let argmax = ArgmaxHead::new("w", &head).unwrap();
        for seed in 0..20 {
            let x = random(cols, 300 + seed, 2.0);
            assert_eq!(argmax.argmax(&head, &x, 1), [Some(full_argmax(&head, &x))], "seed {seed}");
        }
        // Identical rows: the lowest index wins, as in the full argmax.
        let same = vec![bf16::from_f32(0.5); 4 * cols];
        let head = Bf16Matrix::new("w", &same, 4, cols).unwrap();
        assert_eq!(ArgmaxHead::new("w", &head).unwrap().argmax(&head, &base, 1), [Some(0)]);
    }

    #[test]
    fn non_finite_inputs_and_weights() {
        let cols = 64;
        let mut data: Vec<bf16> = random(3 * cols, 9, 1.0).into_iter().map(bf16::from_f32).collect();
        let head = Bf16Matrix::new("w", &data, 3, cols).unwrap();
        let argmax = ArgmaxHead::new("w", &head).unwrap();
        let mut x = random(cols, 10, 1.0);
        x[5] = f32::NAN;
        assert_eq!(argmax.argmax(&head, &x, 1), [None], "NaN activations leave the choice to the full logits");
        // A row with a NaN weight has a NaN logit: it never wins.
        data[cols + 3] = bf16::NAN;
        let head = Bf16Matrix::new("w", &data, 3, cols).unwrap();
        let argmax = ArgmaxHead::new("w", &head).unwrap();
        let x = random(cols, 11, 1.0);
        let got = argmax.argmax(&head, &x, 1)[0].unwrap();
        assert_ne!(got, 1);
        assert_eq!(got, full_argmax(&head, &x));
    }
}
