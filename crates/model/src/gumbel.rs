//! Temperature sampling as an argmax (the Gumbel-max trick): the token with
//! the largest `l / T + g`, where each token's noise `g = -ln(-ln u)` comes
//! from its own uniform `u`, is an exact draw from `softmax(l / T)`. Here `u`
//! is hashed from a key and the token id, so any token's noise is known
//! without anyone else's: the argmax head can bound the winner from
//! approximate logits and compute the exact ones of a few rows, and the full
//! logits give the same token from the same key.

use std::cmp::Ordering;

/// Bounds of every noise value: `u` lies in `[2^-53, 1 - 2^-53]`, so
/// `-ln(-ln u)` lies in about `[-3.61, 36.74]`; a little wider, for the
/// rounding of the logarithms.
pub(crate) const NOISE_MIN: f64 = -3.7;
pub(crate) const NOISE_MAX: f64 = 37.5;

/// Token `token`'s noise under `key`.
pub fn noise(key: u64, token: u32) -> f64 {
    noise_of(uniform(key, token))
}

/// The noise of uniform `u`: increasing in `u`.
#[inline]
pub(crate) fn noise_of(u: f64) -> f64 {
    -(-u.ln()).ln()
}

/// The uniform whose noise is `g` ([`noise_of`]'s inverse).
#[inline]
pub(crate) fn uniform_of(g: f64) -> f64 {
    (-(-g).exp()).exp()
}

/// A uniform in `(0, 1)`, from SplitMix64's output for state
/// `key + (token + 1) * gamma` (token `i` gets the `i`-th value of the
/// generator seeded with `key`): its top 52 bits and a half, exact in f64,
/// so that `u` is never 1.
pub(crate) fn uniform(key: u64, token: u32) -> f64 {
    let z = splitmix64(key, u64::from(token) + 1);
    ((z >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
}

/// The race score of a token with logit `logit`: `logit / T + noise`, in f64
/// (the full logits and the argmax head compute it alike).
#[inline]
pub(crate) fn score(logit: f32, inverse_temperature: f64, key: u64, token: u32) -> f64 {
    f64::from(logit) * inverse_temperature + noise(key, token)
}

/// The winner of the race over `logits` at `1 / inverse_temperature` under
/// `key`: the token of the largest score, the lowest id on ties. NaN and
/// `-inf` logits never win, `+inf` ones count as `f32::MAX` (as the sampler
/// reads them); `None` when none is above `-inf`. Tokens whose logit is so
/// far below the largest that no noise could lift them past it get no noise
/// computed.
pub fn race(logits: &[f32], inverse_temperature: f64, key: u64) -> Option<u32> {
    let max = logits.iter().copied().filter(|l| !l.is_nan()).fold(f32::NEG_INFINITY, f32::max);
    let floor = f64::from(max.min(f32::MAX)) * inverse_temperature + NOISE_MIN - NOISE_MAX;
    let behind = |l: f32| (f64::from(l) * inverse_temperature).partial_cmp(&floor) == Some(Ordering::Less);
    let hopeful = logits.iter().enumerate().filter(|&(_, &l)| !behind(l));
    winner(hopeful.map(|(i, &l)| (i as u32, l)), inverse_temperature, key)
}

/// [`race`]'s winner among `(token, logit)` pairs in token order.
pub(crate) fn winner(tokens: impl Iterator<Item = (u32, f32)>, inverse_temperature: f64, key: u64) -> Option<u32> {
    let mut best: Option<(u32, f64)> = None;
    for (token, logit) in tokens.filter(|&(_, l)| l > f32::NEG_INFINITY) {
        let s = score(logit.min(f32::MAX), inverse_temperature, key, token);
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((token, s));
        }
    }
    best.map(|(token, _)| token)
}

/// The key of step `step` of a sequence whose sampler was seeded with `seed`:
/// one SplitMix64 value per step, apart from the sampler's own generator.
pub fn step_key(seed: u64, step: usize) -> u64 {
    splitmix64(seed ^ 0x6A09_E667_F3BC_C909, step as u64)
}

/// SplitMix64's `i`-th output for state `seed`: `seed + i * gamma`, mixed.
fn splitmix64(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_stays_within_its_bounds_at_the_extreme_uniforms() {
        let smallest = 0.5 / (1u64 << 52) as f64;
        let largest = ((1u64 << 52) as f64 - 0.5) / (1u64 << 52) as f64;
        assert!(largest < 1.0);
        for u in [smallest, largest] {
            let g = -(-f64::ln(u)).ln();
            assert!(g > NOISE_MIN && g < NOISE_MAX, "{g}");
        }
        for token in 0..10_000 {
            let g = noise(42, token);
            assert!(g > NOISE_MIN && g < NOISE_MAX);
        }
    }

    #[test]
    fn the_race_draws_from_the_softmax() {
        // 4 tokens, temperature 0.8: counts over 40000 keys within 4 standard deviations of the expected.
        let logits = [1.0f32, 0.2, -0.5, f32::NEG_INFINITY];
        let inverse_temperature = 1.0 / 0.8;
        let weights: Vec<f64> = logits.iter().map(|&l| (f64::from(l) * inverse_temperature).exp()).collect();
        let total: f64 = weights.iter().sum();
        let draws = 40_000;
        let mut counts = [0usize; 4];
        for step in 0..draws {
            counts[race(&logits, inverse_temperature, step_key(7, step)).unwrap() as usize] += 1;
        }
        assert_eq!(counts[3], 0, "a -inf logit never wins");
        for (c, w) in counts.iter().zip(&weights) {
            let p = w / total;
            let expected = p * draws as f64;
            let sd = (draws as f64 * p * (1.0 - p)).sqrt();
            assert!((*c as f64 - expected).abs() <= 4.0 * sd + 1.0, "{counts:?}, p = {p}");
        }
    }

    #[test]
    fn skipping_hopeless_tokens_leaves_the_winner_alone() {
        // Logits spread over 100 nats: most are skipped at temperature 0.5, fewer at 4.
        let logits: Vec<f32> = (0..2000).map(|i| ((i * 37) % 1001) as f32 * 0.1 - 50.0).collect();
        for inverse_temperature in [2.0, 1.0, 0.25] {
            for step in 0..200 {
                let key = step_key(3, step);
                let every = (0..logits.len()).max_by(|&a, &b| {
                    let (sa, sb) = (
                        score(logits[a], inverse_temperature, key, a as u32),
                        score(logits[b], inverse_temperature, key, b as u32),
                    );
                    sa.total_cmp(&sb).then(b.cmp(&a))
                });
                assert_eq!(race(&logits, inverse_temperature, key), every.map(|i| i as u32));
            }
        }
        assert_eq!(race(&[f32::NAN, f32::NEG_INFINITY], 1.0, 1), None);
        assert_ne!(step_key(1, 0), step_key(1, 1));
        assert_ne!(step_key(1, 0), step_key(2, 0));
    }
}
