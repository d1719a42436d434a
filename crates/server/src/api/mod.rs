//! The OpenAI-compatible HTTP API.

pub mod chat;
pub mod completions;
pub mod generate;
pub mod info;
pub mod openapi;
pub mod output;
pub mod prompt;
pub mod responses;
pub mod routes;
pub mod sse;
pub mod state;
pub mod stop;
pub mod types;
