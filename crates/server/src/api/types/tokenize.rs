//! vLLM's `POST /tokenize` and `POST /detokenize`.
//!
//! `/tokenize` takes either `{"prompt": "..."}` (plain text) or
//! `{"messages": [...]}` (a chat rendered with harmony, as the chat endpoint
//! would render it). The two shapes are one flat request type whose
//! validation yields [`ValidTokenize::Prompt`] or [`ValidTokenize::Chat`],
//! so that field errors name the field (an untagged enum would only say
//! that no variant matched).

use gpt_oss_model::harmony::ReasoningEffort;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::chat::{ChatMessage, FunctionTool, Tool, ValidMessage, resolve_effort, validate_messages, validate_tools};
use super::common::{Limits, reject_unknown};
use crate::error::ApiError;

/// The body of `POST /tokenize`: `prompt`, or `messages` with the chat options (the published schema
/// has one branch for each: `doc::tokenize_request`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenizeRequest {
    /// Optional; when given, the handler checks it names a served model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Text to tokenize as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// A conversation, rendered as for chat completions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<ChatMessage>>,
    /// Accepted for vLLM compatibility; the gpt-oss tokenizer adds no special tokens to text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_special_tokens: Option<bool>,
    /// With `messages`: end with `<|start|>assistant` (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_generation_prompt: Option<bool>,
    /// With `messages`: `low`, `medium` (default) or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// With `messages`: only `reasoning_effort` inside is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_template_kwargs: Option<Map<String, Value>>,
    /// With `messages`: tools, as in chat completions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// A validated `/tokenize` request.
#[derive(Debug, Clone, PartialEq)]
pub enum ValidTokenize {
    Prompt {
        model: Option<String>,
        prompt: String,
        /// Default true (vLLM's default); no effect on gpt-oss.
        add_special_tokens: bool,
    },
    Chat {
        model: Option<String>,
        messages: Vec<ValidMessage>,
        /// Default true.
        add_generation_prompt: bool,
        effort: ReasoningEffort,
        tools: Vec<FunctionTool>,
    },
}

impl TokenizeRequest {
    pub fn validate(&self, limits: &Limits) -> Result<ValidTokenize, ApiError> {
        reject_unknown(&self.extra, "")?;
        let model = self.model.clone();
        match (&self.prompt, &self.messages) {
            (Some(_), Some(_)) => {
                Err(ApiError::invalid_request("Send either 'prompt' or 'messages', not both.", Some("messages"))
                    .with_code("invalid_value"))
            }
            (None, None) => Err(ApiError::invalid_request(
                "Missing required parameter: 'prompt' (or 'messages' to tokenize a conversation).",
                Some("prompt"),
            )
            .with_code("missing_required_parameter")),
            (Some(prompt), None) => {
                let chat_only = [
                    ("add_generation_prompt", self.add_generation_prompt.is_some()),
                    ("reasoning_effort", self.reasoning_effort.is_some()),
                    ("chat_template_kwargs", self.chat_template_kwargs.is_some()),
                    ("tools", self.tools.is_some()),
                ];
                if let Some((param, _)) = chat_only.iter().find(|(_, given)| *given) {
                    return Err(ApiError::invalid_request(
                        format!("Invalid parameter: '{param}' applies to 'messages' only, not to 'prompt'."),
                        Some(param),
                    )
                    .with_code("invalid_value"));
                }
                Ok(ValidTokenize::Prompt {
                    model,
                    prompt: prompt.clone(),
                    add_special_tokens: self.add_special_tokens.unwrap_or(true),
                })
            }
            (None, Some(messages)) => Ok(ValidTokenize::Chat {
                model,
                messages: validate_messages(messages)?,
                add_generation_prompt: self.add_generation_prompt.unwrap_or(true),
                effort: resolve_effort(self.reasoning_effort.as_deref(), None, self.chat_template_kwargs.as_ref())?,
                tools: validate_tools(self.tools.as_deref(), limits)?,
            }),
        }
    }
}

/// The response of `POST /tokenize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenizeResponse {
    /// `tokens.len()`.
    pub count: usize,
    /// The model's context length.
    pub max_model_len: usize,
    pub tokens: Vec<u32>,
}

/// The body of `POST /detokenize`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DetokenizeRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Token ids (non-negative); the handler checks them against the vocabulary.
    pub tokens: Vec<u32>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// A validated `/detokenize` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDetokenize {
    pub model: Option<String>,
    pub tokens: Vec<u32>,
}

impl DetokenizeRequest {
    pub fn validate(&self) -> Result<ValidDetokenize, ApiError> {
        reject_unknown(&self.extra, "")?;
        Ok(ValidDetokenize { model: self.model.clone(), tokens: self.tokens.clone() })
    }
}

/// The response of `POST /detokenize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DetokenizeResponse {
    pub prompt: String,
}
