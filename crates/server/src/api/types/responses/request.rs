//! The request body of `POST /v1/responses`, as sent.
//!
//! Items and content parts are read leniently: clients send back the output items they received (with ids,
//! statuses, annotations, logprobs and fields of newer API versions), so keys an item does not need are
//! ignored there. Unknown top-level keys are rejected, as everywhere.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::api::types::chat::ToolChoiceMode;
use crate::api::types::common::{Known, ReasoningOptions};

/// The body of `POST /v1/responses`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResponsesRequest {
    /// The model to use (see `GET /v1/models`); the served model when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// A user message as a string, or a list of items: messages, `function_call`, `function_call_output`
    /// and `reasoning` items. Required unless `previous_response_id` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Input>,
    /// Instructions for the model (the developer message). Not carried over by `previous_response_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Function tools the model may call: `{"type": "function", "name", "description", "parameters"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ResponsesTool>>,
    /// `none`, `auto` (default with tools), `required`, or `{"type": "function", "name": ...}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ResponsesToolChoice>,
    /// Accepted; gpt-oss makes one tool call per turn (harmony stops at `<|call|>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// `{"effort": "low" | "medium" | "high"}` (`minimal` is taken as `low`); `summary` is accepted and the
    /// full reasoning is returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningOptions>,
    /// Most tokens to generate, reasoning included; at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub max_output_tokens: Option<i64>,
    /// In [0, 2]; 0 is greedy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f64>,
    /// In (0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1e-30, maximum = 1)]
    pub top_p: Option<f64>,
    /// In [0, 20]: alternatives per answer token, with `include: ["message.output_text.logprobs"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 20)]
    pub top_logprobs: Option<i64>,
    /// `{"format": {"type": "text" | "json_object" | "json_schema", ...}}`; `verbosity` is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextOptions>,
    /// Keep the response for `GET /v1/responses/{id}` and `previous_response_id` (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// Continue the conversation of a stored response: its input and output come before `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1)]
    pub previous_response_id: Option<String>,
    /// Stream typed server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Accepted with `stream: true`; has no effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<Map<String, Value>>,
    /// Extra output: `message.output_text.logprobs` is honoured; `reasoning.encrypted_content` and the others
    /// are accepted (reasoning is returned as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// Up to 16 string values, returned with the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// `disabled` (default) or `auto`; the server never truncates: a conversation longer than the context is
    /// refused either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncation: Option<String>,
    /// Only `false`: responses run while the request is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<bool>,
    /// Returned with the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Every other key: rejected by validation (see `RESPONSES_KNOWN`).
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// OpenAI parameters this server knows beyond the typed ones: ignored ones that clients send by default,
/// and unsupported ones that get their own message. `null` is accepted for all.
pub(super) const RESPONSES_KNOWN: &[(&str, Known)] = &[
    ("service_tier", Known::Ignored),
    ("prompt_cache_key", Known::Ignored),
    ("prompt_cache_retention", Known::Ignored),
    ("safety_identifier", Known::Ignored),
    // gpt-oss stops at each `<|call|>`: a turn has at most one call, so any limit of one or more holds.
    ("max_tool_calls", Known::Ignored),
    (
        "conversation",
        Known::Unsupported(
            "Conversations ('conversation') are not supported: continue with 'previous_response_id', or send the \
             history in 'input'.",
        ),
    ),
    ("prompt", Known::Unsupported("Prompt templates ('prompt') are not supported: send 'instructions' and 'input'.")),
];

/// `input`: one user message as a string, or a list of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Input {
    Text(String),
    Items(Vec<InputItem>),
}

/// One item of `input`, as sent. Which fields apply depends on `type` (`message` when absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InputItem {
    /// `message` (default), `function_call`, `function_call_output` or `reasoning`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Messages: `user`, `assistant`, `system` or `developer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Messages: a string or a list of text parts. Reasoning: `reasoning_text` parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ItemContent>,
    /// Assistant messages: `commentary` (a preamble to tool calls) or `final_answer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Function calls and their outputs: the id that pairs them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// Function calls: the function's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Function calls: the arguments as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
    /// Function call outputs: a string or a list of text parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<ItemContent>,
    /// Reasoning: summary parts, used when the item has no `content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Vec<ContentPart>>,
    /// Ids, statuses, annotations and the like: ignored.
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// Content of a message or a tool output: a string or parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ItemContent {
    Text(String),
    Parts(Vec<ContentPart>),
}

/// A content part: `input_text`, `output_text`, `refusal`, `reasoning_text` or `summary_text` carry text;
/// images, files and audio are refused (gpt-oss reads text only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = ResponseContentPart)]
pub struct ContentPart {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// For `refusal` parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Annotations, logprobs and the like: ignored.
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// A tool, as sent. Only `function` tools are supported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResponsesTool {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `tool_choice`: a mode, or a tool object (`{"type": "function", "name": ...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ResponsesToolChoice {
    Mode(ToolChoiceMode),
    Tool(ToolChoiceObject),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolChoiceObject {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `text`: the output format.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TextOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<TextFormat>,
    /// `low`, `medium` or `high`: accepted; gpt-oss has no verbosity control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `text.format`: `{"type": "text"}`, `{"type": "json_object"}`, or
/// `{"type": "json_schema", "name", "schema", "description", "strict"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TextFormat {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}
