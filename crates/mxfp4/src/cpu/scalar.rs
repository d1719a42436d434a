//! Portable kernels: plain Rust loops written so that the compiler can
//! vectorise them, for CPUs without a dedicated path.

use std::ops::Range;

use half::bf16;

#[cfg(all(test, target_arch = "x86_64"))]
use super::Q16Kernel;
use super::{DotShape, Kernels, Mxfp4Decode, NATURAL_ORDER};
use crate::bf16::Bf16Matrix;
use crate::format::{BLOCK_BYTES, BLOCK_ELEMS, E2M1_VALUES, E8M0_VALUES, Mxfp4Matrix};
use crate::q12::{LOW_BLOCK_BYTES, coarse_block, unpack_block};
#[cfg(all(test, target_arch = "x86_64"))]
use crate::quant::E2M1_TWICE;
use crate::quant::Q16Row;

pub(super) static KERNELS: Kernels = Kernels {
    mxfp4_order: NATURAL_ORDER,
    bf16_order: &[],
    mxfp4_decode: Mxfp4Decode::F32(mxfp4_dot),
    bf16_dot,
    bf16_dot_shape: DotShape { rows: 1, tokens: 8 },
    q8_dot,
    q12_dot,
    q12_coarse_dot,
    // Exact f32 products here: the integer kernel below is the reference of the SIMD ones, not a speed-up.
    mxfp4_pack,
    bf16_pack,
    gemm_tile,
    gemm_mr: MR,
    gemm_nr: NR,
};

const MR: usize = 4;
const NR: usize = 8;

/// One block's 32 values, in natural order, without the scale.
#[inline]
fn decode_block(block: &[u8], out: &mut [f32; BLOCK_ELEMS]) {
    for (j, &byte) in block.iter().enumerate() {
        out[2 * j] = E2M1_VALUES[(byte & 0x0F) as usize];
        out[2 * j + 1] = E2M1_VALUES[(byte >> 4) as usize];
    }
}

fn mxfp4_dot(blocks: &[u8], scales: &[u8], xs: &[&[f32]], out: &mut [f32]) {
    let mut values = [0.0f32; BLOCK_ELEMS];
    out.fill(0.0);
    for (b, &s) in scales.iter().enumerate() {
        decode_block(&blocks[b * BLOCK_BYTES..(b + 1) * BLOCK_BYTES], &mut values);
        for (x, o) in xs.iter().zip(out.iter_mut()) {
            *o += dot(&values, &x[b * BLOCK_ELEMS..(b + 1) * BLOCK_ELEMS]) * E8M0_VALUES[s as usize];
        }
    }
}

/// The integer dot of [`crate::quant`] in natural order: the reference the
/// SIMD integer kernels are tested against.
#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) static Q16: Q16Kernel = Q16Kernel { layout: super::NATURAL_Q16, dot: mxfp4_dot_q16 };

#[cfg(all(test, target_arch = "x86_64"))]
fn mxfp4_dot_q16(blocks: &[u8], scales: &[u8], xs: &[Q16Row<'_>], out: &mut [f32]) {
    out.fill(0.0);
    for (b, &s) in scales.iter().enumerate() {
        let block = &blocks[b * BLOCK_BYTES..(b + 1) * BLOCK_BYTES];
        for (x, o) in xs.iter().zip(out.iter_mut()) {
            let q = &x.values[b * BLOCK_ELEMS..(b + 1) * BLOCK_ELEMS];
            let sum: i32 = block
                .iter()
                .zip(q.chunks_exact(2))
                .map(|(&byte, q)| {
                    i32::from(E2M1_TWICE[(byte & 0x0F) as usize]) * i32::from(q[0])
                        + i32::from(E2M1_TWICE[(byte >> 4) as usize]) * i32::from(q[1])
                })
                .sum();
            // The stored scale divides by 512 (see `quant`): twice the value, times 256.
            *o += (sum as f32 * 256.0) * x.scales[b] * E8M0_VALUES[s as usize];
        }
    }
}

/// Exact integer sums per block, scaled once per block: the reference of
/// the SIMD 8-bit kernels, and the kernel of instruction sets without one.
pub(super) fn q8_dot(values: &[i8], scales: &[f32], xs: &[Q16Row<'_>], out: &mut [f32]) {
    out.fill(0.0);
    for (b, (w, &d)) in values.chunks_exact(BLOCK_ELEMS).zip(scales).enumerate() {
        for (x, o) in xs.iter().zip(out.iter_mut()) {
            *o += int16_block_dot(w, x, b, d);
        }
    }
}

/// The same for 12-bit rows.
pub(super) fn q12_dot(high: &[i8], low: &[u8], scales: &[bf16], xs: &[Q16Row<'_>], out: &mut [f32]) {
    out.fill(0.0);
    for (b, &d) in scales.iter().enumerate() {
        let w = unpack_block(&high[b * BLOCK_ELEMS..(b + 1) * BLOCK_ELEMS], &low[b * LOW_BLOCK_BYTES..]);
        for (x, o) in xs.iter().zip(out.iter_mut()) {
            *o += int16_block_dot(&w, x, b, d.to_f32());
        }
    }
}

/// The same for the coarse values of 12-bit rows.
pub(super) fn q12_coarse_dot(high: &[i8], scales: &[bf16], xs: &[Q16Row<'_>], out: &mut [f32]) {
    out.fill(0.0);
    for (b, (w, &d)) in high.chunks_exact(BLOCK_ELEMS).zip(scales).enumerate() {
        let w = coarse_block(w);
        for (x, o) in xs.iter().zip(out.iter_mut()) {
            *o += int16_block_dot(&w, x, b, d.to_f32());
        }
    }
}

/// Block `b`'s 32 integer weights `w`, of scale `d`, dotted with the same
/// block of `x`: an exact integer sum, then the activation scale (which
/// divides by 512, see `quant`), then the weight scale, in that order
/// because their product alone can underflow where the result does not.
fn int16_block_dot<W: Copy + Into<i32>>(w: &[W], x: &Q16Row<'_>, b: usize, d: f32) -> f32 {
    let q = &x.values[b * BLOCK_ELEMS..(b + 1) * BLOCK_ELEMS];
    let sum: i32 = w.iter().zip(q).map(|(&w, &q)| w.into() * i32::from(q)).sum();
    (sum as f32 * (x.scales[b] * 512.0)) * d
}

fn bf16_dot(w: &Bf16Matrix<'_>, rows: Range<usize>, xs: &[&[f32]], out: &mut [f32]) {
    const CHUNK: usize = 256;
    let mut values = [0.0f32; CHUNK];
    out.fill(0.0);
    for (r, out) in rows.zip(out.chunks_exact_mut(xs.len())) {
        for (c, chunk) in w.row(r).chunks(CHUNK).enumerate() {
            let values = &mut values[..chunk.len()];
            for (v, w) in values.iter_mut().zip(chunk) {
                *v = w.to_f32();
            }
            for (x, o) in xs.iter().zip(out.iter_mut()) {
                *o += dot(values, &x[c * CHUNK..c * CHUNK + chunk.len()]);
            }
        }
    }
}

/// Eight interleaved partial sums, so the loop vectorises without
/// reassociating floating point behind the programmer's back.
#[inline]
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut a8 = a.chunks_exact(8);
    let mut b8 = b.chunks_exact(8);
    for (ca, cb) in (&mut a8).zip(&mut b8) {
        for i in 0..8 {
            acc[i] += ca[i] * cb[i];
        }
    }
    let tail: f32 = a8.remainder().iter().zip(b8.remainder()).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

fn mxfp4_pack(w: &Mxfp4Matrix<'_>, r0: usize, nr: usize, panel: &mut [f32]) {
    let mut values = [0.0f32; BLOCK_ELEMS];
    panel.fill(0.0);
    for i in 0..nr {
        let blocks = w.row_blocks(r0 + i);
        for (b, &s) in w.row_scales(r0 + i).iter().enumerate() {
            decode_block(&blocks[b * BLOCK_BYTES..(b + 1) * BLOCK_BYTES], &mut values);
            let scale = E8M0_VALUES[s as usize];
            for (j, v) in values.iter().enumerate() {
                panel[(b * BLOCK_ELEMS + j) * NR + i] = v * scale;
            }
        }
    }
}

fn bf16_pack(w: &Bf16Matrix<'_>, r0: usize, nr: usize, panel: &mut [f32]) {
    panel.fill(0.0);
    for i in 0..nr {
        for (k, v) in w.row(r0 + i).iter().enumerate() {
            panel[k * NR + i] = v.to_f32();
        }
    }
}

fn gemm_tile(a: &[&[f32]], panel: &[f32], k: usize, tile: &mut [f32]) {
    for (m, row) in a.iter().enumerate() {
        let acc = &mut tile[m * NR..(m + 1) * NR];
        for kk in 0..k {
            let av = row[kk];
            for (c, &b) in acc.iter_mut().zip(&panel[kk * NR..(kk + 1) * NR]) {
                *c += av * b;
            }
        }
    }
}
