//! AVX2 + FMA kernels.
//!
//! MXFP4 blocks are decoded without integer-to-float conversion: every E2M1
//! value is exactly a bf16 whose low byte and high byte two `vpshufb`
//! lookups produce; interleaving them and then pairing each bf16 with a
//! zero low half yields the f32. The activations are pre-permuted to the
//! order that unpacking produces, so no lane crossing is needed.
//!
//! Decode prefers the integer kernel ([`paired_dot`], which AVX-512 shares
//! with its own lookup): two `vpshufb` turn two blocks' codes into twice
//! their E2M1 values as int8, shifts and masks place them in the high bytes
//! of 16-bit lanes, and `vpmaddwd` multiplies them with activations
//! quantized to 16 bits ([`crate::quant`]): far fewer shuffles than f32
//! decoding, and no float work but one conversion and two multiplies per
//! pair of blocks.

use std::arch::x86_64::*;

use half::bf16;

use super::{Kernels, Mxfp4Decode, PREFETCH_MXFP4, Q16Kernel};
use crate::bf16::Bf16Matrix;
use crate::format::{BLOCK_BYTES, BLOCK_ELEMS, E2M1_VALUES, E8M0_VALUES, Mxfp4Matrix};
use crate::quant::{E2M1_TWICE, PAIRED_GROUP, Q16Layout, Q16Row};

pub(super) fn kernels() -> Option<&'static Kernels> {
    (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")).then_some(&KERNELS)
}

static KERNELS: Kernels = Kernels {
    mxfp4_order: MXFP4_ORDER,
    bf16_order: &BF16_ORDER,
    bf16_dot,
    bf16_dot_shape: BF16_DOT,
    q8_dot,
    q12_dot,
    q12_coarse_dot,
    mxfp4_decode: Mxfp4Decode::Q16(&Q16),
    mxfp4_pack,
    bf16_pack,
    gemm_tile,
    gemm_mr: MR,
    gemm_nr: NR,
};

const MR: usize = 6;
const NR: usize = 16;

super::simd_entry_points!(tile_rows: [1, 2, 3, 4, 5, 6]);
// Two weight rows by up to four activation rows per call: with 16
// registers, 4 x 2 spills. Measured with the data in L2 (on Zen 4): 2 x 2
// and 2 x 4 run 25 flops per cycle (of 32), 1 x 2 22, 4 x 2 19.5.
super::bf16_dot_entry_point!(rows: [1, 2], tokens: [1, 2, 3, 4]);

/// Position `8g + i` of a decoded block holds input `8g + 2i` and position
/// `8g + 4 + i` input `8g + 2i + 1` (g < 4, i < 4): the order of
/// `unpack{lo,hi}_epi16` within 128-bit lanes.
const MXFP4_ORDER: [u8; 32] = {
    let mut order = [0u8; 32];
    let mut p = 0;
    while p < 32 {
        let (g, i) = (p / 8, p % 8);
        order[p] = (8 * g + if i < 4 { 2 * i } else { 2 * (i - 4) + 1 }) as u8;
        p += 1;
    }
    order
};

static Q16: Q16Kernel = Q16Kernel { layout: PAIRED, dot: mxfp4_dot_q16 };

super::q16_entry_point!();

/// # Safety
/// AVX2 and FMA present; as [`paired_dot`].
#[target_feature(enable = "avx2,fma")]
unsafe fn mxfp4_dot_q16_n<const T: usize>(blocks: &[u8], scales: &[u8], xs: [Q16Row<'_>; T]) -> [f32; T] {
    // SAFETY: the caller's promise is `paired_dot`'s.
    unsafe { paired_dot(blocks, scales, xs, |v| paired_weights(v)) }
}

/// The weights of the paired integer kernels by `vpshufb`: the low and the
/// high nibbles of each byte look up twice their E2M1 values as int8
/// (bytes `j` give inputs `2j` and `2j + 1`), and a shift left by 8 (the
/// even bytes of each word) or a mask (the odd ones) puts them in the high
/// bytes of 16-bit lanes.
#[target_feature(enable = "avx2")]
#[inline]
fn paired_weights(v: __m256i) -> [__m256i; 4] {
    // SAFETY: the table is 16 readable bytes.
    let lut = _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(E2M1_TWICE.as_ptr().cast()) });
    let nibble = _mm256_set1_epi8(0x0F);
    let low = _mm256_shuffle_epi8(lut, _mm256_and_si256(v, nibble));
    let high = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble));
    let odd_bytes = _mm256_set1_epi16(0xFF00u16 as i16);
    [
        _mm256_slli_epi16::<8>(low),
        _mm256_slli_epi16::<8>(high),
        _mm256_and_si256(low, odd_bytes),
        _mm256_and_si256(high, odd_bytes),
    ]
}

/// The activation layout of the paired integer MXFP4 kernels (this one and
/// AVX-512's): block pairs interleaved, blocks in [`PAIRED_ORDER`].
pub(super) const PAIRED: Q16Layout = Q16Layout { order: PAIRED_ORDER, paired: true };

/// Position `8g + k` of a block holds input `4k + g`: word `k` of a lane
/// of weight vector `g` (see [`paired_dot`]).
const PAIRED_ORDER: [u8; 32] = {
    let mut order = [0u8; 32];
    let mut p = 0;
    while p < 32 {
        order[p] = (4 * (p % 8) + p / 8) as u8;
        p += 1;
    }
    order
};

/// The integer MXFP4 dot products on 256-bit registers, two blocks at a
/// time: a plain 32-byte load puts block `2i` in the low 128-bit lane and
/// block `2i + 1` in the high one, and every later step works on both
/// lanes, so the conversion to f32, the scaling and the FMA happen once
/// per pair of blocks and activation row instead of once per block.
/// Activations come in the [`PAIRED`] layout, whose 256-bit loads match.
///
/// `weights(v)` turns the codes in `v` into four vectors of 16-bit
/// integers, twice the E2M1 values times 256 (what the activations' stored
/// scales expect, see [`crate::quant`]), vector `g` holding input `4k + g`
/// of each lane's block in word `k` of the lane: word `k` is bytes `2k`
/// and `2k + 1`, whose four nibbles those inputs are, from the bottom up.
/// On Zen 4, one thread in cache, this takes 17-20 % less time per block
/// than the per-block kernel it replaced with AVX2 weights and 5-14 % with
/// AVX-512's (1 and 2 activation rows). The model (synthetic gpt-oss-20b,
/// 2 threads, alternating builds) decoded one stream ~10 % faster with
/// 64-token prompts, within the machine's noise with 512-token ones.
///
/// # Safety
/// AVX2 and FMA present; `blocks` holds 16 bytes per scale, each `x` 32
/// values and 4 copies of a scale (the paired layout) per scale of the row.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) unsafe fn paired_dot<const T: usize>(
    blocks: &[u8],
    scales: &[u8],
    xs: [Q16Row<'_>; T],
    weights: impl Fn(__m256i) -> [__m256i; 4],
) -> [f32; T] {
    // Even and odd pairs accumulate apart: two chains hide the FMA latency.
    let (mut even, mut odd) = ([_mm256_setzero_ps(); T], [_mm256_setzero_ps(); T]);
    let nb = scales.len();
    let pairs = nb / 2;
    let prefetch = |b: usize| {
        // See `PREFETCH_MXFP4`; prefetching never faults, whatever the address.
        _mm_prefetch::<_MM_HINT_T0>(blocks.as_ptr().wrapping_add(b * BLOCK_BYTES + PREFETCH_MXFP4).cast());
    };
    // SAFETY: every block read is below `nb`; the caller promised its 16
    // bytes, its scale and each row's 32 values and 4 scales.
    unsafe {
        for b in (0..2 * (pairs & !1)).step_by(4) {
            prefetch(b);
            add_blocks::<T, true>(&weights, blocks, scales, &xs, b, &mut even);
            prefetch(b + 2);
            add_blocks::<T, true>(&weights, blocks, scales, &xs, b + 2, &mut odd);
        }
        if pairs % 2 == 1 {
            add_blocks::<T, true>(&weights, blocks, scales, &xs, 2 * pairs - 2, &mut even);
        }
        if nb % 2 == 1 {
            add_blocks::<T, false>(&weights, blocks, scales, &xs, nb - 1, &mut odd);
        }
    }
    std::array::from_fn(|t| hsum(_mm256_add_ps(even[t], odd[t])))
}

/// `acc[t] += blocks b, b + 1 . x_t` with `PAIR`, block `b` in the low
/// lanes of the sums and block `b + 1` in the high ones; without, block `b`
/// alone (a last block without a partner, stored whole): the same steps
/// with the high lanes zero.
///
/// # Safety
/// The blocks (16 bytes each), their scales, and each row's 32 values and
/// 4 scales per block from those of block `b` in bounds (of a last block,
/// its first scale).
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn add_blocks<const T: usize, const PAIR: bool>(
    weights: &impl Fn(__m256i) -> [__m256i; 4],
    blocks: &[u8],
    scales: &[u8],
    xs: &[Q16Row<'_>; T],
    b: usize,
    acc: &mut [__m256; T],
) {
    // SAFETY: in bounds by the caller's promise; alone, each load reads
    // only 16 bytes and zeroes the high lane.
    unsafe {
        let load = |p: *const u8| match PAIR {
            true => _mm256_loadu_si256(p.cast()),
            false => _mm256_zextsi128_si256(_mm_loadu_si128(p.cast())),
        };
        // Alone, the zero codes in the high lane are E2M1 zeros.
        let w = weights(load(blocks.as_ptr().add(b * BLOCK_BYTES)));
        let weight_scale = |b: usize| E8M0_VALUES[*scales.get_unchecked(b) as usize];
        let ws = match PAIR {
            true => _mm256_insertf128_ps::<1>(
                _mm256_castps128_ps256(_mm_set1_ps(weight_scale(b))),
                _mm_set1_ps(weight_scale(b + 1)),
            ),
            false => _mm256_set1_ps(weight_scale(b)),
        };
        // Group `g` of a pair's blocks is 16 values on, of a lone block 8.
        let group = if PAIR { 2 * PAIRED_GROUP } else { PAIRED_GROUP };
        for t in 0..T {
            let q = xs[t].values.as_ptr().add(b * BLOCK_ELEMS);
            let x = std::array::from_fn(|g| load(q.add(g * group).cast()));
            let xd = match PAIR {
                true => _mm256_loadu_ps(xs[t].scales.as_ptr().add(4 * b)),
                false => _mm256_set1_ps(*xs[t].scales.get_unchecked(4 * b)),
            };
            acc[t] = scaled_sum(w, x, xd, ws, acc[t]);
        }
    }
}

/// `acc + float(sum_g w[g] . x[g]) * xd * ws`. The sum meets the
/// activation scale before the weight scale, as in the scalar kernel:
/// their product alone can underflow where the result does not.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn scaled_sum(w: [__m256i; 4], x: [__m256i; 4], xd: __m256, ws: __m256, acc: __m256) -> __m256 {
    let sum01 = _mm256_add_epi32(_mm256_madd_epi16(w[0], x[0]), _mm256_madd_epi16(w[1], x[1]));
    let sum23 = _mm256_add_epi32(_mm256_madd_epi16(w[2], x[2]), _mm256_madd_epi16(w[3], x[3]));
    let sum = _mm256_cvtepi32_ps(_mm256_add_epi32(sum01, sum23));
    _mm256_fmadd_ps(_mm256_mul_ps(sum, xd), ws, acc)
}

/// The 8-bit dense kernel's safe entry point (the AVX-512 table's too).
pub(super) fn q8_dot(values: &[i8], scales: &[f32], xs: &[Q16Row<'_>], out: &mut [f32]) {
    let nb = scales.len();
    assert!(
        values.len() == nb * BLOCK_ELEMS
            && xs.iter().all(|x| x.values.len() >= nb * BLOCK_ELEMS && x.scales.len() >= nb)
    );
    // SAFETY: the CPU reported AVX2 and FMA before a table holding this
    // function was handed out (the AVX-512 one needs them too); the lengths
    // the kernel reads were checked above.
    unsafe {
        match xs {
            [x] => out[0] = q8_dot_n::<1>(values, scales, [*x])[0],
            [x0, x1] => out[..2].copy_from_slice(&q8_dot_n::<2>(values, scales, [*x0, *x1])),
            _ => unreachable!("at most {} activation rows per dot", crate::cpu::DOT_MAX_TOKENS),
        }
    }
}

/// The 12-bit dense kernel's safe entry point (the AVX-512 table's too).
pub(super) fn q12_dot(high: &[i8], low: &[u8], scales: &[bf16], xs: &[Q16Row<'_>], out: &mut [f32]) {
    use crate::q12::LOW_BLOCK_BYTES;
    let nb = scales.len();
    assert!(
        high.len() == nb * BLOCK_ELEMS
            && low.len() == nb * LOW_BLOCK_BYTES
            && xs.iter().all(|x| x.values.len() >= nb * BLOCK_ELEMS && x.scales.len() >= nb)
    );
    // SAFETY: the CPU reported AVX2 and FMA before a table holding this
    // function was handed out (the AVX-512 one needs them too); the lengths
    // the kernel reads were checked above.
    unsafe {
        match xs {
            [x] => out[0] = q12_dot_n::<1>(high, low, scales, [*x])[0],
            [x0, x1] => out[..2].copy_from_slice(&q12_dot_n::<2>(high, low, scales, [*x0, *x1])),
            _ => unreachable!("at most {} activation rows per dot", crate::cpu::DOT_MAX_TOKENS),
        }
    }
}

/// The 12-bit coarse kernel's safe entry point (the AVX-512 table's too).
pub(super) fn q12_coarse_dot(high: &[i8], scales: &[bf16], xs: &[Q16Row<'_>], out: &mut [f32]) {
    let nb = scales.len();
    assert!(
        high.len() == nb * BLOCK_ELEMS && xs.iter().all(|x| x.values.len() >= nb * BLOCK_ELEMS && x.scales.len() >= nb)
    );
    // SAFETY: the CPU reported AVX2 and FMA before a table holding this
    // function was handed out (the AVX-512 one needs them too); the lengths
    // the kernel reads were checked above.
    unsafe {
        match xs {
            [x] => out[0] = q12_coarse_dot_n::<1>(high, scales, [*x])[0],
            [x0, x1] => out[..2].copy_from_slice(&q12_coarse_dot_n::<2>(high, scales, [*x0, *x1])),
            _ => unreachable!("at most {} activation rows per dot", crate::cpu::DOT_MAX_TOKENS),
        }
    }
}

/// # Safety
/// AVX2 and FMA present; `values` holds 32 values per scale, each `x` 32
/// values and one scale per scale of the row.
#[target_feature(enable = "avx2,fma")]
unsafe fn q8_dot_n<const T: usize>(values: &[i8], scales: &[f32], xs: [Q16Row<'_>; T]) -> [f32; T] {
    // SAFETY: every block below the scale count has 32 values (the
    // caller's promise), and `int16_dot_n` asks for no other.
    unsafe {
        int16_dot_n(scales.len(), &xs, |b| {
            let w = values.as_ptr().add(b * BLOCK_ELEMS);
            let wa = _mm256_cvtepi8_epi16(_mm_loadu_si128(w.cast()));
            (wa, _mm256_cvtepi8_epi16(_mm_loadu_si128(w.add(16).cast())), scales[b])
        })
    }
}

/// # Safety
/// AVX2 and FMA present; `high` holds 32 bytes and `low` 16 per scale, each
/// `x` 32 values and one scale per scale of the row.
#[target_feature(enable = "avx2,fma")]
unsafe fn q12_dot_n<const T: usize>(high: &[i8], low: &[u8], scales: &[bf16], xs: [Q16Row<'_>; T]) -> [f32; T] {
    // SAFETY: every block below the scale count has its bytes in both
    // planes (the caller's promise).
    unsafe {
        int16_dot_n(scales.len(), &xs, |b| {
            let low = _mm_loadu_si128(low.as_ptr().add(b * crate::q12::LOW_BLOCK_BYTES).cast());
            // Each position's low bits in the high half of its byte.
            let low = _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(_mm_slli_epi16::<4>(low)), low);
            let (wa, wb) = widen_q12x32(high.as_ptr().add(b * BLOCK_ELEMS), low);
            (wa, wb, crate::q12::scale_f32(*scales.get_unchecked(b)))
        })
    }
}

/// # Safety
/// AVX2 and FMA present; `high` holds 32 bytes per scale, each `x` 32
/// values and one scale per scale of the row.
#[target_feature(enable = "avx2,fma")]
unsafe fn q12_coarse_dot_n<const T: usize>(high: &[i8], scales: &[bf16], xs: [Q16Row<'_>; T]) -> [f32; T] {
    // SAFETY: every block below the scale count has its 32 high bytes (the
    // caller's promise).
    unsafe {
        int16_dot_n(scales.len(), &xs, |b| {
            let low = _mm256_set1_epi8((crate::q12::COARSE_LOW << 4) as i8);
            let (wa, wb) = widen_q12x32(high.as_ptr().add(b * BLOCK_ELEMS), low);
            (wa, wb, crate::q12::scale_f32(*scales.get_unchecked(b)))
        })
    }
}

/// A block's 32 values, from its high bytes at `p` and `low` holding each
/// position's low bits in the high half of its byte (see [`crate::q12`]),
/// as 16-bit integers in natural order (the first 16, the last 16): the
/// byte interleaves make `256 * high + 16 * low` (plus bits below), and a
/// shift right by 4 the value.
///
/// # Safety
/// AVX2 present; 32 bytes readable at `p`.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn widen_q12x32(p: *const i8, low: __m256i) -> (__m256i, __m256i) {
    // SAFETY: 32 bytes are readable at `p` (the caller's promise).
    let high = unsafe { _mm256_loadu_si256(p.cast()) };
    let (a, b) = (_mm256_unpacklo_epi8(low, high), _mm256_unpackhi_epi8(low, high));
    (_mm256_srai_epi16::<4>(a), _mm256_srai_epi16::<4>(b))
}

/// Dot products of one row of `nb` blocks, `block(b)` giving block `b`'s
/// 32 weights as 16-bit integers in natural order (the first 16, the last
/// 16) and its scale, with each row of `xs`. Even and odd blocks accumulate
/// apart, at fixed places that stay in registers: two dependency chains
/// hide the FMA latency.
///
/// # Safety
/// AVX2 and FMA present; `block(b)` is safe to call for every `b < nb`, and
/// each row of `xs` holds `nb` blocks of values and scales.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn int16_dot_n<const T: usize>(
    nb: usize,
    xs: &[Q16Row<'_>; T],
    block: impl Fn(usize) -> (__m256i, __m256i, f32),
) -> [f32; T] {
    let (mut even, mut odd) = ([_mm256_setzero_ps(); T], [_mm256_setzero_ps(); T]);
    // SAFETY: every `b` below is under `nb` (the caller's promise).
    unsafe {
        for b in (0..nb & !1).step_by(2) {
            let (wa, wb, d) = block(b);
            int16_block(&mut even, wa, wb, d, xs, b);
            let (wa, wb, d) = block(b + 1);
            int16_block(&mut odd, wa, wb, d, xs, b + 1);
        }
        if nb % 2 == 1 {
            let (wa, wb, d) = block(nb - 1);
            int16_block(&mut even, wa, wb, d, xs, nb - 1);
        }
    }
    std::array::from_fn(|t| hsum(_mm256_add_ps(even[t], odd[t])))
}

/// `acc[t] += d * (block b . x_t)` for a block's 32 weights as 16-bit
/// integers in natural order (`wa` the first 16, `wb` the last): products
/// summed in pairs by `vpmaddwd`, exact in 32 bits.
///
/// # Safety
/// AVX2 and FMA present; each row's 32 values and scale of block `b` in bounds.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn int16_block<const T: usize>(
    acc: &mut [__m256; T],
    wa: __m256i,
    wb: __m256i,
    d: f32,
    xs: &[Q16Row<'_>; T],
    b: usize,
) {
    let d = _mm256_set1_ps(d);
    for t in 0..T {
        // SAFETY: in bounds by the caller's promise.
        unsafe {
            let q = xs[t].values.as_ptr().add(b * BLOCK_ELEMS);
            let sum = _mm256_add_epi32(
                _mm256_madd_epi16(wa, _mm256_loadu_si256(q.cast())),
                _mm256_madd_epi16(wb, _mm256_loadu_si256(q.add(16).cast())),
            );
            // The stored activation scale divides by 512 (see `quant`); the
            // sum meets it before the weight scale, as in the scalar kernel.
            let xd = _mm256_set1_ps(*xs[t].scales.get_unchecked(b) * 512.0);
            acc[t] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(sum), xd), d, acc[t]);
        }
    }
}

/// Even columns of a 16-column chunk, then odd ones: a 32-bit lane holding
/// two bf16 gives the even one by a left shift and the odd one by a mask.
const BF16_ORDER: [u8; 16] = [0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15];

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
    lut_lo: __m256i,
    lut_hi: __m256i,
    nibble: __m256i,
}

impl Decoder {
    #[target_feature(enable = "avx2,fma")]
    fn new() -> Self {
        // SAFETY: the tables are 16 readable bytes each.
        unsafe {
            Self {
                lut_lo: _mm256_broadcastsi128_si256(_mm_loadu_si128(LUT_LO.as_ptr().cast())),
                lut_hi: _mm256_broadcastsi128_si256(_mm_loadu_si128(LUT_HI.as_ptr().cast())),
                nibble: _mm256_set1_epi8(0x0F),
            }
        }
    }

    /// The 32 values of one block (without its scale) in [`MXFP4_ORDER`].
    ///
    /// # Safety
    /// `block` must point to 16 readable bytes.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn decode(self, block: *const u8) -> [__m256; 4] {
        // SAFETY: the caller guarantees 16 readable bytes.
        let v = _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(block.cast()) });
        // Lane 0: low nibbles (even inputs); lane 1: high nibbles (odd inputs).
        let codes = _mm256_and_si256(_mm256_blend_epi32::<0b1111_0000>(v, _mm256_srli_epi16::<4>(v)), self.nibble);
        let lo = _mm256_shuffle_epi8(self.lut_lo, codes);
        let hi = _mm256_shuffle_epi8(self.lut_hi, codes);
        let (a, b) = (_mm256_unpacklo_epi8(lo, hi), _mm256_unpackhi_epi8(lo, hi));
        let zero = _mm256_setzero_si256();
        [
            _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, a)),
            _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, a)),
            _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, b)),
            _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, b)),
        ]
    }
}

/// The sum of `v`'s eight lanes.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
}

/// Even (`[0]`) and odd (`[1]`) columns of 16 bf16 values as f32.
///
/// # Safety
/// `p` must point to 32 readable bytes.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn widen_bf16x16(p: *const bf16) -> [__m256; 2] {
    // SAFETY: the caller guarantees 32 readable bytes.
    let v = unsafe { _mm256_loadu_si256(p.cast()) };
    [
        _mm256_castsi256_ps(_mm256_slli_epi32::<16>(v)),
        _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(0xFFFF_0000_u32 as i32))),
    ]
}

/// Independent accumulators per (weight row, activation row) pair of
/// [`bf16_tile`]: enough chains in flight to hide the FMA latency, few
/// enough that they, the widened weights and an activation vector fit the
/// 16 registers.
const fn bf16_chains(pairs: usize) -> usize {
    match pairs {
        0..=2 => 4,
        3..=4 => 2,
        _ => 1,
    }
}

/// `out[r][t]` = `rows[r] . xs[t]`, as the AVX-512 kernel of the same name
/// on 16-column chunks.
///
/// # Safety
/// AVX2 and FMA present; the rows are equally long, each `x` at least as
/// long as they are.
#[target_feature(enable = "avx2,fma")]
unsafe fn bf16_tile<const R: usize, const T: usize>(rows: [&[bf16]; R], xs: [&[f32]; T]) -> [[f32; T]; R] {
    let chains = bf16_chains(R * T);
    let chunks = rows[0].len() / 16;
    let mut acc = [[[_mm256_setzero_ps(); 4]; T]; R];
    let mut c = 0;
    // SAFETY: chunks `c` and `c + 1` lie within each row and each `x`.
    unsafe {
        while c + 2 <= chunks {
            if T > 1 {
                // The same place in the next group's rows, into L2 (see the
                // AVX-512 kernel): roofline, 8 activation rows on Zen 4,
                // 72-82 -> 106-151 GFLOP/s.
                for row in &rows {
                    _mm_prefetch::<_MM_HINT_T1>(row.as_ptr().wrapping_add(16 * c + R * row.len()).cast());
                }
            }
            // Both chunks' weights load before any FMA (see the AVX-512 kernel).
            let w0 = widen_rows(&rows, c);
            let w1 = widen_rows(&rows, c + 1);
            bf16_tile_chunk(&w0, &xs, c, [0, 1].map(|i| i % chains), &mut acc);
            bf16_tile_chunk(&w1, &xs, c + 1, [2, 3].map(|i| i % chains), &mut acc);
            c += 2;
        }
        if c < chunks {
            bf16_tile_chunk(&widen_rows(&rows, c), &xs, c, [0, 1].map(|i| i % chains), &mut acc);
        }
    }
    std::array::from_fn(|r| {
        std::array::from_fn(|t| {
            let sum = acc[r][t][..chains].iter().fold(_mm256_setzero_ps(), |s, &a| _mm256_add_ps(s, a));
            let tail: f32 = rows[r][chunks * 16..].iter().zip(&xs[t][chunks * 16..]).map(|(w, x)| w.to_f32() * x).sum();
            hsum(sum) + tail
        })
    })
}

/// Chunk `c` of each row, widened.
///
/// # Safety
/// As [`bf16_tile`]; chunk `c` lies within each row.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn widen_rows<const R: usize>(rows: &[&[bf16]; R], c: usize) -> [[__m256; 2]; R] {
    // SAFETY: in bounds by the caller's promise.
    std::array::from_fn(|r| unsafe { widen_bf16x16(rows[r].as_ptr().add(16 * c)) })
}

/// Chunk `c` of [`bf16_tile`], its weights `w` widened: its even columns
/// into accumulator `even` of each pair, its odd ones into `odd`.
///
/// # Safety
/// As [`bf16_tile`]; chunk `c` lies within each row and each `x`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn bf16_tile_chunk<const R: usize, const T: usize>(
    w: &[[__m256; 2]; R],
    xs: &[&[f32]; T],
    c: usize,
    [even, odd]: [usize; 2],
    acc: &mut [[[__m256; 4]; T]; R],
) {
    // SAFETY: in bounds by the caller's promise.
    unsafe {
        for t in 0..T {
            let x = xs[t].as_ptr().add(16 * c);
            let (xe, xo) = (_mm256_loadu_ps(x), _mm256_loadu_ps(x.add(8)));
            for r in 0..R {
                acc[r][t][even] = _mm256_fmadd_ps(w[r][0], xe, acc[r][t][even]);
                acc[r][t][odd] = _mm256_fmadd_ps(w[r][1], xo, acc[r][t][odd]);
            }
        }
    }
}

/// # Safety
/// AVX2 and FMA present; rows `r0 .. r0 + nr` exist; `panel` holds `cols * NR`.
#[target_feature(enable = "avx2,fma")]
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
                let scale = _mm256_set1_ps(E8M0_VALUES[s as usize]);
                for (j, vj) in v.into_iter().enumerate() {
                    _mm256_storeu_ps(values.as_mut_ptr().add(8 * j), _mm256_mul_ps(vj, scale));
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
/// AVX2 and FMA present; rows `r0 .. r0 + nr` exist; `panel` holds `cols * NR`.
#[target_feature(enable = "avx2,fma")]
unsafe fn bf16_pack_simd(w: &Bf16Matrix<'_>, r0: usize, nr: usize, panel: &mut [f32]) {
    if nr < NR {
        panel.fill(0.0);
    }
    let chunks = w.cols() / 16;
    let mut values = [0.0f32; 16];
    for i in 0..nr {
        let row = w.row(r0 + i);
        for c in 0..chunks {
            // SAFETY: chunk `c` lies within the row; `values` holds 16 floats.
            unsafe {
                let [even, odd] = widen_bf16x16(row.as_ptr().add(16 * c));
                _mm256_storeu_ps(values.as_mut_ptr(), even);
                _mm256_storeu_ps(values.as_mut_ptr().add(8), odd);
            }
            let column = &mut panel[16 * c * NR + i..];
            for (j, &v) in values.iter().enumerate() {
                column[j * NR] = v;
            }
        }
        for k in chunks * 16..w.cols() {
            panel[k * NR + i] = row[k].to_f32();
        }
    }
}

/// A 6x16 register tile, added to `tile`: two vectors of panel columns,
/// one broadcast per activation row, 12 FMAs per step of `k`.
///
/// # Safety
/// AVX2 and FMA present; `a` has `M` rows of at least `k` values, `panel`
/// at least `k * NR` values, `tile` at least `M * NR`.
#[target_feature(enable = "avx2,fma")]
unsafe fn gemm_tile_m<const M: usize>(a: &[&[f32]], panel: &[f32], k: usize, tile: &mut [f32]) {
    let rows: [*const f32; M] = std::array::from_fn(|m| a[m].as_ptr());
    let b = panel.as_ptr();
    let t = tile.as_mut_ptr();
    // SAFETY: `kk < k` keeps every read inside the bounds the caller
    // promised; the tile holds `M * NR` values.
    unsafe {
        let mut c0: [__m256; M] = std::array::from_fn(|m| _mm256_loadu_ps(t.add(m * NR)));
        let mut c1: [__m256; M] = std::array::from_fn(|m| _mm256_loadu_ps(t.add(m * NR + 8)));
        for kk in 0..k {
            let b0 = _mm256_loadu_ps(b.add(kk * NR));
            let b1 = _mm256_loadu_ps(b.add(kk * NR + 8));
            for m in 0..M {
                let av = _mm256_broadcast_ss(&*rows[m].add(kk));
                c0[m] = _mm256_fmadd_ps(av, b0, c0[m]);
                c1[m] = _mm256_fmadd_ps(av, b1, c1[m]);
            }
        }
        for m in 0..M {
            _mm256_storeu_ps(tile.as_mut_ptr().add(m * NR), c0[m]);
            _mm256_storeu_ps(tile.as_mut_ptr().add(m * NR + 8), c1[m]);
        }
    }
}
