//! Shared by the benches: the gpt-oss shapes, fast random weights, and sets
//! of distinct copies of a matrix large enough that cycling through them
//! reads DRAM, not the L3 cache.
//!
//! A single matrix of these shapes may fit in L3 (an MXFP4 5760x2880 expert
//! is 8.8 MB, the L3 of a Zen 3 CCD 32 MB), while decoding a token of the
//! real model streams gigabytes. Every weight bench therefore calls the
//! kernel on copy 0, 1, 2, ... in turn, over at least [`MIN_STREAM_BYTES`].

// Each bench target compiles this module on its own and uses part of it.
#![allow(dead_code)]

use half::bf16;
use mxfp4::{Bf16Matrix, Mxfp4Matrix, Q8Matrix, Q12Matrix, Weights};
use rayon::prelude::*;

/// Least total size of the copies a weight bench cycles through.
pub const MIN_STREAM_BYTES: usize = 256 << 20;

/// Experts in one MoE layer of gpt-oss-20b: the least count of MXFP4 copies.
pub const MOE_EXPERTS: usize = 32;

/// A weight matrix of the model: `rows` output features by `cols` inputs.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub name: &'static str,
    pub rows: usize,
    pub cols: usize,
    /// Whether the model adds a bias after this projection.
    pub bias: bool,
}

/// One expert's fused gate and up projection (MXFP4).
pub const GATE_UP: Shape = Shape { name: "gate_up", rows: 5760, cols: 2880, bias: true };
/// One expert's down projection (MXFP4).
pub const DOWN: Shape = Shape { name: "down", rows: 2880, cols: 2880, bias: true };
/// Attention query projection (bf16).
pub const Q_PROJ: Shape = Shape { name: "q_proj", rows: 4096, cols: 2880, bias: true };
/// Unembedding, vocabulary by hidden (bf16).
pub const UNEMBED: Shape = Shape { name: "unembed", rows: 201_088, cols: 2880, bias: false };

/// Copies of `bytes_per_copy` each needed to reach [`MIN_STREAM_BYTES`],
/// and at least `floor`.
pub fn copies_for(bytes_per_copy: usize, floor: usize) -> usize {
    MIN_STREAM_BYTES.div_ceil(bytes_per_copy).max(floor).max(1)
}

/// xorshift64: plenty for filling weights, and a few cycles per 8 bytes.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64, stream: u64) -> Self {
        let mut rng = XorShift((seed ^ (stream + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1);
        for _ in 0..4 {
            rng.next();
        }
        rng
    }

    #[inline]
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Uniform in [-1, 1) from 32 random bits.
#[inline]
fn unit_f32(bits: u32) -> f32 {
    f32::from_bits(0x3F80_0000 | (bits >> 9)) * 2.0 - 3.0
}

/// Elements each parallel fill task writes: each task has its own generator.
const FILL_CHUNK: usize = 1 << 20;

fn par_fill<T: Send>(buf: &mut [T], seed: u64, fill: impl Fn(&mut XorShift, &mut [T]) + Sync) {
    buf.par_chunks_mut(FILL_CHUNK).enumerate().for_each(|(i, chunk)| fill(&mut XorShift::new(seed, i as u64), chunk));
}

/// Random bytes: packed E2M1 codes.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    par_fill(&mut v, seed, |rng, chunk| {
        for c in chunk.chunks_mut(8) {
            c.copy_from_slice(&rng.next().to_le_bytes()[..c.len()]);
        }
    });
    v
}

/// Random E8M0 scale bytes in 118..=130, i.e. 2^-9 ..= 2^3.
pub fn random_scales(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    par_fill(&mut v, seed, |rng, chunk| {
        for c in chunk.chunks_mut(8) {
            let r = rng.next().to_le_bytes();
            for (d, s) in c.iter_mut().zip(r) {
                *d = 118 + s % 13;
            }
        }
    });
    v
}

/// Random bf16 values in [-1, 1].
pub fn random_bf16(len: usize, seed: u64) -> Vec<bf16> {
    let mut v = vec![bf16::ZERO; len];
    par_fill(&mut v, seed, |rng, chunk| {
        for c in chunk.chunks_mut(2) {
            let r = rng.next();
            for (d, bits) in c.iter_mut().zip([r as u32, (r >> 32) as u32]) {
                // Truncating to the upper half keeps the value within [-1, 1].
                *d = bf16::from_bits((unit_f32(bits).to_bits() >> 16) as u16);
            }
        }
    });
    v
}

/// Random f32 values in [-1, 1): activations and biases.
pub fn random_f32(len: usize, seed: u64) -> Vec<f32> {
    let mut v = vec![0f32; len];
    par_fill(&mut v, seed, |rng, chunk| {
        for d in chunk {
            *d = unit_f32(rng.next() as u32);
        }
    });
    v
}

/// `count` distinct random copies of one matrix, in one format.
pub enum Copies {
    Mxfp4 {
        shape: Shape,
        count: usize,
        blocks: Vec<u8>,
        scales: Vec<u8>,
    },
    Bf16 {
        shape: Shape,
        count: usize,
        data: Vec<bf16>,
    },
    /// bf16 copies requantized at load, as `--dense-weights q12` does.
    Q12 {
        shape: Shape,
        copies: Vec<Q12Matrix>,
    },
    /// The same for `--dense-weights q8`.
    Q8 {
        shape: Shape,
        copies: Vec<Q8Matrix>,
    },
}

impl Copies {
    /// MXFP4 copies of `shape`: `count`, or when `None` enough for
    /// [`MIN_STREAM_BYTES`] and at least [`MOE_EXPERTS`].
    pub fn mxfp4(shape: Shape, count: Option<usize>, seed: u64) -> Self {
        let nb = shape.rows * shape.cols / 32;
        let count = count.unwrap_or_else(|| copies_for(nb * 17, MOE_EXPERTS));
        let blocks = random_bytes(count * nb * 16, seed);
        let scales = random_scales(count * nb, seed ^ 0x5CA1E);
        Copies::Mxfp4 { shape, count, blocks, scales }
    }

    /// bf16 copies of `shape`: `count`, or when `None` enough for
    /// [`MIN_STREAM_BYTES`].
    pub fn bf16(shape: Shape, count: Option<usize>, seed: u64) -> Self {
        let count = count.unwrap_or_else(|| copies_for(shape.rows * shape.cols * 2, 1));
        let data = random_bf16(count * shape.rows * shape.cols, seed);
        Copies::Bf16 { shape, count, data }
    }

    /// 12-bit copies of `shape`, requantized from as many bf16 copies as
    /// [`Copies::bf16`] makes.
    pub fn q12(shape: Shape, count: Option<usize>, seed: u64) -> Self {
        let copies = Self::requantized(shape, count, seed, Q12Matrix::quantize);
        Copies::Q12 { shape, copies }
    }

    /// The same in 8 bits.
    pub fn q8(shape: Shape, count: Option<usize>, seed: u64) -> Self {
        let copies = Self::requantized(shape, count, seed, Q8Matrix::quantize);
        Copies::Q8 { shape, copies }
    }

    fn requantized<Q>(
        shape: Shape,
        count: Option<usize>,
        seed: u64,
        quantize: impl Fn(&str, &Bf16Matrix<'_>) -> Result<Q, mxfp4::FormatError>,
    ) -> Vec<Q> {
        let bf16 = Self::bf16(shape, count, seed);
        (0..bf16.count())
            .map(|i| match bf16.weights(i) {
                Weights::Bf16(w) => quantize(shape.name, &w).expect("whole blocks"),
                _ => unreachable!("bf16 copies"),
            })
            .collect()
    }

    pub fn shape(&self) -> Shape {
        match self {
            Copies::Mxfp4 { shape, .. }
            | Copies::Bf16 { shape, .. }
            | Copies::Q12 { shape, .. }
            | Copies::Q8 { shape, .. } => *shape,
        }
    }

    pub fn count(&self) -> usize {
        match self {
            Copies::Mxfp4 { count, .. } | Copies::Bf16 { count, .. } => *count,
            Copies::Q12 { copies, .. } => copies.len(),
            Copies::Q8 { copies, .. } => copies.len(),
        }
    }

    pub fn format(&self) -> &'static str {
        match self {
            Copies::Mxfp4 { .. } => "mxfp4",
            Copies::Bf16 { .. } => "bf16",
            Copies::Q12 { .. } => "q12",
            Copies::Q8 { .. } => "q8",
        }
    }

    /// Copy `i % count`.
    pub fn weights(&self, i: usize) -> Weights<'_> {
        let shape = self.shape();
        let i = i % self.count();
        match self {
            Copies::Mxfp4 { blocks, scales, .. } => {
                let nb = shape.rows * shape.cols / 32;
                let b = &blocks[i * nb * 16..(i + 1) * nb * 16];
                let s = &scales[i * nb..(i + 1) * nb];
                Mxfp4Matrix::new(shape.name, b, s, shape.rows, shape.cols).expect("consistent shape").into()
            }
            Copies::Bf16 { data, .. } => {
                let len = shape.rows * shape.cols;
                Bf16Matrix::new(shape.name, &data[i * len..(i + 1) * len], shape.rows, shape.cols)
                    .expect("consistent shape")
                    .into()
            }
            Copies::Q12 { copies, .. } => (&copies[i]).into(),
            Copies::Q8 { copies, .. } => (&copies[i]).into(),
        }
    }

    /// Weight bytes one call reads.
    pub fn bytes_per_call(&self) -> usize {
        self.weights(0).byte_len()
    }

    /// Floating-point operations of one call on `n` activation rows.
    pub fn flops_per_call(&self, n: usize) -> f64 {
        let shape = self.shape();
        2.0 * (n * shape.rows * shape.cols) as f64
    }
}

/// Activations, bias and output buffers for `n` rows through `shape`.
pub struct Io {
    pub n: usize,
    pub x: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub y: Vec<f32>,
}

impl Io {
    pub fn new(shape: Shape, n: usize, seed: u64) -> Self {
        Io {
            n,
            x: random_f32(n * shape.cols, seed),
            bias: shape.bias.then(|| random_f32(shape.rows, seed ^ 0xB1A5)),
            y: vec![0.0; n * shape.rows],
        }
    }

    /// `y = W x + b` through copy `i` of `w`, with the active instruction set.
    #[inline]
    pub fn run(&mut self, w: &Copies, i: usize) {
        mxfp4::linear(w.weights(i), std::hint::black_box(&self.x), self.n, self.bias.as_deref(), &mut self.y);
        std::hint::black_box(&mut self.y);
    }
}
