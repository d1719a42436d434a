//! Decode kernels with their weights in the L3 cache, on one thread: the
//! kernels' own cost per weight block and activation row, with far less of
//! the DRAM bandwidth that swings on a shared machine. Each figure is the
//! best of several passes, and the instruction sets' passes alternate, so
//! their ratio holds even while the machine's speed drifts.
//!
//! `cargo bench -p mxfp4 --bench incache [-- NAME [ROWS]]` (e.g. `mxfp4 1`).

use std::hint::black_box;
use std::time::Instant;

use mxfp4::{Isa, linear_with};

mod common;

use common::{Copies, Shape, random_f32};

/// One expert's gate_up (8.8 MB) and 1024 bf16 rows (5.9 MB): within a
/// 32 MB L3, and large enough that each call's fixed costs (quantizing the
/// activations, splitting the rows) do not count.
const MXFP4: Shape = Shape { name: "mxfp4", rows: 5760, cols: 2880, bias: false };
const BF16: Shape = Shape { name: "bf16", rows: 1024, cols: 2880, bias: false };
const PASSES: usize = 15;
const CALLS: usize = 5;

fn main() {
    // Called from inside a one-thread pool, `linear`'s parallel loops run
    // inline instead of waking a worker per call.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a one-thread pool");
    pool.install(run);
}

fn run() {
    let isas: Vec<Isa> = Isa::available().into_iter().filter(|&isa| isa != Isa::Scalar).collect();
    println!("decode in cache, one thread, ns per weight block and activation row (best of {PASSES} passes)");
    println!("  {:14} {}", "", isas.iter().map(|isa| format!("{:>8}", isa.name())).collect::<String>());
    // `incache [NAME [ROWS]]` runs only those figures (for a profiler).
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    for (copies, shape) in [(Copies::mxfp4(MXFP4, Some(1), 1), MXFP4), (Copies::bf16(BF16, Some(1), 2), BF16)] {
        for n in [1, 2, 4, 8] {
            if args.first().is_some_and(|a| a != shape.name) || args.get(1).is_some_and(|a| *a != n.to_string()) {
                continue;
            }
            let x = random_f32(n * shape.cols, 3);
            let mut y = vec![0.0f32; n * shape.rows];
            let mut best = vec![f64::INFINITY; isas.len()];
            for _ in 0..PASSES {
                for (&isa, best) in isas.iter().zip(&mut best) {
                    let start = Instant::now();
                    for _ in 0..CALLS {
                        linear_with(isa, copies.weights(0), black_box(&x), n, None, &mut y);
                    }
                    *best = best.min(start.elapsed().as_secs_f64());
                }
            }
            let units = (CALLS * shape.rows * shape.cols / 32 * n) as f64;
            let figures: String = best.iter().map(|b| format!("{:8.3}", b / units * 1e9)).collect();
            println!("  {:6} {n} rows {figures}", shape.name);
            black_box(&y);
        }
    }
}
