//! Random weights and the error bound shared by the kernel tests.

#![allow(dead_code)]

use half::bf16;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub fn rng(seed: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed)
}

/// Random packed codes and scales for a `rows x cols` MXFP4 matrix, scale
/// bytes drawn from `scales`.
pub fn random_mxfp4(rng: &mut SmallRng, rows: usize, cols: usize, scales: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let nb = rows * cols / 32;
    let blocks = (0..nb * 16).map(|_| rng.random()).collect();
    let scales = (0..nb).map(|_| scales[rng.random_range(0..scales.len())]).collect();
    (blocks, scales)
}

pub fn random_bf16(rng: &mut SmallRng, len: usize) -> Vec<bf16> {
    (0..len).map(|_| bf16::from_f32(rng.random_range(-2.0f32..2.0))).collect()
}

pub fn random_f32(rng: &mut SmallRng, len: usize, magnitude: f32) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-magnitude..magnitude)).collect()
}

/// Asserts `got` matches the reference `want` element by element.
///
/// The bound: f32 accumulation over `k` terms errs by about
/// `sqrt(k) * eps * sum |w x|` on random data; we allow 4e-7 * sqrt(k)
/// (over 3x that) relative to `sum_abs[i] = sum_k |w x| + |b|`, plus
/// `k * 1e-45` for sums of subnormal products. NaN must match NaN.
pub fn assert_close(got: &[f32], want: &[f32], sum_abs: &[f64], k: usize, what: &str) {
    assert_close_plus(got, want, sum_abs, &vec![0.0; got.len()], k, what);
}

/// [`assert_close`] with `extra[i]` more error allowed on element `i`.
pub fn assert_close_plus(got: &[f32], want: &[f32], sum_abs: &[f64], extra: &[f64], k: usize, what: &str) {
    assert_eq!(got.len(), want.len());
    for (i, (((&g, &w), &s), &e)) in got.iter().zip(want).zip(sum_abs).zip(extra).enumerate() {
        if w.is_nan() {
            assert!(g.is_nan(), "{what}: element {i} is {g}, want NaN");
            continue;
        }
        let tol = 4e-7 * (k as f64).sqrt() * s + k as f64 * 1e-45 + e;
        let err = (g as f64 - w as f64).abs();
        assert!(err <= tol, "{what}: element {i} is {g}, want {w} (error {err:e} > bound {tol:e})");
    }
}

/// `sum_k |W[r, k] x[t, k]| + |b[r]|` for every output, laid out like `y`.
pub fn abs_sums(w: &[f32], x: &[f32], bias: Option<&[f32]>, rows: usize, cols: usize, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * rows];
    for t in 0..n {
        for r in 0..rows {
            let dot: f64 = (0..cols).map(|k| (w[r * cols + k] as f64 * x[t * cols + k] as f64).abs()).sum();
            out[t * rows + r] = dot + bias.map_or(0.0, |b| b[r].abs() as f64);
        }
    }
    out
}

/// The error 16-bit activations may add to each output, laid out like `y`:
/// each input is off by at most 2^-15 of the largest magnitude in its block
/// of 32, so output `(t, r)` by `sum_k |W[r, k]| * max_block(k) |x[t]| / 2^15`.
pub fn q16_error_bounds(w: &[f32], x: &[f32], rows: usize, cols: usize, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * rows];
    for t in 0..n {
        let x = &x[t * cols..(t + 1) * cols];
        let amax: Vec<f64> = x.chunks(32).map(|b| b.iter().fold(0.0f64, |m, v| m.max(v.abs() as f64))).collect();
        for r in 0..rows {
            let row = &w[r * cols..(r + 1) * cols];
            out[t * rows + r] =
                row.iter().enumerate().map(|(k, v)| (*v as f64).abs() * amax[k / 32]).sum::<f64>() / 32768.0;
        }
    }
    out
}
