//! `gpt-oss run`: load a model directory and generate from a prompt,
//! streaming the text to the terminal.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use gpt_oss_model::sampling::{Sampler, SamplingParams};
use gpt_oss_model::tokenizer::Tokenizer;
use gpt_oss_model::{Checkpoint, GptOss, Head, Next, SequenceInput};

#[derive(clap::Args)]
pub struct Args {
    /// Model directory: config.json, tokenizer.json and the safetensors
    /// weights, as on the Hugging Face hub.
    #[arg(long)]
    model: PathBuf,
    /// Text to continue. Special tokens such as `<|start|>` are recognised.
    #[arg(long)]
    prompt: String,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 128)]
    max_tokens: usize,
    /// Sampling temperature; 0 picks the most likely token every time.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    temperature: f32,
    /// Nucleus sampling: sample from the smallest set of tokens whose
    /// probabilities add up to this.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    top_p: f32,
    /// Seed for a reproducible run.
    #[arg(long)]
    seed: Option<u64>,
    /// Tokens per prefill step (long prompts are fed in chunks).
    #[arg(long, default_value_t = 512)]
    prefill_chunk: usize,
    /// Skip reading the weights into memory before generating (skipped anyway when they exceed the memory
    /// available).
    #[arg(long)]
    no_prefetch: bool,
    #[command(flatten)]
    weights: super::weights::WeightArgs,
}

pub fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let params = SamplingParams {
        temperature: args.temperature,
        top_p: args.top_p,
        seed: args.seed,
        ..SamplingParams::default()
    };
    params.validate()?;
    if args.prefill_chunk == 0 {
        return Err("--prefill-chunk must be at least 1".into());
    }
    let started = Instant::now();
    let ckpt = Checkpoint::open(&args.model)?;
    let mut model = GptOss::load_with(&args.model, &ckpt, args.weights.dense_weights)?;
    if args.weights.argmax_head {
        gpt_oss_server::engine::add_argmax_head(&mut model)?;
    }
    let tokenizer = Tokenizer::from_file(args.model.join("tokenizer.json"))?;
    if !args.no_prefetch {
        gpt_oss_server::progress::prefetch(&ckpt);
    }
    eprintln!("loaded {} in {:.1} s", args.model.display(), started.elapsed().as_secs_f64());

    let prompt = tokenizer.encode(&args.prompt, true);
    if prompt.is_empty() {
        return Err("the prompt is empty".into());
    }
    let mut sampler = Sampler::new(params);
    // With the argmax head, a draw at a temperature alone is the Gumbel-max race's, which the head can run.
    let races = args.weights.argmax_head && sampler.params().race_suffices();
    let mut cache = model.new_cache();
    let mut step =
        |tokens: Vec<u32>, head: Head| model.forward_heads(&mut [SequenceInput { tokens, cache: &mut cache }], &[head]);
    let prefill_started = Instant::now();
    let mut next = Next::Token(0);
    for chunk in prompt.chunks(args.prefill_chunk) {
        next = step(chunk.to_vec(), sampler.head(races, 0))?.remove(0);
    }
    let prefill_secs = prefill_started.elapsed().as_secs_f64();

    let mut stream = tokenizer.decode_stream();
    let mut history = prompt.clone();
    let mut out = std::io::stdout().lock();
    let decode_started = Instant::now();
    let mut generated = 0;
    while generated < args.max_tokens {
        let key = sampler.race_key(generated);
        let token = match &mut next {
            Next::Logits(logits) if races => sampler.sample_race(logits, key).token,
            Next::Logits(logits) => sampler.sample(logits, &history).token,
            Next::Token(token) => *token,
        };
        generated += 1;
        history.push(token);
        if model.eos_token_ids().contains(&token) {
            break;
        }
        if let Some(text) = stream.decode_step(token) {
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
        if generated < args.max_tokens {
            next = step(vec![token], sampler.head(races, generated))?.remove(0);
        }
    }
    if let Some(text) = stream.finish() {
        out.write_all(text.as_bytes())?;
    }
    writeln!(out)?;
    let decode_secs = decode_started.elapsed().as_secs_f64();
    eprintln!(
        "prompt {} tokens in {:.2} s ({:.1} tok/s); generated {} tokens in {:.2} s ({:.2} tok/s)",
        prompt.len(),
        prefill_secs,
        prompt.len() as f64 / prefill_secs,
        generated,
        decode_secs,
        generated as f64 / decode_secs
    );
    Ok(())
}
