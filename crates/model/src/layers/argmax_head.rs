//! The most likely next token without every logit: an 8-bit view of the
//! unembedding gives each vocabulary row an approximate logit and a
//! rigorous bound on its distance from the exact one, and only the rows
//! whose interval reaches the best lower bound get their exact logit. The
//! winner is the exact argmax, as the full unembedding would pick it.
//!
//! A temperature sample works the same way, as the argmax of `l / T` plus
//! each row's Gumbel noise ([`crate::gumbel`]): the bounds scale by `1 / T`
//! and the noise is known exactly for every row.
//!
//! The 8-bit view is, for a bf16 unembedding, a copy ([`Q8Matrix`], 1.125
//! bytes per weight, read instead of 2) and, for a 12-bit one, its own high
//! plane ([`mxfp4::Q12Coarse`], 1.0625 bytes per weight read instead of
//! 1.5625, and nothing more held).
//!
//! The bound on `|exact - approx|` for row `r` and activations `x`, where
//! `d` is the largest step of the row's 8-bit blocks (its approximate
//! weights are at most `128 d` in magnitude, and each is within `d / 2` of
//! the exact one):
//! - weight rounding: `sum |w - w'| |x| <= d / 2 * |x|_1`;
//! - activation rounding (the integer kernels round `x` per block of 32 to
//!   within `2^-15` of the block's largest magnitude, see `mxfp4::quant`,
//!   and flush blocks below `2^-126` to zero):
//!   `sum |w'| |x - x'| <= 128 d * 32 * sum_b max(2^-15 max_b |x|, 2^-126)`
//!   (the 12-bit head rounds `x` the same way for both, which this covers);
//! - f32 rounding in both kernels: under `2 * 2880 * 2^-24 < 4e-4` of
//!   `sum |w| |x| <= 128 d * |x|_1` for these row lengths; the bound uses
//!   `1e-3` to cover longer rows' sums too.

use std::cmp::Ordering;

use half::bf16;
use mxfp4::format::BLOCK_ELEMS;
use mxfp4::{Bf16Matrix, Q8Matrix, Weights};

use crate::error::Result;
use crate::gumbel::{self, NOISE_MAX, NOISE_MIN};
use crate::sampling::argmax;

/// Most candidate rows worth gathering and computing exactly; past this (activations
/// that make the bound useless) the caller computes every logit instead.
const MAX_CANDIDATES: usize = 4096;

/// Added to each race score's bound, for the rounding of the f64 sums that
/// make it (far below this at any logit a model produces).
const SCORE_MARGIN: f64 = 1e-6;

/// How a row's token is picked from its logits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pick {
    /// The largest logit, the lowest id on ties ([`crate::sampling`]'s argmax).
    Argmax,
    /// The winner of the Gumbel-max race at temperature
    /// `1 / inverse_temperature` under `key` ([`gumbel::race`]).
    Race { inverse_temperature: f64, key: u64 },
}

pub struct ArgmaxHead {
    /// The 8-bit copy of a bf16 unembedding; `None` for a 12-bit one, whose
    /// high plane serves.
    copy: Option<Q8Matrix>,
    /// The largest 8-bit step of each row (NaN where a block is not finite).
    row_step: Vec<f32>,
}

impl ArgmaxHead {
    /// The head for `unembedding` (vocabulary rows x hidden columns): an
    /// 8-bit copy of a bf16 one, or the step sizes of a 12-bit one's high
    /// plane. `None` for other formats.
    pub fn new(name: &str, unembedding: Weights<'_>) -> Result<Option<Self>> {
        Ok(match unembedding {
            Weights::Bf16(head) => {
                let copy = Q8Matrix::quantize(name, &head)?;
                let row_step = (0..copy.rows()).map(|r| largest(copy.row_scales(r).iter().copied())).collect();
                Some(Self { copy: Some(copy), row_step })
            }
            Weights::Q12(head) => {
                let row_step = (0..head.rows()).map(|r| largest(head.coarse().block_steps(r))).collect();
                Some(Self { copy: None, row_step })
            }
            Weights::Mxfp4(_) | Weights::Q8(_) | Weights::Q12Coarse(_) => None,
        })
    }

    /// Bytes the head holds beyond the unembedding.
    pub fn byte_len(&self) -> usize {
        self.copy.as_ref().map_or(0, Q8Matrix::byte_len) + self.row_step.len() * size_of::<f32>()
    }

    /// For each activation row `t` of `x` (`picks.len() x hidden`), the row
    /// of `unembedding` (the matrix this was made from) that `picks[t]`
    /// takes from the logits `unembedding . x_t` as `mxfp4::linear` of that
    /// one activation row computes them (NaN logits read as `-inf`, `+inf`
    /// as `f32::MAX`, as the sampler reads them); `None` where no logit is
    /// finite or the activations leave the bound too loose to save anything.
    /// The 8-bit view is read once for all of them.
    pub fn choose(&self, unembedding: Weights<'_>, x: &[f32], picks: &[Pick]) -> Vec<Option<u32>> {
        let n = picks.len();
        let approx_weights = match (unembedding, &self.copy) {
            (Weights::Bf16(_), Some(copy)) => Weights::Q8(copy),
            (Weights::Q12(head), None) => Weights::Q12Coarse(head.coarse()),
            // Not the unembedding this was made for: every logit it is.
            _ => return vec![None; n],
        };
        let vocab = self.row_step.len();
        let mut approx = vec![0.0f32; n * vocab];
        mxfp4::linear(approx_weights, x, n, None, &mut approx);
        x.chunks_exact(unembedding.cols())
            .zip(approx.chunks_exact(vocab))
            .zip(picks)
            .map(|((x, approx), &pick)| self.resolve(unembedding, x, approx, pick))
            .collect()
    }

    /// The row `pick` takes for activations `x` whose approximate logits are `approx`.
    fn resolve(&self, unembedding: Weights<'_>, x: &[f32], approx: &[f32], pick: Pick) -> Option<u32> {
        let radius_per_step = radius_per_step(x)?;
        let candidates = match pick {
            Pick::Argmax => self.argmax_candidates(approx, radius_per_step),
            Pick::Race { inverse_temperature, key } => {
                self.race_candidates(approx, radius_per_step, inverse_temperature, key)
            }
        };
        if candidates.len() > MAX_CANDIDATES {
            return None;
        }
        let exact = exact_logits(unembedding, &candidates, x)?;
        match pick {
            Pick::Argmax => {
                // The sampler's own argmax: the same tie rule as over the full logits.
                let best = argmax(&exact) as usize;
                exact.get(best).is_some_and(|&l| l > f32::NEG_INFINITY).then(|| candidates[best] as u32)
            }
            Pick::Race { inverse_temperature, key } => {
                let rows = candidates.iter().zip(&exact).map(|(&row, &l)| (row as u32, l));
                gumbel::winner(rows, inverse_temperature, key)
            }
        }
    }

    /// Rows whose logit could be the largest: those whose upper bound reaches the best lower bound.
    fn argmax_candidates(&self, approx: &[f32], radius_per_step: f32) -> Vec<usize> {
        let bounds = approx.iter().zip(&self.row_step).map(|(&a, &d)| (a, d * radius_per_step));
        // NaN lower bounds (rows with a non-finite weight) never set the bar.
        let bar = bounds.clone().map(|(a, r)| a - r).fold(f32::NEG_INFINITY, f32::max);
        // A NaN upper bound is not below the bar: such rows are computed exactly.
        let below = |a: f32, r: f32| (a + r).partial_cmp(&bar) == Some(Ordering::Less);
        bounds.enumerate().filter(|&(_, (a, r))| !below(a, r)).map(|(i, _)| i).collect()
    }

    /// Rows that could win the race: the same test on the scores `a / T + noise`. Rows too far
    /// below the largest approximate logit for any noise to lift them are dropped first; then a
    /// first bar, from two rows, tells the least uniform a row needs to reach it, and only the rows
    /// at or above it get their noise (two logarithms) computed.
    fn race_candidates(&self, approx: &[f32], radius_per_step: f32, inverse_temperature: f64, key: u64) -> Vec<usize> {
        let radius = |i: usize| f64::from(self.row_step[i] * radius_per_step) * inverse_temperature + SCORE_MARGIN;
        let centre = |i: usize| f64::from(approx[i]) * inverse_temperature;
        let lower = |i: usize, g: f64| centre(i) + g - radius(i);
        let upper = |i: usize, g: f64| centre(i) + g + radius(i);
        // NaN never counts as below: such rows stay.
        let below = |a: f64, b: f64| a.partial_cmp(&b) == Some(Ordering::Less);
        let top = argmax(approx) as usize;
        // The top row scores at least this, whatever its noise.
        let floor = lower(top, NOISE_MIN);
        let hopeful = |i: &usize| !below(upper(*i, NOISE_MAX), floor);
        // One pass for the row of the largest uniform (the largest noise) and the highest upper bound
        // without noise; the top row and that one bound the bar from below.
        let (mut luckiest, mut highest) = ((0.0f64, top), f64::NEG_INFINITY);
        for i in (0..approx.len()).filter(hopeful) {
            let u = gumbel::uniform(key, i as u32);
            if u > luckiest.0 {
                luckiest = (u, i);
            }
            // (f64::max ignores NaN, as every bar and bound below does: such rows never set them.)
            highest = highest.max(upper(i, 0.0));
        }
        let first_bar = lower(top, gumbel::noise(key, top as u32)).max(lower(luckiest.1, gumbel::noise_of(luckiest.0)));
        // Below this uniform, a row's upper bound stays under the first bar.
        let least = gumbel::uniform_of(first_bar - highest - SCORE_MARGIN);
        let unbounded = |i: usize| centre(i).is_nan() || radius(i).is_nan();
        let contenders: Vec<(usize, f64)> = (0..approx.len())
            .filter(hopeful)
            .map(|i| (i, gumbel::uniform(key, i as u32)))
            .filter(|&(i, u)| u >= least || unbounded(i))
            .map(|(i, u)| (i, gumbel::noise_of(u)))
            .collect();
        let bar = contenders.iter().map(|&(i, g)| lower(i, g)).fold(first_bar, f64::max);
        contenders.into_iter().filter(|&(i, g)| !below(upper(i, g), bar)).map(|(i, _)| i).collect()
    }
}

/// The logits of rows `rows` of `unembedding` for activations `x`, through
/// the same kernel as the full unembedding's.
fn exact_logits(unembedding: Weights<'_>, rows: &[usize], x: &[f32]) -> Option<Vec<f32>> {
    let mut exact = vec![0.0f32; rows.len()];
    match unembedding {
        Weights::Bf16(head) => {
            let values: Vec<bf16> = rows.iter().flat_map(|&r| head.row(r)).copied().collect();
            let picked = Bf16Matrix::new("argmax head candidates", &values, rows.len(), head.cols()).ok()?;
            mxfp4::linear(picked, x, 1, None, &mut exact);
        }
        Weights::Q12(head) => mxfp4::linear(&head.gather(rows), x, 1, None, &mut exact),
        _ => return None,
    }
    Some(exact)
}

/// The largest of `steps`, NaN where any is NaN.
fn largest(steps: impl Iterator<Item = f32>) -> f32 {
    steps.fold(0.0f32, |m, s| if s.is_nan() || m.is_nan() { f32::NAN } else { m.max(s) })
}

/// The bound on `|exact - approx|` per unit of a row's largest step (see
/// the module doc); `None` when `x` is not finite.
fn radius_per_step(x: &[f32]) -> Option<f32> {
    let l1: f32 = x.iter().map(|v| v.abs()).sum();
    let rounded: f32 = x
        .chunks(BLOCK_ELEMS)
        .map(|b| {
            let max = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            BLOCK_ELEMS as f32 * (max * 2f32.powi(-15)).max(2f32.powi(-126))
        })
        .sum();
    let radius = l1 * (0.5 + 128.0 * 1e-3) + 128.0 * rounded;
    // A margin for the rounding of this sum itself.
    radius.is_finite().then_some(radius * 1.001)
}

#[cfg(test)]
mod tests {
    use mxfp4::Q12Matrix;

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

    fn full_logits(head: Weights<'_>, x: &[f32]) -> Vec<f32> {
        let mut logits = vec![0.0f32; head.rows()];
        mxfp4::linear(head, x, 1, None, &mut logits);
        logits
    }

    fn full_argmax(head: Weights<'_>, x: &[f32]) -> u32 {
        argmax(&full_logits(head, x))
    }

    /// `check(unembedding, head, name)` for the bf16 matrix of `data` and its 12-bit requantization.
    fn for_each_format(data: &[bf16], rows: usize, cols: usize, check: impl Fn(Weights<'_>, &ArgmaxHead, &str)) {
        let bf16 = Bf16Matrix::new("w", data, rows, cols).unwrap();
        let q12 = Q12Matrix::quantize("w", &bf16).unwrap();
        for (unembedding, name) in [(Weights::Bf16(bf16), "bf16"), (Weights::Q12(&q12), "q12")] {
            check(unembedding, &ArgmaxHead::new("w", unembedding).unwrap().unwrap(), name);
        }
    }

    #[test]
    fn picks_the_full_unembeddings_argmax() {
        let (rows, cols) = (3000, 256);
        let data: Vec<bf16> = random(rows * cols, 1, 0.2).into_iter().map(bf16::from_f32).collect();
        for_each_format(&data, rows, cols, |head, argmax, name| {
            for seed in 0..40 {
                let x = random(cols, 100 + seed, 4.0);
                assert_eq!(
                    argmax.choose(head, &x, &[Pick::Argmax]),
                    [Some(full_argmax(head, &x))],
                    "{name}, seed {seed}"
                );
            }
            // Several activation rows share one pass over the 8-bit view.
            let xs = random(3 * cols, 99, 4.0);
            let want: Vec<Option<u32>> = xs.chunks(cols).map(|x| Some(full_argmax(head, x))).collect();
            assert_eq!(argmax.choose(head, &xs, &[Pick::Argmax; 3]), want);
        });
    }

    #[test]
    fn races_as_over_the_full_unembedding() {
        let (rows, cols) = (3000, 256);
        let data: Vec<bf16> = random(rows * cols, 2, 0.2).into_iter().map(bf16::from_f32).collect();
        for_each_format(&data, rows, cols, |head, argmax, name| {
            for (seed, temperature) in (0..60).zip([0.3, 1.0, 2.5].into_iter().cycle()) {
                // Logits spread over tens of nats too: most rows are then too far behind for any noise.
                let x = random(cols, 500 + seed, if seed % 2 == 0 { 4.0 } else { 24.0 });
                let (inverse_temperature, key) = (1.0 / temperature, gumbel::step_key(seed, 0));
                let want = gumbel::race(&full_logits(head, &x), inverse_temperature, key);
                let got = argmax.choose(head, &x, &[Pick::Race { inverse_temperature, key }]);
                assert_eq!(got, [want], "{name}, seed {seed}, temperature {temperature}");
            }
            // An argmax and a race in one pass.
            let xs = random(2 * cols, 98, 4.0);
            let key = gumbel::step_key(9, 4);
            let want = [Some(full_argmax(head, &xs[..cols])), gumbel::race(&full_logits(head, &xs[cols..]), 1.0, key)];
            let picks = [Pick::Argmax, Pick::Race { inverse_temperature: 1.0, key }];
            assert_eq!(argmax.choose(head, &xs, &picks), want, "{name}");
        });
    }

    #[test]
    fn near_ties_resolve_as_the_full_unembedding_does() {
        // Rows that differ in a single low bit: their 8-bit views are equal.
        let (rows, cols) = (64, 128);
        let base = random(cols, 7, 1.0);
        let mut data: Vec<bf16> = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            data.extend(base.iter().enumerate().map(|(j, &v)| {
                let w = bf16::from_f32(v);
                if j == r % cols { bf16::from_bits(w.to_bits() ^ 1) } else { w }
            }));
        }
        for_each_format(&data, rows, cols, |head, argmax, name| {
            for seed in 0..20 {
                let x = random(cols, 300 + seed, 2.0);
                assert_eq!(
                    argmax.choose(head, &x, &[Pick::Argmax]),
                    [Some(full_argmax(head, &x))],
                    "{name}, seed {seed}"
                );
                // At a low temperature the noise rarely outweighs the differences in the low bits.
                let (inverse_temperature, key) = (1e6, gumbel::step_key(seed, 1));
                let want = gumbel::race(&full_logits(head, &x), inverse_temperature, key);
                let got = argmax.choose(head, &x, &[Pick::Race { inverse_temperature, key }]);
                assert_eq!(got, [want], "{name}, seed {seed}, race");
            }
        });
        // Identical rows: the lowest index wins, as in the full argmax.
        let same = vec![bf16::from_f32(0.5); 4 * cols];
        for_each_format(&same, 4, cols, |head, argmax, name| {
            assert_eq!(argmax.choose(head, &base, &[Pick::Argmax]), [Some(0)], "{name}")
        });
    }

    #[test]
    fn non_finite_inputs_and_weights() {
        let cols = 64;
        let mut data: Vec<bf16> = random(3 * cols, 9, 1.0).into_iter().map(bf16::from_f32).collect();
        let mut x = random(cols, 10, 1.0);
        x[5] = f32::NAN;
        for_each_format(&data, 3, cols, |head, argmax, name| {
            for pick in [Pick::Argmax, Pick::Race { inverse_temperature: 1.0, key: 1 }] {
                assert_eq!(
                    argmax.choose(head, &x, &[pick]),
                    [None],
                    "{name}: NaN activations leave the choice to the full logits"
                );
            }
        });
        // A row with a NaN weight has a NaN logit: it never wins.
        data[cols + 3] = bf16::NAN;
        let x = random(cols, 11, 1.0);
        for_each_format(&data, 3, cols, |head, argmax, name| {
            let got = argmax.choose(head, &x, &[Pick::Argmax])[0].unwrap();
            assert_ne!(got, 1, "{name}");
            assert_eq!(got, full_argmax(head, &x), "{name}");
            for step in 0..20 {
                let (inverse_temperature, key) = (0.5, gumbel::step_key(5, step));
                let got = argmax.choose(head, &x, &[Pick::Race { inverse_temperature, key }])[0];
                assert!(got.is_some_and(|row| row != 1), "{name}: {got:?}");
                assert_eq!(got, gumbel::race(&full_logits(head, &x), inverse_temperature, key), "{name}");
            }
        });
    }

    #[test]
    fn a_12_bit_unembedding_needs_no_copy_and_other_formats_get_no_head() {
        let (rows, cols) = (8, 64);
        let data: Vec<bf16> = random(rows * cols, 5, 1.0).into_iter().map(bf16::from_f32).collect();
        let bf16 = Bf16Matrix::new("w", &data, rows, cols).unwrap();
        let q12 = Q12Matrix::quantize("w", &bf16).unwrap();
        let q8 = Q8Matrix::quantize("w", &bf16).unwrap();
        assert_eq!(ArgmaxHead::new("w", Weights::Q12(&q12)).unwrap().unwrap().byte_len(), rows * 4);
        assert!(ArgmaxHead::new("w", Weights::Bf16(bf16)).unwrap().unwrap().byte_len() > rows * cols);
        assert!(ArgmaxHead::new("w", Weights::Q8(&q8)).unwrap().is_none());
        // Used with another unembedding than its own, it leaves every choice to the full logits.
        let head = ArgmaxHead::new("w", Weights::Q12(&q12)).unwrap().unwrap();
        assert_eq!(head.choose(Weights::Bf16(bf16), &random(2 * cols, 6, 1.0), &[Pick::Argmax; 2]), [None, None]);
    }
}
