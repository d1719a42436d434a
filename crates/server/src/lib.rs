//! The `gpt-oss` server as a library: the HTTP API types and errors, shared
//! by the binary and the integration tests.

pub mod api;
pub mod engine;
pub mod error;
pub mod listen;
pub mod metrics;
pub mod progress;
