//! `y = W x + b` for any weight format: permutes the activations once,
//! then runs the chosen instruction set's kernels on all cores, split over
//! output rows.
//!
//! A few activation rows (decode of a few streams, or a few tokens routed to
//! one expert) stream the packed weights through the dot kernels: each
//! weight row is read from memory once and meets every activation row while
//! in L1, a small group of weight rows and of activation rows per call (see
//! `cpu::DotShape`).
//! More rows (prefill, or many tokens routed to one expert) dequantize a
//! narrow panel of rows into cache and run a register-tiled f32 GEMM over
//! it: the dequantized matrix never exists whole.

use std::ops::Range;

use rayon::prelude::*;

use crate::bf16::Bf16Matrix;
use crate::cpu::{DotShape, Isa, Kernels, Mxfp4Decode, NATURAL_ORDER, NATURAL_Q16, ONE_ROW};
use crate::format::Mxfp4Matrix;
use crate::q8::Q8Matrix;
use crate::q12::{Q12Coarse, Q12Matrix};
use crate::quant::{Q16Layout, Q16Row, Q16Rows};

/// A weight matrix in one of the formats the kernels compute from.
#[derive(Clone, Copy, Debug)]
pub enum Weights<'a> {
    Mxfp4(Mxfp4Matrix<'a>),
    Bf16(Bf16Matrix<'a>),
    Q8(&'a Q8Matrix),
    Q12(&'a Q12Matrix),
    Q12Coarse(Q12Coarse<'a>),
}

impl Weights<'_> {
    pub fn rows(&self) -> usize {
        match self {
            Weights::Mxfp4(w) => w.rows(),
            Weights::Bf16(w) => w.rows(),
            Weights::Q8(w) => w.rows(),
            Weights::Q12(w) => w.rows(),
            Weights::Q12Coarse(w) => w.rows(),
        }
    }

    pub fn cols(&self) -> usize {
        match self {
            Weights::Mxfp4(w) => w.cols(),
            Weights::Bf16(w) => w.cols(),
            Weights::Q8(w) => w.cols(),
            Weights::Q12(w) => w.cols(),
            Weights::Q12Coarse(w) => w.cols(),
        }
    }

    /// Bytes one pass over the weights reads.
    pub fn byte_len(&self) -> usize {
        match self {
            Weights::Mxfp4(w) => w.byte_len(),
            Weights::Bf16(w) => w.byte_len(),
            Weights::Q8(w) => w.byte_len(),
            Weights::Q12(w) => w.byte_len(),
            Weights::Q12Coarse(w) => w.byte_len(),
        }
    }
}

impl<'a> From<Mxfp4Matrix<'a>> for Weights<'a> {
    fn from(w: Mxfp4Matrix<'a>) -> Self {
        Weights::Mxfp4(w)
    }
}

impl<'a> From<Bf16Matrix<'a>> for Weights<'a> {
    fn from(w: Bf16Matrix<'a>) -> Self {
        Weights::Bf16(w)
    }
}

impl<'a> From<&'a Q8Matrix> for Weights<'a> {
    fn from(w: &'a Q8Matrix) -> Self {
        Weights::Q8(w)
    }
}

impl<'a> From<&'a Q12Matrix> for Weights<'a> {
    fn from(w: &'a Q12Matrix) -> Self {
        Weights::Q12(w)
    }
}

impl<'a> From<Q12Coarse<'a>> for Weights<'a> {
    fn from(w: Q12Coarse<'a>) -> Self {
        Weights::Q12Coarse(w)
    }
}

/// `y[t, r] = sum_k W[r, k] x[t, k] + bias[r]` for `n` activation rows: `x`
/// is `n x cols`, `y` is `n x rows`, both row-major. Products and sums are
/// f32, except in decode (up to [`DECODE_MAX_ROWS`] rows) from 8- or 12-bit
/// weights, and from MXFP4 on instruction sets with an integer kernel
/// ([`Isa::quantizes_mxfp4_decode`]): there the activations are first
/// rounded to 16-bit integers per block of 32, within 2^-15 of the block's
/// largest magnitude. Uses [`Isa::active`].
///
/// Panics when the slice lengths do not match the shapes.
pub fn linear<'a>(w: impl Into<Weights<'a>>, x: &[f32], n: usize, bias: Option<&[f32]>, y: &mut [f32]) {
    linear_with(Isa::active(), w, x, n, bias, y);
}

/// [`linear`] on a chosen instruction set. Panics when this CPU cannot run it.
pub fn linear_with<'a>(isa: Isa, w: impl Into<Weights<'a>>, x: &[f32], n: usize, bias: Option<&[f32]>, y: &mut [f32]) {
    let kernels = isa.kernels().unwrap_or_else(|| panic!("this CPU cannot run the {isa} kernels"));
    let w = w.into();
    let (rows, cols) = (w.rows(), w.cols());
    assert_eq!(x.len(), n * cols, "x must be n x cols = {n} x {cols}");
    assert_eq!(y.len(), n * rows, "y must be n x rows = {n} x {rows}");
    if let Some(b) = bias {
        assert_eq!(b.len(), rows, "bias must have one value per row");
    }
    if n == 0 {
        return;
    }
    if n <= DECODE_MAX_ROWS {
        // A few rows: stream the packed weights once, cheaper than
        // dequantizing every panel for the GEMM.
        match w {
            Weights::Mxfp4(m) => match kernels.mxfp4_decode {
                Mxfp4Decode::Q16(q16) => q16_dot_rows(x, n, cols, &q16.layout, bias, y, |r, pair, out| {
                    (q16.dot)(m.row_blocks(r.start), m.row_scales(r.start), pair, out)
                }),
                Mxfp4Decode::F32(dot) => {
                    let xp = permute(x, cols, &kernels.mxfp4_order);
                    let xs: Vec<&[f32]> = xp.chunks_exact(cols).collect();
                    dot_rows(rows, &xs, ONE_ROW, bias, y, |r, pair, out| {
                        dot(m.row_blocks(r.start), m.row_scales(r.start), pair, out)
                    });
                }
            },
            Weights::Bf16(b) => {
                let xp = permute(x, cols, kernels.bf16_order);
                let xs: Vec<&[f32]> = xp.chunks_exact(cols).collect();
                dot_rows(rows, &xs, kernels.bf16_dot_shape, bias, y, |r, xs, out| (kernels.bf16_dot)(&b, r, xs, out));
            }
            Weights::Q8(q) => q16_dot_rows(x, n, cols, &NATURAL_Q16, bias, y, |r, pair, out| {
                (kernels.q8_dot)(q.row_values(r.start), q.row_scales(r.start), pair, out)
            }),
            Weights::Q12(q) => q16_dot_rows(x, n, cols, &NATURAL_Q16, bias, y, |r, pair, out| {
                (kernels.q12_dot)(q.row_high(r.start), q.row_low(r.start), q.row_scales(r.start), pair, out)
            }),
            Weights::Q12Coarse(Q12Coarse(q)) => q16_dot_rows(x, n, cols, &NATURAL_Q16, bias, y, |r, pair, out| {
                (kernels.q12_coarse_dot)(q.row_high(r.start), q.row_scales(r.start), pair, out)
            }),
        }
        return;
    }
    let order: &[u8] = match w {
        Weights::Mxfp4(_) => &kernels.mxfp4_order,
        Weights::Bf16(_) => kernels.bf16_order,
        Weights::Q8(_) | Weights::Q12(_) | Weights::Q12Coarse(_) => &NATURAL_ORDER,
    };
    // The GEMM broadcasts single activations, so alignment does not matter
    // to it: the copy is only needed to reorder.
    let xp;
    let xs: Vec<&[f32]> = if is_identity(order) {
        x.chunks_exact(cols).collect()
    } else {
        xp = permute(x, cols, order);
        xp.chunks_exact(cols).collect()
    };
    gemm_rows(kernels, w, &xs, bias, y);
}

fn is_identity(order: &[u8]) -> bool {
    order.iter().enumerate().all(|(j, &o)| o as usize == j)
}

/// Most activation rows [`linear`] computes with the dot kernels (decode)
/// rather than the GEMM (prefill): up to here, dequantizing each panel of
/// rows costs more than its few activation rows save.
pub const DECODE_MAX_ROWS: usize = 16;

/// Each row of `x` with every chunk of `order.len()` columns rearranged so
/// that position `j` holds column `order[j]`; columns past the last whole
/// chunk keep their place. The copy starts on a cache line (see
/// [`CacheAligned`]).
pub(crate) fn permute(x: &[f32], cols: usize, order: &[u8]) -> CacheAligned<f32> {
    let len = order.len();
    let mut out = CacheAligned::copy_of(x);
    if is_identity(order) {
        return out;
    }
    for (src, dst) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        for (s, d) in src.chunks_exact(len).zip(dst.chunks_exact_mut(len)) {
            for (dj, &o) in d.iter_mut().zip(order) {
                *dj = s[o as usize];
            }
        }
    }
    out
}

/// `len` values starting on a 64-byte boundary: the kernels' vector loads
/// of the activations then never straddle two cache lines (each row's
/// length is a multiple of 64 bytes in these models), which costs a second
/// load each on x86. A heap allocation a cache line longer, not a map: it
/// is made on every call.
pub(crate) struct CacheAligned<T> {
    buf: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: Copy + Default> CacheAligned<T> {
    pub fn zeroed(len: usize) -> Self {
        let spare = 64 / size_of::<T>();
        let buf = vec![T::default(); len + spare];
        let start = buf.as_ptr().align_offset(64).min(spare);
        Self { buf, start, len }
    }

    fn copy_of(x: &[T]) -> Self {
        let mut out = Self::zeroed(x.len());
        out.copy_from_slice(x);
        out
    }
}

impl<T> std::ops::Deref for CacheAligned<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.buf[self.start..self.start + self.len]
    }
}

impl<T> std::ops::DerefMut for CacheAligned<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.buf[self.start..self.start + self.len]
    }
}

fn rows_per_task(rows: usize, granule: usize) -> usize {
    let tasks = rayon::current_num_threads() * 8;
    rows.div_ceil(tasks).next_multiple_of(granule).max(granule)
}

/// `y` (`n x rows`, one row of outputs per activation row) cut into
/// blocks of `block` weight rows: element `b * n + t` is activation row
/// `t`'s outputs for weight rows `b * block ..` (the last block may be
/// shorter). A task that computes a block of weight rows for every
/// activation row gets its `n` slices from `chunks_mut(n)` and writes its
/// results in place: no transposed copy of the whole output to allocate,
/// fault in and read back with a stride.
fn row_blocks(y: &mut [f32], n: usize, block: usize) -> Vec<&mut [f32]> {
    let rows = y.len() / n;
    if rows == 0 {
        return Vec::new();
    }
    let blocks = rows.div_ceil(block);
    let mut per_token: Vec<_> = y.chunks_mut(rows).map(|row| row.chunks_mut(block)).collect();
    let mut pieces = Vec::with_capacity(blocks * n);
    for _ in 0..blocks {
        pieces.extend(per_token.iter_mut().map(|row| row.next().expect("every output row has every block")));
    }
    pieces
}

/// [`dot_rows`] over the `n x cols` activations `x` rounded to 16-bit
/// integers in `layout`, one weight row per call (the integer kernels'),
/// into `y` (`n x rows`).
fn q16_dot_rows(
    x: &[f32],
    n: usize,
    cols: usize,
    layout: &Q16Layout,
    bias: Option<&[f32]>,
    y: &mut [f32],
    dot: impl Fn(Range<usize>, &[Q16Row<'_>], &mut [f32]) + Sync,
) {
    let xq = Q16Rows::quantize(x, cols, layout);
    let xs: Vec<Q16Row<'_>> = (0..n).map(|t| xq.row(t)).collect();
    dot_rows(y.len() / n, &xs, ONE_ROW, bias, y, dot);
}

/// `y` (`xs.len() x rows`) from the dot kernels: `dot(rows, xs, out)`
/// writes the dot products of weight rows `rows` with activation rows `xs`
/// into `out` (`rows.len() x xs.len()`), at most `shape` of each per call;
/// the bias is added here. Every group of activation rows takes its turn
/// on a group of weight rows before the next, so the weights are read from
/// memory once and from L1 after that.
fn dot_rows<X: Sync>(
    rows: usize,
    xs: &[X],
    shape: DotShape,
    bias: Option<&[f32]>,
    y: &mut [f32],
    dot: impl Fn(Range<usize>, &[X], &mut [f32]) + Sync,
) {
    let n = xs.len();
    debug_assert!(n <= DECODE_MAX_ROWS && shape.rows * shape.tokens <= MAX_DOTS_PER_CALL);
    // One activation row is bandwidth-bound: a single sequential stream of
    // weights keeps the hardware prefetcher ahead, where interleaved rows
    // read about a third slower (bf16 on Zen 4).
    let shape = if n == 1 { DotShape { rows: 1, ..shape } } else { shape };
    let chunk = rows_per_task(rows, 4);
    row_blocks(y, n, chunk).par_chunks_mut(n).enumerate().for_each(|(ci, out)| {
        let mut dots = [0.0f32; MAX_DOTS_PER_CALL];
        let (first, count) = (ci * chunk, out[0].len());
        for i0 in (0..count).step_by(shape.rows) {
            let group = shape.rows.min(count - i0);
            let r0 = first + i0;
            for t0 in (0..n).step_by(shape.tokens) {
                let tokens = shape.tokens.min(n - t0);
                let dots = &mut dots[..group * tokens];
                dot(r0..r0 + group, &xs[t0..t0 + tokens], dots);
                for (i, d) in dots.chunks_exact(tokens).enumerate() {
                    let b = bias.map_or(0.0, |b| b[r0 + i]);
                    for (o, d) in out[t0..t0 + tokens].iter_mut().zip(d) {
                        o[i0 + i] = d + b;
                    }
                }
            }
        }
    });
}

/// Most dot products one dot kernel call writes (weight rows x activation
/// rows).
const MAX_DOTS_PER_CALL: usize = 16;

/// Most activation rows any instruction set's GEMM tile takes.
const MAX_MR: usize = 16;

/// Panel columns per GEMM step: a `KC x NR` slice of the panel stays in L1
/// while every group of activation rows passes over it.
const KC: usize = 256;

fn gemm_rows(k: &Kernels, w: Weights<'_>, xs: &[&[f32]], bias: Option<&[f32]>, y: &mut [f32]) {
    let (n, rows, cols) = (xs.len(), w.rows(), w.cols());
    let (mr, nr) = (k.gemm_mr, k.gemm_nr);
    debug_assert!(mr <= MAX_MR);
    row_blocks(y, n, nr).par_chunks_mut(n).enumerate().for_each_init(
        || (vec![0.0f32; cols * nr], vec![0.0f32; n * nr]),
        |(panel, acc), (p, out)| {
            let r0 = p * nr;
            let valid = nr.min(rows - r0);
            match w {
                Weights::Mxfp4(m) => (k.mxfp4_pack)(&m, r0, valid, panel),
                Weights::Bf16(b) => (k.bf16_pack)(&b, r0, valid, panel),
                Weights::Q8(q) => pack_dequantized(valid, nr, panel, |i, row| q.dequantize_row(r0 + i, row)),
                Weights::Q12(q) => pack_dequantized(valid, nr, panel, |i, row| q.dequantize_row(r0 + i, row)),
                Weights::Q12Coarse(c) => pack_dequantized(valid, nr, panel, |i, row| c.dequantize_row(r0 + i, row)),
            }
            acc.fill(0.0);
            let mut a: [&[f32]; MAX_MR] = [&[]; MAX_MR];
            for k0 in (0..cols).step_by(KC) {
                let kc = KC.min(cols - k0);
                for t0 in (0..n).step_by(mr) {
                    let m = mr.min(n - t0);
                    for (am, x) in a.iter_mut().zip(&xs[t0..t0 + m]) {
                        *am = &x[k0..k0 + kc];
                    }
                    (k.gemm_tile)(&a[..m], &panel[k0 * nr..(k0 + kc) * nr], kc, &mut acc[t0 * nr..(t0 + m) * nr]);
                }
            }
            for (t, o) in out.iter_mut().enumerate() {
                for (i, o) in o.iter_mut().enumerate() {
                    *o = acc[t * nr + i] + bias.map_or(0.0, |b| b[r0 + i]);
                }
            }
        },
    );
}

/// Fills a GEMM panel laid out `[cols][nr]` in natural column order with
/// `valid` rows that `dequantize(i, row)` writes, zero-padding the rest.
fn pack_dequantized(valid: usize, nr: usize, panel: &mut [f32], dequantize: impl Fn(usize, &mut [f32])) {
    let cols = panel.len() / nr;
    if valid < nr {
        panel.fill(0.0);
    }
    let mut row = vec![0.0f32; cols];
    for i in 0..valid {
        dequantize(i, &mut row);
        for (k, &v) in row.iter().enumerate() {
            panel[k * nr + i] = v;
        }
    }
}
