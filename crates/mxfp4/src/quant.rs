//! Activations as 16-bit integers, for the integer MXFP4 dot kernels.
//!
//! Each block of 32 values shares a power-of-two scale `d`, the one that
//! maps the block's largest magnitude into `[2^14, 2^15)`, and each value
//! becomes `round(x / d)`. The error of a value is at most `d / 2`, under
//! `2^-15` of its block's largest magnitude: finer than bf16 activations
//! for every value within 1/64 of that magnitude. With the weights' E2M1
//! values (twice them are the integers 0..=12) the products and their sums
//! within a block are exact integers; the kernels scale each block's sum by
//! `d` and by the weights' E8M0 scale, both powers of two, and accumulate
//! blocks in f32.
//!
//! The stored scale is `d / 512`: the kernels multiply twice each E2M1
//! value, in the high byte of a 16-bit lane, so their integer products
//! carry a factor 512. A block holding a NaN or an infinity gets a NaN
//! scale, so every output that reads it is NaN; a block whose largest
//! magnitude is below f32's smallest normal (2^-126) reads as zeros.

use crate::format::BLOCK_ELEMS;
use crate::linear::CacheAligned;

/// Twice each E2M1 value, the integers the kernels multiply: code to
/// 0, 1, 2, 3, 4, 6, 8, 12 and their negatives.
pub(crate) const E2M1_TWICE: [i8; 16] = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

/// Activation rows quantized for one call: row `t` holds `cols` values,
/// each block of 32 in a kernel's order, and one scale per block.
pub(crate) struct Q16Rows {
    values: CacheAligned<i16>,
    scales: Vec<f32>,
    cols: usize,
}

/// One quantized activation row.
#[derive(Clone, Copy)]
pub(crate) struct Q16Row<'a> {
    pub values: &'a [i16],
    pub scales: &'a [f32],
}

impl Q16Rows {
    /// Quantizes the `x.len() / cols` rows of `x`; position `j` of every
    /// block holds input `order[j]` of that block. `cols` is a multiple of 32.
    pub fn quantize(x: &[f32], cols: usize, order: &[u8; BLOCK_ELEMS]) -> Self {
        debug_assert!(cols.is_multiple_of(BLOCK_ELEMS) && x.len().is_multiple_of(cols));
        let mut values = CacheAligned::zeroed(x.len());
        let scales = x
            .chunks_exact(BLOCK_ELEMS)
            .zip(values.chunks_exact_mut(BLOCK_ELEMS))
            .map(|(block, out)| quantize_block(block, order, out))
            .collect();
        Self { values, scales, cols }
    }

    pub fn row(&self, t: usize) -> Q16Row<'_> {
        let blocks = self.cols / BLOCK_ELEMS;
        Q16Row {
            values: &self.values[t * self.cols..(t + 1) * self.cols],
            scales: &self.scales[t * blocks..(t + 1) * blocks],
        }
    }
}

/// Writes the block's integers in `order` and returns its scale.
fn quantize_block(block: &[f32], order: &[u8; BLOCK_ELEMS], out: &mut [i16]) -> f32 {
    let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if block.iter().any(|v| !v.is_finite()) {
        out.fill(0);
        return f32::NAN;
    }
    if amax < f32::MIN_POSITIVE {
        out.fill(0);
        return 0.0;
    }
    let floor_log2 = ((f64::from(amax).to_bits() >> 52) & 0x7FF) as i32 - 1023;
    let exponent = floor_log2 - 14;
    let inverse = f64::powi(2.0, -exponent);
    for (o, &i) in out.iter_mut().zip(order) {
        // Half away from zero, as `f64::round`, which without SSE4.1 is a
        // libm call per value; `as` truncates. Exact: |v| < 2^15 + 1.
        let v = f64::from(block[i as usize]) * inverse;
        *o = ((v + 0.5f64.copysign(v)) as i32).clamp(-32767, 32767) as i16;
    }
    // At least 2^(-126 - 14 - 9) = 2^-149: a normal maximum keeps the scale representable.
    f64::powi(2.0, exponent - 9) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::NATURAL_ORDER;

    fn dequantize(rows: &Q16Rows, t: usize) -> Vec<f32> {
        let row = rows.row(t);
        row.values
            .chunks_exact(BLOCK_ELEMS)
            .zip(row.scales)
            .flat_map(|(q, &d)| q.iter().map(move |&v| v as f32 * d * 512.0))
            .collect()
    }

    #[test]
    fn values_come_back_within_half_a_step_of_two_to_the_minus_fifteen_of_the_block_maximum() {
        let x: Vec<f32> = (0..128).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.013 * (1 + i / 32) as f32).collect();
        let rows = Q16Rows::quantize(&x, 64, &NATURAL_ORDER);
        for t in 0..2 {
            let back = dequantize(&rows, t);
            for (b, (got, want)) in back.chunks(32).zip(x[t * 64..(t + 1) * 64].chunks(32)).enumerate() {
                let amax = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let scale = rows.row(t).scales[b] * 512.0;
                assert!(scale.log2().fract() == 0.0, "scale {scale} is a power of two");
                assert!(amax / scale >= 16384.0 && amax / scale < 32768.0, "block maximum maps into [2^14, 2^15)");
                for (g, w) in got.iter().zip(want) {
                    assert!((g - w).abs() <= amax / 32768.0, "{g} vs {w} (block maximum {amax})");
                }
            }
        }
    }

    #[test]
    fn order_places_inputs() {
        let x: Vec<f32> = (0..32).map(|i| i as f32).collect();
        let mut order = NATURAL_ORDER;
        order.reverse();
        let rows = Q16Rows::quantize(&x, 32, &order);
        let d = rows.row(0).scales[0] * 512.0;
        assert_eq!(rows.row(0).values[0] as f32 * d, 31.0);
        assert_eq!(rows.row(0).values[31], 0);
    }

    #[test]
    fn zero_tiny_and_non_finite_blocks() {
        let mut x = vec![0.0f32; 96];
        x[32] = f32::MIN_POSITIVE / 2.0; // subnormal
        x[33] = -f32::MIN_POSITIVE;
        x[64] = f32::NAN;
        let rows = Q16Rows::quantize(&x, 96, &NATURAL_ORDER);
        let row = rows.row(0);
        assert_eq!((row.scales[0], &row.values[..32]), (0.0, &[0i16; 32][..]));
        assert_eq!((row.values[32], row.values[33]), (8192, -16384), "the smallest normal maximum maps to 2^14");
        assert_eq!(row.scales[1], f32::from_bits(1), "its scale is 2^-149");
        assert!(row.scales[2].is_nan());
        x[64] = f32::INFINITY;
        assert!(Q16Rows::quantize(&x, 96, &NATURAL_ORDER).row(0).scales[2].is_nan());
    }
}
