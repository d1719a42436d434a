//! Dense weights requantized to 12-bit integers: 1.5625 bytes per weight
//! instead of bf16's 2, and 16 times finer than [`crate::Q8Matrix`], fine
//! enough that the model's log-probabilities stay within the fidelity bound.
//!
//! Each block of 32 consecutive values of a row shares a bf16 scale `d`,
//! the smallest bf16 at or above `max |w| / 2047`, and each value becomes
//! `round(w / d)` in `-2047..=2047`: the error of a value is at most `d / 2`,
//! about 1/4094 of its block's largest magnitude. A block holding a NaN or
//! an infinity gets a NaN scale, so every output that reads it is NaN.
//!
//! Values are packed in pairs, three bytes per pair `(a, b)`: `a`'s low 8
//! bits, then `a`'s high 4 bits under `b`'s low 4, then `b`'s high 8 bits.
//! The little-endian 16 bits at a pair's first byte hold `a` in their low
//! 12 bits, those at its second byte hold `b` in their high 12: a shift
//! left by 4 (for `a`) and an arithmetic shift right by 4 give both values
//! sign-extended, the same two shifts in every 16-bit lane of a register.

use half::bf16;

use crate::bf16::Bf16Matrix;
use crate::error::FormatError;
use crate::format::BLOCK_ELEMS;
use crate::huge::HugeBuf;

/// Bytes of one block of 32 values.
pub(crate) const Q12_BLOCK_BYTES: usize = BLOCK_ELEMS * 3 / 2;

/// Bytes past the last block that SIMD kernels may load (and ignore).
pub(crate) const Q12_PAD: usize = 16;

const Q12_MAX: f32 = 2047.0;

/// A `rows x cols` matrix of 12-bit values with one bf16 scale per block of
/// 32 columns; `cols` is a multiple of 32.
#[derive(Debug, Clone)]
pub struct Q12Matrix {
    /// `rows * cols * 3 / 2` bytes, then [`Q12_PAD`] zeros.
    packed: HugeBuf<u8>,
    scales: Vec<bf16>,
    rows: usize,
    cols: usize,
}

impl Q12Matrix {
    /// Quantizes a bf16 matrix, rows in parallel. Its columns must be a
    /// multiple of 32.
    pub fn quantize(name: &str, w: &Bf16Matrix<'_>) -> Result<Self, FormatError> {
        let (packed, scales) = w.quantize_blocks(name, Q12_BLOCK_BYTES, Q12_PAD, quantize_block)?;
        Ok(Self { packed, scales, rows: w.rows(), cols: w.cols() })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `r`'s packed values, 48 bytes per block of 32, followed by at
    /// least [`Q12_PAD`] readable bytes.
    #[inline]
    pub(crate) fn row_packed(&self, r: usize) -> &[u8] {
        let row_bytes = self.cols / BLOCK_ELEMS * Q12_BLOCK_BYTES;
        &self.packed[r * row_bytes..(r + 1) * row_bytes + Q12_PAD]
    }

    /// Row `r`'s scales, one per block of 32 values.
    #[inline]
    pub(crate) fn row_scales(&self, r: usize) -> &[bf16] {
        let blocks = self.cols / BLOCK_ELEMS;
        &self.scales[r * blocks..(r + 1) * blocks]
    }

    /// Bytes one pass over the matrix reads.
    pub fn byte_len(&self) -> usize {
        self.packed.len() - Q12_PAD + self.scales.len() * size_of::<bf16>()
    }

    /// Row `r` as f32 values, `cols` of them.
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        let packed = self.row_packed(r);
        for (b, (o, &d)) in out.chunks_exact_mut(BLOCK_ELEMS).zip(self.row_scales(r)).enumerate() {
            let values = unpack_block(&packed[b * Q12_BLOCK_BYTES..(b + 1) * Q12_BLOCK_BYTES]);
            for (o, &q) in o.iter_mut().zip(&values) {
                *o = f32::from(q) * d.to_f32();
            }
        }
    }
}

/// The 32 values of a packed block, sign-extended.
#[inline]
pub(crate) fn unpack_block(block: &[u8]) -> [i16; BLOCK_ELEMS] {
    let mut out = [0i16; BLOCK_ELEMS];
    for (pair, o) in block.chunks_exact(3).zip(out.chunks_exact_mut(2)) {
        let lo = u16::from_le_bytes([pair[0], pair[1]]);
        let hi = u16::from_le_bytes([pair[1], pair[2]]);
        o[0] = ((lo << 4) as i16) >> 4;
        o[1] = (hi as i16) >> 4;
    }
    out
}

/// Writes the block's packed integers and returns its scale.
fn quantize_block(block: &[bf16], out: &mut [u8]) -> bf16 {
    if block.iter().any(|v| !v.is_finite()) {
        out.fill(0);
        return bf16::NAN;
    }
    let amax = block.iter().fold(0.0f32, |m, v| m.max(v.to_f32().abs()));
    if amax == 0.0 {
        out.fill(0);
        return bf16::ZERO;
    }
    let d = round_up_to_bf16(amax / Q12_MAX);
    let inverse = 1.0 / f64::from(d.to_f32());
    for (pair, o) in block.chunks_exact(2).zip(out.chunks_exact_mut(3)) {
        let q = |v: bf16| (f64::from(v.to_f32()) * inverse).round().clamp(-2047.0, 2047.0) as i16 as u16 & 0xFFF;
        let (a, b) = (q(pair[0]), q(pair[1]));
        o[0] = a as u8;
        o[1] = (a >> 8) as u8 | ((b & 0xF) << 4) as u8;
        o[2] = (b >> 4) as u8;
    }
    d
}

/// The smallest bf16 at or above a positive finite `x`, so that no value
/// of the block maps past 2047.
fn round_up_to_bf16(x: f32) -> bf16 {
    let bits = x.to_bits();
    let up = (bits >> 16) + u32::from(bits & 0xFFFF != 0);
    bf16::from_bits(up as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(values: &[f32], rows: usize, cols: usize) -> Q12Matrix {
        let data: Vec<bf16> = values.iter().map(|&v| bf16::from_f32(v)).collect();
        Q12Matrix::quantize("w", &Bf16Matrix::new("w", &data, rows, cols).unwrap()).unwrap()
    }

    #[test]
    fn every_12_bit_value_packs_and_unpacks() {
        for a in -2048i16..2048 {
            let b = -1 - a;
            let (ua, ub) = (a as u16 & 0xFFF, b as u16 & 0xFFF);
            let bytes = [ua as u8, (ua >> 8) as u8 | ((ub & 0xF) << 4) as u8, (ub >> 4) as u8];
            assert_eq!(&unpack_block(&[bytes; 16].concat())[..2], &[a, b]);
        }
    }

    #[test]
    fn values_come_back_within_half_a_step_of_the_block_maximum_over_2047() {
        let x: Vec<f32> = (0..192).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.013 * (1 + i / 32) as f32).collect();
        let w = matrix(&x, 3, 64);
        let mut back = vec![0.0; 64];
        for r in 0..3 {
            w.dequantize_row(r, &mut back);
            let want: Vec<f32> = x[r * 64..(r + 1) * 64].iter().map(|&v| bf16::from_f32(v).to_f32()).collect();
            for (b, (got, want)) in back.chunks(32).zip(want.chunks(32)).enumerate() {
                let amax = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let d = w.row_scales(r)[b].to_f32();
                assert!(d >= amax / 2047.0 && d < amax / 2047.0 * 1.01, "scale {d} for maximum {amax}");
                for (g, v) in got.iter().zip(want) {
                    assert!((g - v).abs() <= d / 2.0 * 1.0001, "{g} vs {v} (block maximum {amax})");
                }
            }
        }
        assert_eq!(w.byte_len(), 192 * 3 / 2 + 6 * 2);
    }

    #[test]
    fn zero_and_non_finite_blocks() {
        let mut x = vec![0.0f32; 96];
        x[64] = f32::NAN;
        x[40] = -2.0;
        let w = matrix(&x, 1, 96);
        assert_eq!(w.row_scales(0)[0], bf16::ZERO);
        assert!(w.row_scales(0)[2].is_nan());
        let mut back = vec![0.0; 96];
        w.dequantize_row(0, &mut back);
        assert!(back[..32].iter().all(|&v| v == 0.0));
        assert!((back[40] + 2.0).abs() <= 2.0 / 2047.0, "{}", back[40]);
        x[64] = f32::NEG_INFINITY;
        assert!(matrix(&x, 1, 96).row_scales(0)[2].is_nan());
    }
}
