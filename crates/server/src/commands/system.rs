//! `gpt-oss system`: what this machine will run.

pub fn run() {
    let available: Vec<&str> = mxfp4::Isa::available().iter().map(|isa| isa.name()).collect();
    println!("kernels: {} (available: {})", mxfp4::Isa::active(), available.join(", "));
    println!("threads: {}", std::thread::available_parallelism().map_or(1, |n| n.get()));
}
