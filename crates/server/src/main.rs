//! `gpt-oss`: run, serve and benchmark OpenAI's open-weight models.

mod commands;
pub mod hub;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "gpt-oss", version, about = "Run OpenAI's gpt-oss models locally")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print which CPU kernels this machine will use, and how many threads.
    System,
    /// Serve the OpenAI-compatible API (chat completions, completions, models, tokenize, metrics).
    Serve(Box<commands::serve::Args>),
    /// Measure the engine's decode throughput at several numbers of concurrent streams.
    Bench(commands::bench::Args),
    /// Generate text from a prompt with a local model directory.
    Run(commands::run::Args),
    /// Write a full-size checkpoint of random weights with the real shapes
    /// and layout of gpt-oss-20b or -120b, for speed and memory tests.
    Synth(commands::synth::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::System => {
            commands::system::run();
            Ok(())
        }
        Command::Serve(args) => commands::serve::run(*args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Synth(args) => commands::synth::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
