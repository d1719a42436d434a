//! The gpt-oss transformer on the CPU kernels of [`mxfp4`]: configuration,
//! checkpoint loading, layers, KV cache, sampling, tokenizer and harmony.
//! The crate knows config files, safetensors and layers, nothing of HTTP.

pub mod config;
mod error;
pub mod gumbel;
pub mod harmony;
pub mod kv_cache;
pub mod layers;
pub mod model;
pub mod phases;
pub mod sampling;
pub mod synthetic;
pub mod tokenizer;
pub mod weights;

pub use config::{Config, GenerationConfig, LayerType};
pub use error::{ModelError, Result};
pub use kv_cache::Cache;
pub use layers::linear::DenseFormat;
pub use model::{GptOss, Head, Next, SequenceInput};
pub use phases::{Phase, PhaseTimes};
pub use sampling::{Sampled, Sampler, SamplingError, SamplingParams};
pub use tokenizer::{DecodeStream, Tokenizer};
pub use weights::Checkpoint;
