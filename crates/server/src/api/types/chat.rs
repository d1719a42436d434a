//! `POST /v1/chat/completions`: the request as OpenAI defines it (plus the
//! extensions common clients send), its validation into [`ValidChat`], and
//! the response and stream chunk types.
//!
//! Accepted beyond OpenAI's fields (see [`ChatCompletionRequest`]):
//! `top_k`, `min_p` (vLLM sampling; applied), `repetition_penalty` (only 1),
//! `chat_template_kwargs` (only its `reasoning_effort` is used; other keys
//! are accepted and ignored), `reasoning: {"effort"}`, and on assistant
//! messages `reasoning_content` / `reasoning` / `thinking` as the chain of
//! thought. `user`, `metadata`, `store`, `service_tier`, `prompt_cache_key`
//! and `safety_identifier` are accepted and have no effect.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use gpt_oss_model::harmony::{ReasoningEffort, ResponseFormat as HarmonyResponseFormat, ToolDescription};
use gpt_oss_model::sampling::SamplingParams;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::common::{
    FinishReason, Known, Limits, ReasoningOptions, SamplingFields, Stop, StreamOptions, Usage, check_n,
    check_token_limit, deserialize_seed, object_marker, parse_effort, reject_unknown, reject_unknown_with,
    validate_logit_bias, validate_stop, validate_stream_options,
};
use crate::error::ApiError;

// ---------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------

/// The body of `POST /v1/chat/completions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatCompletionRequest {
    /// The model to use (see `GET /v1/models`).
    pub model: String,
    /// The conversation so far; at least one message.
    pub messages: Vec<ChatMessage>,
    /// Functions the model may call (at most 128).
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    pub max_tokens: Option<i64>,
    /// Most tokens to generate, reasoning included; at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<i64>,
    /// Up to 4 sequences that end the answer (matched in the final text only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Makes sampling deterministic (any integer that fits i64 or u64).
    #[serde(default, deserialize_with = "deserialize_seed", skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// In [0, 2]; 0 is greedy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// In (0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// In [-2, 2].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// In [-2, 2].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Return the log-probability of each output token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// In [0, 20]; needs `logprobs: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<i64>,
    /// Choices to generate, 1 to the server's limit (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    pub top_k: Option<i64>,
    /// vLLM extension: drop tokens below `min_p` times the top probability; in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_p: Option<f64>,
    /// vLLM extension, not implemented: only 1 (no effect) is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
const CHAT_KNOWN: &[(&str, Known)] = &[
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
/// [`ChatCompletionRequest::validate`] turns it into a [`ValidMessage`].
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
const MESSAGE_KNOWN: &[(&str, Known)] = &[
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

impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MessageContent, D::Error> {
        struct ContentVisitor;
        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = MessageContent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of content parts")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MessageContent, E> {
                Ok(MessageContent::Text(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MessageContent, A::Error> {
                let mut parts = Vec::new();
                while let Some(part) = seq.next_element::<ContentPart>()? {
                    parts.push(part);
                }
                Ok(MessageContent::Parts(parts))
            }
        }
        deserializer.deserialize_any(ContentVisitor)
    }
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

const PART_KNOWN: &[(&str, Known)] = &[("cache_control", Known::Ignored)];

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

fn deserialize_arguments<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(s) => Ok(s),
        Value::Null => Ok(String::new()),
        v @ Value::Object(_) => Ok(v.to_string()),
        other => Err(de::Error::invalid_type(unexpected(&other), &"a string (the arguments as JSON text)")),
    }
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => de::Unexpected::Signed(i),
            (_, Some(u), _) => de::Unexpected::Unsigned(u),
            (_, _, f) => de::Unexpected::Float(f.unwrap_or(0.0)),
        },
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
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

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ToolChoice, D::Error> {
        struct ChoiceVisitor;
        impl<'de> Visitor<'de> for ChoiceVisitor {
            type Value = ToolChoice;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("'none', 'auto', 'required' or an object naming a function")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ToolChoice, E> {
                match v {
                    "none" => Ok(ToolChoice::Mode(ToolChoiceMode::None)),
                    "auto" => Ok(ToolChoice::Mode(ToolChoiceMode::Auto)),
                    "required" => Ok(ToolChoice::Mode(ToolChoiceMode::Required)),
                    other => Err(E::unknown_variant(other, &["none", "auto", "required"])),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ToolChoice, A::Error> {
                NamedToolChoice::deserialize(de::value::MapAccessDeserializer::new(map)).map(ToolChoice::Named)
            }
        }
        deserializer.deserialize_any(ChoiceVisitor)
    }
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

// ---------------------------------------------------------------------------
// Validated request
// ---------------------------------------------------------------------------

/// A chat request that passed validation: what the handler works from.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidChat {
    /// As sent; the handler checks it names a served model.
    pub model: String,
    /// At least one.
    pub messages: Vec<ValidMessage>,
    /// Empty when none were sent (an empty `tools` array counts as none).
    pub tools: Vec<FunctionTool>,
    /// `Auto` by default when there are tools, `None` when there are none.
    pub tool_choice: ToolUse,
    /// Default true.
    pub parallel_tool_calls: bool,
    pub response_format: OutputFormat,
    /// `reasoning_effort`, else `reasoning.effort`, else
    /// `chat_template_kwargs.reasoning_effort`, else medium.
    pub effort: ReasoningEffort,
    /// Range-checked and passed through [`SamplingParams::validate`].
    pub sampling: SamplingParams,
    /// `max_completion_tokens`, else `max_tokens`; `None`: up to the context length.
    pub max_tokens: Option<u32>,
    /// Stop strings (at most `Limits::max_stop_sequences`, none empty).
    pub stop: Vec<String>,
    /// Choices to generate, in `1..=Limits::max_n`.
    pub n: u32,
    pub stream: bool,
    /// `stream_options.include_usage` (false when not streaming).
    pub include_usage: bool,
    /// (token id, bias in [-100, 100]) sorted by id, ids unique; not yet range-checked against the vocabulary.
    pub logit_bias: Vec<(u32, f32)>,
    pub user: Option<String>,
}

/// A validated message, one variant per role. Text parts are joined with `\n`.
#[derive(Debug, Clone, PartialEq)]
pub enum ValidMessage {
    System {
        content: String,
        name: Option<String>,
    },
    Developer {
        content: String,
        name: Option<String>,
    },
    User {
        content: String,
        name: Option<String>,
    },
    Assistant {
        /// `None` when absent, `null` or empty.
        content: Option<String>,
        /// The chain of thought: the first non-empty of `reasoning_content`,
        /// `reasoning`, `thinking` (`None` when all are absent or empty).
        reasoning: Option<String>,
        tool_calls: Vec<ValidToolCall>,
        refusal: Option<String>,
        name: Option<String>,
    },
    Tool {
        tool_call_id: String,
        /// The function's name: from the earlier assistant tool call with this
        /// id, else the message's `name`.
        name: String,
        content: String,
    },
}

/// A tool call of an assistant message in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidToolCall {
    pub id: String,
    pub name: String,
    /// JSON text, passed through as sent.
    pub arguments: String,
}

/// A validated function tool.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionTool {
    pub name: String,
    pub description: Option<String>,
    /// A JSON object when present.
    pub parameters: Option<Value>,
    pub strict: bool,
}

impl FunctionTool {
    /// The tool as harmony renders it in the developer message.
    pub fn to_harmony(&self) -> ToolDescription {
        ToolDescription {
            name: self.name.clone(),
            description: self.description.clone().unwrap_or_default(),
            parameters: self.parameters.clone(),
        }
    }
}

/// Whether and how the model must call tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolUse {
    /// Do not offer tools.
    None,
    /// The model decides.
    Auto,
    /// The model must call one of the tools.
    Required,
    /// The model must call this function (present in `tools`).
    Named(String),
}

/// The validated `response_format`.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputFormat {
    Text,
    JsonObject,
    JsonSchema {
        name: String,
        description: Option<String>,
        /// A JSON object when present.
        schema: Option<Value>,
        strict: bool,
    },
}

impl OutputFormat {
    /// The `# Response Formats` entry harmony renders for a JSON schema
    /// (`None` for text and `json_object`, which have no schema).
    pub fn to_harmony(&self) -> Option<HarmonyResponseFormat> {
        match self {
            OutputFormat::JsonSchema { name, description, schema, .. } => Some(HarmonyResponseFormat {
                name: name.clone(),
                description: description.clone(),
                schema: schema.clone().unwrap_or_else(|| Value::Object(Map::new())),
            }),
            _ => None,
        }
    }
}

impl ChatCompletionRequest {
    /// Checks the request against OpenAI's rules and `limits`; every error is a
    /// 400 naming the parameter.
    pub fn validate(&self, limits: &Limits) -> Result<ValidChat, ApiError> {
        reject_unknown_with(&self.extra, "", CHAT_KNOWN)?;
        let messages = validate_messages(&self.messages)?;
        let tools = validate_tools(self.tools.as_deref(), limits)?;
        let tool_choice = validate_tool_choice(self.tool_choice.as_ref(), &tools)?;
        let response_format = validate_response_format(self.response_format.as_ref())?;
        let effort = resolve_effort(
            self.reasoning_effort.as_deref(),
            self.reasoning.as_ref(),
            self.chat_template_kwargs.as_ref(),
        )?;
        let max_completion_tokens = check_token_limit(self.max_completion_tokens, "max_completion_tokens")?;
        let max_tokens = check_token_limit(self.max_tokens, "max_tokens")?;
        let stop = validate_stop(self.stop.as_ref(), limits)?;
        let sampling = SamplingFields {
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: self.top_k,
            min_p: self.min_p,
            presence_penalty: self.presence_penalty,
            frequency_penalty: self.frequency_penalty,
            repetition_penalty: self.repetition_penalty,
            seed: self.seed,
            logprobs: self.logprobs.unwrap_or(false),
            top_logprobs: self.top_logprobs,
        }
        .build()?;
        let n = check_n(self.n, limits)?;
        let stream = self.stream.unwrap_or(false);
        let include_usage = validate_stream_options(stream, self.stream_options.as_ref())?;
        if let Some(modalities) = &self.modalities
            && let Some(other) = modalities.iter().find(|m| m.as_str() != "text")
        {
            return Err(ApiError::invalid_request(
                format!("gpt-oss accepts text only: modality '{other}' is not supported."),
                Some("modalities"),
            )
            .with_code("unsupported_value"));
        }
        let logit_bias = validate_logit_bias(self.logit_bias.as_ref(), limits)?;
        Ok(ValidChat {
            model: self.model.clone(),
            messages,
            tools,
            tool_choice,
            parallel_tool_calls: self.parallel_tool_calls.unwrap_or(true),
            response_format,
            effort,
            sampling,
            max_tokens: max_completion_tokens.or(max_tokens),
            stop,
            n,
            stream,
            include_usage,
            logit_bias,
            user: self.user.clone(),
        })
    }
}

/// The effort from, in order: `reasoning_effort`, `reasoning.effort`,
/// `chat_template_kwargs.reasoning_effort`; medium when none is given.
/// Each one given must be a valid effort, even if an earlier one wins.
pub(crate) fn resolve_effort(
    reasoning_effort: Option<&str>,
    reasoning: Option<&ReasoningOptions>,
    chat_template_kwargs: Option<&Map<String, Value>>,
) -> Result<ReasoningEffort, ApiError> {
    let top = reasoning_effort.map(|e| parse_effort(e, "reasoning_effort")).transpose()?;
    let nested = match reasoning {
        Some(options) => {
            reject_unknown(&options.extra, "reasoning")?;
            options.effort.as_deref().map(|e| parse_effort(e, "reasoning.effort")).transpose()?
        }
        None => None,
    };
    let kwargs = match chat_template_kwargs.and_then(|kw| kw.get("reasoning_effort")) {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) => Some(parse_effort(e, "chat_template_kwargs.reasoning_effort")?),
        Some(other) => {
            return Err(ApiError::invalid_request(
                format!(
                    "Invalid type for 'chat_template_kwargs.reasoning_effort': expected a string, but got {} instead.",
                    json_type(other)
                ),
                Some("chat_template_kwargs.reasoning_effort"),
            )
            .with_code("invalid_type"));
        }
    };
    Ok(top.or(nested).or(kwargs).unwrap_or_default())
}

/// `a string`, `an object`, ... for messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn missing(param: &str) -> ApiError {
    ApiError::invalid_request(format!("Missing required parameter: '{param}'."), Some(param))
        .with_code("missing_required_parameter")
}

/// Validates `messages` (non-empty) into typed messages. Tool messages get
/// their function's name from the assistant tool call they answer.
pub(crate) fn validate_messages(messages: &[ChatMessage]) -> Result<Vec<ValidMessage>, ApiError> {
    if messages.is_empty() {
        return Err(ApiError::invalid_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            Some("messages"),
        )
        .with_code("empty_array"));
    }
    let mut call_names: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(messages.len());
    for (i, message) in messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        let valid = validate_message(message, &path, &call_names)?;
        if let ValidMessage::Assistant { tool_calls, .. } = &valid {
            for call in tool_calls {
                call_names.insert(call.id.clone(), call.name.clone());
            }
        }
        out.push(valid);
    }
    Ok(out)
}

fn validate_message(
    message: &ChatMessage,
    path: &str,
    call_names: &HashMap<String, String>,
) -> Result<ValidMessage, ApiError> {
    reject_unknown_with(&message.extra, path, MESSAGE_KNOWN)?;
    let role = message.role;
    if role != ChatRole::Assistant && message.tool_calls.as_ref().is_some_and(|calls| !calls.is_empty()) {
        let param = format!("{path}.tool_calls");
        return Err(ApiError::invalid_request(
            format!("Invalid parameter: '{param}': 'tool_calls' is only allowed in messages with role 'assistant'."),
            Some(&param),
        )
        .with_code("invalid_value"));
    }
    let name = message.name.clone();
    let required_text = || -> Result<String, ApiError> {
        let content_path = format!("{path}.content");
        match &message.content {
            None => Err(missing(&content_path)),
            Some(content) => content_text(content, &content_path, false),
        }
    };
    Ok(match role {
        ChatRole::System => ValidMessage::System { content: required_text()?, name },
        ChatRole::Developer => ValidMessage::Developer { content: required_text()?, name },
        ChatRole::User => ValidMessage::User { content: required_text()?, name },
        ChatRole::Tool => {
            let Some(tool_call_id) = message.tool_call_id.clone() else {
                return Err(missing(&format!("{path}.tool_call_id")));
            };
            let content = required_text()?;
            let Some(name) = call_names.get(&tool_call_id).cloned().or(name) else {
                let param = format!("{path}.tool_call_id");
                return Err(ApiError::invalid_request(
                    format!(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceding message with \
                         'tool_calls'. No earlier tool call has the id '{tool_call_id}' (and the message has no \
                         'name')."
                    ),
                    Some(&param),
                )
                .with_code("invalid_value"));
            };
            ValidMessage::Tool { tool_call_id, name, content }
        }
        ChatRole::Assistant => {
            let content_path = format!("{path}.content");
            let content = match &message.content {
                None => None,
                Some(content) => Some(content_text(content, &content_path, true)?),
            }
            .filter(|c| !c.is_empty());
            let reasoning = [&message.reasoning_content, &message.reasoning, &message.thinking]
                .into_iter()
                .flatten()
                .find(|r| !r.is_empty())
                .cloned();
            let mut tool_calls = Vec::new();
            for (j, call) in message.tool_calls.iter().flatten().enumerate() {
                let call_path = format!("{path}.tool_calls[{j}]");
                reject_unknown_with(&call.extra, &call_path, &[("index", Known::Ignored)])?;
                reject_unknown(&call.function.extra, &format!("{call_path}.function"))?;
                tool_calls.push(ValidToolCall {
                    id: call.id.clone(),
                    name: call.function.name.clone(),
                    arguments: call.function.arguments.clone(),
                });
            }
            ValidMessage::Assistant { content, reasoning, tool_calls, refusal: message.refusal.clone(), name }
        }
        ChatRole::Function => {
            let param = format!("{path}.role");
            return Err(ApiError::invalid_request(
                "The 'function' role is deprecated and not supported: send the function's result as a message with \
                 role 'tool' and its 'tool_call_id'.",
                Some(&param),
            )
            .with_code("unsupported_value"));
        }
    })
}

/// The text of a content value: text parts joined with `\n`. Refusal parts
/// are accepted in assistant messages (and left out of the text).
fn content_text(content: &MessageContent, path: &str, assistant: bool) -> Result<String, ApiError> {
    let parts = match content {
        MessageContent::Text(text) => return Ok(text.clone()),
        MessageContent::Parts(parts) => parts,
    };
    let mut texts = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let part_path = format!("{path}[{j}]");
        match part.kind {
            ContentPartType::Text => {
                reject_unknown_with(&part.extra, &part_path, PART_KNOWN)?;
                match &part.text {
                    Some(text) => texts.push(text.as_str()),
                    None => return Err(missing(&format!("{part_path}.text"))),
                }
            }
            ContentPartType::Refusal if assistant => reject_unknown_with(&part.extra, &part_path, PART_KNOWN)?,
            ContentPartType::Refusal => {
                let param = format!("{part_path}.type");
                return Err(ApiError::invalid_request(
                    "Invalid value: 'refusal'. Content parts of type 'refusal' are only allowed in assistant messages.",
                    Some(&param),
                )
                .with_code("invalid_value"));
            }
            other => {
                let param = format!("{part_path}.type");
                let kind = match other {
                    ContentPartType::ImageUrl => "image_url",
                    ContentPartType::InputAudio => "input_audio",
                    _ => "file",
                };
                return Err(ApiError::invalid_request(
                    format!("gpt-oss accepts text only: '{kind}' content parts are not supported."),
                    Some(&param),
                )
                .with_code("unsupported_value"));
            }
        }
    }
    Ok(texts.join("\n"))
}

/// Whether `name` matches `^[a-zA-Z0-9_-]{1,64}$`; the error names `param`.
pub(crate) fn check_function_name(name: &str, param: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::invalid_request(
            format!(
                "Invalid '{param}': empty string. Expected a string with minimum length 1, but got an empty string \
                 instead."
            ),
            Some(param),
        )
        .with_code("empty_string"));
    }
    let len = name.chars().count();
    if len > 64 {
        return Err(ApiError::invalid_request(
            format!(
                "Invalid '{param}': string too long. Expected a string with maximum length 64, but got a string with \
                 length {len} instead."
            ),
            Some(param),
        )
        .with_code("string_above_max_length"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(ApiError::invalid_request(
            format!(
                "Invalid '{param}': string does not match pattern. Expected a string that matches the pattern \
                 '^[a-zA-Z0-9_-]+$'."
            ),
            Some(param),
        )
        .with_code("invalid_value"));
    }
    Ok(())
}

/// Validates `tools`: names valid and unique, `parameters` a JSON object.
pub(crate) fn validate_tools(tools: Option<&[Tool]>, limits: &Limits) -> Result<Vec<FunctionTool>, ApiError> {
    let tools = tools.unwrap_or_default();
    if tools.len() > limits.max_tools {
        return Err(ApiError::invalid_request(
            format!(
                "Invalid 'tools': array too long. Expected an array with maximum length {}, but got an array with \
                 length {} instead.",
                limits.max_tools,
                tools.len()
            ),
            Some("tools"),
        )
        .with_code("array_above_max_length"));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let path = format!("tools[{i}]");
        reject_unknown(&tool.extra, &path)?;
        let function = &tool.function;
        let fpath = format!("{path}.function");
        reject_unknown(&function.extra, &fpath)?;
        check_function_name(&function.name, &format!("{fpath}.name"))?;
        if !seen.insert(function.name.as_str()) {
            let param = format!("{fpath}.name");
            return Err(ApiError::invalid_request(
                format!("Invalid 'tools': duplicate function name '{}'. Function names must be unique.", function.name),
                Some(&param),
            )
            .with_code("invalid_value"));
        }
        let parameters = match &function.parameters {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(other) => {
                let param = format!("{fpath}.parameters");
                return Err(ApiError::invalid_request(
                    format!(
                        "Invalid type for '{param}': expected an object (a JSON Schema), but got {} instead.",
                        json_type(other)
                    ),
                    Some(&param),
                )
                .with_code("invalid_type"));
            }
        };
        out.push(FunctionTool {
            name: function.name.clone(),
            description: function.description.clone(),
            parameters,
            strict: function.strict.unwrap_or(false),
        });
    }
    Ok(out)
}

fn validate_tool_choice(choice: Option<&ToolChoice>, tools: &[FunctionTool]) -> Result<ToolUse, ApiError> {
    let no_tools = || {
        ApiError::invalid_request(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            Some("tool_choice"),
        )
        .with_code("invalid_value")
    };
    match choice {
        None if tools.is_empty() => Ok(ToolUse::None),
        None => Ok(ToolUse::Auto),
        Some(ToolChoice::Mode(ToolChoiceMode::None)) => Ok(ToolUse::None),
        Some(ToolChoice::Mode(ToolChoiceMode::Auto)) if tools.is_empty() => Ok(ToolUse::None),
        Some(ToolChoice::Mode(ToolChoiceMode::Auto)) => Ok(ToolUse::Auto),
        Some(ToolChoice::Mode(ToolChoiceMode::Required)) if tools.is_empty() => Err(no_tools()),
        Some(ToolChoice::Mode(ToolChoiceMode::Required)) => Ok(ToolUse::Required),
        Some(ToolChoice::Named(named)) => {
            reject_unknown(&named.extra, "tool_choice")?;
            reject_unknown(&named.function.extra, "tool_choice.function")?;
            if tools.is_empty() {
                return Err(no_tools());
            }
            let name = &named.function.name;
            if !tools.iter().any(|t| &t.name == name) {
                return Err(ApiError::invalid_request(
                    format!("Invalid value for 'tool_choice': function '{name}' is not among the 'tools'."),
                    Some("tool_choice.function.name"),
                )
                .with_code("invalid_value"));
            }
            Ok(ToolUse::Named(name.clone()))
        }
    }
}

fn validate_response_format(format: Option<&ResponseFormat>) -> Result<OutputFormat, ApiError> {
    let Some(format) = format else { return Ok(OutputFormat::Text) };
    reject_unknown(&format.extra, "response_format")?;
    match format.kind {
        ResponseFormatType::Text => Ok(OutputFormat::Text),
        ResponseFormatType::JsonObject => Ok(OutputFormat::JsonObject),
        ResponseFormatType::JsonSchema => {
            let Some(spec) = &format.json_schema else {
                return Err(missing("response_format.json_schema"));
            };
            reject_unknown(&spec.extra, "response_format.json_schema")?;
            check_function_name(&spec.name, "response_format.json_schema.name")?;
            let schema = match &spec.schema {
                None | Some(Value::Null) => None,
                Some(v @ Value::Object(_)) => Some(v.clone()),
                Some(other) => {
                    return Err(ApiError::invalid_request(
                        format!(
                            "Invalid type for 'response_format.json_schema.schema': expected an object (a JSON \
                             Schema), but got {} instead.",
                            json_type(other)
                        ),
                        Some("response_format.json_schema.schema"),
                    )
                    .with_code("invalid_type"));
                }
            };
            Ok(OutputFormat::JsonSchema {
                name: spec.name.clone(),
                description: spec.description.clone(),
                schema,
                strict: spec.strict.unwrap_or(false),
            })
        }
    }
}

// ---------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------

object_marker!(
    /// `"chat.completion"`.
    ChatCompletionObject::ChatCompletion = "chat.completion"
);
object_marker!(
    /// `"chat.completion.chunk"`.
    ChatCompletionChunkObject::ChatCompletionChunk = "chat.completion.chunk"
);
object_marker!(
    /// `"assistant"`.
    AssistantRole::Assistant = "assistant"
);

/// The response of a non-streamed chat completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatCompletion {
    /// `chatcmpl-...`.
    pub id: String,
    pub object: ChatCompletionObject,
    /// Unix seconds.
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChatChoice>,
    pub usage: Usage,
    pub system_fingerprint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatChoice {
    pub index: u32,
    pub message: AssistantMessage,
    /// `null` unless `logprobs` was requested.
    pub logprobs: Option<ChoiceLogprobs>,
    pub finish_reason: FinishReason,
}

/// The generated message. The chain of thought is in both `reasoning_content`
/// and `reasoning` (clients read one or the other); both are omitted when there is none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssistantMessage {
    pub role: AssistantRole,
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    pub refusal: Option<String>,
}

impl AssistantMessage {
    /// A message with `reasoning` copied into both reasoning fields.
    pub fn new(content: Option<String>, reasoning: Option<String>, tool_calls: Vec<ToolCall>) -> AssistantMessage {
        AssistantMessage {
            role: AssistantRole::Assistant,
            content,
            reasoning_content: reasoning.clone(),
            reasoning,
            tool_calls,
            refusal: None,
        }
    }
}

/// A tool call the model made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ToolCall {
    /// `call_...`.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ToolType,
    pub function: FunctionCall,
}

impl ToolCall {
    pub fn function(id: impl Into<String>, name: impl Into<String>, arguments: impl Into<String>) -> ToolCall {
        ToolCall {
            id: id.into(),
            kind: ToolType::Function,
            function: FunctionCall { name: name.into(), arguments: arguments.into() },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FunctionCall {
    pub name: String,
    /// JSON text as the model wrote it.
    pub arguments: String,
}

/// `choices[].logprobs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChoiceLogprobs {
    pub content: Option<Vec<TokenLogprob>>,
    pub refusal: Option<Vec<TokenLogprob>>,
}

/// One output token with its log-probability and the most likely alternatives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenLogprob {
    pub token: String,
    /// Finite: see `common::finite_logprob`.
    pub logprob: f32,
    /// The token's UTF-8 bytes (a token may hold part of a character).
    pub bytes: Option<Vec<u8>>,
    pub top_logprobs: Vec<TopLogprob>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TopLogprob {
    pub token: String,
    pub logprob: f32,
    pub bytes: Option<Vec<u8>>,
}

/// One server-sent event of a streamed chat completion. The last chunk
/// before `[DONE]` with `stream_options.include_usage` has `choices: []`
/// and `usage` set; otherwise `usage` is `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatCompletionChunk {
    pub id: String,
    pub object: ChatCompletionChunkObject,
    pub created: u64,
    pub model: String,
    pub system_fingerprint: Option<String>,
    pub choices: Vec<ChunkChoice>,
    pub usage: Option<Usage>,
}

impl ChatCompletionChunk {
    /// A chunk with one choice.
    pub fn new(id: &str, created: u64, model: &str, choice: ChunkChoice) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: id.to_string(),
            object: ChatCompletionChunkObject::ChatCompletionChunk,
            created,
            model: model.to_string(),
            system_fingerprint: None,
            choices: vec![choice],
            usage: None,
        }
    }

    /// The final usage chunk (`choices: []`).
    pub fn usage(id: &str, created: u64, model: &str, usage: Usage) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: id.to_string(),
            object: ChatCompletionChunkObject::ChatCompletionChunk,
            created,
            model: model.to_string(),
            system_fingerprint: None,
            choices: Vec::new(),
            usage: Some(usage),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChunkChoice {
    pub index: u32,
    pub delta: Delta,
    pub logprobs: Option<ChoiceLogprobs>,
    /// `null` until the choice's last chunk.
    pub finish_reason: Option<FinishReason>,
}

/// What a chunk adds to the message; absent fields are omitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Delta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<AssistantRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

impl Delta {
    /// The first delta: `{"role": "assistant"}`.
    pub fn role() -> Delta {
        Delta { role: Some(AssistantRole::Assistant), ..Delta::default() }
    }

    pub fn content(text: impl Into<String>) -> Delta {
        Delta { content: Some(text.into()), ..Delta::default() }
    }

    /// Reasoning text, in both `reasoning_content` and `reasoning`.
    pub fn reasoning(text: impl Into<String>) -> Delta {
        let text = text.into();
        Delta { reasoning_content: Some(text.clone()), reasoning: Some(text), ..Delta::default() }
    }

    pub fn tool_call(call: ToolCallDelta) -> Delta {
        Delta { tool_calls: Some(vec![call]), ..Delta::default() }
    }
}

/// A piece of a tool call: the first carries `id`, `type` and the name,
/// later ones argument fragments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ToolCallDelta {
    pub index: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ToolType>,
    pub function: FunctionCallDelta,
}

impl ToolCallDelta {
    /// The opening piece: index, id, type and name (`arguments: ""`).
    pub fn start(index: u32, id: impl Into<String>, name: impl Into<String>) -> ToolCallDelta {
        ToolCallDelta {
            index,
            id: Some(id.into()),
            kind: Some(ToolType::Function),
            function: FunctionCallDelta { name: Some(name.into()), arguments: Some(String::new()) },
        }
    }

    /// An argument fragment.
    pub fn arguments(index: u32, fragment: impl Into<String>) -> ToolCallDelta {
        ToolCallDelta {
            index,
            id: None,
            kind: None,
            function: FunctionCallDelta { name: None, arguments: Some(fragment.into()) },
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FunctionCallDelta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}
