//! Dense bf16 weight matrices (attention projections, router, unembedding),
//! borrowed from the checkpoint bytes.

use half::bf16;

use rayon::prelude::*;

use crate::error::FormatError;
use crate::format::{BLOCK_ELEMS, check_len};
use crate::huge::HugeBuf;

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

    /// Each block of 32 values of every row converted by `quantize(block,
    /// out)`, which writes the block's `block_len` values to `out` and
    /// returns its scale; rows in parallel. Returns the values (row-major,
    /// on huge pages where the kernel grants them, as decode streams them)
    /// and the scales. The columns must be a multiple of 32.
    pub(crate) fn quantize_blocks<V, S>(
        &self,
        name: &str,
        block_len: usize,
        quantize: impl Fn(&[bf16], &mut [V]) -> S + Sync,
    ) -> Result<(HugeBuf<V>, Vec<S>), FormatError>
    where
        V: bytemuck::Pod + Send,
        S: Copy + Default + Send,
    {
        let (rows, cols) = (self.rows, self.cols);
        if !cols.is_multiple_of(BLOCK_ELEMS) {
            return Err(FormatError::shape(name, format!("columns a multiple of {BLOCK_ELEMS}"), &[rows, cols]));
        }
        let blocks = cols / BLOCK_ELEMS;
        let row_len = blocks * block_len;
        let mut values = HugeBuf::zeroed(rows * row_len);
        let mut scales = vec![S::default(); rows * blocks];
        let rows_out = values[..rows * row_len].par_chunks_mut(row_len).zip(scales.par_chunks_mut(blocks));
        rows_out.enumerate().for_each(|(r, (vs, ss))| {
            let blocks = self.row(r).chunks_exact(BLOCK_ELEMS).zip(vs.chunks_exact_mut(block_len));
            for ((block, out), scale) in blocks.zip(ss) {
                *scale = quantize(block, out);
            }
        });
        Ok((values, scales))
    }
}
