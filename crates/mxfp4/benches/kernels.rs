//! Criterion benches of `mxfp4::linear` (the active instruction set, see
//! `MXFP4_ISA`) on the gpt-oss shapes, at 1, 64 and 512 activation rows.
//!
//! Throughput is the weight bytes one call reads, so criterion reports the
//! achieved weight bandwidth (GB/s, decimal): at batch 1 compare it with
//! the machine's DRAM read bandwidth. Each iteration uses the next of many
//! distinct copies of the matrix (>= 256 MB in all), so the weights come
//! from DRAM as they do when decoding, not from the L3 cache.
//!
//! `cargo bench -p mxfp4 --bench kernels`; see benches/README.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use mxfp4::Isa;

mod common;

use common::{Copies, DOWN, GATE_UP, Io, Q_PROJ, Shape, UNEMBED};
use mxfp4::bandwidth::parallel_sum;

/// A batch whose single call takes longer than this is skipped.
const MAX_CALL: Duration = Duration::from_secs(2);

fn configure<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g
}

fn bench_shape(g: &mut BenchmarkGroup<'_, WallTime>, w: &Copies, batches: &[usize]) {
    let shape: Shape = w.shape();
    g.throughput(Throughput::BytesDecimal(w.bytes_per_call() as u64));
    for &n in batches {
        let mut io = Io::new(shape, n, 0x1000 + n as u64);
        // Warm-up call, and a guard against batches too slow for the suite.
        let start = Instant::now();
        io.run(w, 0);
        let call = start.elapsed();
        if call > MAX_CALL {
            eprintln!(
                "{}/{}/{n}: skipped, one call took {:.1} s (over {:.0} s)",
                w.format(),
                shape.name,
                call.as_secs_f64(),
                MAX_CALL.as_secs_f64()
            );
            continue;
        }
        let mut i = 1;
        g.bench_function(BenchmarkId::new(shape.name, n), |b| {
            b.iter(|| {
                io.run(w, i);
                i += 1;
            })
        });
        black_box(&io.y);
    }
}

fn mxfp4(c: &mut Criterion) {
    eprintln!(
        "mxfp4 kernels: isa {} (of {:?}), {} threads",
        Isa::active(),
        Isa::available(),
        rayon::current_num_threads()
    );
    let mut g = configure(c, "mxfp4");
    for (seed, shape) in [GATE_UP, DOWN].into_iter().enumerate() {
        let w = Copies::mxfp4(shape, None, seed as u64 + 1);
        bench_shape(&mut g, &w, &[1, 64, 512]);
    }
    g.finish();
}

fn bf16(c: &mut Criterion) {
    let mut g = configure(c, "bf16");
    let w = Copies::bf16(Q_PROJ, None, 11);
    bench_shape(&mut g, &w, &[1, 64, 512]);
    drop(w);
    // 1.16 GB: one copy already streams from DRAM. At 512 rows a call is
    // ~600 GFLOP, so only 1 and 64.
    let w = Copies::bf16(UNEMBED, Some(1), 12);
    bench_shape(&mut g, &w, &[1, 64]);
    g.finish();
}

/// The bound for the decode figures, measured in the same run: all threads
/// summing a 512 MiB buffer.
fn read_bandwidth(c: &mut Criterion) {
    let buf: Vec<u64> = (0..(512u64 << 20) / 8).collect();
    let mut g = configure(c, "read_bandwidth");
    g.throughput(Throughput::BytesDecimal(std::mem::size_of_val(buf.as_slice()) as u64));
    g.bench_function("sum_512MiB", |b| b.iter(|| black_box(parallel_sum(&buf))));
    g.finish();
}

criterion_group!(benches, read_bandwidth, mxfp4, bf16);
criterion_main!(benches);
