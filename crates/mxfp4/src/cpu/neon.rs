//! aarch64 NEON kernels.
//!
//! MXFP4 blocks are decoded as in the AVX2 kernels, without integer-to-float
//! conversion: every E2M1 value is exactly a bf16 whose low and high bytes
//! two `tbl` lookups produce; interleaving them gives the bf16, and widening
//! each with a zero low half gives the f32. The activations are pre-permuted
//! to the order that unpacking produces.

use std::arch::aarch64::*;

use half::bf16;

use super::{Kernels, Mxfp4Decode};
use crate::bf16::Bf16Matrix;
use crate::format::{BLOCK_BYTES, BLOCK_ELEMS, E2M1_VALUES, E8M0_VALUES, Mxfp4Matrix};

pub(super) fn kernels() -> Option<&'static Kernels> {
    std::arch::is_aarch64_feature_detected!("neon").then_some(&KERNELS)
}

static KERNELS: Kernels = Kernels {
    mxfp4_order: MXFP4_ORDER,
    bf16_order: &BF16_ORDER,
    mxfp4_decode: Mxfp4Decode::F32(mxfp4_dot),
    bf16_dot,
    bf16_dot_shape: BF16_DOT,
    // No NEON kernels for requantized dense weights yet: the portable ones.
    q8_dot: super::scalar::q8_dot,
    q12_dot: super::scalar::q12_dot,
    q12_coarse_dot: super::scalar::q12_coarse_dot,
    mxfp4_pack,
    bf16_pack,
    gemm_tile,
    gemm_mr: MR,
    gemm_nr: NR,
};

/// A 6x16 tile: 24 accumulators and 4 panel vectors of the 32 registers.
const MR: usize = 6;
const NR: usize = 16;

super::simd_entry_points!(tile_rows: [1, 2, 3, 4, 5, 6]);
super::bf16_dot_entry_point!(rows: [1], tokens: [1, 2]);
super::f32_mxfp4_entry_point!();

/// Position `p < 16` of a decoded block holds input `2p` (the low nibbles)
/// and position `16 + p` input `2p + 1` (the high nibbles): see
/// [`Decoder::decode`].
const MXFP4_ORDER: [u8; 32] = {
    let mut order = [0u8; 32];
    let mut p = 0;
    while p < 16 {
        order[p] = 2 * p as u8;
        order[16 + p] = 2 * p as u8 + 1;
        p += 1;
    }
    order
};

/// Even columns of an 8-column chunk, then odd ones: a 32-bit lane holding
/// two bf16 gives the even one by a left shift and the odd one by a mask.
const BF16_ORDER: [u8; 8] = [0, 2, 4, 6, 1, 3, 5, 7];

/// The bf16 bit pattern of each E2M1 value, split into low and high bytes.
const fn e2m1_bf16_bytes(high: bool) -> [u8; 16] {
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        let bits = E2M1_VALUES[i].to_bits();
        out[i] = if high { (bits >> 24) as u8 } else { (bits >> 16) as u8 };
        i += 1;
    }
    out
}
const LUT_LO: [u8; 16] = e2m1_bf16_bytes(false);
const LUT_HI: [u8; 16] = e2m1_bf16_bytes(true);

#[derive(Clone, Copy)]
struct Decoder {
    lut_lo: uint8x16_t,
    lut_hi: uint8x16_t,
}

impl Decoder {
    #[target_feature(enable = "neon")]
    fn new() -> Self {
        // SAFETY: the tables are 16 readable bytes each.
        unsafe { Self { lut_lo: vld1q_u8(LUT_LO.as_ptr()), lut_hi: vld1q_u8(LUT_HI.as_ptr()) } }
    }

    /// The values of 16 E2M1 codes (one per byte, each below 16): lanes
    /// 0..4 of `[i]` hold codes `4i .. 4i + 4`.
    #[target_feature(enable = "neon")]
    #[inline]
    fn widen(self, codes: uint8x16_t) -> [float32x4_t; 4] {
        let lo = vqtbl1q_u8(self.lut_lo, codes);
        let hi = vqtbl1q_u8(self.lut_hi, codes);
        // Byte pairs (lo[i], hi[i]): u16 lane i of `a` is the bf16 of code
        // i, of `b` that of code 8 + i (little endian).
        let a = vreinterpretq_u16_u8(vzip1q_u8(lo, hi));
        let b = vreinterpretq_u16_u8(vzip2q_u8(lo, hi));
        // Shifting each u16 into the top half of a u32 gives the f32 bits.
        [
            vreinterpretq_f32_u32(vshll_n_u16::<16>(vget_low_u16(a))),
            vreinterpretq_f32_u32(vshll_high_n_u16::<16>(a)),
            vreinterpretq_f32_u32(vshll_n_u16::<16>(vget_low_u16(b))),
            vreinterpretq_f32_u32(vshll_high_n_u16::<16>(b)),
        ]
    }

    /// The 32 values of one block (without its scale) in [`MXFP4_ORDER`].
    /// Byte `j` holds input `2j` in its low nibble and `2j + 1` in its high
    /// one, so lane `l` of `[i]` holds input `8i + 2l` for `i < 4` (`[0]` is
    /// inputs 0, 2, 4, 6, `[3]` 24 .. 30) and `8(i - 4) + 2l + 1` after
    /// (`[4]` is 1, 3, 5, 7, `[7]` 25 .. 31).
    ///
    /// # Safety
    /// `block` must point to 16 readable bytes.
    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn decode(self, block: *const u8) -> [float32x4_t; 8] {
        // SAFETY: the caller guarantees 16 readable bytes.
        let v = unsafe { vld1q_u8(block) };
        let [e0, e1, e2, e3] = self.widen(vandq_u8(v, vdupq_n_u8(0x0F)));
        let [o0, o1, o2, o3] = self.widen(vshrq_n_u8::<4>(v));
        [e0, e1, e2, e3, o0, o1, o2, o3]
    }
}

/// # Safety
/// NEON present; `blocks` holds 16 bytes per scale and each `x` 32 values
/// per scale.
#[target_feature(enable = "neon")]
unsafe fn mxfp4_dot_n<const T: usize>(blocks: &[u8], scales: &[u8], xs: [&[f32]; T]) -> [f32; T] {
    let decoder = Decoder::new();
    let mut acc = [vdupq_n_f32(0.0); T];
    for (b, &s) in scales.iter().enumerate() {
        // SAFETY: block `b` and inputs `32b .. 32b + 32` are in bounds (see above).
        unsafe {
            let w = decoder.decode(blocks.as_ptr().add(b * BLOCK_BYTES));
            for t in 0..T {
                // Four independent partial sums, then one FMA with the
                // scale, so that a NaN scale poisons the row.
                let x = xs[t].as_ptr().add(b * BLOCK_ELEMS);
                let p0 = vfmaq_f32(vmulq_f32(w[0], vld1q_f32(x)), w[4], vld1q_f32(x.add(16)));
                let p1 = vfmaq_f32(vmulq_f32(w[1], vld1q_f32(x.add(4))), w[5], vld1q_f32(x.add(20)));
                let p2 = vfmaq_f32(vmulq_f32(w[2], vld1q_f32(x.add(8))), w[6], vld1q_f32(x.add(24)));
                let p3 = vfmaq_f32(vmulq_f32(w[3], vld1q_f32(x.add(12))), w[7], vld1q_f32(x.add(28)));
                let sum = vaddq_f32(vaddq_f32(p0, p1), vaddq_f32(p2, p3));
                acc[t] = vfmaq_n_f32(acc[t], sum, E8M0_VALUES[s as usize]);
            }
        }
    }
    acc.map(|a| vaddvq_f32(a))
}

/// Even (`[0]`) and odd (`[1]`) columns of 8 bf16 values as f32.
///
/// # Safety
/// `p` must point to 16 readable bytes.
#[target_feature(enable = "neon")]
#[inline]
unsafe fn widen_bf16x8(p: *const bf16) -> [float32x4_t; 2] {
    // SAFETY: the caller guarantees 16 readable bytes; `bf16` is a `u16`.
    let v = vreinterpretq_u32_u16(unsafe { vld1q_u16(p.cast()) });
    // u32 lane i holds column 2i in its low half and 2i + 1 in its high half.
    [vreinterpretq_f32_u32(vshlq_n_u32::<16>(v)), vreinterpretq_f32_u32(vandq_u32(v, vdupq_n_u32(0xFFFF_0000)))]
}

/// Each of the rows dotted with every `x`, one row at a time.
///
/// # Safety
/// As [`bf16_dot_n`], for every row.
#[target_feature(enable = "neon")]
unsafe fn bf16_tile<const R: usize, const T: usize>(rows: [&[bf16]; R], xs: [&[f32]; T]) -> [[f32; T]; R] {
    // SAFETY: the caller's promise holds for each row.
    rows.map(|row| unsafe { bf16_dot_n(row, xs) })
}

/// # Safety
/// NEON present; each `x` at least as long as `row`.
#[target_feature(enable = "neon")]
unsafe fn bf16_dot_n<const T: usize>(row: &[bf16], xs: [&[f32]; T]) -> [f32; T] {
    let chunks = row.len() / 8;
    let w = row.as_ptr();
    // Four independent accumulators per activation row hide FMA latency.
    let mut acc = [[vdupq_n_f32(0.0); 4]; T];
    let mut c = 0;
    // SAFETY: chunks `c` and `c + 1` lie within `row` and within each `x`.
    unsafe {
        while c + 2 <= chunks {
            let [e0, o0] = widen_bf16x8(w.add(8 * c));
            let [e1, o1] = widen_bf16x8(w.add(8 * c + 8));
            for t in 0..T {
                let x = xs[t].as_ptr().add(8 * c);
                acc[t][0] = vfmaq_f32(acc[t][0], e0, vld1q_f32(x));
                acc[t][1] = vfmaq_f32(acc[t][1], o0, vld1q_f32(x.add(4)));
                acc[t][2] = vfmaq_f32(acc[t][2], e1, vld1q_f32(x.add(8)));
                acc[t][3] = vfmaq_f32(acc[t][3], o1, vld1q_f32(x.add(12)));
            }
            c += 2;
        }
        if c < chunks {
            let [e0, o0] = widen_bf16x8(w.add(8 * c));
            for t in 0..T {
                let x = xs[t].as_ptr().add(8 * c);
                acc[t][0] = vfmaq_f32(acc[t][0], e0, vld1q_f32(x));
                acc[t][1] = vfmaq_f32(acc[t][1], o0, vld1q_f32(x.add(4)));
            }
        }
    }
    let mut out = [0.0f32; T];
    for t in 0..T {
        let [a0, a1, a2, a3] = acc[t];
        let tail: f32 = row[chunks * 8..].iter().zip(&xs[t][chunks * 8..]).map(|(w, x)| w.to_f32() * x).sum();
        out[t] = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3))) + tail;
    }
    out
}

/// # Safety
/// NEON present; rows `r0 .. r0 + nr` exist; `panel` holds `cols * NR`.
#[target_feature(enable = "neon")]
unsafe fn mxfp4_pack_simd(w: &Mxfp4Matrix<'_>, r0: usize, nr: usize, panel: &mut [f32]) {
    if nr < NR {
        panel.fill(0.0);
    }
    let decoder = Decoder::new();
    let mut values = [0.0f32; BLOCK_ELEMS];
    for i in 0..nr {
        let blocks = w.row_blocks(r0 + i);
        for (b, &s) in w.row_scales(r0 + i).iter().enumerate() {
            // SAFETY: block `b` is within the row; `values` holds 32 floats.
            unsafe {
                let v = decoder.decode(blocks.as_ptr().add(b * BLOCK_BYTES));
                for (j, vj) in v.into_iter().enumerate() {
                    vst1q_f32(values.as_mut_ptr().add(4 * j), vmulq_n_f32(vj, E8M0_VALUES[s as usize]));
                }
            }
            let column = &mut panel[b * BLOCK_ELEMS * NR + i..];
            for (j, &v) in values.iter().enumerate() {
                column[j * NR] = v;
            }
        }
    }
}

/// # Safety
/// NEON present; rows `r0 .. r0 + nr` exist; `panel` holds `cols * NR`.
#[target_feature(enable = "neon")]
unsafe fn bf16_pack_simd(w: &Bf16Matrix<'_>, r0: usize, nr: usize, panel: &mut [f32]) {
    if nr < NR {
        panel.fill(0.0);
    }
    let chunks = w.cols() / 8;
    let mut values = [0.0f32; 8];
    for i in 0..nr {
        let row = w.row(r0 + i);
        for c in 0..chunks {
            // SAFETY: chunk `c` lies within the row; `values` holds 8 floats.
            unsafe {
                let [even, odd] = widen_bf16x8(row.as_ptr().add(8 * c));
                vst1q_f32(values.as_mut_ptr(), even);
                vst1q_f32(values.as_mut_ptr().add(4), odd);
            }
            let column = &mut panel[8 * c * NR + i..];
            for (j, &v) in values.iter().enumerate() {
                column[j * NR] = v;
            }
        }
        for k in chunks * 8..w.cols() {
            panel[k * NR + i] = row[k].to_f32();
        }
    }
}

/// A 6x16 register tile: four vectors of panel columns, one scalar per
/// activation row, 24 FMAs per step of `k`.
///
/// # Safety
/// NEON present; `a` has `M` rows of at least `k` values, `panel` at least
/// `k * NR` values, `tile` at least `M * NR`.
#[target_feature(enable = "neon")]
unsafe fn gemm_tile_m<const M: usize>(a: &[&[f32]], panel: &[f32], k: usize, tile: &mut [f32]) {
    let rows: [*const f32; M] = std::array::from_fn(|m| a[m].as_ptr());
    let b = panel.as_ptr();
    let t = tile.as_mut_ptr();
    // SAFETY: `kk < k` keeps every read inside the bounds the caller
    // promised; the tile holds `M * NR` values.
    unsafe {
        let mut c: [[float32x4_t; 4]; M] =
            std::array::from_fn(|m| std::array::from_fn(|j| vld1q_f32(t.add(m * NR + 4 * j))));
        for kk in 0..k {
            let p = b.add(kk * NR);
            let bv = [vld1q_f32(p), vld1q_f32(p.add(4)), vld1q_f32(p.add(8)), vld1q_f32(p.add(12))];
            for m in 0..M {
                let av = *rows[m].add(kk);
                for j in 0..4 {
                    c[m][j] = vfmaq_n_f32(c[m][j], bv[j], av);
                }
            }
        }
        for (m, cm) in c.into_iter().enumerate() {
            for (j, v) in cm.into_iter().enumerate() {
                vst1q_f32(t.add(m * NR + 4 * j), v);
            }
        }
    }
}
