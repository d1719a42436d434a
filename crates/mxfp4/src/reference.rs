//! Scalar reference: the truth every kernel is tested against.
//!
//! Products and sums are formed in f64 and rounded once to f32, so the
//! reference carries no accumulation error of its own; a kernel's distance
//! from it is the kernel's error.

use crate::bf16::Bf16Matrix;
use crate::format::{BLOCK_BYTES, BLOCK_ELEMS, E2M1_VALUES, Mxfp4Matrix, e2m1_code, e8m0_to_f32};
use crate::{Q8Matrix, Q12Coarse, Q12Matrix};

/// Row `r` of `w` as f32 values.
pub fn dequantize_row(w: &Mxfp4Matrix<'_>, r: usize, out: &mut [f32]) {
    assert_eq!(out.len(), w.cols());
    let blocks = w.row_blocks(r);
    for (b, &s) in w.row_scales(r).iter().enumerate() {
        let block = &blocks[b * BLOCK_BYTES..(b + 1) * BLOCK_BYTES];
        let scale = e8m0_to_f32(s);
        for i in 0..BLOCK_ELEMS {
            out[b * BLOCK_ELEMS + i] = E2M1_VALUES[e2m1_code(block, i) as usize] * scale;
        }
    }
}

/// The whole matrix as f32, row-major `rows x cols`. For tests and tools
/// only: the kernels never build this.
pub fn dequantize(w: &Mxfp4Matrix<'_>) -> Vec<f32> {
    let mut out = vec![0.0; w.rows() * w.cols()];
    for (r, row) in out.chunks_exact_mut(w.cols()).enumerate() {
        dequantize_row(w, r, row);
    }
    out
}

/// `y[t, r] = sum_k W[r, k] x[t, k] + bias[r]` for `n` activation rows
/// `x` (`n x cols`), writing `y` (`n x rows`).
pub fn mxfp4_linear(w: &Mxfp4Matrix<'_>, x: &[f32], n: usize, bias: Option<&[f32]>, y: &mut [f32]) {
    linear_by_rows(w.rows(), w.cols(), x, n, bias, y, |r, row| dequantize_row(w, r, row));
}

/// The same as [`mxfp4_linear`] for a bf16 matrix.
pub fn bf16_linear(w: &Bf16Matrix<'_>, x: &[f32], n: usize, bias: Option<&[f32]>, y: &mut [f32]) {
    linear_by_rows(w.rows(), w.cols(), x, n, bias, y, |r, row| {
        for (o, v) in row.iter_mut().zip(w.row(r)) {
            *o = v.to_f32();
        }
    });
}

/// The same as [`mxfp4_linear`] for an 8-bit matrix.
pub fn q8_linear(w: &Q8Matrix, x: &[f32], n: usize, bias: Option<&[f32]>, y: &mut [f32]) {
    linear_by_rows(w.rows(), w.cols(), x, n, bias, y, |r, row| w.dequantize_row(r, row));
}

/// The same as [`mxfp4_linear`] for a 12-bit matrix.
pub fn q12_linear(w: &Q12Matrix, x: &[f32], n: usize, bias: Option<&[f32]>, y: &mut [f32]) {
    linear_by_rows(w.rows(), w.cols(), x, n, bias, y, |r, row| w.dequantize_row(r, row));
}

/// The same for a 12-bit matrix's coarse values.
pub fn q12_coarse_linear(w: Q12Coarse<'_>, x: &[f32], n: usize, bias: Option<&[f32]>, y: &mut [f32]) {
    linear_by_rows(w.rows(), w.cols(), x, n, bias, y, |r, row| w.dequantize_row(r, row));
}

fn linear_by_rows(
    rows: usize,
    cols: usize,
    x: &[f32],
    n: usize,
    bias: Option<&[f32]>,
    y: &mut [f32],
    mut row_values: impl FnMut(usize, &mut [f32]),
) {
    assert_eq!(x.len(), n * cols, "x must be n x cols");
    assert_eq!(y.len(), n * rows, "y must be n x rows");
    if let Some(b) = bias {
        assert_eq!(b.len(), rows, "bias must have one value per row");
    }
    let mut w = vec![0.0; cols];
    for r in 0..rows {
        row_values(r, &mut w);
        for t in 0..n {
            let xt = &x[t * cols..(t + 1) * cols];
            let dot: f64 = w.iter().zip(xt).map(|(&a, &b)| a as f64 * b as f64).sum();
            y[t * rows + r] = (dot + bias.map_or(0.0, |b| b[r] as f64)) as f32;
        }
    }
}
