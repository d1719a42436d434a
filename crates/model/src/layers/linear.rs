//! `y = W x + b` over weights that stay in the checkpoint's memory map,
//! computed by the [`mxfp4`] kernels.

use mxfp4::Weights;

use crate::error::Result;
use crate::weights::Checkpoint;

pub struct Linear<'a> {
    weights: Weights<'a>,
    bias: Option<Vec<f32>>,
}

impl<'a> Linear<'a> {
    /// A bf16 `{name}.weight` of `rows x cols`, with `{name}.bias` when `bias`.
    pub fn load_bf16(ckpt: &'a Checkpoint, name: &str, rows: usize, cols: usize, bias: bool) -> Result<Self> {
        let weights = ckpt.bf16_matrix(&format!("{name}.weight"), rows, cols)?.into();
        let bias = if bias { Some(f32_vec(ckpt, &format!("{name}.bias"), &[rows])?) } else { None };
        Ok(Self { weights, bias })
    }

    pub fn rows(&self) -> usize {
        self.weights.rows()
    }

    /// `x` is a row-major `n x cols` slice; returns `n x rows`.
    pub fn forward_slice(&self, x: &[f32], n: usize) -> Vec<f32> {
        let mut y = vec![0.0; n * self.rows()];
        mxfp4::linear(self.weights, x, n, self.bias.as_deref(), &mut y);
        y
    }
}

/// A bf16 tensor of `shape` widened to f32.
pub fn f32_vec(ckpt: &Checkpoint, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
    Ok(ckpt.bf16(name, shape)?.iter().map(|v| v.to_f32()).collect())
}
