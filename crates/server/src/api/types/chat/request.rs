//! The request body of `POST /v1/chat/completions`, as sent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::content::deserialize_arguments;
use crate::api::types::common::{Known, ReasoningOptions, Stop, StreamOptions, deserialize_seed};

/// The body of `POST /v1/chat/completions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatCompletionRequest {
    /// The model to use (see `GET /v1/models`).
    pub model: String,
    /// The conversation so far; at least one message.
    pub messages: Vec<ChatMessage>,
    /// Functions the model may call (at most 128).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 128)]
    pub tools: Option<Vec<Tool>>,
    /// `none`, `auto` (default with tools), `required`, or `{"type": "function", "function": {"name"}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Accepted; gpt-oss makes one tool call per turn (harmony stops at `<|call|>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// `text` (default), `json_object`, or `json_schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// `low`, `medium` (default) or `high`; `minimal` is taken as `low`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// `{"effort": ...}`, used when `reasoning_effort` is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningOptions>,
    /// Deprecated by OpenAI in favour of `max_completion_tokens`, which wins when both are sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub max_tokens: Option<i64>,
    /// Most tokens to generate, reasoning included; at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub max_completion_tokens: Option<i64>,
    /// Up to 4 sequences that end the answer (matched in the final text only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Makes sampling deterministic (any integer that fits i64 or u64).
    #[serde(default, deserialize_with = "deserialize_seed", skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// In [0, 2]; 0 is greedy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f64>,
    /// In (0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1e-30, maximum = 1)]
    pub top_p: Option<f64>,
    /// In [-2, 2].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -2, maximum = 2)]
    pub presence_penalty: Option<f64>,
    /// In [-2, 2].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -2, maximum = 2)]
    pub frequency_penalty: Option<f64>,
    /// Return the log-probability of each output token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// In [0, 20]; needs `logprobs: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 20)]
    pub top_logprobs: Option<i64>,
    /// Choices to generate, 1 to the server's limit (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 8)]
    pub n: Option<i64>,
    /// Stream chunks as server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Only with `stream: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Only `["text"]` is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modalities: Option<Vec<String>>,
    /// Token id (as a string) to a bias in [-100, 100] added to its logit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<BTreeMap<String, f64>>,
    /// vLLM extension: keep only the k most likely tokens; -1 or 0 disables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -1, maximum = 2147483647)]
    pub top_k: Option<i64>,
    /// vLLM extension: drop tokens below `min_p` times the top probability; in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    pub min_p: Option<f64>,
    /// vLLM extension, not implemented: only 1 (no effect) is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1)]
    pub repetition_penalty: Option<f64>,
    /// vLLM extension: `reasoning_effort` inside is honoured; other keys are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_template_kwargs: Option<Map<String, Value>>,
    /// Accepted, no effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Accepted, no effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Accepted, no effect (chat completions are not stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// Accepted, no effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Accepted, no effect (the prefix cache needs no key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    /// Accepted, no effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    /// Every other key: rejected by validation.
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// OpenAI parameters this server knows but does not support; `null` is accepted.
pub(super) const CHAT_KNOWN: &[(&str, Known)] = &[
    ("functions", Known::Unsupported("'functions' is deprecated and not supported: send 'tools' instead.")),
    (
        "function_call",
        Known::Unsupported("'function_call' is deprecated and not supported: send 'tool_choice' instead."),
    ),
    ("audio", Known::Unsupported("gpt-oss accepts text only: audio output is not supported.")),
    ("prediction", Known::Unsupported("Predicted outputs ('prediction') are not supported.")),
    ("web_search_options", Known::Unsupported("Web search ('web_search_options') is not supported.")),
];

/// The author of a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    System,
    Developer,
    #[default]
    User,
    Assistant,
    Tool,
    /// OpenAI's deprecated role; rejected by validation.
    Function,
}

/// One message of `messages`, as sent. Which fields apply depends on `role`;
/// [`ChatCompletionRequest::validate`] turns it into a [`ValidMessage`](super::ValidMessage).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatMessage {
    pub role: ChatRole,
    /// A string or an array of `text` parts; `null` for an assistant message with `tool_calls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Assistant messages: the tool calls the model made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallParam>>,
    /// Tool messages: the id of the call this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Assistant messages: the chain of thought (vLLM's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Assistant messages: the chain of thought (OpenAI's gpt-oss guidance, Ollama, LM Studio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// Assistant messages: the chain of thought (Ollama's native name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    /// Assistant messages: accepted; not shown to the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// Keys OpenAI's SDKs put on messages (echoing a response message back).
pub(super) const MESSAGE_KNOWN: &[(&str, Known)] = &[
    ("annotations", Known::Ignored),
    ("audio", Known::Unsupported("gpt-oss accepts text only: audio in messages is not supported.")),
    (
        "function_call",
        Known::Unsupported("'function_call' in messages is deprecated and not supported: send 'tool_calls' instead."),
    ),
];

impl ChatMessage {
    /// A message with string content.
    pub fn text(role: ChatRole, content: impl Into<String>) -> ChatMessage {
        ChatMessage { role, content: Some(MessageContent::Text(content.into())), ..ChatMessage::default() }
    }
}

/// Message content: a string or an array of content parts.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum MessageContent {
    Text(String),
    Parts(Vec<ContentPart>),
}

/// The type of a content part. Only `text` (and `refusal` in assistant
/// messages) is accepted: gpt-oss reads text only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentPartType {
    #[default]
    Text,
    Refusal,
    ImageUrl,
    InputAudio,
    File,
}

/// One content part: `{"type": "text", "text": "..."}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContentPart {
    #[serde(rename = "type")]
    pub kind: ContentPartType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// `image_url`, `input_audio`, `file` payloads and unknown keys.
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

pub(super) const PART_KNOWN: &[(&str, Known)] = &[("cache_control", Known::Ignored)];

/// The type of a tool or tool call: only `function`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ToolType {
    #[default]
    Function,
}

/// A tool call in an assistant message of the history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolCallParam {
    pub id: String,
    /// `function` (may be omitted).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ToolType>,
    pub function: FunctionCallParam,
    /// `index` (left by stream accumulators) is accepted; other keys are rejected.
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// The function a history tool call called.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FunctionCallParam {
    pub name: String,
    /// The arguments as JSON text; a JSON object is also accepted (and re-encoded).
    #[serde(deserialize_with = "deserialize_arguments")]
    pub arguments: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// A tool the model may call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tool {
    #[serde(rename = "type")]
    pub kind: ToolType,
    pub function: FunctionDefinition,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// A function tool's definition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FunctionDefinition {
    /// `^[a-zA-Z0-9_-]{1,64}$`, unique among the tools.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `tool_choice`: a mode string or a named function.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ToolChoice {
    Mode(ToolChoiceMode),
    Named(NamedToolChoice),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ToolChoiceMode {
    None,
    Auto,
    Required,
}

/// `{"type": "function", "function": {"name": "..."}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NamedToolChoice {
    #[serde(rename = "type")]
    pub kind: ToolType,
    pub function: NamedFunction,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NamedFunction {
    pub name: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `response_format.type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormatType {
    #[default]
    Text,
    JsonObject,
    JsonSchema,
}

/// `response_format`: `{"type": "text" | "json_object"}` or
/// `{"type": "json_schema", "json_schema": {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResponseFormat {
    #[serde(rename = "type")]
    pub kind: ResponseFormatType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<JsonSchemaFormat>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `response_format.json_schema`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JsonSchemaFormat {
    /// `^[a-zA-Z0-9_-]{1,64}$`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}
