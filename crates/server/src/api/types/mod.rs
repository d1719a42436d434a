//! The OpenAI request and response types, with validation of requests into
//! plain structs the handlers use ([`ValidChat`], [`ValidCompletion`],
//! [`ValidTokenize`], [`ValidDetokenize`]).
//!
//! Every request type keeps the keys it does not know in `extra` and its
//! `validate` rejects them with OpenAI's `Unrecognized request argument
//! supplied: foo`; JSON of the wrong shape is turned into a 400 by
//! [`crate::error::from_json_rejection`].

pub mod chat;
pub mod common;
pub mod completions;
pub(crate) mod doc;
pub mod models;
pub mod responses;
pub mod schema;
pub mod tokenize;

pub use chat::{
    AssistantMessage, ChatChoice, ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatMessage, ChatRole,
    ChoiceLogprobs, ChunkChoice, Delta, FunctionCall, FunctionCallDelta, FunctionTool, OutputFormat, TokenLogprob,
    ToolCall, ToolCallDelta, ToolUse, TopLogprob, ValidChat, ValidMessage, ValidToolCall,
};
pub use common::{FinishReason, Limits, Usage, finite_logprob, parse_effort, reject_unknown};
pub use completions::{
    Completion, CompletionChoice, CompletionLogprobs, CompletionRequest, PromptInput, TopLogprobs, ValidCompletion,
};
pub use models::{Model, ModelList};
pub use tokenize::{
    DetokenizeRequest, DetokenizeResponse, TokenizeRequest, TokenizeResponse, ValidDetokenize, ValidTokenize,
};
