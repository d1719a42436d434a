//! Prometheus metrics, served at `/metrics`: requests, tokens (and those of the argmax head), time to first
//! token, inter-token latency, batch size, forward time by part of the model, queue and KV cache usage.

use gpt_oss_model::{Phase, PhaseTimes};
use prometheus::{
    CounterVec, Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// Every metric the server keeps, registered in one registry.
pub struct Metrics {
    registry: Registry,
    /// Requests by endpoint and HTTP status.
    pub requests: IntCounterVec,
    pub prompt_tokens: IntCounter,
    pub generated_tokens: IntCounter,
    /// Tokens the argmax head chose (greedy, or drawn by the Gumbel-max race) without computing every logit
    /// (`--argmax-head`).
    pub argmax_head_tokens: IntCounter,
    /// Seconds from a request's arrival at the engine to its first generated token.
    pub time_to_first_token: Histogram,
    /// Seconds between consecutive generated tokens of a sequence.
    pub inter_token_latency: Histogram,
    /// Sequences in each forward step.
    pub batch_size: Histogram,
    /// Tokens in each forward step (prefill chunks and decode tokens).
    pub batch_tokens: Histogram,
    /// Seconds of forward passes by part of the model ([`Phase`]).
    forward_seconds: CounterVec,
    pub running: IntGauge,
    pub waiting: IntGauge,
    /// Bytes held by the KV caches of the running sequences.
    pub kv_cache_bytes: IntGauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let latency = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
        let counts = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0];
        let histogram = |name: &str, help: &str, buckets: &[f64]| {
            Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))
        };
        let metrics = (|| -> prometheus::Result<Metrics> {
            Ok(Metrics {
                registry: Registry::new_custom(Some("gpt_oss".into()), None)?,
                requests: IntCounterVec::new(
                    Opts::new("requests_total", "HTTP requests by endpoint and status"),
                    &["endpoint", "status"],
                )?,
                prompt_tokens: IntCounter::new("prompt_tokens_total", "Prompt tokens processed")?,
                generated_tokens: IntCounter::new("generation_tokens_total", "Tokens generated")?,
                argmax_head_tokens: IntCounter::new(
                    "argmax_head_tokens_total",
                    "Tokens the argmax head chose (greedy, or drawn by the Gumbel-max race), without computing every logit",
                )?,
                time_to_first_token: histogram(
                    "time_to_first_token_seconds",
                    "Time from queueing to the first generated token",
                    &latency,
                )?,
                inter_token_latency: histogram(
                    "inter_token_latency_seconds",
                    "Time between consecutive generated tokens of a sequence",
                    &latency,
                )?,
                batch_size: histogram("batch_size", "Sequences per forward step", &counts)?,
                batch_tokens: histogram("batch_tokens", "Tokens per forward step", &counts)?,
                forward_seconds: CounterVec::new(
                    Opts::new(
                        "forward_seconds_total",
                        "Wall-clock seconds of forward passes by part of the model: attention, experts (router \
                         included), unembedding (or the argmax head), other (embedding, norms, residual adds)",
                    ),
                    &["phase"],
                )?,
                running: IntGauge::new("running_sequences", "Sequences being generated")?,
                waiting: IntGauge::new("waiting_requests", "Requests queued for the engine")?,
                kv_cache_bytes: IntGauge::new("kv_cache_bytes", "Bytes held by the running sequences' KV caches")?,
            })
        })();
        // The names and buckets above are fixed and valid; registration of distinct names cannot fail.
        let metrics = metrics.unwrap_or_else(|e| panic!("static metric definitions are invalid: {e}"));
        metrics.register_all();
        metrics
    }

    fn register_all(&self) {
        let collectors: [Box<dyn prometheus::core::Collector>; 12] = [
            Box::new(self.requests.clone()),
            Box::new(self.prompt_tokens.clone()),
            Box::new(self.generated_tokens.clone()),
            Box::new(self.argmax_head_tokens.clone()),
            Box::new(self.time_to_first_token.clone()),
            Box::new(self.inter_token_latency.clone()),
            Box::new(self.batch_size.clone()),
            Box::new(self.batch_tokens.clone()),
            Box::new(self.forward_seconds.clone()),
            Box::new(self.running.clone()),
            Box::new(self.waiting.clone()),
            Box::new(self.kv_cache_bytes.clone()),
        ];
        for collector in collectors {
            if let Err(e) = self.registry.register(collector) {
                panic!("metric registered twice: {e}");
            }
        }
    }

    /// Adds a forward step's time by phase.
    pub fn add_forward_time(&self, times: &PhaseTimes) {
        for phase in Phase::ALL {
            self.forward_seconds.with_label_values(&[phase.name()]).inc_by(times.seconds(phase));
        }
    }

    /// Seconds of forward passes so far in `phase`.
    pub fn forward_seconds(&self, phase: Phase) -> f64 {
        self.forward_seconds.with_label_values(&[phase.name()]).get()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into memory only fails for invalid metric families, which the definitions above exclude.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
