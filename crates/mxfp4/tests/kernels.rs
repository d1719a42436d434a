//! Every kernel this CPU can run, the portable one included, against the
//! f64 reference, on random and edge inputs, for decode (up to
//! `DECODE_MAX_ROWS` activation rows, the dot kernels) and prefill (more
//! rows, the GEMM kernels).

mod common;

use common::{abs_sums, assert_close, assert_close_plus, q16_error_bounds, random_bf16, random_f32, random_mxfp4, rng};
use mxfp4::{Bf16Matrix, Isa, Mxfp4Matrix, Q8Matrix, Q12Matrix, Weights, linear_with, reference};

/// Scale bytes of ordinary weights: 2^-17 .. 2^8.
const TYPICAL_SCALES: &[u8] = &[110, 118, 120, 122, 124, 126, 127, 128, 130, 135];
const TOKEN_COUNTS: &[usize] = &[1, 2, 3, 5, 6, 7, 13, 16, 17, 32];

fn isas() -> Vec<Isa> {
    let isas = Isa::available();
    assert!(isas.contains(&Isa::Scalar));
    isas
}

/// Runs the MXFP4 kernels of every ISA on one matrix and input and checks
/// them against the reference.
fn check_mxfp4(blocks: &[u8], scales: &[u8], rows: usize, cols: usize, x: &[f32], n: usize, bias: Option<&[f32]>) {
    let w = Mxfp4Matrix::new("w", blocks, scales, rows, cols).unwrap();
    let mut want = vec![0.0; n * rows];
    reference::mxfp4_linear(&w, x, n, bias, &mut want);
    let dense = reference::dequantize(&w);
    let sums = abs_sums(&dense, x, bias, rows, cols, n);
    let q16 = q16_error_bounds(&dense, x, rows, cols, n);
    let exact = vec![0.0; n * rows];
    for isa in isas() {
        let mut got = vec![f32::NAN; n * rows];
        linear_with(isa, w, x, n, bias, &mut got);
        // Decode may round activations to 16 bits.
        let extra = if isa.quantizes_mxfp4_decode() && n <= mxfp4::DECODE_MAX_ROWS { &q16 } else { &exact };
        assert_close_plus(&got, &want, &sums, extra, cols, &format!("{isa} mxfp4 {rows}x{cols} n={n}"));
    }
}

fn check_bf16(data: &[half::bf16], rows: usize, cols: usize, x: &[f32], n: usize, bias: Option<&[f32]>) {
    let w = Bf16Matrix::new("w", data, rows, cols).unwrap();
    let mut want = vec![0.0; n * rows];
    reference::bf16_linear(&w, x, n, bias, &mut want);
    let dense: Vec<f32> = data.iter().map(|v| v.to_f32()).collect();
    let sums = abs_sums(&dense, x, bias, rows, cols, n);
    for isa in isas() {
        let mut got = vec![f32::NAN; n * rows];
        linear_with(isa, w, x, n, bias, &mut got);
        assert_close(&got, &want, &sums, cols, &format!("{isa} bf16 {rows}x{cols} n={n}"));
    }
}

/// The 8- and 12-bit kernels (and the 12-bit coarse ones) of every ISA
/// against the reference over the same quantized values: decode rounds
/// activations to 16 bits, prefill does not.
fn check_requantized(data: &[half::bf16], rows: usize, cols: usize, x: &[f32], n: usize, bias: Option<&[f32]>) {
    let bf16 = Bf16Matrix::new("w", data, rows, cols).unwrap();
    let q8 = Q8Matrix::quantize("w", &bf16).unwrap();
    let q12 = Q12Matrix::quantize("w", &bf16).unwrap();
    let weights =
        [(Weights::Q8(&q8), "q8"), (Weights::Q12(&q12), "q12"), (Weights::Q12Coarse(q12.coarse()), "q12 coarse")];
    for (w, name) in weights {
        let mut dense = vec![0.0; rows * cols];
        let mut want = vec![0.0; n * rows];
        match w {
            Weights::Q8(q) => {
                reference::q8_linear(q, x, n, bias, &mut want);
                dense.chunks_exact_mut(cols).enumerate().for_each(|(r, row)| q.dequantize_row(r, row));
            }
            Weights::Q12(q) => {
                reference::q12_linear(q, x, n, bias, &mut want);
                dense.chunks_exact_mut(cols).enumerate().for_each(|(r, row)| q.dequantize_row(r, row));
            }
            Weights::Q12Coarse(c) => {
                reference::q12_coarse_linear(c, x, n, bias, &mut want);
                dense.chunks_exact_mut(cols).enumerate().for_each(|(r, row)| c.dequantize_row(r, row));
            }
            _ => unreachable!(),
        }
        let sums = abs_sums(&dense, x, bias, rows, cols, n);
        let q16 = q16_error_bounds(&dense, x, rows, cols, n);
        let exact = vec![0.0; n * rows];
        for isa in isas() {
            let mut got = vec![f32::NAN; n * rows];
            linear_with(isa, w, x, n, bias, &mut got);
            let extra = if n <= mxfp4::DECODE_MAX_ROWS { &q16 } else { &exact };
            assert_close_plus(&got, &want, &sums, extra, cols, &format!("{isa} {name} {rows}x{cols} n={n}"));
        }
    }
}

#[test]
fn mxfp4_random_shapes() {
    let mut rng = rng(1);
    // Row counts around the SIMD and tile widths, block counts from one up.
    for &(rows, blocks) in &[(1, 1), (3, 2), (7, 3), (16, 1), (17, 5), (33, 4), (100, 9), (6, 90)] {
        let cols = blocks * 32;
        let (b, s) = random_mxfp4(&mut rng, rows, cols, TYPICAL_SCALES);
        let bias = random_f32(&mut rng, rows, 1.0);
        for &n in TOKEN_COUNTS {
            let x = random_f32(&mut rng, n * cols, 3.0);
            check_mxfp4(&b, &s, rows, cols, &x, n, Some(&bias));
            check_mxfp4(&b, &s, rows, cols, &x, n, None);
        }
    }
}

#[test]
fn mxfp4_every_code_in_every_position() {
    // Row r, byte j holds codes (r + 2j) and (r + 2j + 1) mod 16: over 16
    // rows every code, -0 (code 8) included, sits in every nibble.
    let (rows, cols) = (16, 64);
    let blocks: Vec<u8> = (0..rows)
        .flat_map(|r| (0..cols / 2).map(move |j| (((r + 2 * j) % 16) | (((r + 2 * j + 1) % 16) << 4)) as u8))
        .collect();
    let scales = vec![127u8; rows * cols / 32];
    let mut rng = rng(2);
    for &n in TOKEN_COUNTS {
        let x = random_f32(&mut rng, n * cols, 1.0);
        check_mxfp4(&blocks, &scales, rows, cols, &x, n, None);
    }
    // One-hot inputs read single weights back exactly.
    let w = Mxfp4Matrix::new("w", &blocks, &scales, rows, cols).unwrap();
    let dense = reference::dequantize(&w);
    for isa in isas() {
        for k in [0, 1, 2, 15, 16, 31, 32, 63] {
            let mut x = vec![0.0f32; cols];
            x[k] = 1.0;
            let mut y = vec![0.0; rows];
            linear_with(isa, w, &x, 1, None, &mut y);
            let col: Vec<f32> = (0..rows).map(|r| dense[r * cols + k]).collect();
            assert_eq!(y, col, "{isa}: column {k}");
        }
    }
}

#[test]
fn mxfp4_edge_scales() {
    let mut rng = rng(3);
    let (rows, cols) = (19, 96);
    for &scale in &[0u8, 1, 126, 127, 128, 254] {
        let (mut b, s) = random_mxfp4(&mut rng, rows, cols, &[scale]);
        // At 2^127 only magnitudes up to 1.5 are finite f32 weights (2.0 *
        // 2^127 overflows), and small activations keep the sums finite.
        // Subnormal scales exercise gradual underflow.
        let magnitude = if scale == 254 {
            b.iter_mut().for_each(|v| *v &= 0b1011_1011);
            1e-3
        } else {
            2.0
        };
        for &n in &[1, 2, 7] {
            let x = random_f32(&mut rng, n * cols, magnitude);
            check_mxfp4(&b, &s, rows, cols, &x, n, None);
        }
    }
}

#[test]
fn mxfp4_nan_scale_poisons_exactly_its_rows() {
    let mut rng = rng(4);
    let (rows, cols) = (21, 64);
    let (b, mut s) = random_mxfp4(&mut rng, rows, cols, TYPICAL_SCALES);
    s[2 * 5 + 1] = 255; // row 5, second block
    s[2 * 17] = 255; // row 17, first block
    for &n in &[1, 2, 9] {
        let x = random_f32(&mut rng, n * cols, 1.0);
        let w = Mxfp4Matrix::new("w", &b, &s, rows, cols).unwrap();
        for isa in isas() {
            let mut y = vec![0.0; n * rows];
            linear_with(isa, w, &x, n, None, &mut y);
            for (i, v) in y.iter().enumerate() {
                let r = i % rows;
                assert_eq!(v.is_nan(), r == 5 || r == 17, "{isa} n={n}: row {r} = {v}");
            }
        }
        check_mxfp4(&b, &s, rows, cols, &x, n, None);
    }
}

#[test]
fn mxfp4_very_long_rows() {
    let mut rng = rng(5);
    let (rows, cols) = (5, 32 * 2048);
    let (b, s) = random_mxfp4(&mut rng, rows, cols, TYPICAL_SCALES);
    for &n in &[1, 2, 4] {
        let x = random_f32(&mut rng, n * cols, 1.0);
        check_mxfp4(&b, &s, rows, cols, &x, n, None);
    }
}

#[test]
fn mxfp4_gpt_oss_expert_shape() {
    // One expert's down projection of gpt-oss (2880 x 2880), decode and a
    // small prefill, against the reference.
    let mut rng = rng(6);
    let (rows, cols) = (2880, 2880);
    let (b, s) = random_mxfp4(&mut rng, rows, cols, TYPICAL_SCALES);
    let bias = random_f32(&mut rng, rows, 1.0);
    for &n in &[1, 2, 8] {
        let x = random_f32(&mut rng, n * cols, 1.0);
        check_mxfp4(&b, &s, rows, cols, &x, n, Some(&bias));
    }
}

#[test]
fn bf16_random_shapes() {
    let mut rng = rng(7);
    // Column counts below, at and past the 16- and 32-column chunks.
    for &(rows, cols) in &[(1, 1), (3, 15), (7, 16), (16, 17), (17, 31), (33, 33), (9, 100), (40, 2880)] {
        let w = random_bf16(&mut rng, rows * cols);
        let bias = random_f32(&mut rng, rows, 1.0);
        for &n in TOKEN_COUNTS {
            let x = random_f32(&mut rng, n * cols, 3.0);
            check_bf16(&w, rows, cols, &x, n, Some(&bias));
        }
    }
}

#[test]
fn bf16_special_values() {
    use half::bf16;
    let (rows, cols) = (4, 48);
    let specials = [bf16::ZERO, bf16::NEG_ZERO, bf16::MIN_POSITIVE_SUBNORMAL, bf16::MAX, bf16::from_f32(-1.0e-30)];
    let w: Vec<bf16> = (0..rows * cols).map(|i| specials[i % specials.len()]).collect();
    let mut rng = rng(8);
    for &n in &[1, 2, 7] {
        let x = random_f32(&mut rng, n * cols, 1e-30);
        check_bf16(&w, rows, cols, &x, n, None);
    }
}

#[test]
fn bf16_very_long_rows() {
    let mut rng = rng(9);
    let (rows, cols) = (3, 70_001);
    let w = random_bf16(&mut rng, rows * cols);
    for &n in &[1, 2, 3] {
        let x = random_f32(&mut rng, n * cols, 1.0);
        check_bf16(&w, rows, cols, &x, n, None);
    }
}

#[test]
fn requantized_random_shapes() {
    let mut rng = rng(10);
    for &(rows, blocks) in &[(1, 1), (3, 2), (7, 3), (16, 1), (17, 5), (33, 4), (100, 9), (6, 90)] {
        let cols = blocks * 32;
        let w = random_bf16(&mut rng, rows * cols);
        let bias = random_f32(&mut rng, rows, 1.0);
        for &n in TOKEN_COUNTS {
            let x = random_f32(&mut rng, n * cols, 3.0);
            check_requantized(&w, rows, cols, &x, n, Some(&bias));
            check_requantized(&w, rows, cols, &x, n, None);
        }
    }
}

#[test]
fn requantized_tiny_weights_and_activations_and_a_nan_row() {
    use half::bf16;
    let (rows, cols) = (4, 96);
    let mut w: Vec<bf16> = (0..rows * cols).map(|i| bf16::from_f32((i % 7) as f32 * 1e-30 - 3e-30)).collect();
    w[2 * cols + 40] = bf16::NAN;
    let mut rng = rng(11);
    for &n in &[1, 2, 7, 20] {
        let x = random_f32(&mut rng, n * cols, 1e-20);
        check_requantized(&w, rows, cols, &x, n, None);
        let bf16 = Bf16Matrix::new("w", &w, rows, cols).unwrap();
        let (q8, q12) = (Q8Matrix::quantize("w", &bf16).unwrap(), Q12Matrix::quantize("w", &bf16).unwrap());
        for q in [Weights::Q8(&q8), Weights::Q12(&q12), Weights::Q12Coarse(q12.coarse())] {
            let mut y = vec![0.0; n * rows];
            linear_with(Isa::active(), q, &x, n, None, &mut y);
            for t in 0..n {
                let row = &y[t * rows..(t + 1) * rows];
                assert!(row[2].is_nan() && row.iter().filter(|v| v.is_nan()).count() == 1, "{row:?}");
            }
        }
    }
}

#[test]
fn requantized_gpt_oss_attention_shape() {
    let mut rng = rng(12);
    let (rows, cols) = (64, 2880);
    let w = random_bf16(&mut rng, rows * cols);
    let bias = random_f32(&mut rng, rows, 1.0);
    for &n in &[1, 2, 8, 40] {
        let x = random_f32(&mut rng, n * cols, 1.0);
        check_requantized(&w, rows, cols, &x, n, Some(&bias));
    }
}

#[test]
fn empty_batch_leaves_output_alone() {
    let blocks = [0x11u8; 16];
    let w = Mxfp4Matrix::new("w", &blocks, &[127], 1, 32).unwrap();
    let mut y: Vec<f32> = vec![];
    for isa in isas() {
        linear_with(isa, w, &[], 0, None, &mut y);
    }
}

#[test]
#[should_panic(expected = "x must be n x cols")]
fn mismatched_input_is_refused() {
    let blocks = [0u8; 16];
    let w = Mxfp4Matrix::new("w", &blocks, &[127], 1, 32).unwrap();
    linear_with(Isa::Scalar, w, &[0.0; 31], 1, None, &mut [0.0]);
}

#[test]
fn isa_names_round_trip() {
    for isa in Isa::ALL {
        assert_eq!(Isa::from_name(isa.name()), Some(isa));
    }
    assert_eq!(Isa::from_name("AVX2"), Some(Isa::Avx2));
    assert_eq!(Isa::from_name("sse2"), None);
    assert!(Isa::detect().is_available());
    assert!(Isa::active().is_available());
}
