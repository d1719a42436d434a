//! AVX-512 (F, BW, VL) + FMA kernels.
//!
//! MXFP4 decode (a few activation rows) runs on 16-bit integer activations
//! (see [`crate::quant`]) on 256-bit registers, two blocks at a time. On
//! CPUs that split 512-bit operations in two (Zen 4) the wide shuffles cost
//! twice as much, and the 256-bit kernel reads more of the bandwidth than a
//! 512-bit one.
//!
//! GEMM panels decode MXFP4 blocks with a 16-entry f32 table lookup:
//! `vpmovzxbd` widens a block's 16 bytes to 16 dwords, and `vpermps`, which
//! reads only the low 4 bits of each index, maps the low nibbles (and, after
//! a shift by 4, the high nibbles) straight to their E2M1 values. One block
//! gives two vectors, its even inputs and its odd inputs.

use std::arch::x86_64::*;

use half::bf16;

use super::{Kernels, Mxfp4Decode, Q16Kernel};
use crate::bf16::Bf16Matrix;
use crate::format::{BLOCK_BYTES, BLOCK_ELEMS, E2M1_VALUES, E8M0_VALUES, Mxfp4Matrix};
use crate::quant::{E2M1_TWICE, Q16Row};

pub(super) fn kernels() -> Option<&'static Kernels> {
    let base = is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma");
    base.then_some(&KERNELS)
}

static KERNELS: Kernels = Kernels {
    mxfp4_order: EVEN_ODD,
    bf16_order: &EVEN_ODD,
    bf16_dot,
    bf16_dot_shape: BF16_DOT,
    // The AVX2 kernels: on Zen 4, 256-bit integer products run these
    // faster than 512-bit ones (in L3, 1.62 against 2.56 ns per 12-bit
    // block, 1.22 against 1.37 per 8-bit one).
    q8_dot: super::avx2::q8_dot,
    q12_dot: super::avx2::q12_dot,
    q12_coarse_dot: super::avx2::q12_coarse_dot,
    // 256-bit integer decode beats a 512-bit f32 lookup: `vpermps` and
    // `vpmovzxbd` on 512 bits cost Zen 4 twice their 256-bit price.
    mxfp4_decode: Mxfp4Decode::Q16(&Q16),
    mxfp4_pack,
    bf16_pack,
    gemm_tile,
    gemm_mr: MR,
    gemm_nr: NR,
};

const MR: usize = 14;
const NR: usize = 32;

super::simd_entry_points!(tile_rows: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);

// Four weight rows by four activation rows per call: each activation
// vector loaded feeds four FMAs. Zen 4 sustains far fewer 512-bit loads
// than FMAs, so the load count per FMA sets the speed: with the data in
// L2, 4 x 4 runs 25.8 flops per cycle (of 32), 8 x 2 25.4, 2 x 8 20-21,
// 1 x 8 11.8. The 16 accumulators and 8 widened weight vectors fit the 32
// registers.
super::bf16_dot_entry_point!(rows: [1, 2, 3, 4], tokens: [1, 2, 3, 4]);

/// Even inputs of a 32-value chunk, then odd ones: position `i` holds input
/// `2i` and position `16 + i` input `2i + 1` (i < 16).
///
/// MXFP4: dword `i` of the widened block is byte `i`, whose low nibble is
/// input `2i` and high nibble input `2i + 1`; lane `i` of the first decoded
/// vector is the low nibble's value, lane `i` of the second the high one's.
/// bf16: dword `i` of 32 loaded values is column `2i` (low half, shifted up)
/// and column `2i + 1` (high half, masked), the same order.
const EVEN_ODD: [u8; 32] = {
    let mut order = [0u8; 32];
    let mut i = 0;
    while i < 16 {
        order[i] = (2 * i) as u8;
        order[16 + i] = (2 * i + 1) as u8;
        i += 1;
    }
    order
};

/// The 16 E2M1 values in one register, indexed by code.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
#[inline]
fn e2m1_table() -> __m512 {
    // SAFETY: the table holds 16 readable floats.
    unsafe { _mm512_loadu_ps(E2M1_VALUES.as_ptr()) }
}

/// The 32 values of one block (without its scale) in [`EVEN_ODD`] order.
///
/// Lane `i` (i < 16): `vpmovzxbd` puts byte `i`, `h << 4 | l`, in dword `i`.
/// `vpermps` reads bits 0..4 of it, `l`, and gives `E2M1[l]`: input `2i`,
/// position `i`. Shifted right by 4 the dword is `h`, giving `E2M1[h]`:
/// input `2i + 1`, position `16 + i`. Lookups copy bits, so -0 stays -0.
///
/// # Safety
/// `block` must point to 16 readable bytes.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
#[inline]
unsafe fn decode(table: __m512, block: *const u8) -> [__m512; 2] {
    // SAFETY: the caller guarantees 16 readable bytes.
    let bytes = _mm512_cvtepu8_epi32(unsafe { _mm_loadu_si128(block.cast()) });
    // `vpermps` ignores index bits above the low 4: no mask is needed.
    [_mm512_permutexvar_ps(bytes, table), _mm512_permutexvar_ps(_mm512_srli_epi32::<4>(bytes), table)]
}

/// The paired integer MXFP4 kernel ([`super::avx2::paired_dot`]) with
/// `vpermw` lookups: it reads the low 4 bits of each word as the index into
/// a 16-entry table of 16-bit values, so the word shifted right by 0, 4, 8
/// and 12 looks up inputs `4k`, `4k + 1`, `4k + 2` and `4k + 3` (word `k`
/// is bytes `2k` and `2k + 1` of its lane's block): 3 shifts and 4 lookups
/// per pair of blocks, where the AVX2 weights take 2 lookups, 3 shifts and
/// 4 masks.
static Q16: Q16Kernel = Q16Kernel { layout: super::avx2::PAIRED, dot: mxfp4_dot_q16 };

super::q16_entry_point!();

/// # Safety
/// AVX-512 F/BW/VL, AVX2 and FMA present; as [`super::avx2::paired_dot`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
unsafe fn mxfp4_dot_q16_n<const T: usize>(blocks: &[u8], scales: &[u8], xs: [Q16Row<'_>; T]) -> [f32; T] {
    // SAFETY: the caller's promise is `paired_dot`'s.
    unsafe { super::avx2::paired_dot(blocks, scales, xs, |v| paired_weights(v)) }
}

/// The 64 weights of the blocks in `v`'s lanes as 16-bit integers (see
/// [`Q16`]).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
#[inline]
fn paired_weights(v: __m256i) -> [__m256i; 4] {
    // SAFETY: the table is 32 readable bytes.
    let lut = unsafe { _mm256_loadu_si256(E2M1_TWICE_HIGH.as_ptr().cast()) };
    let look_up = |codes: __m256i| _mm256_permutexvar_epi16(codes, lut);
    [
        look_up(v),
        look_up(_mm256_srli_epi16::<4>(v)),
        look_up(_mm256_srli_epi16::<8>(v)),
        look_up(_mm256_srli_epi16::<12>(v)),
    ]
}

/// Twice each E2M1 value times 256, by code.
const E2M1_TWICE_HIGH: [i16; 16] = {
    let mut table = [0i16; 16];
    let mut i = 0;
    while i < 16 {
        table[i] = E2M1_TWICE[i] as i16 * 256;
        i += 1;
    }
    table
};

/// Even (`[0]`) and odd (`[1]`) columns of 32 bf16 values as f32.
///
/// # Safety
/// `p` must point to 64 readable bytes.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
#[inline]
unsafe fn widen_bf16x32(p: *const bf16) -> [__m512; 2] {
    // SAFETY: the caller guarantees 64 readable bytes.
    let v = unsafe { _mm512_loadu_si512(p.cast()) };
    [
        _mm512_castsi512_ps(_mm512_slli_epi32::<16>(v)),
        _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(0xFFFF_0000_u32 as i32))),
    ]
}

/// Independent accumulators per (weight row, activation row) pair of
/// [`bf16_tile`]: enough chains in flight to hide the FMA latency, few
/// enough that all of them stay in registers.
const fn bf16_chains(pairs: usize) -> usize {
    match pairs {
        0..=2 => 4,
        3..=8 => 2,
        _ => 1,
    }
}

/// `out[r][t]` = `rows[r] . xs[t]`: each 32-column chunk of a weight row is
/// widened once and meets every activation row in registers. Even and odd
/// columns of even and odd chunks go to accumulators 0 to 3 of a pair,
/// folded onto the first [`bf16_chains`] of them.
///
/// # Safety
/// AVX-512 F/BW/VL, AVX2 and FMA present; the rows are equally long, each
/// `x` at least as long as they are.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
unsafe fn bf16_tile<const R: usize, const T: usize>(rows: [&[bf16]; R], xs: [&[f32]; T]) -> [[f32; T]; R] {
    let chains = bf16_chains(R * T);
    let chunks = rows[0].len() / 32;
    let mut acc = [[[_mm512_setzero_ps(); 4]; T]; R];
    let mut c = 0;
    // SAFETY: chunks `c` and `c + 1` lie within each row and each `x`.
    unsafe {
        while c + 2 <= chunks {
            if T > 1 {
                // With several activation rows the tile computes longer
                // than its weights take to stream, and the hardware
                // prefetcher, which stops at each 4 KiB page, lets the next
                // tile start cold. So each row prefetches, into L2, the
                // same place in the next group's row, `R` rows on (a
                // matrix's rows are contiguous; a prefetch never faults).
                // Roofline, 8 activation rows on Zen 4: 96-102 -> 139-160
                // GFLOP/s; into L1, 105-114. The prefetch 8 KiB ahead it
                // replaced landed mostly in this tile's own rows.
                for row in &rows {
                    let ahead = row.as_ptr().wrapping_add(32 * c + R * row.len());
                    _mm_prefetch::<_MM_HINT_T1>(ahead.cast());
                    _mm_prefetch::<_MM_HINT_T1>(ahead.wrapping_add(32).cast());
                }
            }
            // Both chunks' weights load before any FMA: with one activation
            // row, loading each just before its FMAs made the model's bf16
            // decode about 40 % slower.
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
            let sum = acc[r][t][..chains].iter().fold(_mm512_setzero_ps(), |s, &a| _mm512_add_ps(s, a));
            let tail: f32 = rows[r][chunks * 32..].iter().zip(&xs[t][chunks * 32..]).map(|(w, x)| w.to_f32() * x).sum();
            _mm512_reduce_add_ps(sum) + tail
        })
    })
}

/// Chunk `c` of each row, widened.
///
/// # Safety
/// As [`bf16_tile`]; chunk `c` lies within each row.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
#[inline]
unsafe fn widen_rows<const R: usize>(rows: &[&[bf16]; R], c: usize) -> [[__m512; 2]; R] {
    // SAFETY: in bounds by the caller's promise.
    std::array::from_fn(|r| unsafe { widen_bf16x32(rows[r].as_ptr().add(32 * c)) })
}

/// Chunk `c` of [`bf16_tile`], its weights `w` widened: its even columns
/// into accumulator `even` of each pair, its odd ones into `odd`.
///
/// # Safety
/// As [`bf16_tile`]; chunk `c` lies within each row and each `x`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
#[inline]
unsafe fn bf16_tile_chunk<const R: usize, const T: usize>(
    w: &[[__m512; 2]; R],
    xs: &[&[f32]; T],
    c: usize,
    [even, odd]: [usize; 2],
    acc: &mut [[[__m512; 4]; T]; R],
) {
    // SAFETY: in bounds by the caller's promise.
    unsafe {
        for t in 0..T {
            let x = xs[t].as_ptr().add(32 * c);
            let (xe, xo) = (_mm512_loadu_ps(x), _mm512_loadu_ps(x.add(16)));
            for r in 0..R {
                acc[r][t][even] = _mm512_fmadd_ps(w[r][0], xe, acc[r][t][even]);
                acc[r][t][odd] = _mm512_fmadd_ps(w[r][1], xo, acc[r][t][odd]);
            }
        }
    }
}

/// # Safety
/// AVX-512 F/BW/VL, AVX2 and FMA present; rows `r0 .. r0 + nr` exist;
/// `panel` holds `cols * NR`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
unsafe fn mxfp4_pack_simd(w: &Mxfp4Matrix<'_>, r0: usize, nr: usize, panel: &mut [f32]) {
    if nr < NR {
        panel.fill(0.0);
    }
    let table = e2m1_table();
    let mut values = [0.0f32; BLOCK_ELEMS];
    // Block by block, then row by row: each block's 4 KiB of panel stays
    // in L1 while its scattered stores land.
    for b in 0..w.row_block_count() {
        let column = &mut panel[b * BLOCK_ELEMS * NR..];
        for i in 0..nr {
            let r = r0 + i;
            // SAFETY: block `b` is within row `r`; `values` holds 32 floats.
            unsafe {
                let [even, odd] = decode(table, w.row_blocks(r).as_ptr().add(b * BLOCK_BYTES));
                let scale = _mm512_set1_ps(E8M0_VALUES[w.row_scales(r)[b] as usize]);
                _mm512_storeu_ps(values.as_mut_ptr(), _mm512_mul_ps(even, scale));
                _mm512_storeu_ps(values.as_mut_ptr().add(16), _mm512_mul_ps(odd, scale));
            }
            for (j, &v) in values.iter().enumerate() {
                column[j * NR + i] = v;
            }
        }
    }
}

/// # Safety
/// AVX-512 F/BW/VL, AVX2 and FMA present; rows `r0 .. r0 + nr` exist;
/// `panel` holds `cols * NR`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
unsafe fn bf16_pack_simd(w: &Bf16Matrix<'_>, r0: usize, nr: usize, panel: &mut [f32]) {
    if nr < NR {
        panel.fill(0.0);
    }
    let chunks = w.cols() / 32;
    let mut values = [0.0f32; 32];
    // Chunk by chunk, then row by row, as in `mxfp4_pack_avx512`.
    for c in 0..chunks {
        let column = &mut panel[32 * c * NR..];
        for i in 0..nr {
            // SAFETY: chunk `c` lies within the row; `values` holds 32 floats.
            unsafe {
                let [even, odd] = widen_bf16x32(w.row(r0 + i).as_ptr().add(32 * c));
                _mm512_storeu_ps(values.as_mut_ptr(), even);
                _mm512_storeu_ps(values.as_mut_ptr().add(16), odd);
            }
            for (j, &v) in values.iter().enumerate() {
                column[j * NR + i] = v;
            }
        }
    }
    for k in chunks * 32..w.cols() {
        for i in 0..nr {
            panel[k * NR + i] = w.row(r0 + i)[k].to_f32();
        }
    }
}

/// A 14x32 register tile: two vectors of panel columns, one broadcast per
/// activation row, 28 FMAs per step of `k` (28 accumulators and the two
/// panel vectors fit the 32 registers).
///
/// # Safety
/// AVX-512 F/BW/VL, AVX2 and FMA present; `a` has `M` rows of at least `k`
/// values, `panel` at least `k * NR` values, `tile` at least `M * NR`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
unsafe fn gemm_tile_m<const M: usize>(a: &[&[f32]], panel: &[f32], k: usize, tile: &mut [f32]) {
    let rows: [*const f32; M] = std::array::from_fn(|m| a[m].as_ptr());
    let b = panel.as_ptr();
    let t = tile.as_mut_ptr();
    // SAFETY: `kk < k` keeps every read inside the bounds the caller
    // promised; the tile holds `M * NR` values.
    unsafe {
        let mut c0: [__m512; M] = std::array::from_fn(|m| _mm512_loadu_ps(t.add(m * NR)));
        let mut c1: [__m512; M] = std::array::from_fn(|m| _mm512_loadu_ps(t.add(m * NR + 16)));
        for kk in 0..k {
            let b0 = _mm512_loadu_ps(b.add(kk * NR));
            let b1 = _mm512_loadu_ps(b.add(kk * NR + 16));
            for m in 0..M {
                let av = _mm512_set1_ps(*rows[m].add(kk));
                c0[m] = _mm512_fmadd_ps(av, b0, c0[m]);
                c1[m] = _mm512_fmadd_ps(av, b1, c1[m]);
            }
        }
        for m in 0..M {
            _mm512_storeu_ps(tile.as_mut_ptr().add(m * NR), c0[m]);
            _mm512_storeu_ps(tile.as_mut_ptr().add(m * NR + 16), c1[m]);
        }
    }
}
