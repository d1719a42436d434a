//! `gpt-oss bench`: the engine's throughput at given numbers of concurrent streams, without HTTP: each stream
//! prefills the same prompt and decodes a fixed number of tokens (no stop tokens), all submitted at once.
//!
//! Each run also splits the decode time by part of the model (attention, experts, unembedding, other), per
//! decoded token: compared with the bytes each part reads, it shows which parts run at the memory's speed.
//!
//! `--bandwidth` also measures the machine's read bandwidth (all threads summing a 1 GiB buffer, best of 5), the
//! limit decode speed is compared against; `--json FILE` writes every figure machine-readably.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use gpt_oss_model::{Phase, SamplingParams};
use gpt_oss_server::engine::{Backend, Engine, EngineOptions, GenerateRequest, TokenEvent};
use gpt_oss_server::metrics::Metrics;

#[derive(clap::Args)]
pub struct Args {
    /// Model directory (config.json, tokenizer.json, safetensors). Optional with --bandwidth alone.
    #[arg(long, required_unless_present = "bandwidth")]
    model: Option<PathBuf>,
    /// Numbers of concurrent streams to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    concurrency: Vec<usize>,
    /// Prompt tokens per stream.
    #[arg(long, default_value_t = 64)]
    prompt_tokens: usize,
    /// Tokens each stream generates.
    #[arg(long, default_value_t = 32)]
    gen_tokens: usize,
    /// Most tokens per forward step (as `serve --max-batch-tokens`).
    #[arg(long, default_value_t = 512)]
    max_batch_tokens: usize,
    /// Also measure the read bandwidth (GB/s): all threads sum a 1 GiB buffer, best of 5, before the model loads.
    #[arg(long)]
    bandwidth: bool,
    /// Start without reading every weight into memory first. Weights larger than the memory available
    /// are never read ahead: their experts are paged in from disk as tokens route to them.
    #[arg(long)]
    no_prefetch: bool,
    /// Sampling temperature of every stream: gpt-oss's default 1, or 0 to decode greedily (llama-bench's
    /// tg figure samples nothing at all; with --argmax-head, greedy decode skips most of the unembedding).
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// First run one untimed stream (the prompt and 2 generated tokens), as llama-bench warms up before it times.
    #[arg(long)]
    warmup: bool,
    /// Also write the results as JSON to this file ("-" for standard output, instead of the table).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    #[command(flatten)]
    weights: super::weights::WeightArgs,
}

/// The buffer `--bandwidth` reads (1 GiB, far beyond the caches) and the passes whose best counts.
const BANDWIDTH_BYTES: usize = 1 << 30;
const BANDWIDTH_PASSES: usize = 5;

/// One measured number of streams.
#[derive(serde::Serialize)]
struct Row {
    streams: usize,
    wall_s: f64,
    /// Until the last stream's first token: the prefill of every prompt (and the first sampling).
    ttft_s: f64,
    /// Prompt tokens of all streams over `ttft_s`.
    prefill_tok_s: f64,
    /// Tokens after each stream's first, over the time after the last first token.
    decode_tok_s: f64,
    decode_tok_s_per_stream: f64,
    /// Milliseconds of forward passes per decoded token (of all streams), by part of the model, after the last
    /// first token.
    decode_ms_per_token_by_phase: BTreeMap<&'static str, f64>,
}

#[derive(serde::Serialize)]
struct Report {
    model: Option<PathBuf>,
    threads: usize,
    kernels: String,
    dense_weights: String,
    argmax_head: bool,
    temperature: f32,
    prompt_tokens: usize,
    gen_tokens: usize,
    max_batch_tokens: usize,
    warmup: bool,
    bandwidth_gb_s: Option<f64>,
    bandwidth_bytes: Option<usize>,
    runs: Vec<Row>,
}

pub fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if args.prompt_tokens == 0 || args.gen_tokens == 0 {
        return Err("--prompt-tokens and --gen-tokens must be at least 1".into());
    }
    SamplingParams { temperature: args.temperature, ..SamplingParams::default() }.validate()?;
    let json_to_stdout = args.json.as_deref().is_some_and(|path| path.as_os_str() == "-");
    let threads = mxfp4::bandwidth::threads();
    let mut report = Report {
        model: args.model.clone(),
        threads,
        kernels: mxfp4::Isa::active().to_string(),
        dense_weights: args.weights.dense_weights.to_string(),
        argmax_head: args.weights.argmax_head,
        temperature: args.temperature,
        prompt_tokens: args.prompt_tokens,
        gen_tokens: args.gen_tokens,
        max_batch_tokens: args.max_batch_tokens.max(1),
        warmup: args.warmup,
        bandwidth_gb_s: None,
        bandwidth_bytes: None,
        runs: Vec::new(),
    };
    if args.bandwidth {
        let gbs = mxfp4::bandwidth::read_bandwidth(BANDWIDTH_BYTES, BANDWIDTH_PASSES);
        report.bandwidth_gb_s = Some(gbs);
        report.bandwidth_bytes = Some(BANDWIDTH_BYTES);
        if !json_to_stdout {
            println!("read bandwidth: {gbs:.2} GB/s ({threads} threads, 1 GiB buffer, best of {BANDWIDTH_PASSES})");
        }
    }
    if let Some(model) = &args.model {
        report.runs = measure_streams(&args, model, !json_to_stdout)?;
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)? + "\n";
        if json_to_stdout {
            print!("{text}");
        } else {
            std::fs::write(path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        }
    }
    Ok(())
}

fn measure_streams(
    args: &Args,
    model: &std::path::Path,
    print_table: bool,
) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let max_streams = args.concurrency.iter().copied().max().unwrap_or(1).max(1);
    let options = EngineOptions {
        model_id: "bench".into(),
        max_num_seqs: max_streams,
        max_queue: max_streams,
        max_batch_tokens: args.max_batch_tokens.max(1),
        max_context: None,
        prefetch: !args.no_prefetch,
        dense: args.weights.dense_weights,
        argmax_head: args.weights.argmax_head,
    };
    let metrics = Arc::new(Metrics::new());
    let engine = Arc::new(Engine::start(model, options, metrics.clone())?);
    // A fixed, ordinary prompt: the ids of a repeated sentence.
    let sentence = engine.tokenizer().encode("The quick brown fox jumps over the lazy dog. ", false);
    let prompt: Vec<u32> = sentence.iter().copied().cycle().take(args.prompt_tokens).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    if args.warmup {
        let mut generation = engine.submit(stream_request(&prompt, 0, 2, args.temperature))?;
        runtime.block_on(async {
            while let Some(event) = generation.events.recv().await {
                if let TokenEvent::Finished { .. } = event {
                    break;
                }
            }
        });
    }
    if print_table {
        println!(
            "{:>8} {:>12} {:>14} {:>14} {:>12} {:>14}",
            "streams", "wall s", "decode tok/s", "per stream", "TTFT s", "prefill tok/s"
        );
    }
    let mut rows = Vec::new();
    for &streams in &args.concurrency {
        let streams = streams.max(1);
        let started = Instant::now();
        // The forward time by phase when the last stream has its first token: decode starts there.
        let (first_seen, decode_start) = (Arc::new(AtomicUsize::new(0)), Arc::new(Mutex::new(None)));
        let mut generations = Vec::new();
        for seed in 0..streams as u64 {
            generations.push(engine.submit(stream_request(&prompt, seed, args.gen_tokens, args.temperature))?);
        }
        let (first_tokens, last_tokens) = runtime.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for mut generation in generations {
                let (first_seen, decode_start, metrics) = (first_seen.clone(), decode_start.clone(), metrics.clone());
                tasks.spawn(async move {
                    let mut first = None;
                    while let Some(event) = generation.events.recv().await {
                        match event {
                            TokenEvent::Token(_) => {
                                first.get_or_insert_with(|| {
                                    if first_seen.fetch_add(1, Ordering::SeqCst) + 1 == streams {
                                        *decode_start.lock().unwrap_or_else(|e| e.into_inner()) =
                                            Some(phase_seconds(&metrics));
                                    }
                                    started.elapsed().as_secs_f64()
                                });
                            }
                            TokenEvent::Finished { .. } => break,
                        }
                    }
                    (first.unwrap_or_default(), started.elapsed().as_secs_f64())
                });
            }
            let mut times = (Vec::new(), Vec::new());
            while let Some(Ok((first, last))) = tasks.join_next().await {
                times.0.push(first);
                times.1.push(last);
            }
            times
        });
        // Decode throughput: tokens after each stream's first, over the time after the last first token.
        let ttft = first_tokens.iter().copied().fold(0.0, f64::max);
        let wall = last_tokens.iter().copied().fold(0.0, f64::max);
        let decoded = (streams * (args.gen_tokens - 1)) as f64;
        let rate = decoded / (wall - ttft).max(f64::EPSILON);
        let prefill = (streams * args.prompt_tokens) as f64 / ttft.max(f64::EPSILON);
        let end = phase_seconds(&metrics);
        let start = decode_start.lock().unwrap_or_else(|e| e.into_inner()).unwrap_or(end);
        let by_phase: BTreeMap<&'static str, f64> = Phase::ALL
            .iter()
            .zip(start.iter().zip(&end))
            .map(|(phase, (s, e))| (phase.name(), (e - s) * 1e3 / decoded.max(1.0)))
            .collect();
        if print_table {
            println!(
                "{streams:>8} {wall:>12.2} {rate:>14.2} {:>14.2} {ttft:>12.2} {prefill:>14.2}",
                rate / streams as f64
            );
            let parts: Vec<String> =
                Phase::ALL.iter().map(|p| format!("{} {:.1}", p.name(), by_phase[p.name()])).collect();
            println!("{:>8} decode ms per token: {}", "", parts.join(", "));
        }
        rows.push(Row {
            streams,
            wall_s: wall,
            ttft_s: ttft,
            prefill_tok_s: prefill,
            decode_tok_s: rate,
            decode_tok_s_per_stream: rate / streams as f64,
            decode_ms_per_token_by_phase: by_phase,
        });
    }
    Ok(rows)
}

/// Seconds of forward passes so far, by phase in [`Phase::ALL`] order.
fn phase_seconds(metrics: &Metrics) -> [f64; 4] {
    Phase::ALL.map(|phase| metrics.forward_seconds(phase))
}

/// One stream: `prompt`, then `max_tokens` sampled at `temperature` with `seed` and no stop tokens.
fn stream_request(prompt: &[u32], seed: u64, max_tokens: usize, temperature: f32) -> GenerateRequest {
    GenerateRequest {
        prompt: prompt.to_vec(),
        sampling: SamplingParams { seed: Some(seed), temperature, ..SamplingParams::default() },
        max_tokens,
        stop_tokens: Vec::new(),
        logit_bias: Vec::new(),
    }
}
