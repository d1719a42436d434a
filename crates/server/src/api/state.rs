//! What every handler shares, and the steps common to the generating endpoints.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use gpt_oss_model::harmony::Renderer;

use super::responses::store::{ResponseStore, StoreLimits};
use super::types::common::Limits;
use crate::engine::{Backend, SubmitError};
use crate::error::ApiError;
use crate::metrics::Metrics;

/// The state behind the router.
#[derive(Clone)]
pub struct AppState {
    pub backend: Arc<dyn Backend>,
    pub renderer: Renderer,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    /// `Authorization: Bearer` token every endpoint but `/health` requires, when set.
    pub api_key: Option<Arc<str>>,
    /// Responses kept for `GET /v1/responses/{id}` and `previous_response_id`.
    pub responses: Arc<ResponseStore>,
}

impl AppState {
    pub fn new(backend: Arc<dyn Backend>, metrics: Arc<Metrics>, api_key: Option<String>) -> AppState {
        let renderer = Renderer::new(backend.tokenizer().clone());
        AppState {
            backend,
            renderer,
            metrics,
            limits: Limits::default(),
            api_key: api_key.map(Arc::from),
            responses: Arc::new(ResponseStore::new(StoreLimits::default())),
        }
    }

    /// The same state with a response store of other limits.
    pub fn with_store(mut self, limits: StoreLimits) -> AppState {
        self.responses = Arc::new(ResponseStore::new(limits));
        self
    }

    /// Checks that `model` names the served model. Its id, or the last part of a hub id (`gpt-oss-20b` for
    /// `openai/gpt-oss-20b`), is accepted.
    pub fn check_model(&self, model: &str) -> Result<(), ApiError> {
        if self.model_names().contains(&model) { Ok(()) } else { Err(ApiError::unknown_model(model)) }
    }

    /// The names [`AppState::check_model`] accepts: the served model's id, and its last part when that differs.
    pub fn model_names(&self) -> Vec<&str> {
        let id = self.backend.info().id.as_str();
        let short = id.rsplit('/').next().unwrap_or(id);
        if short == id { vec![id] } else { vec![id, short] }
    }

    /// The token budget of a generation: `requested`, or what the context leaves after the prompt.
    pub fn max_tokens(&self, prompt_tokens: usize, requested: Option<u32>, param: &str) -> Result<usize, ApiError> {
        let limit = self.backend.info().context_length;
        if prompt_tokens >= limit {
            return Err(ApiError::context_length_exceeded(limit, prompt_tokens, None, param));
        }
        match requested.map(|n| n as usize) {
            None => Ok(limit - prompt_tokens),
            Some(n) if prompt_tokens + n > limit => {
                Err(ApiError::context_length_exceeded(limit, prompt_tokens, Some(n), param))
            }
            Some(n) => Ok(n),
        }
    }
}

/// A refused submission as the client sees it.
pub fn submit_error(error: SubmitError, param: &str) -> ApiError {
    match error {
        SubmitError::QueueFull { .. } | SubmitError::ShuttingDown => ApiError::overloaded(error.to_string()),
        SubmitError::TooLong { needed, context_length } => {
            ApiError::context_length_exceeded(context_length, needed, None, param)
        }
        SubmitError::EmptyPrompt | SubmitError::BadToken { .. } => {
            ApiError::invalid_request(error.to_string(), Some(param))
        }
        SubmitError::BadBiasToken { .. } => {
            ApiError::invalid_request(error.to_string(), Some("logit_bias")).with_code("invalid_value")
        }
    }
}

/// Runs blocking work (tokenizing, rendering) off the async runtime.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| ApiError::internal(format!("a worker task failed: {e}")))
}

/// Seconds since the Unix epoch, for `created`.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A random id such as `chatcmpl-3f9a...`: 24 hex digits.
pub fn new_id(prefix: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    let high = hasher.finish();
    hasher.write_u64(high);
    format!("{prefix}-{high:016x}{:08x}", hasher.finish() as u32)
}
