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
/// each block of 32 in a kernel's order, and each block's scale (see
/// [`Q16Layout::scale_copies`]).
pub(crate) struct Q16Rows {
    values: CacheAligned<i16>,
    scales: Vec<f32>,
    cols: usize,
    scale_copies: usize,
}

/// Where a kernel reads each quantized activation of a row.
#[derive(Clone, Copy)]
pub(crate) struct Q16Layout {
    /// Position `j` of every block holds input `order[j]` of that block.
    pub order: [u8; BLOCK_ELEMS],
    /// Blocks `2i` and `2i + 1` interleave in groups of [`PAIRED_GROUP`]:
    /// group `g` of block `2i + h` sits at `(2g + h) * 8` of the pair, so a
    /// 256-bit load takes the same group of both blocks, one per 128-bit
    /// lane, as a kernel that holds block `2i` in the low lane and block
    /// `2i + 1` in the high one reads them. A last block without a partner
    /// stays whole. Each block's scale is then stored 4 times, so that one
    /// 256-bit load gives a pair's scales, each in its block's lane.
    pub paired: bool,
}

/// The values of one block in each 128-bit lane of a paired load.
pub(crate) const PAIRED_GROUP: usize = 8;

impl Q16Layout {
    /// Each block's values in `order`, blocks one after another.
    pub const fn blockwise(order: [u8; BLOCK_ELEMS]) -> Self {
        Self { order, paired: false }
    }

    /// How many times each block's scale is stored in a row.
    pub const fn scale_copies(&self) -> usize {
        if self.paired { 4 } else { 1 }
    }
}

/// One quantized activation row.
#[derive(Clone, Copy)]
pub(crate) struct Q16Row<'a> {
    pub values: &'a [i16],
    pub scales: &'a [f32],
}

impl Q16Rows {
    /// Quantizes the `x.len() / cols` rows of `x` into `layout`. `cols` is a
    /// multiple of 32.
    pub fn quantize(x: &[f32], cols: usize, layout: &Q16Layout) -> Self {
        debug_assert!(cols.is_multiple_of(BLOCK_ELEMS) && x.len().is_multiple_of(cols));
        let blocks = cols / BLOCK_ELEMS;
        let mut values = CacheAligned::zeroed(x.len());
        let scale_copies = layout.scale_copies();
        let mut scales = Vec::with_capacity(x.len() / BLOCK_ELEMS * scale_copies);
        for (row, out) in x.chunks_exact(cols).zip(values.chunks_exact_mut(cols)) {
            for (b, block) in row.chunks_exact(BLOCK_ELEMS).enumerate() {
                let mut q = [0i16; BLOCK_ELEMS];
                let scale = quantize_block(block, &layout.order, &mut q);
                scales.extend(std::iter::repeat_n(scale, scale_copies));
                let has_partner = (b | 1) < blocks;
                if layout.paired && has_partner {
                    let pair = &mut out[(b & !1) * BLOCK_ELEMS..][..2 * BLOCK_ELEMS];
                    for (g, group) in q.chunks_exact(PAIRED_GROUP).enumerate() {
                        pair[(2 * g + b % 2) * PAIRED_GROUP..][..PAIRED_GROUP].copy_from_slice(group);
                    }
                } else {
                    out[b * BLOCK_ELEMS..][..BLOCK_ELEMS].copy_from_slice(&q);
                }
            }
        }
        Self { values, scales, cols, scale_copies }
    }

    pub fn row(&self, t: usize) -> Q16Row<'_> {
        let scales = self.cols / BLOCK_ELEMS * self.scale_copies;
        Q16Row {
            values: &self.values[t * self.cols..(t + 1) * self.cols],
            scales: &self.scales[t * scales..(t + 1) * scales],
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
    use crate::cpu::{NATURAL_ORDER, NATURAL_Q16 as NATURAL};

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
        let rows = Q16Rows::quantize(&x, 64, &NATURAL);
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
        let rows = Q16Rows::quantize(&x, 32, &Q16Layout::blockwise(order));
        let d = rows.row(0).scales[0] * 512.0;
        assert_eq!(rows.row(0).values[0] as f32 * d, 31.0);
        assert_eq!(rows.row(0).values[31], 0);
    }

    /// Paired blocks interleave in groups of 8, each scale is stored 4
    /// times, and a last block without a partner stays whole.
    #[test]
    fn paired_layout_interleaves_block_pairs() {
        let paired = Q16Layout { order: NATURAL_ORDER, paired: true };
        // Two rows of three blocks, every value distinct.
        let x: Vec<f32> = (0..192).map(|i| (i + 1) as f32).collect();
        let rows = Q16Rows::quantize(&x, 96, &paired);
        for t in 0..2 {
            let row = rows.row(t);
            assert_eq!(row.scales.len(), 12);
            for (b, copies) in row.scales.chunks_exact(4).enumerate() {
                assert!(copies.iter().all(|&s| s == copies[0]), "row {t}, block {b}: four copies of its scale");
            }
            for (p, &v) in row.values.iter().enumerate() {
                let input = if p < 64 { p / 8 % 2 * 32 + p / 16 * 8 + p % 8 } else { p };
                // Within 192 / 2^15 of the value: rounding gives it back.
                let got = v as f32 * row.scales[4 * (input / 32)] * 512.0;
                assert_eq!(got.round(), x[t * 96 + input], "row {t}, position {p}");
            }
        }
    }

    #[test]
    fn zero_tiny_and_non_finite_blocks() {
        let mut x = vec![0.0f32; 96];
        x[32] = f32::MIN_POSITIVE / 2.0; // subnormal
        x[33] = -f32::MIN_POSITIVE;
        x[64] = f32::NAN;
        let rows = Q16Rows::quantize(&x, 96, &NATURAL);
        let row = rows.row(0);
        assert_eq!((row.scales[0], &row.values[..32]), (0.0, &[0i16; 32][..]));
        assert_eq!((row.values[32], row.values[33]), (8192, -16384), "the smallest normal maximum maps to 2^14");
        assert_eq!(row.scales[1], f32::from_bits(1), "its scale is 2^-149");
        assert!(row.scales[2].is_nan());
        x[64] = f32::INFINITY;
        assert!(Q16Rows::quantize(&x, 96, &NATURAL).row(0).scales[2].is_nan());
    }
}
