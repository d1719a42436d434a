//! The gpt-oss transformer on the CPU kernels of [`mxfp4`]: configuration,
//! checkpoint loading, layers, KV cache, sampling, tokenizer and harmony.
//! The crate knows config files, safetensors and layers, nothing of HTTP.

pub mod config;
mod error;
pub mod weights;

pub use config::{Config, GenerationConfig, LayerType};
pub use error::{ModelError, Result};
pub use weights::Checkpoint;
