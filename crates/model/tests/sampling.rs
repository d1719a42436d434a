//! Behaviour of the token sampler: greedy, seeding, the sampled distribution,
//! top-k / top-p / min-p truncation, temperature, penalties, logprobs,
//! robustness to non-finite logits and parameter validation.

use gpt_oss_model::Head;
use gpt_oss_model::sampling::{Sampled, Sampler, SamplingError, SamplingParams};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn params(temperature: f32, seed: u64) -> SamplingParams {
    SamplingParams { temperature, seed: Some(seed), ..SamplingParams::default() }
}

fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let exps: Vec<f64> = logits.iter().map(|&l| (l as f64 - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

fn log_softmax(logits: &[f32]) -> Vec<f32> {
    softmax(logits).iter().map(|p| p.ln() as f32).collect()
}

/// Draws `n` tokens from a fresh sampler and returns how often each id came up.
fn histogram(p: SamplingParams, logits: &[f32], n: usize) -> Vec<usize> {
    let mut sampler = Sampler::new(p);
    let mut counts = vec![0; logits.len()];
    for _ in 0..n {
        let s = sampler.sample(&mut logits.to_vec(), &[]);
        counts[s.token as usize] += 1;
    }
    counts
}

fn frequencies(counts: &[usize]) -> Vec<f64> {
    let n: usize = counts.iter().sum();
    counts.iter().map(|&c| c as f64 / n as f64).collect()
}

fn random_logits(rng: &mut SmallRng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-8.0f32..8.0)).collect()
}

#[test]
fn greedy_picks_the_argmax_and_is_deterministic() {
    let logits = [0.1, 2.5, -1.0, 2.4, 0.0];
    for seed in 0..10 {
        let mut sampler = Sampler::new(params(0.0, seed));
        for _ in 0..20 {
            assert_eq!(sampler.sample(&mut logits.to_vec(), &[]).token, 1);
        }
    }
    // Without a seed too: greedy never consults the RNG.
    let mut sampler = Sampler::new(SamplingParams { temperature: 0.0, ..SamplingParams::default() });
    assert_eq!(sampler.sample(&mut logits.to_vec(), &[]).token, 1);
}

#[test]
fn greedy_ties_go_to_the_lowest_id() {
    let mut sampler = Sampler::new(params(0.0, 1));
    assert_eq!(sampler.sample(&mut [1.0, 3.0, 0.5, 3.0, 3.0], &[]).token, 1);
}

#[test]
fn same_seed_same_sequence_different_seeds_differ() {
    let mut rng = SmallRng::seed_from_u64(7);
    let steps: Vec<Vec<f32>> = (0..64).map(|_| random_logits(&mut rng, 50).iter().map(|l| l / 4.0).collect()).collect();
    let run = |p: SamplingParams| -> Vec<u32> {
        let mut sampler = Sampler::new(p);
        steps.iter().map(|l| sampler.sample(&mut l.clone(), &[]).token).collect()
    };
    let truncated = SamplingParams { top_p: 0.9, top_k: Some(20), ..params(0.8, 42) };
    assert_eq!(run(params(1.0, 42)), run(params(1.0, 42)));
    assert_eq!(run(truncated.clone()), run(truncated));
    assert_ne!(run(params(1.0, 42)), run(params(1.0, 43)));
    // Unseeded samplers draw from entropy: two of them disagree somewhere.
    let unseeded = SamplingParams::default();
    assert_ne!(run(unseeded.clone()), run(unseeded));
}

#[test]
fn empirical_distribution_matches_softmax() {
    let logits = [1.0, 0.0, 2.0, -0.5, 1.5];
    let n = 20_000;
    let counts = histogram(params(1.0, 1234), &logits, n);
    let expected = softmax(&logits);
    // Max absolute difference of frequencies: tolerance 0.01 (about 2.8 sigma
    // at p = 0.5, more elsewhere).
    for (f, p) in frequencies(&counts).iter().zip(&expected) {
        assert!((f - p).abs() <= 0.01, "frequency {f} vs probability {p} ({counts:?})");
    }
    // Pearson chi-square, 4 degrees of freedom: below 18.47 (p = 0.001).
    let chi2: f64 =
        counts.iter().zip(&expected).map(|(&c, &p)| (c as f64 - n as f64 * p).powi(2) / (n as f64 * p)).sum();
    assert!(chi2 < 18.47, "chi-square {chi2} ({counts:?})");
}

#[test]
fn top_k_one_equals_greedy() {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut greedy = Sampler::new(params(0.0, 0));
    let mut top1 = Sampler::new(SamplingParams { top_k: Some(1), ..params(1.5, 9) });
    for _ in 0..200 {
        let logits = random_logits(&mut rng, 1000);
        assert_eq!(top1.sample(&mut logits.clone(), &[]).token, greedy.sample(&mut logits.clone(), &[]).token);
    }
}

#[test]
fn top_k_samples_only_the_k_most_likely_renormalised() {
    let logits = [0.5f32.ln(), 0.3f32.ln(), 0.15f32.ln(), 0.05f32.ln()];
    let counts = histogram(SamplingParams { top_k: Some(2), ..params(1.0, 5) }, &logits, 10_000);
    assert_eq!(counts[2] + counts[3], 0, "{counts:?}");
    let f = frequencies(&counts);
    assert!((f[0] - 0.625).abs() < 0.02 && (f[1] - 0.375).abs() < 0.02, "{f:?}");
}

#[test]
fn top_p_half_only_samples_the_nucleus() {
    // Cumulative 0.4, 0.7, ...: the smallest set reaching 0.5 is {0, 1}.
    let logits = [0.4f32.ln(), 0.3f32.ln(), 0.2f32.ln(), 0.1f32.ln()];
    let counts = histogram(SamplingParams { top_p: 0.5, ..params(1.0, 11) }, &logits, 10_000);
    assert_eq!(counts[2] + counts[3], 0, "{counts:?}");
    let f = frequencies(&counts);
    assert!((f[0] - 4.0 / 7.0).abs() < 0.02, "renormalised within the nucleus: {f:?}");
    // A tiny top_p still keeps the most likely token, and only it.
    let counts = histogram(SamplingParams { top_p: 1e-6, ..params(1.0, 11) }, &logits, 500);
    assert_eq!(counts[0], 500);
}

#[test]
fn top_p_on_a_large_vocabulary_keeps_the_nucleus() {
    // 201088 entries: 10 likely tokens hold ~all mass; the nucleus at 0.5 is
    // the first few of them, found without sorting the whole vocabulary.
    let mut logits = vec![-30.0f32; 201_088];
    for (rank, id) in [1000usize, 5, 200_000, 77, 123_456, 9, 42, 31_337, 8, 100_000].iter().enumerate() {
        logits[*id] = 10.0 - rank as f32;
    }
    let p = softmax(&logits);
    let mut ranked: Vec<usize> = (0..logits.len()).collect();
    ranked.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let mut acc = 0.0;
    let nucleus: Vec<u32> = ranked
        .iter()
        .take_while(|&&i| {
            let before = acc;
            acc += p[i];
            before < 0.5
        })
        .map(|&i| i as u32)
        .collect();
    let mut sampler = Sampler::new(SamplingParams { top_p: 0.5, ..params(1.0, 2) });
    let start = std::time::Instant::now();
    for _ in 0..200 {
        let token = sampler.sample(&mut logits.clone(), &[]).token;
        assert!(nucleus.contains(&token), "{token} outside the nucleus {nucleus:?}");
    }
    assert!(start.elapsed().as_secs_f32() < 20.0, "200 samples took {:?}", start.elapsed());
}

#[test]
fn min_p_drops_tokens_below_the_fraction_of_the_top_probability() {
    // min_p 0.2 of 0.5 = 0.1: token 3 (0.05) goes, token 2 (0.15) stays.
    let logits = [0.5f32.ln(), 0.3f32.ln(), 0.15f32.ln(), 0.05f32.ln()];
    let counts = histogram(SamplingParams { min_p: 0.2, ..params(1.0, 17) }, &logits, 10_000);
    assert_eq!(counts[3], 0, "{counts:?}");
    assert!(counts[2] > 1000, "{counts:?}");
    // min_p 1 keeps only the most likely token.
    let counts = histogram(SamplingParams { min_p: 1.0, ..params(1.0, 17) }, &logits, 500);
    assert_eq!(counts[0], 500);
}

#[test]
fn temperature_scales_the_distribution() {
    let logits = [2.0, 1.0, 0.0, -1.0];
    let n = 20_000;
    let top_share = |t: f32| frequencies(&histogram(params(t, 21), &logits, n))[0];
    let (cold, warm, hot) = (top_share(0.3), top_share(1.0), top_share(2.0));
    assert!(cold > warm && warm > hot, "{cold} {warm} {hot}");
    assert!(cold > 0.95, "low temperature concentrates on the top token: {cold}");
    // Matches softmax(logits / T).
    for t in [0.5f32, 2.0] {
        let scaled: Vec<f32> = logits.iter().map(|l| l / t).collect();
        for (f, p) in frequencies(&histogram(params(t, 4), &logits, n)).iter().zip(softmax(&scaled)) {
            assert!((f - p).abs() <= 0.015, "T={t}: frequency {f} vs {p}");
        }
    }
}

#[test]
fn frequency_penalty_counts_each_occurrence() {
    let logits = [2.0, 1.5, 0.0];
    let greedy = |frequency_penalty: f32, previous: &[u32]| {
        Sampler::new(SamplingParams { frequency_penalty, ..params(0.0, 0) }).sample(&mut logits.to_vec(), previous)
    };
    assert_eq!(greedy(0.0, &[0, 0, 0]).token, 0);
    // 2.0 - 0.3 x 1 = 1.7 still wins; 2.0 - 0.3 x 3 = 1.1 loses to 1.5.
    assert_eq!(greedy(0.3, &[0]).token, 0);
    assert_eq!(greedy(0.3, &[0, 2, 0, 0]).token, 1);
    // A negative penalty encourages repetition.
    assert_eq!(greedy(-2.0, &[2, 2]).token, 2);
}

#[test]
fn presence_penalty_applies_once_per_token() {
    let logits = [2.0, 1.5, 0.0];
    let greedy = |presence_penalty: f32, previous: &[u32]| {
        Sampler::new(SamplingParams { presence_penalty, ..params(0.0, 0) }).sample(&mut logits.to_vec(), previous)
    };
    // 2.0 - 0.4 = 1.6 > 1.5 however often token 0 appeared.
    assert_eq!(greedy(0.4, &[0, 0, 0, 0, 0]).token, 0);
    assert_eq!(greedy(0.6, &[0]).token, 1);
    // Ids outside the vocabulary are ignored.
    assert_eq!(greedy(2.0, &[7, 1_000_000]).token, 0);
}

#[test]
fn penalties_change_sampling_too() {
    let logits = [3.0, 0.0, 0.0];
    let p = SamplingParams { presence_penalty: 2.0, frequency_penalty: 2.0, ..params(1.0, 8) };
    let mut sampler = Sampler::new(p);
    let hits = (0..2000).filter(|_| sampler.sample(&mut logits.to_vec(), &[0, 0]).token == 0).count();
    // Penalized logit 3 - 2 x 2 - 2 = -3: probability e^-3 / (e^-3 + 2) ~ 0.0243.
    assert!(hits < 100, "{hits}");
}

#[test]
fn logprobs_are_the_log_softmax_of_the_penalized_logits() {
    let logits = [0.3, -1.2, 2.2, 2.2, 0.9, -4.0, 1.7];
    let previous = [6, 6, 4];
    let p = SamplingParams {
        temperature: 0.5,
        top_p: 0.7,
        presence_penalty: 0.5,
        frequency_penalty: 0.25,
        logprobs: true,
        top_logprobs: 4,
        ..params(0.5, 99)
    };
    let mut penalized = logits.to_vec();
    penalized[6] -= 0.5 + 0.25 * 2.0;
    penalized[4] -= 0.5 + 0.25;
    let expected = log_softmax(&penalized);
    let mut sampler = Sampler::new(p);
    for _ in 0..50 {
        let Sampled { token, logprob, top_logprobs } = sampler.sample(&mut logits.to_vec(), &previous);
        // The model's distribution, not the temperature-scaled, truncated one.
        assert!((logprob - expected[token as usize]).abs() < 1e-5, "{logprob} vs {}", expected[token as usize]);
        assert_eq!(top_logprobs.len(), 4);
        let ids: Vec<u32> = top_logprobs.iter().map(|&(i, _)| i).collect();
        assert_eq!(ids, [2, 3, 6, 0], "sorted descending, ties to the lower id");
        assert!(top_logprobs.windows(2).all(|w| w[0].1 >= w[1].1));
        for (i, lp) in top_logprobs {
            assert!((lp - expected[i as usize]).abs() < 1e-5);
        }
    }
}

#[test]
fn top_logprobs_only_when_requested_and_capped_by_the_vocabulary() {
    let logits = [1.0, 2.0, 3.0];
    let mut plain = Sampler::new(params(1.0, 1));
    let s = plain.sample(&mut logits.to_vec(), &[]);
    assert!(s.top_logprobs.is_empty());
    assert!((s.logprob - log_softmax(&logits)[s.token as usize]).abs() < 1e-5, "logprob is always filled");
    let mut wide = Sampler::new(SamplingParams { logprobs: true, top_logprobs: 20, ..params(0.0, 1) });
    let s = wide.sample(&mut logits.to_vec(), &[]);
    assert_eq!(s.top_logprobs.iter().map(|&(i, _)| i).collect::<Vec<_>>(), [2, 1, 0]);
}

#[test]
fn non_finite_logits_never_panic() {
    let nan = f32::NAN;
    let inf = f32::INFINITY;
    let all = |p: SamplingParams| {
        [
            SamplingParams { ..p.clone() },
            SamplingParams { top_k: Some(2), ..p.clone() },
            SamplingParams { top_p: 0.5, ..p.clone() },
            SamplingParams { min_p: 0.5, logprobs: true, top_logprobs: 3, ..p },
        ]
    };
    for p in all(params(1.0, 3)).into_iter().chain(all(params(0.0, 3))) {
        let mut sampler = Sampler::new(p);
        for _ in 0..50 {
            // NaN is treated as -inf and never chosen.
            let s = sampler.sample(&mut [nan, 1.0, -inf, nan, 0.5], &[]);
            assert!(s.token == 1 || s.token == 4, "{s:?}");
            assert!(s.logprob.is_finite());
            // Nothing finite: token 0, not a panic.
            assert_eq!(sampler.sample(&mut [nan; 6], &[]).token, 0);
            let s = sampler.sample(&mut [-inf; 4], &[1, 2]);
            assert_eq!(s.token, 0);
            assert!((s.logprob - (0.25f32).ln()).abs() < 1e-6);
            assert_eq!(sampler.sample(&mut [], &[3]).token, 0);
            // +inf dominates.
            assert_eq!(sampler.sample(&mut [0.0, inf, 3.0, nan], &[]).token, 1);
        }
    }
    // Extreme temperatures stay well defined.
    let logits = [1.0, 5.0, 2.0];
    assert_eq!(Sampler::new(params(1e-7, 1)).sample(&mut logits.to_vec(), &[]).token, 1);
    assert!(Sampler::new(params(1e30, 1)).sample(&mut logits.to_vec(), &[]).token < 3);
}

#[test]
fn defaults_are_the_gpt_oss_ones_and_valid() {
    let p = SamplingParams::default();
    assert_eq!((p.temperature, p.top_p, p.top_k, p.min_p), (1.0, 1.0, None, 0.0));
    assert_eq!(
        (p.presence_penalty, p.frequency_penalty, p.seed, p.logprobs, p.top_logprobs),
        (0.0, 0.0, None, false, 0)
    );
    assert_eq!(p.validate(), Ok(()));
    let edges = SamplingParams {
        temperature: 0.0,
        top_p: 1.0,
        top_k: Some(1),
        min_p: 1.0,
        presence_penalty: -2.0,
        frequency_penalty: 2.0,
        seed: Some(0),
        logprobs: true,
        top_logprobs: 20,
    };
    assert_eq!(edges.validate(), Ok(()));
}

#[test]
fn validate_rejects_each_bad_value_naming_the_parameter() {
    let d = SamplingParams::default;
    let cases: Vec<(SamplingParams, &str)> = vec![
        (SamplingParams { temperature: -0.1, ..d() }, "temperature"),
        (SamplingParams { temperature: f32::NAN, ..d() }, "temperature"),
        (SamplingParams { temperature: f32::INFINITY, ..d() }, "temperature"),
        (SamplingParams { top_p: 0.0, ..d() }, "top_p"),
        (SamplingParams { top_p: 1.01, ..d() }, "top_p"),
        (SamplingParams { top_p: f32::NAN, ..d() }, "top_p"),
        (SamplingParams { top_k: Some(0), ..d() }, "top_k"),
        (SamplingParams { min_p: -0.01, ..d() }, "min_p"),
        (SamplingParams { min_p: 1.5, ..d() }, "min_p"),
        (SamplingParams { min_p: f32::NAN, ..d() }, "min_p"),
        (SamplingParams { presence_penalty: 2.01, ..d() }, "presence_penalty"),
        (SamplingParams { presence_penalty: -2.5, ..d() }, "presence_penalty"),
        (SamplingParams { presence_penalty: f32::NAN, ..d() }, "presence_penalty"),
        (SamplingParams { frequency_penalty: -2.01, ..d() }, "frequency_penalty"),
        (SamplingParams { frequency_penalty: 3.0, ..d() }, "frequency_penalty"),
        (SamplingParams { logprobs: true, top_logprobs: 21, ..d() }, "top_logprobs"),
        (SamplingParams { logprobs: false, top_logprobs: 2, ..d() }, "top_logprobs"),
    ];
    for (p, name) in cases {
        let err: SamplingError = p.validate().expect_err(name);
        let message = err.to_string();
        assert!(message.contains(name), "{message:?} should name {name}");
    }
}

#[test]
fn the_race_needs_a_temperature_alone() {
    let d = SamplingParams::default;
    assert!(d().race_suffices() && d().race_suffices() != d().argmax_suffices());
    let not_alone = [
        SamplingParams { temperature: 0.0, ..d() },
        SamplingParams { top_p: 0.9, ..d() },
        SamplingParams { top_k: Some(40), ..d() },
        SamplingParams { min_p: 0.05, ..d() },
        SamplingParams { presence_penalty: 0.5, ..d() },
        SamplingParams { frequency_penalty: -0.5, ..d() },
        SamplingParams { logprobs: true, ..d() },
    ];
    for p in not_alone {
        assert!(!p.race_suffices(), "{p:?}");
    }
}

#[test]
fn race_draws_from_the_softmax_with_keys_from_the_seed() {
    let logits = [2.0f32, 1.0, 0.0, -1.0, f32::NAN];
    let sampler = Sampler::new(params(1.0, 5));
    let mut counts = [0usize; 5];
    let draws = 20_000;
    for step in 0..draws {
        let key = sampler.race_key(step);
        let s = sampler.sample_race(&mut logits.to_vec(), key);
        counts[s.token as usize] += 1;
        let want = log_softmax(&logits[..4])[s.token as usize];
        assert!((s.logprob - want).abs() < 1e-5, "{} vs {want}", s.logprob);
        assert!(s.top_logprobs.is_empty());
    }
    assert_eq!(counts[4], 0, "a NaN logit never wins");
    let p = softmax(&logits[..4]);
    for (f, p) in frequencies(&counts[..4]).iter().zip(&p) {
        assert!((f - p).abs() < 0.015, "{counts:?} vs {p}");
    }
    // The same seed gives the same keys, another seed others.
    let (a, b) = (Sampler::new(params(1.0, 5)), Sampler::new(params(1.0, 6)));
    assert_eq!(a.race_key(3), sampler.race_key(3));
    assert_ne!(a.race_key(3), b.race_key(3));
    assert_ne!(a.race_key(3), a.race_key(4));
    // No finite logit: token 0, as `sample` gives.
    let s = sampler.sample_race(&mut [f32::NEG_INFINITY, f32::NAN], 1);
    assert_eq!((s.token, s.logprob), (0, -(2f32.ln())));
}

/// A forward pass needs the argmax where the sampler would take it, the
/// race's winner (keyed by the step) where the caller races, and every
/// logit otherwise.
#[test]
fn the_head_follows_the_sampling_parameters() {
    let greedy = Sampler::new(params(0.0, 7));
    assert_eq!(greedy.head(true, 3), Head::Argmax);
    assert_eq!(greedy.head(false, 3), Head::Argmax);
    let sampled = Sampler::new(params(0.7, 7));
    assert_eq!(sampled.head(true, 3), Head::Sample { temperature: 0.7, key: sampled.race_key(3) });
    assert_ne!(sampled.race_key(3), sampled.race_key(4), "each step races under its own key");
    assert_eq!(sampled.head(false, 3), Head::Logits);
}
