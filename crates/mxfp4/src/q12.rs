//! Dense weights requantized to 12-bit integers: 1.5625 bytes per weight
//! instead of bf16's 2, and 16 times finer than [`crate::Q8Matrix`], fine
//! enough that the model's log-probabilities stay within the fidelity bound.
//!
//! Each block of 32 consecutive values of a row shares a bf16 scale `d`,
//! the smallest bf16 at or above `max |w| / 2047`, and each value becomes
//! `q = round(w / d)` in `-2047..=2047`: the error of a value is at most
//! `d / 2`, about 1/4094 of its block's largest magnitude. A block holding
//! a NaN or an infinity gets a NaN scale, so every output that reads it is
//! NaN.
//!
//! The values are stored in two planes, so that a pass that needs only 8
//! bits per weight reads only the first:
//! - the high plane, one byte per value: `q >> 4` (arithmetic, in
//!   `-128..=127`), 32 bytes per block;
//! - the low plane, half a byte per value: `q & 15`, 16 bytes per block.
//!
//! `q = 16 * high + low`. Within a block, position `p` of the high plane
//! holds value [`value_at`]`(p)`: the middle two groups of 8 swapped, the
//! order in which x86's byte interleaves (`vpunpcklbw`, `vpunpckhbw`, within
//! 128-bit lanes) give the values back in natural order. Byte `j` of the
//! low plane holds the low bits of position `j` in its low half and those
//! of position `j + 16` in its high half.
//!
//! The high plane alone gives the coarse value `16 * high + 8`, within
//! `8 d` of `q d` (half of its own step `16 d`): [`Q12Matrix::coarse`]
//! multiplies by those, for a caller that can bound what the low bits add,
//! such as an exact argmax over the rows.

use half::bf16;

use crate::bf16::Bf16Matrix;
use crate::error::FormatError;
use crate::format::BLOCK_ELEMS;
use crate::huge::HugeBuf;

/// Bytes of one block's low plane.
pub(crate) const LOW_BLOCK_BYTES: usize = BLOCK_ELEMS / 2;

/// What the coarse value adds to `16 * high`: the middle of the 16 values
/// the low bits can make.
pub(crate) const COARSE_LOW: i16 = 8;

const Q12_MAX: f32 = 2047.0;

/// A `rows x cols` matrix of 12-bit values with one bf16 scale per block of
/// 32 columns; `cols` is a multiple of 32.
#[derive(Debug, Clone)]
pub struct Q12Matrix {
    /// `rows * cols` bytes.
    high: HugeBuf<i8>,
    /// `rows * cols / 2` bytes.
    low: HugeBuf<u8>,
    scales: Vec<bf16>,
    rows: usize,
    cols: usize,
}

/// The high plane of a [`Q12Matrix`] as weights of their own: each value
/// `(16 * high + 8) d`, within `8 d` of the 12-bit value, read at 1.0625
/// bytes per weight.
#[derive(Debug, Clone, Copy)]
pub struct Q12Coarse<'a>(pub(crate) &'a Q12Matrix);

impl Q12Matrix {
    /// Quantizes a bf16 matrix, rows in parallel. Its columns must be a
    /// multiple of 32.
    pub fn quantize(name: &str, w: &Bf16Matrix<'_>) -> Result<Self, FormatError> {
        let (high, scales) = w.quantize_blocks(name, BLOCK_ELEMS, |block, out: &mut [i8]| {
            let d = block_scale(block);
            for (p, o) in out.iter_mut().enumerate() {
                *o = (quantize_value(block[value_at(p)], d) >> 4) as i8;
            }
            d
        })?;
        let (low, _) = w.quantize_blocks(name, LOW_BLOCK_BYTES, |block, out: &mut [u8]| {
            let d = block_scale(block);
            let low = |p: usize| (quantize_value(block[value_at(p)], d) & 15) as u8;
            for (j, o) in out.iter_mut().enumerate() {
                *o = low(j) | low(j + LOW_BLOCK_BYTES) << 4;
            }
        })?;
        Ok(Self { high, low, scales, rows: w.rows(), cols: w.cols() })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The matrix of the high plane's coarse values.
    pub fn coarse(&self) -> Q12Coarse<'_> {
        Q12Coarse(self)
    }

    /// Rows `rows` (in that order) as a matrix of their own, with the same
    /// values and scales.
    pub fn gather(&self, rows: &[usize]) -> Self {
        let blocks = self.cols / BLOCK_ELEMS;
        let mut high = HugeBuf::zeroed(rows.len() * self.cols);
        let mut low = HugeBuf::zeroed(rows.len() * blocks * LOW_BLOCK_BYTES);
        let mut scales = Vec::with_capacity(rows.len() * blocks);
        for (i, &r) in rows.iter().enumerate() {
            high[i * self.cols..(i + 1) * self.cols].copy_from_slice(self.row_high(r));
            let low_len = blocks * LOW_BLOCK_BYTES;
            low[i * low_len..(i + 1) * low_len].copy_from_slice(self.row_low(r));
            scales.extend_from_slice(self.row_scales(r));
        }
        Self { high, low, scales, rows: rows.len(), cols: self.cols }
    }

    /// Row `r`'s high plane, 32 bytes per block.
    #[inline]
    pub(crate) fn row_high(&self, r: usize) -> &[i8] {
        &self.high[r * self.cols..(r + 1) * self.cols]
    }

    /// Row `r`'s low plane, 16 bytes per block.
    #[inline]
    pub(crate) fn row_low(&self, r: usize) -> &[u8] {
        let len = self.cols / 2;
        &self.low[r * len..(r + 1) * len]
    }

    /// Row `r`'s scales, one per block of 32 values.
    #[inline]
    pub(crate) fn row_scales(&self, r: usize) -> &[bf16] {
        let blocks = self.cols / BLOCK_ELEMS;
        &self.scales[r * blocks..(r + 1) * blocks]
    }

    /// Bytes one pass over the matrix reads.
    pub fn byte_len(&self) -> usize {
        self.high.len() + self.low.len() + self.scales.len() * size_of::<bf16>()
    }

    /// Row `r` as f32 values, `cols` of them.
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        let (high, low) = (self.row_high(r), self.row_low(r));
        self.scale_blocks(r, out, |b| {
            unpack_block(&high[b * BLOCK_ELEMS..(b + 1) * BLOCK_ELEMS], &low[b * LOW_BLOCK_BYTES..])
        });
    }

    /// Writes block `b` of row `r` as f32 values, `values(b)` times the
    /// block's scale, for every block of the row.
    fn scale_blocks(&self, r: usize, out: &mut [f32], values: impl Fn(usize) -> [i16; BLOCK_ELEMS]) {
        for (b, (o, &d)) in out.chunks_exact_mut(BLOCK_ELEMS).zip(self.row_scales(r)).enumerate() {
            for (o, &q) in o.iter_mut().zip(&values(b)) {
                *o = f32::from(q) * d.to_f32();
            }
        }
    }
}

impl Q12Coarse<'_> {
    pub fn rows(&self) -> usize {
        self.0.rows
    }

    pub fn cols(&self) -> usize {
        self.0.cols
    }

    /// Bytes one pass over the high plane reads.
    pub fn byte_len(&self) -> usize {
        self.0.high.len() + self.0.scales.len() * size_of::<bf16>()
    }

    /// Row `r` of coarse values as f32, `cols` of them.
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        let high = self.0.row_high(r);
        self.0.scale_blocks(r, out, |b| coarse_block(&high[b * BLOCK_ELEMS..(b + 1) * BLOCK_ELEMS]));
    }

    /// The step of each block of row `r`'s coarse values (16 times its
    /// 12-bit scale): each coarse value is within half a step of its 12-bit
    /// value and at most 128 steps in magnitude.
    pub fn block_steps(&self, r: usize) -> impl Iterator<Item = f32> + '_ {
        self.0.row_scales(r).iter().map(|d| d.to_f32() * 16.0)
    }
}

/// A block scale as f32: the bf16 bits widened, without `to_f32`'s
/// quieting of signalling NaNs (a NaN scale only has to stay NaN), which
/// costs the kernels several instructions per block.
#[inline]
pub(crate) fn scale_f32(d: bf16) -> f32 {
    f32::from_bits(u32::from(d.to_bits()) << 16)
}

/// The value of a block that position `p` of its planes holds (and, the
/// swap being its own inverse, the position of value `p`).
#[inline]
pub(crate) const fn value_at(p: usize) -> usize {
    match p / 8 {
        1 => p + 8,
        2 => p - 8,
        _ => p,
    }
}

/// The 32 values of a block, in natural order, from its 32 high bytes and
/// (the first 16 bytes of) its low plane.
#[inline]
pub(crate) fn unpack_block(high: &[i8], low: &[u8]) -> [i16; BLOCK_ELEMS] {
    std::array::from_fn(|k| {
        let p = value_at(k);
        let byte = low[p % LOW_BLOCK_BYTES];
        let nibble = if p < LOW_BLOCK_BYTES { byte & 15 } else { byte >> 4 };
        i16::from(high[p]) * 16 + i16::from(nibble)
    })
}

/// The 32 coarse values of a block, in natural order, from its high bytes.
#[inline]
pub(crate) fn coarse_block(high: &[i8]) -> [i16; BLOCK_ELEMS] {
    std::array::from_fn(|k| i16::from(high[value_at(k)]) * 16 + COARSE_LOW)
}

/// The block's scale: NaN where a value is not finite, zero where all are.
fn block_scale(block: &[bf16]) -> bf16 {
    if block.iter().any(|v| !v.is_finite()) {
        return bf16::NAN;
    }
    let amax = block.iter().fold(0.0f32, |m, v| m.max(v.to_f32().abs()));
    if amax == 0.0 { bf16::ZERO } else { round_up_to_bf16(amax / Q12_MAX) }
}

/// `round(v / d)` in `-2047..=2047`; zero where `d` is zero or NaN.
fn quantize_value(v: bf16, d: bf16) -> i16 {
    let d = f64::from(d.to_f32());
    if d == 0.0 || d.is_nan() {
        return 0;
    }
    (f64::from(v.to_f32()) / d).round().clamp(-Q12_MAX as f64, Q12_MAX as f64) as i16
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

    fn dequantized(w: &Q12Matrix) -> Vec<f32> {
        let mut out = vec![0.0; w.rows() * w.cols()];
        out.chunks_exact_mut(w.cols()).enumerate().for_each(|(r, row)| w.dequantize_row(r, row));
        out
    }

    #[test]
    fn every_12_bit_value_splits_into_the_planes_and_back() {
        let values: Vec<i16> = (-2047..=2047).collect();
        for chunk in values.chunks(BLOCK_ELEMS) {
            let mut q = [0i16; BLOCK_ELEMS];
            q[..chunk.len()].copy_from_slice(chunk);
            let stored = |p: usize| q[value_at(p)];
            let high: Vec<i8> = (0..BLOCK_ELEMS).map(|p| (stored(p) >> 4) as i8).collect();
            let low: Vec<u8> =
                (0..LOW_BLOCK_BYTES).map(|j| (stored(j) & 15) as u8 | ((stored(j + 16) & 15) as u8) << 4).collect();
            assert_eq!(unpack_block(&high, &low), q);
            for (c, v) in coarse_block(&high).iter().zip(q) {
                assert!((c - v).abs() <= COARSE_LOW, "coarse {c} for {v}");
            }
        }
    }

    #[test]
    fn values_come_back_within_half_a_step_of_the_block_maximum_over_2047() {
        let x: Vec<f32> = (0..192).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.013 * (1 + i / 32) as f32).collect();
        let w = matrix(&x, 3, 64);
        let back = dequantized(&w);
        let mut coarse = vec![0.0; 64];
        for r in 0..3 {
            let want: Vec<f32> = x[r * 64..(r + 1) * 64].iter().map(|&v| bf16::from_f32(v).to_f32()).collect();
            let got = &back[r * 64..(r + 1) * 64];
            w.coarse().dequantize_row(r, &mut coarse);
            for (b, ((got, want), coarse)) in got.chunks(32).zip(want.chunks(32)).zip(coarse.chunks(32)).enumerate() {
                let amax = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let d = w.row_scales(r)[b].to_f32();
                assert!(d >= amax / 2047.0 && d < amax / 2047.0 * 1.01, "scale {d} for maximum {amax}");
                let step = w.coarse().block_steps(r).nth(b).unwrap();
                assert_eq!(step, 16.0 * d);
                for ((g, v), c) in got.iter().zip(want).zip(coarse) {
                    assert!((g - v).abs() <= d / 2.0 * 1.0001, "{g} vs {v} (block maximum {amax})");
                    assert!((c - g).abs() <= step / 2.0 && c.abs() <= 128.0 * step, "coarse {c} vs {g} (step {step})");
                }
            }
        }
        assert_eq!(w.byte_len(), 192 * 3 / 2 + 6 * 2);
        assert_eq!(w.coarse().byte_len(), 192 + 6 * 2);
    }

    #[test]
    fn gathered_rows_keep_their_values() {
        let x: Vec<f32> = (0..4 * 96).map(|i| ((i * 53 % 97) as f32 - 48.0) * 0.01).collect();
        let w = matrix(&x, 4, 96);
        let all = dequantized(&w);
        let picked = w.gather(&[3, 0, 3]);
        assert_eq!((picked.rows(), picked.cols()), (3, 96));
        let got = dequantized(&picked);
        for (i, r) in [3, 0, 3].into_iter().enumerate() {
            assert_eq!(&got[i * 96..(i + 1) * 96], &all[r * 96..(r + 1) * 96]);
            assert_eq!(picked.row_scales(i), w.row_scales(r));
        }
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
