//! f32 kernels over the rows of a matrix in memory, for attention over a
//! key/value cache: one vector's scaled dot products with many rows, the
//! exponentials of a softmax, and a weighted sum of rows.
//!
//! Dispatched at run time like the weight kernels ([`Isa::active`]): AVX2
//! and FMA where the CPU has them (AVX-512 CPUs included: the rows are
//! short, a head of 64 values, and Zen 4 runs 512-bit operations as two
//! 256-bit halves), portable loops elsewhere. A build for the x86-64
//! baseline would otherwise compute these with 128-bit SSE and call libm's
//! `expf` once per value.
//!
//! Row `j` of `rows` is `rows[j * stride ..][.. len]`: rows may lie
//! anywhere in a longer buffer (one head's slice of a cache line of all
//! heads, say).

use super::Isa;
use super::scalar::dot;

#[cfg(target_arch = "x86_64")]
mod avx2;

/// `out[j] = scale * (q . row j)`, row `j` being `rows[j * stride ..]`'s
/// first `q.len()` values; returns the largest `out[j]` (negative
/// infinity when `out` is empty).
///
/// # Panics
/// When `rows` is too short for `out.len()` rows.
pub fn scaled_dots(q: &[f32], rows: &[f32], stride: usize, scale: f32, out: &mut [f32]) -> f32 {
    scaled_dots_on(Isa::active(), q, rows, stride, scale, out)
}

/// `x[i] = exp(x[i] - shift)`; returns their sum. Within a few units in
/// the last place of `f32::exp` for `x[i] - shift` from -87 to 88 (a
/// softmax, whose shift is the largest `x`, only has arguments up to 0);
/// the SIMD path saturates outside it, at `exp(-87.3)` (about 1e-38) and
/// `exp(88)`. A NaN stays NaN.
pub fn exp_shifted(x: &mut [f32], shift: f32) -> f32 {
    exp_shifted_on(Isa::active(), x, shift)
}

/// `out += sum_j weights[j] * row j`, row `j` being `rows[j * stride ..]`'s
/// first `out.len()` values.
///
/// # Panics
/// When `rows` is too short for `weights.len()` rows.
pub fn add_weighted_rows(weights: &[f32], rows: &[f32], stride: usize, out: &mut [f32]) {
    add_weighted_rows_on(Isa::active(), weights, rows, stride, out)
}

#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
fn scaled_dots_on(isa: Isa, q: &[f32], rows: &[f32], stride: usize, scale: f32, out: &mut [f32]) -> f32 {
    check_rows(rows.len(), stride, q.len(), out.len());
    #[cfg(target_arch = "x86_64")]
    if has_avx2(isa) {
        // SAFETY: the CPU has AVX2 and FMA; every row read is within
        // `rows`, checked above.
        return unsafe { avx2::scaled_dots(q, rows, stride, scale, out) };
    }
    scalar_scaled_dots(q, rows, stride, scale, out)
}

#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
fn exp_shifted_on(isa: Isa, x: &mut [f32], shift: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2(isa) {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { avx2::exp_shifted(x, shift) };
    }
    scalar_exp_shifted(x, shift)
}

#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
fn add_weighted_rows_on(isa: Isa, weights: &[f32], rows: &[f32], stride: usize, out: &mut [f32]) {
    check_rows(rows.len(), stride, out.len(), weights.len());
    #[cfg(target_arch = "x86_64")]
    if has_avx2(isa) {
        // SAFETY: the CPU has AVX2 and FMA; every row read is within
        // `rows`, checked above.
        return unsafe { avx2::add_weighted_rows(weights, rows, stride, out) };
    }
    scalar_add_weighted_rows(weights, rows, stride, out)
}

/// Whether `isa` runs here and implies AVX2 and FMA (both SIMD x86 sets
/// are only available on CPUs that reported them).
#[cfg(target_arch = "x86_64")]
fn has_avx2(isa: Isa) -> bool {
    matches!(isa, Isa::Avx2 | Isa::Avx512) && isa.is_available()
}

/// Panics unless `count` rows of `len` values, `stride` apart, fit in
/// `available` values.
fn check_rows(available: usize, stride: usize, len: usize, count: usize) {
    if count > 0 {
        let needed = (count - 1).checked_mul(stride).and_then(|n| n.checked_add(len));
        assert!(
            needed.is_some_and(|n| n <= available),
            "{count} rows of {len} values, {stride} apart, do not fit in {available} values"
        );
    }
}

fn scalar_scaled_dots(q: &[f32], rows: &[f32], stride: usize, scale: f32, out: &mut [f32]) -> f32 {
    let mut max = f32::NEG_INFINITY;
    for (j, o) in out.iter_mut().enumerate() {
        *o = scale * dot(q, &rows[j * stride..][..q.len()]);
        max = max.max(*o);
    }
    max
}

fn scalar_exp_shifted(x: &mut [f32], shift: f32) -> f32 {
    x.iter_mut().fold(0.0, |sum, v| {
        *v = (*v - shift).exp();
        sum + *v
    })
}

fn scalar_add_weighted_rows(weights: &[f32], rows: &[f32], stride: usize, out: &mut [f32]) {
    let len = out.len();
    for (j, &w) in weights.iter().enumerate() {
        for (o, &v) in out.iter_mut().zip(&rows[j * stride..][..len]) {
            *o += w * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values in [-4, 4) from a xorshift64 sequence.
    fn values(n: usize, mut state: u64) -> Vec<f32> {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 8000) as f32 / 1000.0 - 4.0
            })
            .collect()
    }

    /// Each instruction set at every row count around the 8-row groups, head sizes with and
    /// without a tail past the last 8 values, rows packed and strided.
    #[test]
    fn scaled_dots_match_f64_sums() {
        for len in [1usize, 7, 8, 13, 64, 72] {
            for stride in [len, len + 5, 8 * len] {
                for n in [0usize, 1, 7, 8, 9, 16, 17, 130] {
                    let q = values(len, 7 + len as u64);
                    let rows = values(n.saturating_sub(1) * stride + len, 11 * n as u64 + 3);
                    for isa in Isa::available() {
                        let mut got = vec![f32::NAN; n];
                        let max = scaled_dots_on(isa, &q, &rows, stride, 0.125, &mut got);
                        let mut want_max = f32::NEG_INFINITY;
                        for (j, g) in got.iter().enumerate() {
                            let row = &rows[j * stride..][..len];
                            let want: f64 =
                                0.125 * q.iter().zip(row).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum::<f64>();
                            let bound: f64 =
                                q.iter().zip(row).map(|(&a, &b)| f64::from((a * b).abs())).sum::<f64>() * 1e-6;
                            assert!(
                                (f64::from(*g) - want).abs() <= bound,
                                "{isa}, {len} values, stride {stride}, row {j} of {n}: {g} vs {want}"
                            );
                            want_max = want_max.max(*g);
                        }
                        assert_eq!(max, want_max, "{isa}, {len} values, stride {stride}, {n} rows");
                    }
                }
            }
        }
    }

    #[test]
    fn weighted_rows_add_to_f64_sums() {
        for len in [1usize, 7, 8, 13, 64, 72, 136] {
            for stride in [len, len + 3] {
                for n in [0usize, 1, 2, 9, 130] {
                    let weights = values(n, 5 + n as u64);
                    let rows = values(n.saturating_sub(1) * stride + len, 17 + len as u64);
                    let start = values(len, 23);
                    for isa in Isa::available() {
                        let mut got = start.clone();
                        add_weighted_rows_on(isa, &weights, &rows, stride, &mut got);
                        for (i, g) in got.iter().enumerate() {
                            let terms = weights
                                .iter()
                                .enumerate()
                                .map(|(j, &w)| f64::from(w) * f64::from(rows[j * stride + i]));
                            let want = f64::from(start[i]) + terms.clone().sum::<f64>();
                            let bound = (f64::from(start[i].abs()) + terms.map(f64::abs).sum::<f64>()) * 1e-6;
                            assert!(
                                (f64::from(*g) - want).abs() <= bound,
                                "{isa}, {len} values, stride {stride}, {n} rows, value {i}: {g} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Against f64's `exp`, over the whole range a softmax meets and past
    /// it, at lengths with and without a tail past the last 8 values.
    #[test]
    fn exp_shifted_is_within_a_few_ulp() {
        for (isa, n) in Isa::available().into_iter().flat_map(|isa| [0usize, 1, 7, 8, 9, 1001].map(|n| (isa, n))) {
            let x: Vec<f32> = (0..n).map(|i| -86.0 + 174.0 * i as f32 / n.max(2) as f32).collect();
            let mut got = x.clone();
            let sum = exp_shifted_on(isa, &mut got, 0.5);
            let mut want_sum = 0.0f64;
            for (i, (&g, &x)) in got.iter().zip(&x).enumerate() {
                let want = f64::from(x - 0.5).exp();
                want_sum += want;
                assert!(
                    ((f64::from(g) - want) / want).abs() <= 4.0 * f64::from(f32::EPSILON),
                    "{isa}: exp({x} - 0.5), {i} of {n}: {g} vs {want}"
                );
            }
            // Past f32's range the sum is infinite, as it should be.
            let want_sum = if want_sum > f64::from(f32::MAX) { f64::INFINITY } else { want_sum };
            assert!(
                f64::from(sum) == want_sum || (f64::from(sum) - want_sum).abs() <= want_sum * 1e-5,
                "{isa}, {n} values: sum {sum} vs {want_sum}"
            );
        }
        for isa in Isa::available() {
            let mut special = [f32::NAN, 0.0, -200.0, f32::NEG_INFINITY, 0.0, 0.0, 0.0, 0.0, f32::NAN];
            exp_shifted_on(isa, &mut special, 0.0);
            assert!(special[0].is_nan() && special[8].is_nan(), "{isa}: {special:?}");
            assert_eq!(special[1], 1.0, "{isa}");
            assert!((0.0..1e-37).contains(&special[2]) && (0.0..1e-37).contains(&special[3]), "{isa}: {special:?}");
        }
    }

    #[test]
    #[should_panic(expected = "do not fit")]
    fn rows_past_the_buffer_panic() {
        scaled_dots(&[1.0; 8], &[0.0; 23], 8, 1.0, &mut [0.0; 3]);
    }
}
