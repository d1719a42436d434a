//! `gpt-oss`: run, serve and benchmark OpenAI's open-weight models.

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
}

fn main() {
    match Cli::parse().command {
        Command::System => {
            let available: Vec<&str> = mxfp4::Isa::available().iter().map(|isa| isa.name()).collect();
            println!("kernels: {} (available: {})", mxfp4::Isa::active(), available.join(", "));
            println!("threads: {}", std::thread::available_parallelism().map_or(1, |n| n.get()));
        }
    }
}
