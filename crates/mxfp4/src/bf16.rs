//! Dense bf16 weight matrices (attention projections, router, unembedding),
//! borrowed from the checkpoint bytes.

use half::bf16;

use crate::error::FormatError;
use crate::format::check_len;

/// A `rows x cols` bf16 matrix in row-major order, rows being output features.
#[derive(Clone, Copy, Debug)]
pub struct Bf16Matrix<'a> {
    data: &'a [bf16],
    rows: usize,
    cols: usize,
}

impl<'a> Bf16Matrix<'a> {
    pub fn new(name: &str, data: &'a [bf16], rows: usize, cols: usize) -> Result<Self, FormatError> {
        check_len(name, &[rows, cols], rows * cols, data.len())?;
        if cols == 0 {
            return Err(FormatError::shape(name, "at least one column".into(), &[rows, cols]));
        }
        Ok(Self { data, rows, cols })
    }

    /// A view over little-endian bf16 bytes, as safetensors stores them.
    pub fn from_bytes(name: &str, bytes: &'a [u8], rows: usize, cols: usize) -> Result<Self, FormatError> {
        if !bytes.len().is_multiple_of(2) {
            return Err(FormatError::Length {
                tensor: name.to_owned(),
                shape: vec![rows, cols],
                expected: rows * cols * 2,
                actual: bytes.len(),
            });
        }
        let data: &[bf16] =
            bytemuck::try_cast_slice(bytes).map_err(|_| FormatError::Misaligned { tensor: name.to_owned() })?;
        Self::new(name, data, rows, cols)
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    #[inline]
    pub fn row(&self, r: usize) -> &'a [bf16] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Bytes one pass over the matrix reads.
    pub fn byte_len(&self) -> usize {
        self.data.len() * 2
    }
}
