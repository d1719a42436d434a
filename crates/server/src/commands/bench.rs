//! `gpt-oss bench`: the engine's throughput at given numbers of concurrent streams, without HTTP: each stream
//! prefills the same prompt and decodes a fixed number of tokens (no stop tokens), all submitted at once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use gpt_oss_model::SamplingParams;
use gpt_oss_server::engine::{Backend, Engine, EngineOptions, GenerateRequest, TokenEvent};
use gpt_oss_server::metrics::Metrics;

#[derive(clap::Args)]
pub struct Args {
    /// Model directory (config.json, tokenizer.json, safetensors).
    #[arg(long)]
    model: PathBuf,
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
}

pub fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if args.prompt_tokens == 0 || args.gen_tokens == 0 {
        return Err("--prompt-tokens and --gen-tokens must be at least 1".into());
    }
    let max_streams = args.concurrency.iter().copied().max().unwrap_or(1).max(1);
    let options = EngineOptions {
        model_id: "bench".into(),
        max_num_seqs: max_streams,
        max_queue: max_streams,
        max_batch_tokens: args.max_batch_tokens.max(1),
        max_context: None,
        prefetch: true,
    };
    let engine = Arc::new(Engine::start(&args.model, options, Arc::new(Metrics::new()))?);
    // A fixed, ordinary prompt: the ids of a repeated sentence.
    let sentence = engine.tokenizer().encode("The quick brown fox jumps over the lazy dog. ", false);
    let prompt: Vec<u32> = sentence.iter().copied().cycle().take(args.prompt_tokens).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    println!("{:>8} {:>12} {:>14} {:>14} {:>12}", "streams", "wall s", "decode tok/s", "per stream", "TTFT s");
    for &streams in &args.concurrency {
        let streams = streams.max(1);
        let started = Instant::now();
        let mut generations = Vec::new();
        for seed in 0..streams as u64 {
            let request = GenerateRequest {
                prompt: prompt.clone(),
                sampling: SamplingParams { seed: Some(seed), ..SamplingParams::default() },
                max_tokens: args.gen_tokens,
                stop_tokens: Vec::new(),
                logit_bias: Vec::new(),
            };
            generations.push(engine.submit(request)?);
        }
        let (first_tokens, last_tokens) = runtime.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for mut generation in generations {
                tasks.spawn(async move {
                    let mut first = None;
                    while let Some(event) = generation.events.recv().await {
                        match event {
                            TokenEvent::Token(_) => {
                                first.get_or_insert_with(|| started.elapsed().as_secs_f64());
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
        println!("{streams:>8} {wall:>12.2} {rate:>14.2} {:>14.2} {ttft:>12.2}", rate / streams as f64);
    }
    Ok(())
}
