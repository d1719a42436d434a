//! One request inside the engine: its prompt still to prefill, its KV cache, its sampler and its channel back
//! to the HTTP layer.

use std::time::Instant;

use gpt_oss_model::{Cache, Head, Next, Sampled, Sampler};
use tokio::sync::mpsc;

use super::{FinishReason, GenerateRequest, GeneratedToken, TokenEvent, Usage};
use crate::metrics::Metrics;

pub struct Sequence {
    request: GenerateRequest,
    /// Prompt tokens already in the cache.
    prefilled: usize,
    generated: Vec<u32>,
    /// The last sampled token, to feed at the next step.
    next: Option<u32>,
    pub cache: Cache,
    sampler: Sampler,
    /// Whether tokens that the Gumbel-max race can draw are drawn by it (the engine has the argmax head): the
    /// same seed then gives the same tokens whether the head or the full logits decide a step.
    races: bool,
    tx: mpsc::UnboundedSender<TokenEvent>,
    queued_at: Instant,
    last_token_at: Option<Instant>,
    finished: bool,
}

impl Sequence {
    pub fn new(
        request: GenerateRequest,
        cache: Cache,
        tx: mpsc::UnboundedSender<TokenEvent>,
        queued_at: Instant,
        races: bool,
    ) -> Self {
        let sampler = Sampler::new(request.sampling.clone());
        let races = races && sampler.params().race_suffices() && request.logit_bias.is_empty();
        Sequence {
            request,
            prefilled: 0,
            generated: Vec::new(),
            next: None,
            cache,
            sampler,
            races,
            tx,
            queued_at,
            last_token_at: None,
            finished: false,
        }
    }

    /// The client dropped its receiver: stop working for it.
    pub fn is_cancelled(&self) -> bool {
        self.tx.is_closed()
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Whether the prompt is in the cache and the sequence generates one token per step.
    pub fn is_decoding(&self) -> bool {
        self.next.is_some()
    }

    /// The tokens to feed this step: the last sampled token, or the next prompt chunk of at most `budget`.
    pub fn next_input(&self, budget: usize) -> Vec<u32> {
        match self.next {
            Some(token) => vec![token],
            None => {
                let end = (self.prefilled + budget).min(self.request.prompt.len());
                self.request.prompt[self.prefilled..end].to_vec()
            }
        }
    }

    /// What the step feeding `fed` tokens needs from the model: the most likely token when nothing is
    /// sampled from this step (the prompt goes on), otherwise what the sampler needs ([`Sampler::head`]): every
    /// logit under a logit bias, which the head does not apply.
    pub fn head(&self, fed: usize) -> Head {
        let samples = self.next.is_some() || self.prefilled + fed >= self.request.prompt.len();
        if !samples {
            Head::Argmax
        } else if !self.request.logit_bias.is_empty() {
            Head::Logits
        } else {
            self.sampler.head(self.races, self.generated.len())
        }
    }

    /// Takes the model's result for the step that fed `fed` tokens. Once the prompt is complete, samples a
    /// token and reports it; finishes at a stop token or at `max_tokens`.
    pub fn advance(&mut self, fed: usize, next: Next, metrics: &Metrics) {
        if self.next.take().is_none() {
            self.prefilled += fed;
            if self.prefilled < self.request.prompt.len() {
                return;
            }
            metrics.prompt_tokens.inc_by(self.request.prompt.len() as u64);
        }
        let sampled = match next {
            Next::Logits(mut logits) => {
                for &(id, bias) in &self.request.logit_bias {
                    if let Some(logit) = logits.get_mut(id as usize) {
                        *logit += bias;
                    }
                }
                if self.races {
                    let key = self.sampler.race_key(self.generated.len());
                    self.sampler.sample_race(&mut logits, key)
                } else {
                    self.sampler.sample(&mut logits, &self.generated)
                }
            }
            // Only asked for where the sampler would take this token: no log-probability is reported.
            Next::Token(token) => {
                metrics.argmax_head_tokens.inc();
                Sampled { token, logprob: f32::NAN, top_logprobs: Vec::new() }
            }
        };
        let now = Instant::now();
        match self.last_token_at {
            None => metrics.time_to_first_token.observe(now.duration_since(self.queued_at).as_secs_f64()),
            Some(last) => metrics.inter_token_latency.observe(now.duration_since(last).as_secs_f64()),
        }
        self.last_token_at = Some(now);
        metrics.generated_tokens.inc();
        self.generated.push(sampled.token);
        let token = GeneratedToken { id: sampled.token, logprob: sampled.logprob, top_logprobs: sampled.top_logprobs };
        let _ = self.tx.send(TokenEvent::Token(token));
        if self.request.stop_tokens.contains(&sampled.token) {
            self.finish(FinishReason::StopToken(sampled.token));
        } else if self.generated.len() >= self.request.max_tokens {
            self.finish(FinishReason::Length);
        } else {
            self.next = Some(sampled.token);
        }
    }

    /// Reports the end. A closed receiver needs no report.
    pub fn finish(&mut self, reason: FinishReason) {
        let usage = Usage {
            prompt_tokens: self.request.prompt.len(),
            completion_tokens: self.generated.len(),
            cached_tokens: 0,
        };
        let _ = self.tx.send(TokenEvent::Finished { reason, usage });
        self.finished = true;
    }
}
