//! The MXFP4 format and the shape checks of the weight views.

use mxfp4::format::{E2M1_VALUES, e2m1_code, e8m0_to_f32};
use mxfp4::{Bf16Matrix, FormatError, Mxfp4Experts, Mxfp4Matrix, reference};

#[test]
fn e2m1_table_is_sign_exponent_mantissa() {
    for code in 0u8..16 {
        let (sign, exp, man) = (code >> 3, (code >> 1) & 3, code & 1);
        let magnitude = if exp == 0 { 0.5 * man as f32 } else { 2f32.powi(exp as i32 - 1) * (1.0 + 0.5 * man as f32) };
        let want = if sign == 1 { -magnitude } else { magnitude };
        assert_eq!(E2M1_VALUES[code as usize].to_bits(), want.to_bits(), "code {code}");
    }
}

#[test]
fn e8m0_scales_are_powers_of_two_and_255_is_nan() {
    assert_eq!(e8m0_to_f32(127), 1.0);
    assert_eq!(e8m0_to_f32(128), 2.0);
    assert_eq!(e8m0_to_f32(126), 0.5);
    assert_eq!(e8m0_to_f32(254), 2f32.powi(127));
    assert_eq!(e8m0_to_f32(1), 2f32.powi(-126));
    assert_eq!(e8m0_to_f32(0) as f64, 2f64.powi(-127), "byte 0 is the subnormal 2^-127");
    assert!(e8m0_to_f32(255).is_nan());
}

#[test]
fn low_nibble_holds_the_even_element() {
    let mut block = [0u8; 16];
    block[0] = 0x2F; // element 0: code 0xF (-6), element 1: code 0x2 (1.0)
    block[15] = 0x90; // element 30: code 0, element 31: code 9 (-0.5)
    assert_eq!(e2m1_code(&block, 0), 0xF);
    assert_eq!(e2m1_code(&block, 1), 0x2);
    assert_eq!(e2m1_code(&block, 31), 0x9);
    let w = Mxfp4Matrix::new("w", &block, &[127], 1, 32).unwrap();
    let values = reference::dequantize(&w);
    assert_eq!(&values[..2], &[-6.0, 1.0]);
    assert_eq!(&values[30..], &[0.0, -0.5]);
}

#[test]
fn scale_multiplies_the_block() {
    let block = [0x77u8; 16]; // every element 6.0
    let w = Mxfp4Matrix::new("w", &block, &[125], 1, 32).unwrap();
    assert!(reference::dequantize(&w).iter().all(|&v| v == 1.5));
}

#[test]
fn experts_split_into_matrices() {
    let (experts, rows, groups) = (3, 2, 2);
    let blocks: Vec<u8> = (0..experts * rows * groups * 16).map(|i| (i / (rows * groups * 16)) as u8 * 0x11).collect();
    let scales = vec![127u8; experts * rows * groups];
    let all = Mxfp4Experts::new("mlp.experts.down_proj", &blocks, &[3, 2, 2, 16], &scales, &[3, 2, 2]).unwrap();
    assert_eq!((all.experts(), all.rows(), all.cols()), (3, 2, 64));
    for (e, &value) in E2M1_VALUES.iter().enumerate().take(3) {
        let values = reference::dequantize(&all.expert(e));
        assert!(values.iter().all(|&v| v == value), "expert {e}");
    }
}

#[test]
fn shape_errors_name_the_tensor() {
    let blocks = vec![0u8; 2 * 4 * 16];
    let scales = vec![0u8; 8];
    let err = Mxfp4Experts::new("layer.0.gate_up_proj", &blocks, &[2, 4, 16], &scales, &[2, 4]).unwrap_err();
    assert!(err.to_string().contains("layer.0.gate_up_proj_blocks"), "{err}");

    let err = Mxfp4Experts::new("layer.0.gate_up_proj", &blocks, &[2, 4, 1, 16], &scales, &[2, 3, 1]).unwrap_err();
    assert!(matches!(&err, FormatError::Shape { tensor, .. } if tensor == "layer.0.gate_up_proj_scales"), "{err}");

    let err = Mxfp4Experts::new("down", &blocks[1..], &[2, 4, 1, 16], &scales, &[2, 4, 1]).unwrap_err();
    assert_eq!(
        err,
        FormatError::Length { tensor: "down_blocks".into(), shape: vec![2, 4, 1, 16], expected: 128, actual: 127 }
    );

    let err = Mxfp4Matrix::new("w", &blocks, &scales, 4, 48).unwrap_err();
    assert!(err.to_string().contains("multiple of 32"), "{err}");
}

#[test]
fn bf16_views_check_length_and_alignment() {
    let bytes = vec![0u16; 13];
    let bytes: &[u8] = bytemuck::cast_slice(&bytes);
    let w = Bf16Matrix::from_bytes("q_proj", &bytes[..24], 3, 4).unwrap();
    assert_eq!((w.rows(), w.cols(), w.byte_len()), (3, 4, 24));
    let err = Bf16Matrix::from_bytes("q_proj", &bytes[1..25], 3, 4).unwrap_err();
    assert_eq!(err, FormatError::Misaligned { tensor: "q_proj".into() });
    let err = Bf16Matrix::from_bytes("q_proj", &bytes[..22], 3, 4).unwrap_err();
    assert!(matches!(err, FormatError::Length { .. }), "{err}");
}
