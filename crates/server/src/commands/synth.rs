//! `gpt-oss synth`: a full-size random checkpoint for benchmarks.

use std::path::PathBuf;

use gpt_oss_model::synthetic::{Preset, write_checkpoint};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args)]
pub struct Args {
    /// Which shapes: 20b (13.8 GB on disk), 120b (65 GB), or tiny (52 MB: the real vocabulary around two
    /// small layers, for end-to-end tests).
    #[arg(long, default_value = "20b", value_parser = parse_preset)]
    preset: Preset,
    /// Directory to write (created if missing; existing files are replaced).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the random weights: the same seed writes the same bytes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A tokenizer.json to copy beside the weights, so that `gpt-oss run`
    /// can use the directory (scripts/fetch-tokenizer.sh prints one).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
}

fn parse_preset(name: &str) -> Result<Preset, String> {
    Preset::from_name(name).ok_or_else(|| format!("unknown preset `{name}` (20b, 120b or tiny)"))
}

pub fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{msg} {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
        .expect("static template"),
    );
    bar.set_message(format!("writing {}", args.out.display()));
    write_checkpoint(args.preset, &args.out, args.seed, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish();
    if let Some(tokenizer) = args.tokenizer {
        std::fs::copy(&tokenizer, args.out.join("tokenizer.json"))
            .map_err(|e| format!("copying {}: {e}", tokenizer.display()))?;
    }
    println!("wrote {:?} checkpoint to {}", args.preset, args.out.display());
    Ok(())
}
