//! The crate's one error type: a weight view that does not fit its bytes.

/// Why bytes could not be viewed as a weight matrix. Every variant names
/// the tensor, so that a corrupt checkpoint's message says which one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("tensor `{tensor}`: expected {expected}, found shape {found:?}")]
    Shape { tensor: String, expected: String, found: Vec<usize> },
    #[error("tensor `{tensor}`: shape {shape:?} needs {expected} elements, the data holds {actual}")]
    Length { tensor: String, shape: Vec<usize>, expected: usize, actual: usize },
    #[error("tensor `{tensor}`: bf16 data does not start on a 2-byte boundary")]
    Misaligned { tensor: String },
}

impl FormatError {
    pub(crate) fn shape(tensor: &str, expected: String, found: &[usize]) -> Self {
        Self::Shape { tensor: tensor.to_owned(), expected, found: found.to_vec() }
    }
}
