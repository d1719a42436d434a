//! AVX2 + FMA versions of the row kernels.

use std::arch::x86_64::*;

use crate::cpu::avx2::hsum;

/// As [`super::scaled_dots`], eight rows at a time: each row's products
/// sum in its own register, and one transposing reduction turns the eight
/// into eight dot products (no horizontal sum per row).
///
/// # Safety
/// AVX2 and FMA present; `out.len()` rows of `q.len()` values, `stride`
/// apart, lie within `rows`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn scaled_dots(q: &[f32], rows: &[f32], stride: usize, scale: f32, out: &mut [f32]) -> f32 {
    let (len, n) = (q.len(), out.len());
    let whole = len & !7;
    let (qp, rp) = (q.as_ptr(), rows.as_ptr());
    let mut max = _mm256_set1_ps(f32::NEG_INFINITY);
    let mut j = 0;
    // SAFETY: every row read is below `n` and every value below `len`, in
    // `rows` by the caller's promise; outputs below `n`.
    unsafe {
        while j + 8 <= n {
            let mut acc = [_mm256_setzero_ps(); 8];
            for c in (0..whole).step_by(8) {
                let qc = _mm256_loadu_ps(qp.add(c));
                for (r, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(qc, _mm256_loadu_ps(rp.add((j + r) * stride + c)), *a);
                }
            }
            let mut dots = sum_each(acc);
            if whole < len {
                let tails: [f32; 8] = std::array::from_fn(|r| tail_dot(q, rows, (j + r) * stride, whole));
                dots = _mm256_add_ps(dots, _mm256_loadu_ps(tails.as_ptr()));
            }
            let dots = _mm256_mul_ps(dots, _mm256_set1_ps(scale));
            max = _mm256_max_ps(max, dots);
            _mm256_storeu_ps(out.as_mut_ptr().add(j), dots);
            j += 8;
        }
        let mut max = max_lane(max);
        for (j, o) in out.iter_mut().enumerate().skip(j) {
            let mut acc = _mm256_setzero_ps();
            for c in (0..whole).step_by(8) {
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(qp.add(c)), _mm256_loadu_ps(rp.add(j * stride + c)), acc);
            }
            *o = scale * (hsum(acc) + tail_dot(q, rows, j * stride, whole));
            max = max.max(*o);
        }
        max
    }
}

/// The products of `q`'s values from `from` on with the row at `start`.
#[inline]
fn tail_dot(q: &[f32], rows: &[f32], start: usize, from: usize) -> f32 {
    q[from..].iter().zip(&rows[start + from..start + q.len()]).map(|(a, b)| a * b).sum()
}

/// Lane `r` of the result is the sum of `v[r]`'s eight lanes.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn sum_each(v: [__m256; 8]) -> __m256 {
    // After two rounds of `vhaddps`, lane r of `lo4`'s low half holds the
    // sum of v[r]'s low four lanes and lane r of its high half that of the
    // high four (r < 4); `hi4` the same for v[4 ..].
    let (a, b) = (_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
    let (c, d) = (_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
    let (lo4, hi4) = (_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    let low_halves = _mm256_permute2f128_ps::<0x20>(lo4, hi4);
    let high_halves = _mm256_permute2f128_ps::<0x31>(lo4, hi4);
    _mm256_add_ps(low_halves, high_halves)
}

/// The largest of `v`'s eight lanes.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn max_lane(v: __m256) -> f32 {
    let s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)))
}

/// As [`super::exp_shifted`], eight values at a time.
///
/// # Safety
/// AVX2 and FMA present.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn exp_shifted(x: &mut [f32], shift: f32) -> f32 {
    let (n, p) = (x.len(), x.as_mut_ptr());
    let s = _mm256_set1_ps(shift);
    let mut sum = _mm256_setzero_ps();
    let mut i = 0;
    // SAFETY: every access is below `n`.
    unsafe {
        while i + 8 <= n {
            let e = exp8(_mm256_sub_ps(_mm256_loadu_ps(p.add(i)), s));
            _mm256_storeu_ps(p.add(i), e);
            sum = _mm256_add_ps(sum, e);
            i += 8;
        }
    }
    x[i..].iter_mut().fold(hsum(sum), |sum, v| {
        *v = (*v - shift).exp();
        sum + *v
    })
}

/// `exp` of eight values, Cephes' `expf`: `x = n ln 2 + r` with `|r| <=
/// ln 2 / 2` (`ln 2` in two parts, so `n ln 2` is exact), a degree-7
/// polynomial for `exp(r)`, and `2^n` built in the exponent bits.
/// Arguments are clamped to [-87.3, 88] first, where `2^n` is a normal
/// float; the clamps take the argument as their second operand, so a NaN
/// passes through.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn exp8(x: __m256) -> __m256 {
    let x = _mm256_min_ps(_mm256_set1_ps(88.0), _mm256_max_ps(_mm256_set1_ps(-87.336_55), x));
    let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
        x,
        _mm256_set1_ps(std::f32::consts::LOG2_E),
    ));
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), x);
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.121_944_4e-4), r);
    let y = [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 0.5]
        .into_iter()
        .fold(_mm256_set1_ps(1.987_569_1e-4), |y, c| _mm256_fmadd_ps(y, r, _mm256_set1_ps(c)));
    let y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0)));
    let biased = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32::<23>(biased)))
}

/// As [`super::add_weighted_rows`]: the output in registers, 64 values
/// (eight independent accumulators) at a time, each row's weight broadcast
/// once per pass.
///
/// # Safety
/// AVX2 and FMA present; `weights.len()` rows of `out.len()` values,
/// `stride` apart, lie within `rows`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn add_weighted_rows(weights: &[f32], rows: &[f32], stride: usize, out: &mut [f32]) {
    let len = out.len();
    let mut c = 0;
    // SAFETY: each pass reads values `c .. c + 8 V <= len` of every row.
    unsafe {
        while c + 64 <= len {
            add_weighted_columns::<8>(weights, rows, stride, out, c);
            c += 64;
        }
        while c + 8 <= len {
            add_weighted_columns::<1>(weights, rows, stride, out, c);
            c += 8;
        }
    }
    for (j, &w) in weights.iter().enumerate() {
        for (o, &v) in out[c..].iter_mut().zip(&rows[j * stride + c..j * stride + len]) {
            *o += w * v;
        }
    }
}

/// Values `c .. c + 8 V` of [`add_weighted_rows`].
///
/// # Safety
/// As [`add_weighted_rows`], and `c + 8 V <= out.len()`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn add_weighted_columns<const V: usize>(
    weights: &[f32],
    rows: &[f32],
    stride: usize,
    out: &mut [f32],
    c: usize,
) {
    let o = out.as_mut_ptr();
    // SAFETY: in bounds by the caller's promise.
    unsafe {
        let mut acc: [__m256; V] = std::array::from_fn(|v| _mm256_loadu_ps(o.add(c + 8 * v)));
        for (j, &w) in weights.iter().enumerate() {
            let (w, row) = (_mm256_set1_ps(w), rows.as_ptr().add(j * stride + c));
            for (v, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(w, _mm256_loadu_ps(row.add(8 * v)), *a);
            }
        }
        for (v, a) in acc.iter().enumerate() {
            _mm256_storeu_ps(o.add(c + 8 * v), *a);
        }
    }
}
