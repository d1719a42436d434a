//! `y = W x + b` over weights that stay in the checkpoint's memory map, or
//! that were requantized from it at load, computed by the [`mxfp4`] kernels.

use mxfp4::{Q8Matrix, Q12Matrix, Weights};

use crate::error::Result;
use crate::weights::Checkpoint;

/// How the dense projections (attention and unembedding) are held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DenseFormat {
    /// The checkpoint's bf16 tensors, computed from where they are mapped:
    /// exactly the published weights.
    #[default]
    Bf16,
    /// Requantized at load to 12-bit integers per block of 32 with a bf16
    /// scale ([`Q12Matrix`]): 1.5625 bytes per weight instead of 2. Each
    /// weight moves by at most 1/4094 of its block's largest magnitude,
    /// which keeps the model within the fidelity bound.
    Q12,
    /// Requantized at load to 8-bit integers per block of 32 with an f32
    /// scale ([`Q8Matrix`]): 1.125 bytes per weight. Each weight moves by
    /// up to 1/254 of its block's largest magnitude: log-probabilities move
    /// by a few hundredths, past the fidelity bound.
    Q8,
}

impl DenseFormat {
    pub const NAMES: [&str; 3] = ["bf16", "q12", "q8"];

    pub fn name(self) -> &'static str {
        match self {
            DenseFormat::Bf16 => "bf16",
            DenseFormat::Q12 => "q12",
            DenseFormat::Q8 => "q8",
        }
    }
}

impl std::str::FromStr for DenseFormat {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "bf16" => Ok(DenseFormat::Bf16),
            "q12" => Ok(DenseFormat::Q12),
            "q8" => Ok(DenseFormat::Q8),
            _ => Err(format!("unknown dense weight format `{s}`: expected one of {}", DenseFormat::NAMES.join(", "))),
        }
    }
}

impl std::fmt::Display for DenseFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a layer's weights live: in the checkpoint's map, or converted
/// (the bf16 tensor then released from memory).
enum Store<'a> {
    Mapped(Weights<'a>),
    Q12(Q12Matrix),
    Q8(Q8Matrix),
}

pub struct Linear<'a> {
    store: Store<'a>,
    bias: Option<Vec<f32>>,
}

impl<'a> Linear<'a> {
    /// A bf16 `{name}.weight` of `rows x cols`, with `{name}.bias` when `bias`.
    pub fn load_bf16(ckpt: &'a Checkpoint, name: &str, rows: usize, cols: usize, bias: bool) -> Result<Self> {
        Self::load_dense(ckpt, name, rows, cols, bias, DenseFormat::Bf16)
    }

    /// The same, held in `format`.
    pub fn load_dense(
        ckpt: &'a Checkpoint,
        name: &str,
        rows: usize,
        cols: usize,
        bias: bool,
        format: DenseFormat,
    ) -> Result<Self> {
        let weight_name = format!("{name}.weight");
        let matrix = ckpt.bf16_matrix(&weight_name, rows, cols)?;
        let store = match format {
            DenseFormat::Bf16 => Store::Mapped(matrix.into()),
            DenseFormat::Q12 => Store::Q12(Q12Matrix::quantize(&weight_name, &matrix)?),
            DenseFormat::Q8 => Store::Q8(Q8Matrix::quantize(&weight_name, &matrix)?),
        };
        if format != DenseFormat::Bf16 {
            ckpt.release(&weight_name);
        }
        let bias = if bias { Some(f32_vec(ckpt, &format!("{name}.bias"), &[rows])?) } else { None };
        Ok(Self { store, bias })
    }

    /// The weights, as the kernels read them.
    pub fn weights(&self) -> Weights<'_> {
        match &self.store {
            Store::Mapped(w) => *w,
            Store::Q12(q) => q.into(),
            Store::Q8(q) => q.into(),
        }
    }

    pub fn rows(&self) -> usize {
        self.weights().rows()
    }

    /// `x` is a row-major `n x cols` slice; returns `n x rows`.
    pub fn forward_slice(&self, x: &[f32], n: usize) -> Vec<f32> {
        let mut y = vec![0.0; n * self.rows()];
        mxfp4::linear(self.weights(), x, n, self.bias.as_deref(), &mut y);
        y
    }
}

/// A bf16 tensor of `shape` widened to f32.
pub fn f32_vec(ckpt: &Checkpoint, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
    Ok(ckpt.bf16(name, shape)?.iter().map(|v| v.to_f32()).collect())
}
