//! Next-token sampling with OpenAI's and vLLM's semantics. [`Sampler::sample`]
//! subtracts presence and frequency penalties, turns NaN into `-inf` (`+inf`
//! into `f32::MAX`), reports log-probabilities as the log-softmax of these
//! penalized logits (the model's distribution, before temperature and
//! truncation, as OpenAI reports it), then picks the argmax at temperature 0
//! or divides by the temperature, applies top-k, top-p, min-p and samples.
//! [`Sampler::sample_race`] draws instead by the Gumbel-max race
//! ([`crate::gumbel`]), which the argmax head can run without every logit.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::cmp::Ordering;

use crate::gumbel;
use crate::model::Head;

/// Temperatures below this are treated as 0 (greedy), as vLLM does.
const GREEDY_EPS: f32 = 1e-5;
/// Most alternatives OpenAI returns per position.
pub const MAX_TOP_LOGPROBS: usize = 20;

/// How to choose each next token. Field names follow OpenAI's Chat
/// Completions request; `top_k` and `min_p` are vLLM's extensions.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// What sampling temperature to use (OpenAI: between 0 and 2). Higher
    /// values like 0.8 make the output more random, lower values like 0.2
    /// more focused and deterministic; 0 always picks the most likely token.
    /// OpenAI recommends altering this or `top_p` but not both.
    pub temperature: f32,
    /// Nucleus sampling: only the tokens comprising the top `top_p`
    /// probability mass are considered, so 0.1 means the tokens of the top
    /// 10% mass. In (0, 1]; 1 disables it.
    pub top_p: f32,
    /// Only the `k` most likely tokens are considered (vLLM). `None` disables it.
    pub top_k: Option<usize>,
    /// Tokens whose probability is below `min_p` times that of the most
    /// likely token are dropped (vLLM). In [0, 1]; 0 disables it.
    pub min_p: f32,
    /// Between -2.0 and 2.0. Positive values penalize new tokens based on
    /// whether they appear in the text so far, increasing the model's
    /// likelihood to talk about new topics. Subtracted once from the logit of
    /// every token present in `previous_tokens`.
    pub presence_penalty: f32,
    /// Between -2.0 and 2.0. Positive values penalize new tokens based on
    /// their existing frequency in the text so far, decreasing the model's
    /// likelihood to repeat the same line verbatim. Subtracted `count` times
    /// from the logit of each token in `previous_tokens`.
    pub frequency_penalty: f32,
    /// If specified, sampling is deterministic: the same seed, parameters and
    /// logits give the same tokens (within one build of the server, as
    /// OpenAI's "best effort"). `None` seeds from process entropy.
    pub seed: Option<u64>,
    /// Whether to return the log probabilities of the output tokens' most
    /// likely alternatives ([`Sampled::top_logprobs`]).
    pub logprobs: bool,
    /// An integer between 0 and 20: the number of most likely tokens to return
    /// at each position, each with its log probability. `logprobs` must be
    /// true if this is used.
    pub top_logprobs: usize,
}

impl Default for SamplingParams {
    /// The gpt-oss defaults: temperature 1, top_p 1, nothing else.
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_p: 1.0,
            top_k: None,
            min_p: 0.0,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            seed: None,
            logprobs: false,
            top_logprobs: 0,
        }
    }
}

/// A [`SamplingParams`] value out of range; the message names the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamplingError {
    #[error("temperature must be a finite number >= 0, got {0}")]
    Temperature(f32),
    #[error("top_p must be in (0, 1], got {0}")]
    TopP(f32),
    #[error("top_k must be at least 1, got 0")]
    TopK,
    #[error("min_p must be in [0, 1], got {0}")]
    MinP(f32),
    #[error("presence_penalty must be in [-2, 2], got {0}")]
    PresencePenalty(f32),
    #[error("frequency_penalty must be in [-2, 2], got {0}")]
    FrequencyPenalty(f32),
    #[error("top_logprobs must be in [0, {MAX_TOP_LOGPROBS}], got {0}")]
    TopLogprobs(usize),
    #[error("top_logprobs requires logprobs to be true")]
    TopLogprobsWithoutLogprobs,
}

impl SamplingParams {
    /// Checks every field against the ranges OpenAI (and vLLM) accept.
    pub fn validate(&self) -> Result<(), SamplingError> {
        let p = self;
        let penalty_ok = |x: f32| (-2.0..=2.0).contains(&x);
        let checks = [
            (p.temperature.is_finite() && p.temperature >= 0.0, SamplingError::Temperature(p.temperature)),
            (p.top_p > 0.0 && p.top_p <= 1.0, SamplingError::TopP(p.top_p)),
            (p.top_k != Some(0), SamplingError::TopK),
            ((0.0..=1.0).contains(&p.min_p), SamplingError::MinP(p.min_p)),
            (penalty_ok(p.presence_penalty), SamplingError::PresencePenalty(p.presence_penalty)),
            (penalty_ok(p.frequency_penalty), SamplingError::FrequencyPenalty(p.frequency_penalty)),
            (p.top_logprobs <= MAX_TOP_LOGPROBS, SamplingError::TopLogprobs(p.top_logprobs)),
            (p.logprobs || p.top_logprobs == 0, SamplingError::TopLogprobsWithoutLogprobs),
        ];
        checks.into_iter().find(|(ok, _)| !ok).map_or(Ok(()), |(_, err)| Err(err))
    }

    /// Whether sampling reduces to the argmax.
    pub fn is_greedy(&self) -> bool {
        self.temperature < GREEDY_EPS || self.top_k == Some(1)
    }

    /// Whether the token [`Sampler::sample`] picks is the argmax of the
    /// logits as they come (greedy, no penalty) and nothing else of them is
    /// reported (no log-probabilities).
    pub fn argmax_suffices(&self) -> bool {
        self.is_greedy() && !self.logprobs && self.presence_penalty == 0.0 && self.frequency_penalty == 0.0
    }

    /// Whether the draw is from the softmax of the logits as they come at the
    /// temperature alone (no truncation, penalty or log-probabilities): what
    /// the Gumbel-max race ([`Sampler::sample_race`]) draws from too.
    pub fn race_suffices(&self) -> bool {
        !self.is_greedy()
            && self.top_p >= 1.0
            && self.top_k.is_none()
            && self.min_p == 0.0
            && !self.logprobs
            && self.presence_penalty == 0.0
            && self.frequency_penalty == 0.0
    }
}

/// One sampled token.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    pub token: u32,
    /// Log-probability of `token` under the penalized logits, before
    /// temperature and truncation (always filled).
    pub logprob: f32,
    /// The `top_logprobs` most likely tokens with their log-probabilities,
    /// most likely first (ties: lower id first); empty unless `logprobs`.
    pub top_logprobs: Vec<(u32, f32)>,
}

/// Samples tokens for one sequence with a fixed [`SamplingParams`] and its own RNG.
#[derive(Debug, Clone)]
pub struct Sampler {
    params: SamplingParams,
    rng: SmallRng,
    /// The seed, from `params.seed` or entropy: the race keys derive from it.
    seed: u64,
}

impl Sampler {
    /// A sampler seeded from `params.seed`, or from entropy when `None`.
    /// Call [`SamplingParams::validate`] first: out-of-range values are not
    /// rejected here (they never panic, but their meaning is unspecified).
    pub fn new(params: SamplingParams) -> Self {
        let seed = params.seed.unwrap_or_else(entropy_seed);
        Self { params, rng: SmallRng::seed_from_u64(seed), seed }
    }

    /// The parameters this sampler was built with.
    pub fn params(&self) -> &SamplingParams {
        &self.params
    }

    /// Chooses the next token from `logits` (one per vocabulary entry), which
    /// are penalized and sanitized in place. `previous_tokens` are the tokens
    /// the penalties count (vLLM counts only the generated ones); ids outside
    /// the vocabulary are ignored. Never panics: if no logit is finite the
    /// result is token 0 with the log-probability of a uniform distribution.
    pub fn sample(&mut self, logits: &mut [f32], previous_tokens: &[u32]) -> Sampled {
        let p = &self.params;
        apply_penalties(logits, previous_tokens, p.presence_penalty, p.frequency_penalty);
        let max = sanitize(logits);
        let n_top = if p.logprobs { p.top_logprobs } else { 0 };
        if max == f32::NEG_INFINITY {
            let uniform = uniform_logprob(logits.len());
            let top_logprobs = (0..n_top.min(logits.len()) as u32).map(|i| (i, uniform)).collect();
            return Sampled { token: 0, logprob: uniform, top_logprobs };
        }
        let (token, lse) = if p.is_greedy() { (argmax(logits), None) } else { self.sample_stochastic(logits, max) };
        let lse = lse.unwrap_or_else(|| log_sum_exp(logits, max));
        let top_logprobs = top_n(logits, n_top).into_iter().map(|(i, l)| (i, l - lse)).collect();
        let logprob = logits.get(token as usize).map_or(f32::NEG_INFINITY, |&l| l - lse);
        Sampled { token, logprob, top_logprobs }
    }

    /// The key of the race that draws generated token number `step`: the same
    /// seed gives the same keys.
    pub fn race_key(&self, step: usize) -> u64 {
        gumbel::step_key(self.seed, step)
    }

    /// What the forward pass before generated token number `step` needs to
    /// compute: the most likely token where this sampler would take the
    /// argmax of the logits as they come, the race's winner where `races`
    /// (the caller draws every token by [`Sampler::sample_race`], as the
    /// argmax head can for parameters where [`SamplingParams::race_suffices`]),
    /// and every logit otherwise.
    pub fn head(&self, races: bool, step: usize) -> Head {
        if self.params.argmax_suffices() {
            Head::Argmax
        } else if races {
            Head::Sample { temperature: self.params.temperature, key: self.race_key(step) }
        } else {
            Head::Logits
        }
    }

    /// Draws the next token from `logits` (sanitized in place as by
    /// [`Sampler::sample`]) by the Gumbel-max race under `key` at the
    /// temperature: for parameters where [`SamplingParams::race_suffices`],
    /// an exact draw as [`Sampler::sample`]'s, and the token the argmax head
    /// finds for [`crate::Head::Sample`] with the same key. Penalties, top-k,
    /// top-p and min-p are not applied.
    pub fn sample_race(&self, logits: &mut [f32], key: u64) -> Sampled {
        let max = sanitize(logits);
        let inverse_temperature = 1.0 / f64::from(self.params.temperature.max(GREEDY_EPS));
        match gumbel::race(logits, inverse_temperature, key) {
            Some(token) => {
                Sampled { token, logprob: logits[token as usize] - log_sum_exp(logits, max), top_logprobs: Vec::new() }
            }
            None => Sampled { token: 0, logprob: uniform_logprob(logits.len()), top_logprobs: Vec::new() },
        }
    }

    /// Temperature, top-k, top-p, min-p, then a draw. `max` is the largest
    /// logit, so every weight is in [0, 1] and the top token's is exactly 1.
    /// At temperature 1 the weights also give the log-softmax's normaliser.
    fn sample_stochastic(&mut self, logits: &[f32], max: f32) -> (u32, Option<f32>) {
        let p = &self.params;
        let weights = exp_weights(logits, max, p.temperature);
        let lse = (p.temperature == 1.0).then(|| max + weights.iter().map(|&w| f64::from(w)).sum::<f64>().ln() as f32);
        let top_k = p.top_k.filter(|&k| k < weights.len());
        let min_p = p.min_p;
        if top_k.is_none() && p.top_p >= 1.0 {
            let kept = weights.iter().enumerate().map(|(i, &w)| (i as u32, w)).filter(|&(_, w)| w >= min_p);
            return (draw(&mut self.rng, kept).unwrap_or_else(|| argmax(logits)), lse);
        }
        let desc = |a: &u32, b: &u32| weights[*b as usize].total_cmp(&weights[*a as usize]).then(a.cmp(b));
        let mut ids: Vec<u32> = (0..weights.len() as u32).filter(|&i| weights[i as usize] > 0.0).collect();
        if let Some(k) = top_k.filter(|&k| k < ids.len()) {
            ids.select_nth_unstable_by(k, desc);
            ids.truncate(k);
        }
        if p.top_p < 1.0 {
            nucleus(&mut ids, &weights, p.top_p, desc);
        }
        let kept = ids.iter().map(|&i| (i, weights[i as usize])).filter(|&(_, w)| w >= min_p);
        (draw(&mut self.rng, kept).unwrap_or_else(|| argmax(logits)), lse)
    }
}

/// Turns NaN logits into `-inf` and `+inf` into `f32::MAX`; returns the largest.
fn sanitize(logits: &mut [f32]) -> f32 {
    let mut max = f32::NEG_INFINITY;
    for l in logits.iter_mut() {
        *l = if l.is_nan() { f32::NEG_INFINITY } else { l.min(f32::MAX) };
        max = max.max(*l);
    }
    max
}

/// The log-probability of each of `n` tokens under a uniform distribution:
/// what a draw reports when no logit is finite.
fn uniform_logprob(n: usize) -> f32 {
    -(n.max(1) as f32).ln()
}

/// Subtracts `frequency x count + presence` from each previously seen token's logit.
fn apply_penalties(logits: &mut [f32], previous: &[u32], presence: f32, frequency: f32) {
    if (presence == 0.0 && frequency == 0.0) || previous.is_empty() {
        return;
    }
    let mut sorted = previous.to_vec();
    sorted.sort_unstable();
    for run in sorted.chunk_by(|a, b| a == b) {
        if let Some(l) = run.first().and_then(|&t| logits.get_mut(t as usize)) {
            *l -= frequency * run.len() as f32 + presence;
        }
    }
}

/// Keeps the smallest prefix of `ids` (ordered by `desc`) whose share of the
/// candidates' total weight reaches `top_p`; always keeps the top token. Sorts
/// only as many candidates as needed, in growing chunks.
fn nucleus(ids: &mut Vec<u32>, weights: &[f32], top_p: f32, desc: impl Fn(&u32, &u32) -> Ordering + Copy) {
    let target = f64::from(top_p) * ids.iter().map(|&i| f64::from(weights[i as usize])).sum::<f64>();
    let (mut done, mut chunk, mut acc) = (0, 64, 0.0f64);
    while done < ids.len() {
        let end = (done + chunk).min(ids.len());
        let rest = &mut ids[done..];
        if end - done < rest.len() {
            rest.select_nth_unstable_by(end - done, desc);
        }
        rest[..end - done].sort_unstable_by(desc);
        for j in done..end {
            acc += f64::from(weights[ids[j] as usize]);
            if acc >= target {
                ids.truncate(j + 1);
                return;
            }
        }
        (done, chunk) = (end, chunk * 4);
    }
}

/// Draws an id with probability proportional to its weight; `None` if all are 0.
fn draw(rng: &mut SmallRng, items: impl Iterator<Item = (u32, f32)> + Clone) -> Option<u32> {
    let total: f64 = items.clone().map(|(_, w)| f64::from(w)).sum();
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    let target = rng.random::<f64>() * total;
    let (mut acc, mut last) = (0.0f64, None);
    for (i, w) in items.filter(|&(_, w)| w > 0.0) {
        acc += f64::from(w);
        if acc > target {
            return Some(i);
        }
        last = Some(i);
    }
    last
}

/// `ln(sum(exp(l)))` over `logits`, computed relative to their maximum `max`.
fn log_sum_exp(logits: &[f32], max: f32) -> f32 {
    max + exp_weights(logits, max, 1.0).iter().map(|&w| f64::from(w)).sum::<f64>().ln() as f32
}

/// `exp((l - max) / temperature)` of every logit, on the SIMD exponential
/// (a vocabulary's worth per token, several times faster than libm's),
/// except for arguments below its range: it would saturate them at about
/// 1e-38 where `f32::exp` reaches 0, and a token whose logit is `-inf`
/// must keep weight 0.
fn exp_weights(logits: &[f32], max: f32, temperature: f32) -> Vec<f32> {
    let argument = |l: f32| (l - max) / temperature;
    let mut weights: Vec<f32> = logits.iter().map(|&l| argument(l)).collect();
    mxfp4::vector::exp_shifted(&mut weights, 0.0);
    for (w, &l) in weights.iter_mut().zip(logits) {
        if argument(l) < SIMD_EXP_MIN {
            *w = argument(l).exp();
        }
    }
    weights
}

/// Below this, [`exp_weights`] leaves the SIMD exponential for `f32::exp`.
const SIMD_EXP_MIN: f32 = -87.0;

/// Index of the largest value, the lowest on ties (NaN never wins); 0 when
/// empty or when no value is above `-inf`.
pub(crate) fn argmax(values: &[f32]) -> u32 {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, &v) in values.iter().enumerate() {
        if v > best.1 {
            best = (i as u32, v);
        }
    }
    best.0
}

/// The `n` largest values with their ids, largest first, lower id first on
/// ties, in one pass with an `n`-entry sorted buffer (`n` is at most 20).
fn top_n(values: &[f32], n: usize) -> Vec<(u32, f32)> {
    let mut best: Vec<(u32, f32)> = Vec::with_capacity(n + 1);
    if n == 0 {
        return best;
    }
    for (i, &v) in values.iter().enumerate() {
        if best.len() == n && best.last().is_some_and(|&(_, b)| v <= b) {
            continue;
        }
        let pos = best.partition_point(|&(_, b)| b >= v);
        best.insert(pos, (i as u32, v));
        best.truncate(n);
    }
    best
}

/// A seed from the process's hash randomness (OS entropy) and the clock.
fn entropy_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    hasher.write_u128(now.map_or(0, |d| d.as_nanos()));
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::exp_weights;

    #[test]
    fn exp_weights_match_f32_exp_down_to_zero() {
        let logits = [3.0, 2.0, -1.5, -40.0, -88.0, -120.0, -300.0, f32::NEG_INFINITY];
        for temperature in [1.0, 0.7, 2.0] {
            let weights = exp_weights(&logits, 3.0, temperature);
            for (&l, &w) in logits.iter().zip(&weights) {
                let want = ((l - 3.0) / temperature).exp();
                // Saturating at 1e-38 instead of reaching exp(-91) or 0 would fail here.
                assert!((w - want).abs() <= want * 1e-6, "exp(({l} - 3) / {temperature}) = {want}, got {w}");
            }
            assert_eq!(weights[0], 1.0);
            assert_eq!(weights[7], 0.0);
        }
    }
}
