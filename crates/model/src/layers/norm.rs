//! RMSNorm in f32 with a learned scale, as transformers' `GptOssRMSNorm`.

use candle_core::{D, Tensor};

use crate::error::Result;
use crate::layers::linear::f32_vec;
use crate::weights::Checkpoint;

pub struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    pub fn load(ckpt: &Checkpoint, name: &str, size: usize, eps: f64) -> Result<Self> {
        Ok(Self { weight: Tensor::from_vec(f32_vec(ckpt, name, &[size])?, size, &candle_core::Device::Cpu)?, eps })
    }

    /// The same over rows of `width` values in a slice.
    pub fn forward_slice(&self, x: &[f32], width: usize) -> Result<Vec<f32>> {
        let t = Tensor::from_slice(x, (x.len() / width, width), &candle_core::Device::Cpu)?;
        Ok(self.forward(&t)?.flatten_all()?.to_vec1()?)
    }

    /// `x * rsqrt(mean(x^2) + eps) * weight` over the last dimension.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let variance = x.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = x.broadcast_div(&(variance + self.eps)?.sqrt()?)?;
        Ok(normed.broadcast_mul(&self.weight)?)
    }
}
