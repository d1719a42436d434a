//! The MXFP4 format as the Hugging Face gpt-oss checkpoints store it, and
//! zero-copy views over its bytes.
//!
//! A weight matrix of `rows x cols` (rows are output features) is two
//! tensors: `*_blocks`, uint8 `[.., rows, cols / 32, 16]`, and `*_scales`,
//! uint8 `[.., rows, cols / 32]`. Each block holds 32 consecutive input
//! values of one row in 16 bytes: byte `j` carries element `2j` in its low
//! nibble and element `2j + 1` in its high nibble (transformers'
//! `convert_moe_packed_tensors`). A nibble is an E2M1 code; the block's
//! scale byte is E8M0, `2^(s - 127)`.

use crate::error::FormatError;

/// Values per MXFP4 block.
pub const BLOCK_ELEMS: usize = 32;
/// Bytes of packed codes per block.
pub const BLOCK_BYTES: usize = 16;

/// E2M1 code to value: sign bit 3, two exponent bits, one mantissa bit.
pub const E2M1_VALUES: [f32; 16] =
    [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0];

/// E8M0 scale byte to its value, `2^(s - 127)`.
///
/// Byte 0 is `2^-127` (an f32 subnormal, kept exact). Byte 255 is NaN, as
/// the OCP Microscaling spec defines it; every output that reads a block
/// with that scale is NaN. (transformers' `ldexp` would give `±inf`, or 0
/// for a zero code; no published checkpoint contains the byte.) Weights
/// whose value exceeds f32 (codes of magnitude 2 and up at byte 254) are
/// infinite when dequantized; the kernels scale whole block sums instead
/// and may return the finite result.
pub const fn e8m0_to_f32(s: u8) -> f32 {
    match s {
        0 => f32::from_bits(0x0040_0000),
        255 => f32::NAN,
        s => f32::from_bits((s as u32) << 23),
    }
}

/// All 256 scale values, indexed by the scale byte.
pub(crate) static E8M0_VALUES: [f32; 256] = {
    let mut table = [0.0f32; 256];
    let mut s = 0;
    while s < 256 {
        table[s] = e8m0_to_f32(s as u8);
        s += 1;
    }
    table
};

/// Decodes element `i` (0..32) of one 16-byte block, without its scale.
#[inline]
pub fn e2m1_code(block: &[u8], i: usize) -> u8 {
    let byte = block[i / 2];
    if i.is_multiple_of(2) { byte & 0x0F } else { byte >> 4 }
}

/// One MXFP4 weight matrix (one expert's projection): `rows x cols`, rows
/// being output features, borrowed from the checkpoint bytes.
#[derive(Clone, Copy, Debug)]
pub struct Mxfp4Matrix<'a> {
    blocks: &'a [u8],
    scales: &'a [u8],
    rows: usize,
    cols: usize,
}

impl<'a> Mxfp4Matrix<'a> {
    /// A view over the blocks and scales of a `rows x cols` matrix.
    /// `name` is the tensor name used in errors.
    pub fn new(name: &str, blocks: &'a [u8], scales: &'a [u8], rows: usize, cols: usize) -> Result<Self, FormatError> {
        if cols == 0 || !cols.is_multiple_of(BLOCK_ELEMS) {
            return Err(FormatError::shape(
                name,
                format!("a column count that is a positive multiple of {BLOCK_ELEMS}"),
                &[rows, cols],
            ));
        }
        let nb = rows * (cols / BLOCK_ELEMS);
        check_len(name, &[rows, cols / BLOCK_ELEMS, BLOCK_BYTES], nb * BLOCK_BYTES, blocks.len())?;
        check_len(name, &[rows, cols / BLOCK_ELEMS], nb, scales.len())?;
        Ok(Self { blocks, scales, rows, cols })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Blocks per row.
    pub fn row_block_count(&self) -> usize {
        self.cols / BLOCK_ELEMS
    }

    /// The packed codes of row `r`: `row_block_count() * 16` bytes.
    #[inline]
    pub fn row_blocks(&self, r: usize) -> &'a [u8] {
        let len = self.row_block_count() * BLOCK_BYTES;
        &self.blocks[r * len..(r + 1) * len]
    }

    /// The scale bytes of row `r`: one per block.
    #[inline]
    pub fn row_scales(&self, r: usize) -> &'a [u8] {
        let len = self.row_block_count();
        &self.scales[r * len..(r + 1) * len]
    }

    /// Bytes this matrix occupies (codes and scales): what one pass reads.
    pub fn byte_len(&self) -> usize {
        self.blocks.len() + self.scales.len()
    }
}

/// A stack of MXFP4 matrices, one per expert, as a checkpoint stores a
/// projection of all experts of a layer: blocks `[experts, rows, cols/32, 16]`
/// and scales `[experts, rows, cols/32]`.
#[derive(Clone, Copy, Debug)]
pub struct Mxfp4Experts<'a> {
    blocks: &'a [u8],
    scales: &'a [u8],
    experts: usize,
    rows: usize,
    cols: usize,
}

impl<'a> Mxfp4Experts<'a> {
    /// Validates the two tensors' shapes against each other and against
    /// their byte lengths. `name` is the weight's name without the
    /// `_blocks` / `_scales` suffix; errors name the offending tensor.
    pub fn new(
        name: &str,
        blocks: &'a [u8],
        blocks_shape: &[usize],
        scales: &'a [u8],
        scales_shape: &[usize],
    ) -> Result<Self, FormatError> {
        let blocks_name = format!("{name}_blocks");
        let scales_name = format!("{name}_scales");
        let &[experts, rows, groups, BLOCK_BYTES] = blocks_shape else {
            return Err(FormatError::shape(
                &blocks_name,
                format!("4 dimensions [experts, rows, cols/32, {BLOCK_BYTES}]"),
                blocks_shape,
            ));
        };
        if scales_shape != [experts, rows, groups] {
            return Err(FormatError::shape(
                &scales_name,
                format!("[{experts}, {rows}, {groups}] to match {blocks_name} {blocks_shape:?}"),
                scales_shape,
            ));
        }
        if groups == 0 {
            return Err(FormatError::shape(&blocks_name, "at least one block per row".into(), blocks_shape));
        }
        check_len(&blocks_name, blocks_shape, blocks_shape.iter().product(), blocks.len())?;
        check_len(&scales_name, scales_shape, scales_shape.iter().product(), scales.len())?;
        Ok(Self { blocks, scales, experts, rows, cols: groups * BLOCK_ELEMS })
    }

    pub fn experts(&self) -> usize {
        self.experts
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Expert `e`'s matrix. Panics when `e >= experts()`: the router can
    /// only name experts that exist.
    pub fn expert(&self, e: usize) -> Mxfp4Matrix<'a> {
        assert!(e < self.experts, "expert {e} out of range (have {})", self.experts);
        let nb = self.rows * (self.cols / BLOCK_ELEMS);
        Mxfp4Matrix {
            blocks: &self.blocks[e * nb * BLOCK_BYTES..(e + 1) * nb * BLOCK_BYTES],
            scales: &self.scales[e * nb..(e + 1) * nb],
            rows: self.rows,
            cols: self.cols,
        }
    }
}

pub(crate) fn check_len(name: &str, shape: &[usize], expected: usize, actual: usize) -> Result<(), FormatError> {
    if expected == actual {
        Ok(())
    } else {
        Err(FormatError::Length { tensor: name.to_owned(), shape: shape.to_vec(), expected, actual })
    }
}
