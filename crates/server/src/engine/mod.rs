//! Between HTTP and the model: the [`Backend`] trait takes a validated, tokenized request and returns a stream
//! of generated tokens. [`Engine`] implements it over the model with continuous batching; [`ScriptedBackend`]
//! replays fixed token streams, so that the HTTP layer's tool-call and reasoning paths are tested without a
//! model that makes tool calls.
//!
//! Cancellation is by dropping: when the receiver of a [`Generation`] is dropped (the client went away), the
//! engine notices before its next step and frees the sequence.

mod scheduler;
mod scripted;
mod sequence;

pub use scheduler::{Engine, EngineOptions, add_argmax_head};
pub use scripted::ScriptedBackend;

use gpt_oss_model::SamplingParams;
use gpt_oss_model::Tokenizer;
use tokio::sync::mpsc;

/// What the server serves.
#[derive(Clone, Debug)]
pub struct ModelInfo {
    /// The name clients use in `model`.
    pub id: String,
    /// Most tokens a sequence may hold, prompt and generated together.
    pub context_length: usize,
    /// Unix time the model was loaded.
    pub created: u64,
}

/// One generation, ready to run: the prompt as token ids and how to sample.
#[derive(Clone, Debug)]
pub struct GenerateRequest {
    pub prompt: Vec<u32>,
    pub sampling: SamplingParams,
    /// Most tokens to generate; the prompt plus these must fit the context.
    pub max_tokens: usize,
    /// Tokens that end the generation. The stop token is reported as the last token.
    pub stop_tokens: Vec<u32>,
    /// Added to the logits of these tokens before sampling (OpenAI's `logit_bias`).
    pub logit_bias: Vec<(u32, f32)>,
}

impl GenerateRequest {
    /// The checks every backend makes before accepting a request: a prompt, ids inside the model's vocabulary,
    /// and room in the context for the prompt and `max_tokens`.
    pub fn check(&self, info: &ModelInfo, vocab_size: usize) -> Result<(), SubmitError> {
        if self.prompt.is_empty() {
            return Err(SubmitError::EmptyPrompt);
        }
        if let Some(&id) = self.prompt.iter().find(|&&id| id as usize >= vocab_size) {
            return Err(SubmitError::BadToken { id, vocab_size });
        }
        if let Some(&(id, _)) = self.logit_bias.iter().find(|(id, _)| *id as usize >= vocab_size) {
            return Err(SubmitError::BadBiasToken { id, vocab_size });
        }
        let needed = self.prompt.len() + self.max_tokens;
        if needed > info.context_length {
            return Err(SubmitError::TooLong { needed, context_length: info.context_length });
        }
        Ok(())
    }
}

/// A generated token.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedToken {
    pub id: u32,
    /// Log-probability under the model's distribution (after penalties, before temperature); NaN where the
    /// request asked for none and the model found the token without computing every logit.
    pub logprob: f32,
    /// The most likely alternatives, when asked for.
    pub top_logprobs: Vec<(u32, f32)>,
}

/// Why a generation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinishReason {
    /// A stop token was generated (it is the last token reported).
    StopToken(u32),
    /// `max_tokens` reached, or the context is full.
    Length,
    /// The engine failed; the message says why. Not caused by the request.
    Error(String),
}

/// Counts for `usage`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    /// Prompt tokens whose KV came from a cache rather than a forward pass.
    pub cached_tokens: usize,
}

/// What a generation reports, in order: tokens, then exactly one `Finished`.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenEvent {
    Token(GeneratedToken),
    Finished { reason: FinishReason, usage: Usage },
}

/// A running generation. Dropping it cancels the generation.
#[derive(Debug)]
pub struct Generation {
    pub events: mpsc::UnboundedReceiver<TokenEvent>,
}

/// Why a request was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("the server is busy: {waiting} requests are already waiting; retry later")]
    QueueFull { waiting: usize },
    #[error("the prompt and max_tokens need {needed} tokens, over the context length of {context_length}")]
    TooLong { needed: usize, context_length: usize },
    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error("token id {id} is outside the model's vocabulary of {vocab_size}")]
    BadToken { id: u32, vocab_size: usize },
    #[error("Invalid 'logit_bias': token id {id} is not in the model's vocabulary (ids 0 to {}).", vocab_size.saturating_sub(1))]
    BadBiasToken { id: u32, vocab_size: usize },
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// Load figures for `/metrics` and `/health`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Load {
    pub running: usize,
    pub waiting: usize,
    /// Bytes held by the running sequences' KV caches.
    pub kv_bytes: usize,
}

/// The engine as the HTTP layer sees it.
pub trait Backend: Send + Sync + 'static {
    fn info(&self) -> &ModelInfo;
    fn tokenizer(&self) -> &Tokenizer;
    /// Queues a generation. Never blocks.
    fn submit(&self, request: GenerateRequest) -> Result<Generation, SubmitError>;
    fn load(&self) -> Load;
}
