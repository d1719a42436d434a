//! Roofline figures for the kernels, measured interleaved because a shared
//! machine's DRAM bandwidth drifts from minute to minute.
//!
//! Each round measures, back to back:
//!
//! 1. the read bandwidth of all threads summing a 512 MiB buffer;
//! 2. each decode kernel (one activation row) cycling through >= 256 MB of
//!    distinct weights, as GB/s of weight bytes and as a fraction of the
//!    bandwidth: the best of (1) and of (1) again right after (2), so that
//!    drift during the round does not push a kernel over 100 %;
//! 3. the clock, from a chain of dependent integer adds, and the FMA peak,
//!    from register-only independent FMAs on all threads;
//! 4. each prefill kernel (512 activation rows) in GFLOP/s and as a
//!    fraction of the measured FMA peak;
//! 5. each decode kernel with 8 activation rows (8 concurrent streams, or
//!    several tokens routed to one expert) cycling through the same copies,
//!    as a fraction of its roof: the slower of streaming the weights at the
//!    round's bandwidth and computing at its FMA peak.
//!
//! A summary gives the median of each figure over the rounds.
//!
//! `cargo bench -p mxfp4 --bench roofline [-- --rounds N]`; `MXFP4_ISA`
//! picks the kernels. See benches/README.md.

use std::hint::black_box;
use std::time::Instant;

use mxfp4::Isa;

mod common;

use common::{Copies, DOWN, GATE_UP, Io, Q_PROJ, UNEMBED};
use mxfp4::bandwidth::{ProbeBuffer, read_bandwidth_of};

const DEFAULT_ROUNDS: usize = 5;
/// Size of the buffer the bandwidth pass reads.
const BANDWIDTH_BYTES: usize = 512 << 20;
/// Timed passes per figure; the best one counts (noise only slows).
const PASSES: usize = 3;
/// Activation rows of the compute-bound figures.
const PREFILL_ROWS: usize = 512;
/// Activation rows of the batched decode figures.
const STREAM_ROWS: usize = 8;
/// Iterations of the clock and FMA loops, per thread and pass.
const CLOCK_ITERS: u64 = 30_000_000;
const FMA_ITERS: u64 = 30_000_000;

fn main() {
    let rounds = parse_rounds();
    let threads = rayon::current_num_threads();
    println!(
        "mxfp4 roofline: isa {} (available {:?}), {threads} threads, {rounds} rounds{}",
        Isa::active(),
        Isa::available(),
        load_average()
    );

    let setup = Instant::now();
    let buffer = ProbeBuffer::new(BANDWIDTH_BYTES / 8);
    let decode = [
        Copies::mxfp4(GATE_UP, None, 1),
        Copies::bf16(Q_PROJ, None, 2),
        // 1.16 GB: one copy already streams from DRAM.
        Copies::bf16(UNEMBED, Some(1), 3),
        Copies::q12(Q_PROJ, None, 5),
        Copies::q8(Q_PROJ, None, 6),
    ];
    let down = Copies::mxfp4(DOWN, None, 4);
    let prefill = [&decode[0], &down, &decode[1], &decode[3], &decode[4]];
    for w in decode.iter().chain([&down]) {
        println!(
            "  {:<5} {:<8} {:>6}x{:<5} x{:<3} copies {:>7.1} MB each, {:>7.1} MB in all",
            w.format(),
            w.shape().name,
            w.shape().rows,
            w.shape().cols,
            w.count(),
            w.bytes_per_call() as f64 / 1e6,
            (w.count() * w.bytes_per_call()) as f64 / 1e6
        );
    }
    println!("  setup {:.1} s", setup.elapsed().as_secs_f64());

    let mut decode_io: Vec<Io> = decode.iter().map(|w| Io::new(w.shape(), 1, 100)).collect();
    let mut prefill_io: Vec<Io> = prefill.iter().map(|w| Io::new(w.shape(), PREFILL_ROWS, 200)).collect();
    let mut streams_io: Vec<Io> = decode.iter().map(|w| Io::new(w.shape(), STREAM_ROWS, 300)).collect();
    let mut results = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let bw_before = read_bandwidth_of(&buffer, PASSES);
        let decode_gbs: Vec<f64> = decode.iter().zip(&mut decode_io).map(|(w, io)| decode_gbs(w, io)).collect();
        let bw_after = read_bandwidth_of(&buffer, PASSES);
        let clock = clock_ghz(threads);
        let fma = fma_gflops();
        let prefill_gflops: Vec<f64> =
            prefill.iter().zip(&mut prefill_io).map(|(w, io)| prefill_gflops(w, io)).collect();
        let streams_secs: Vec<f64> = decode.iter().zip(&mut streams_io).map(|(w, io)| pass_secs(w, io)).collect();
        let r = Round {
            bandwidth: bw_before.max(bw_after),
            bw_before,
            bw_after,
            decode_gbs,
            clock,
            fma,
            prefill_gflops,
            streams_secs,
        };
        r.print(round, rounds, &decode, &prefill, threads);
        results.push(r);
    }
    summary(&results, &decode, &prefill, threads);
}

/// `--rounds N` or `--rounds=N`; other arguments (cargo passes `--bench`)
/// are ignored.
fn parse_rounds() -> usize {
    let mut rounds = DEFAULT_ROUNDS;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--rounds") {
            Some("") => args.next(),
            Some(rest) => rest.strip_prefix('=').map(str::to_owned),
            None => continue,
        };
        rounds = match value.and_then(|v| v.parse().ok()) {
            Some(n) if n > 0 => n,
            _ => {
                eprintln!("usage: roofline [--rounds N], N >= 1");
                std::process::exit(2);
            }
        };
    }
    rounds
}

/// `", load average 1.23"` (1 minute, from /proc/loadavg) where the system
/// tells it: other work on the cores shows up as a lower clock and peak.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(|l| format!(", load average {l}")))
        .unwrap_or_default()
}

/// Figures of one round.
struct Round {
    /// Read bandwidth of all threads, GB/s: the better of the measurements
    /// just before and just after the decode kernels.
    bandwidth: f64,
    bw_before: f64,
    bw_after: f64,
    /// Weight bytes read per second by each decode kernel, GB/s.
    decode_gbs: Vec<f64>,
    /// Clock from the add chain, GHz (x86-64 only).
    clock: Option<f64>,
    /// Measured FMA peak of all threads, GFLOP/s (AVX2 + FMA only).
    fma: Option<f64>,
    /// Each prefill kernel, GFLOP/s.
    prefill_gflops: Vec<f64>,
    /// Seconds of each decode kernel's pass over all its copies with
    /// [`STREAM_ROWS`] activation rows.
    streams_secs: Vec<f64>,
}

impl Round {
    /// How close the [`STREAM_ROWS`]-row pass over `w` came to its roof:
    /// the longer of reading the copies at the round's bandwidth and
    /// computing their FMAs at its peak, over the measured time.
    fn streams_of_roof(&self, w: &Copies, secs: f64) -> Option<f64> {
        let read = (w.count() * w.bytes_per_call()) as f64 / (self.bandwidth * 1e9);
        let compute = w.count() as f64 * w.flops_per_call(STREAM_ROWS) / (self.fma? * 1e9);
        Some(read.max(compute) / secs)
    }

    fn streams_gflops(w: &Copies, secs: f64) -> f64 {
        w.count() as f64 * w.flops_per_call(STREAM_ROWS) / secs / 1e9
    }
}

/// Threads x 2 FMA pipes x 8 f32 lanes (16 when the AVX-512 kernels run)
/// x 2 flops x clock: cores with two FMA units of the kernels' width (Zen 3;
/// Intel server cores with two 512-bit units).
fn theoretical_gflops(threads: usize, clock_ghz: f64) -> f64 {
    threads as f64 * 2.0 * fma_lanes() as f64 * 2.0 * clock_ghz
}

/// f32 lanes of the FMAs the active kernels use: 16 for AVX-512, else 8.
fn fma_lanes() -> u64 {
    if Isa::active() == Isa::Avx512 { 16 } else { 8 }
}

fn label(w: &Copies) -> String {
    format!("{} {} x{}", w.format(), w.shape().name, w.count())
}

fn ratio(a: f64, b: Option<f64>) -> String {
    b.map_or_else(|| "n/a".into(), |b| format!("{:.2}", a / b))
}

fn opt(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.prec$}"))
}

impl Round {
    fn print(&self, round: usize, rounds: usize, decode: &[Copies], prefill: &[&Copies], threads: usize) {
        println!("\nround {}/{rounds}{}", round + 1, load_average());
        println!(
            "  read bandwidth {:>26.1} GB/s (before decode {:.1}, after {:.1})",
            self.bandwidth, self.bw_before, self.bw_after
        );
        println!("  decode, 1 row {:>19} {:>9}", "GB/s", "of bw");
        for (w, gbs) in decode.iter().zip(&self.decode_gbs) {
            println!("    {:<28} {gbs:>6.1} {:>9.2}", label(w), gbs / self.bandwidth);
        }
        let theory = self.clock.map(|c| theoretical_gflops(threads, c));
        println!("  clock (add chain) {:>22} GHz", opt(self.clock, 2));
        println!(
            "  FMA peak {:>31} GFLOP/s (theoretical {}, measured/theoretical {})",
            opt(self.fma, 1),
            opt(theory, 1),
            self.fma.map_or_else(|| "n/a".into(), |f| ratio(f, theory))
        );
        println!("  prefill, {PREFILL_ROWS} rows {:>14} {:>9}", "GFLOP/s", "of peak");
        for (w, gf) in prefill.iter().zip(&self.prefill_gflops) {
            println!("    {:<28} {gf:>6.1} {:>9}", label(w), ratio(*gf, self.fma));
        }
        println!("  decode, {STREAM_ROWS} rows {:>15} {:>9}", "GFLOP/s", "of roof");
        for (w, &secs) in decode.iter().zip(&self.streams_secs) {
            let gf = Round::streams_gflops(w, secs);
            println!("    {:<28} {gf:>6.1} {:>9}", label(w), opt(self.streams_of_roof(w, secs), 2));
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 }
}

fn median_opt(v: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Option<Vec<f64>> = v.collect();
    v.filter(|v| !v.is_empty()).map(median)
}

fn summary(results: &[Round], decode: &[Copies], prefill: &[&Copies], threads: usize) {
    println!("\nsummary: median over {} rounds (ratios are medians of per-round ratios)", results.len());
    let bw = median(results.iter().map(|r| r.bandwidth).collect());
    let bw_all: Vec<String> = results.iter().map(|r| format!("{:.1}", r.bandwidth)).collect();
    println!("  read bandwidth {bw:>26.1} GB/s  (rounds: {})", bw_all.join(" "));
    println!("  decode, 1 row {:>19} {:>9}", "GB/s", "of bw");
    for (k, w) in decode.iter().enumerate() {
        let gbs = median(results.iter().map(|r| r.decode_gbs[k]).collect());
        let of_bw = median(results.iter().map(|r| r.decode_gbs[k] / r.bandwidth).collect());
        println!("    {:<28} {gbs:>6.1} {of_bw:>9.2}", label(w));
    }
    let clock = median_opt(results.iter().map(|r| r.clock));
    let fma = median_opt(results.iter().map(|r| r.fma));
    let theory = clock.map(|c| theoretical_gflops(threads, c));
    let fma_of_theory = median_opt(results.iter().map(|r| Some(r.fma? / theoretical_gflops(threads, r.clock?))));
    println!("  clock (add chain) {:>22} GHz", opt(clock, 2));
    println!(
        "  FMA peak {:>31} GFLOP/s (theoretical {}, measured/theoretical {})",
        opt(fma, 1),
        opt(theory, 1),
        opt(fma_of_theory, 2)
    );
    println!("  prefill, {PREFILL_ROWS} rows {:>14} {:>9}", "GFLOP/s", "of peak");
    for (k, w) in prefill.iter().enumerate() {
        let gf = median(results.iter().map(|r| r.prefill_gflops[k]).collect());
        let of_peak = median_opt(results.iter().map(|r| Some(r.prefill_gflops[k] / r.fma?)));
        println!("    {:<28} {gf:>6.1} {:>9}", label(w), opt(of_peak, 2));
    }
    println!("  decode, {STREAM_ROWS} rows {:>15} {:>9}", "GFLOP/s", "of roof");
    for (k, w) in decode.iter().enumerate() {
        let gf = median(results.iter().map(|r| Round::streams_gflops(w, r.streams_secs[k])).collect());
        let of_roof = median_opt(results.iter().map(|r| r.streams_of_roof(w, r.streams_secs[k])));
        println!("    {:<28} {gf:>6.1} {:>9}", label(w), opt(of_roof, 2));
    }
}

/// GB/s of weights read by one-row calls cycling through every copy of
/// `w`, best of [`PASSES`] passes over all copies, after a warm-up call.
fn decode_gbs(w: &Copies, io: &mut Io) -> f64 {
    (w.count() * w.bytes_per_call()) as f64 / pass_secs(w, io) / 1e9
}

/// Seconds of the best of [`PASSES`] passes of `io`'s calls over every
/// copy of `w`, after a warm-up call.
fn pass_secs(w: &Copies, io: &mut Io) -> f64 {
    io.run(w, w.count() - 1);
    let mut best = f64::INFINITY;
    for _ in 0..PASSES {
        let start = Instant::now();
        for i in 0..w.count() {
            io.run(w, i);
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    best
}

/// GFLOP/s of [`PREFILL_ROWS`]-row calls, best of [`PASSES`] calls on
/// successive copies, after a warm-up call.
fn prefill_gflops(w: &Copies, io: &mut Io) -> f64 {
    io.run(w, w.count() - 1);
    let mut best = f64::INFINITY;
    for i in 0..PASSES {
        let start = Instant::now();
        io.run(w, i);
        best = best.min(start.elapsed().as_secs_f64());
    }
    w.flops_per_call(io.n) / best / 1e9
}

/// The clock of the threads while all of them run a chain of dependent
/// integer adds (one cycle each): mean over threads, best of [`PASSES`].
fn clock_ghz(threads: usize) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        let mut best: f64 = 0.0;
        for _ in 0..PASSES {
            let ghz = rayon::broadcast(|_| {
                let start = Instant::now();
                let adds = x86::add_chain(CLOCK_ITERS);
                adds as f64 / start.elapsed().as_secs_f64() / 1e9
            });
            best = best.max(ghz.iter().sum::<f64>() / threads as f64);
        }
        Some(best)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = threads;
        None
    }
}

/// GFLOP/s of all threads running independent register-only FMAs of the
/// active kernels' width (512-bit when they are AVX-512), best of
/// [`PASSES`]; `None` without AVX2 and FMA.
fn fma_gflops() -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        if !x86::has_fma() {
            return None;
        }
        let mut best = f64::INFINITY;
        let mut flops = 0.0;
        for _ in 0..PASSES {
            let start = Instant::now();
            let wide = Isa::active() == Isa::Avx512;
            let sums = rayon::broadcast(|ctx| {
                let seed = 1.0 + ctx.index() as f32;
                if wide {
                    // SAFETY: the AVX-512 kernels are only active when the
                    // CPU has AVX-512 F, the feature `fma_chains_512` needs.
                    unsafe { x86::fma_chains_512(FMA_ITERS, seed) }
                } else {
                    // SAFETY: `has_fma` checked above that this CPU has AVX2
                    // and FMA, the features `fma_chains` is compiled for.
                    unsafe { x86::fma_chains(FMA_ITERS, seed) }
                }
            });
            best = best.min(start.elapsed().as_secs_f64());
            flops = (sums.len() as u64 * FMA_ITERS * x86::FMA_CHAINS * fma_lanes() * 2) as f64;
            black_box(sums);
        }
        Some(flops / best / 1e9)
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::hint::black_box;

    /// Independent FMA chains: more than the 2 pipes x 4 cycles latency of
    /// Zen 3 (or Intel's 2 x 4), so throughput, not latency, bounds them.
    const CHAINS: usize = 12;
    /// FMAs per loop iteration.
    pub const FMA_CHAINS: u64 = CHAINS as u64;

    pub fn has_fma() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }

    /// `CHAINS` independent chains of `iters` `_mm256_fmadd_ps` each, all
    /// in registers. Returns a value that depends on all of them.
    #[target_feature(enable = "avx2,fma")]
    pub fn fma_chains(iters: u64, seed: f32) -> f32 {
        // acc -> acc * a + b converges to b / (1 - a) = 1: no overflow, no
        // subnormals.
        let a = _mm256_set1_ps(black_box(0.999_9));
        let b = _mm256_set1_ps(black_box(0.000_1));
        // Distinct, opaque starting values, so the compiler cannot merge
        // chains that it would otherwise see compute the same thing.
        let mut acc = [_mm256_setzero_ps(); CHAINS];
        for (i, v) in acc.iter_mut().enumerate() {
            *v = _mm256_set1_ps(black_box(seed + i as f32 * 0.01));
        }
        for _ in 0..iters {
            for v in &mut acc {
                *v = _mm256_fmadd_ps(*v, a, b);
            }
        }
        let mut sum = _mm256_setzero_ps();
        for v in acc {
            sum = _mm256_add_ps(sum, v);
        }
        _mm256_cvtss_f32(sum)
    }

    /// [`fma_chains`] on 512-bit vectors.
    #[target_feature(enable = "avx512f")]
    pub fn fma_chains_512(iters: u64, seed: f32) -> f32 {
        let a = _mm512_set1_ps(black_box(0.999_9));
        let b = _mm512_set1_ps(black_box(0.000_1));
        let mut acc = [_mm512_setzero_ps(); CHAINS];
        for (i, v) in acc.iter_mut().enumerate() {
            *v = _mm512_set1_ps(black_box(seed + i as f32 * 0.01));
        }
        for _ in 0..iters {
            for v in &mut acc {
                *v = _mm512_fmadd_ps(*v, a, b);
            }
        }
        _mm512_reduce_add_ps(acc.into_iter().fold(_mm512_setzero_ps(), |s, v| _mm512_add_ps(s, v)))
    }

    /// A chain of `10 * iters` dependent 64-bit adds; returns the count.
    /// Each takes one cycle; the loop counter runs alongside on another
    /// ALU, so the chain takes `10 * iters` cycles.
    pub fn add_chain(iters: u64) -> u64 {
        assert!(iters > 0);
        let mut x: u64 = 0;
        let mut n = iters;
        // SAFETY: the assembly only does arithmetic on the two registers it
        // is given (their values flow back through `inout`) and the flags,
        // which asm! assumes clobbered; it touches no memory and no stack.
        // `n > 0`, so the loop ends after `iters` iterations.
        unsafe {
            std::arch::asm!(
                "2:",
                "add {x}, 1",
                "add {x}, 1",
                "add {x}, 1",
                "add {x}, 1",
                "add {x}, 1",
                "add {x}, 1",
                "add {x}, 1",
                "add {x}, 1",
                "add {x}, 1",
                "add {x}, 1",
                "dec {n}",
                "jnz 2b",
                x = inout(reg) x,
                n = inout(reg) n,
                options(nomem, nostack),
            );
        }
        black_box(n);
        x
    }
}
