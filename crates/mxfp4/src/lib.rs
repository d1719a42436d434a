//! MXFP4 and bf16 weights, and CPU kernels that compute `y = W x + b`
//! straight from them.
//!
//! - [`format`](mod@format): the MXFP4 layout of the Hugging Face gpt-oss checkpoints
//!   and zero-copy, shape-checked views over its bytes;
//! - [`bf16`]: the same for dense bf16 matrices;
//! - [`Q12Matrix`] and [`Q8Matrix`]: dense weights requantized at load to
//!   12 or 8 bits, for bandwidth-bound decode; a 12-bit matrix's high
//!   plane alone ([`Q12Coarse`]) reads as 8-bit weights, for callers that
//!   can bound what the low bits add;
//! - [`reference`](mod@reference): scalar dequantization and mat-mul, the truth the fast
//!   kernels are tested against;
//! - [`linear`](mod@linear): the fast path, dispatched at run time to AVX-512, AVX2,
//!   NEON or portable code ([`Isa`]) and threaded with rayon;
//! - [`vector`]: f32 kernels over rows in memory (dot products, softmax
//!   exponentials, weighted sums), for attention over a key/value cache.
//!
//! The crate knows bytes, blocks and instruction sets, nothing of models.

pub mod bandwidth;
pub mod bf16;
mod cpu;
mod error;
pub mod format;
mod huge;
pub mod linear;
mod q12;
mod q8;
mod quant;
pub mod reference;

pub use bf16::Bf16Matrix;
pub use cpu::{Isa, vector};
pub use error::FormatError;
pub use format::{Mxfp4Experts, Mxfp4Matrix};
pub use linear::{DECODE_MAX_ROWS, Weights, linear, linear_with};
pub use q8::Q8Matrix;
pub use q12::{Q12Coarse, Q12Matrix};
