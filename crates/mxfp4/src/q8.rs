//! Dense weights requantized to 8-bit integers, for CPUs whose decode is
//! bound by memory bandwidth: 1.125 bytes per weight instead of bf16's 2.
//!
//! Each block of 32 consecutive values of a row shares an f32 scale
//! `d = max |w| / 127`, and each value becomes `round(w / d)`: the error of
//! a value is at most `d / 2`, 1/254 of its block's largest magnitude. A
//! block holding a NaN or an infinity gets a NaN scale, so every output
//! that reads it is NaN, as with the bf16 weights it came from.
//!
//! Unlike [`crate::Mxfp4Matrix`] and [`crate::Bf16Matrix`], which borrow
//! the checkpoint's bytes, a `Q8Matrix` owns its values: it is made once,
//! at load, from a bf16 matrix.

use half::bf16;

use crate::bf16::Bf16Matrix;
use crate::error::FormatError;
use crate::format::BLOCK_ELEMS;
use crate::huge::HugeBuf;

/// A `rows x cols` matrix of 8-bit values with one scale per block of 32
/// columns; `cols` is a multiple of 32.
#[derive(Debug, Clone)]
pub struct Q8Matrix {
    values: HugeBuf<i8>,
    scales: Vec<f32>,
    rows: usize,
    cols: usize,
}

impl Q8Matrix {
    /// Quantizes a bf16 matrix, rows in parallel. Its columns must be a
    /// multiple of 32.
    pub fn quantize(name: &str, w: &Bf16Matrix<'_>) -> Result<Self, FormatError> {
        let (values, scales) = w.quantize_blocks(name, BLOCK_ELEMS, quantize_block)?;
        Ok(Self { values, scales, rows: w.rows(), cols: w.cols() })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `r`'s values, `cols` of them.
    #[inline]
    pub fn row_values(&self, r: usize) -> &[i8] {
        &self.values[r * self.cols..(r + 1) * self.cols]
    }

    /// Row `r`'s scales, one per block of 32 values.
    #[inline]
    pub fn row_scales(&self, r: usize) -> &[f32] {
        let blocks = self.cols / BLOCK_ELEMS;
        &self.scales[r * blocks..(r + 1) * blocks]
    }

    /// Bytes one pass over the matrix reads.
    pub fn byte_len(&self) -> usize {
        self.values.len() + self.scales.len() * size_of::<f32>()
    }

    /// Row `r` as f32 values, `cols` of them.
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        for ((o, q), &d) in
            out.chunks_exact_mut(BLOCK_ELEMS).zip(self.row_values(r).chunks_exact(BLOCK_ELEMS)).zip(self.row_scales(r))
        {
            for (o, &q) in o.iter_mut().zip(q) {
                *o = f32::from(q) * d;
            }
        }
    }
}

/// Writes the block's integers and returns its scale.
fn quantize_block(block: &[bf16], out: &mut [i8]) -> f32 {
    if block.iter().any(|v| !v.is_finite()) {
        out.fill(0);
        return f32::NAN;
    }
    let amax = block.iter().fold(0.0f32, |m, v| m.max(v.to_f32().abs()));
    if amax == 0.0 {
        out.fill(0);
        return 0.0;
    }
    let d = amax / 127.0;
    for (o, v) in out.iter_mut().zip(block) {
        *o = (v.to_f32() / d).round().clamp(-127.0, 127.0) as i8;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(values: &[f32], rows: usize, cols: usize) -> Q8Matrix {
        let data: Vec<bf16> = values.iter().map(|&v| bf16::from_f32(v)).collect();
        Q8Matrix::quantize("w", &Bf16Matrix::new("w", &data, rows, cols).unwrap()).unwrap()
    }

    #[test]
    fn values_come_back_within_half_a_step_of_the_block_maximum_over_127() {
        let x: Vec<f32> = (0..192).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.013 * (1 + i / 32) as f32).collect();
        let w = matrix(&x, 3, 64);
        let mut back = vec![0.0; 64];
        for r in 0..3 {
            w.dequantize_row(r, &mut back);
            let want: Vec<f32> = x[r * 64..(r + 1) * 64].iter().map(|&v| bf16::from_f32(v).to_f32()).collect();
            for (b, (got, want)) in back.chunks(32).zip(want.chunks(32)).enumerate() {
                let amax = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                assert_eq!(w.row_scales(r)[b], amax / 127.0);
                assert!(w.row_values(r)[b * 32..(b + 1) * 32].iter().any(|q| q.abs() == 127));
                for (g, v) in got.iter().zip(want) {
                    assert!((g - v).abs() <= amax / 254.0 * 1.0001, "{g} vs {v} (block maximum {amax})");
                }
            }
        }
        assert_eq!(w.byte_len(), 192 + 6 * 4);
    }

    #[test]
    fn zero_and_non_finite_blocks() {
        let mut x = vec![0.0f32; 96];
        x[64] = f32::NAN;
        x[40] = -2.0;
        let w = matrix(&x, 1, 96);
        assert_eq!((w.row_scales(0)[0], &w.row_values(0)[..32]), (0.0, &[0i8; 32][..]));
        assert_eq!(w.row_values(0)[40], -127);
        assert!(w.row_scales(0)[2].is_nan());
        x[64] = f32::NEG_INFINITY;
        assert!(matrix(&x, 1, 96).row_scales(0)[2].is_nan());
    }

    #[test]
    fn columns_must_fill_whole_blocks() {
        let data = vec![bf16::ONE; 2 * 40];
        let err = Q8Matrix::quantize("w", &Bf16Matrix::new("w", &data, 2, 40).unwrap()).unwrap_err();
        assert!(err.to_string().contains("columns a multiple of 32"), "{err}");
    }
}
