//! The model crate's one error type: everything that can be wrong with a
//! checkpoint on disk, named precisely enough to fix.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not valid JSON for this file: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("{path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("{path}: not a readable safetensors file ({reason})")]
    Safetensors { path: PathBuf, reason: String },
    #[error("{path}: not a usable gpt-oss tokenizer: {reason}")]
    Tokenizer { path: PathBuf, reason: String },
    #[error("tensor `{name}` is missing from the checkpoint")]
    MissingTensor { name: String },
    #[error("tensor `{name}` in {path}: expected {expected}, found {found}")]
    Tensor { name: String, path: PathBuf, expected: String, found: String },
    #[error(transparent)]
    Format(#[from] mxfp4::FormatError),
    #[error("invalid input: {0}")]
    Input(String),
    #[error("tensor computation failed: {0}")]
    Compute(#[from] candle_core::Error),
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;
