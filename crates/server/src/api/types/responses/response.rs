//! The response object of `/v1/responses`, its output items, and the typed events of its stream.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::valid::Phase;

/// A response, as `POST /v1/responses` answers and `GET /v1/responses/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResponseObject {
    pub id: String,
    /// Always `response`.
    pub object: &'static str,
    pub created_at: u64,
    /// `in_progress` while streaming, then `completed`, `incomplete` or `failed`.
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<u64>,
    pub error: Option<ResponseError>,
    pub incomplete_details: Option<IncompleteDetails>,
    pub instructions: Option<String>,
    pub max_output_tokens: Option<u32>,
    pub model: String,
    pub output: Vec<OutputItem>,
    pub parallel_tool_calls: bool,
    pub previous_response_id: Option<String>,
    pub reasoning: ReasoningEcho,
    pub store: bool,
    pub temperature: f32,
    pub top_p: f32,
    pub top_logprobs: usize,
    pub text: TextEcho,
    /// `none`, `auto`, `required`, or `{"type": "function", "name": ...}`, as resolved.
    #[schema(value_type = super::ResponsesToolChoice)]
    pub tool_choice: Value,
    /// The function tools offered, as `{"type": "function", "name", "description", "parameters", "strict"}`.
    #[schema(value_type = Vec<Object>)]
    pub tools: Vec<Value>,
    pub truncation: String,
    pub usage: Option<ResponseUsage>,
    pub user: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub background: bool,
    pub service_tier: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    InProgress,
    Completed,
    Incomplete,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResponseError {
    /// `server_error`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IncompleteDetails {
    /// `max_output_tokens`: the output was cut at the token budget (or the end of the context).
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReasoningEcho {
    pub effort: &'static str,
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TextEcho {
    #[schema(value_type = Object)]
    pub format: Value,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResponseUsage {
    pub input_tokens: usize,
    pub input_tokens_details: InputTokensDetails,
    pub output_tokens: usize,
    pub output_tokens_details: OutputTokensDetails,
    pub total_tokens: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct InputTokensDetails {
    pub cached_tokens: usize,
    pub cache_write_tokens: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct OutputTokensDetails {
    pub reasoning_tokens: usize,
}

impl ResponseUsage {
    pub fn new(input: usize, cached: usize, output: usize, reasoning: usize) -> ResponseUsage {
        ResponseUsage {
            input_tokens: input,
            input_tokens_details: InputTokensDetails { cached_tokens: cached, cache_write_tokens: 0 },
            output_tokens: output,
            output_tokens_details: OutputTokensDetails { reasoning_tokens: reasoning },
            total_tokens: input + output,
        }
    }
}

/// The status of an output item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    InProgress,
    Completed,
    Incomplete,
}

/// An item of `output`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputItem {
    /// The chain of thought, in full (gpt-oss's reasoning is not hidden).
    Reasoning { id: String, summary: Vec<Value>, content: Vec<ReasoningText>, status: ItemStatus },
    /// Text to the user: a preamble to tool calls (`phase: commentary`) or the answer (`final_answer`).
    Message { id: String, role: &'static str, status: ItemStatus, content: Vec<OutputText>, phase: Phase },
    /// A call the client runs and answers with a `function_call_output` item of the same `call_id`.
    FunctionCall { id: String, call_id: String, name: String, arguments: String, status: ItemStatus },
}

impl OutputItem {
    pub fn id(&self) -> &str {
        match self {
            OutputItem::Reasoning { id, .. } | OutputItem::Message { id, .. } | OutputItem::FunctionCall { id, .. } => {
                id
            }
        }
    }
}

/// `{"type": "reasoning_text", "text"}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReasoningText {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
}

impl ReasoningText {
    pub fn new(text: impl Into<String>) -> ReasoningText {
        ReasoningText { kind: "reasoning_text", text: text.into() }
    }
}

/// `{"type": "output_text", "text", "annotations": [], "logprobs"}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OutputText {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
    #[schema(value_type = Vec<Object>)]
    pub annotations: Vec<Value>,
    /// With `include: ["message.output_text.logprobs"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Vec<Logprob>>,
}

impl OutputText {
    pub fn new(text: impl Into<String>, logprobs: Option<Vec<Logprob>>) -> OutputText {
        OutputText { kind: "output_text", text: text.into(), annotations: Vec::new(), logprobs }
    }
}

/// A token of the answer with its log-probability and alternatives.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Logprob {
    pub token: String,
    pub bytes: Vec<u8>,
    pub logprob: f32,
    pub top_logprobs: Vec<TopLogprob>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = ResponseTopLogprob)]
pub struct TopLogprob {
    pub token: String,
    pub bytes: Vec<u8>,
    pub logprob: f32,
}

/// A content part, as the `content_part` events carry it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Part {
    Reasoning(ReasoningText),
    Text(OutputText),
}

/// `DELETE /v1/responses/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeletedResponse {
    pub id: String,
    /// Always `response`.
    pub object: &'static str,
    pub deleted: bool,
}

/// An event of a streamed response, in the order OpenAI sends them: `response.created`,
/// `response.in_progress`, then per output item `output_item.added`, its content events and
/// `output_item.done`, then `response.completed` (or `response.incomplete` / `response.failed`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum StreamEvent {
    #[serde(rename = "response.created")]
    Created { response: Box<ResponseObject> },
    #[serde(rename = "response.in_progress")]
    InProgress { response: Box<ResponseObject> },
    #[serde(rename = "response.completed")]
    Completed { response: Box<ResponseObject> },
    #[serde(rename = "response.incomplete")]
    Incomplete { response: Box<ResponseObject> },
    #[serde(rename = "response.failed")]
    Failed { response: Box<ResponseObject> },
    #[serde(rename = "response.output_item.added")]
    OutputItemAdded { output_index: usize, item: OutputItem },
    #[serde(rename = "response.output_item.done")]
    OutputItemDone { output_index: usize, item: OutputItem },
    #[serde(rename = "response.content_part.added")]
    ContentPartAdded { item_id: String, output_index: usize, content_index: usize, part: Part },
    #[serde(rename = "response.content_part.done")]
    ContentPartDone { item_id: String, output_index: usize, content_index: usize, part: Part },
    #[serde(rename = "response.reasoning_text.delta")]
    ReasoningTextDelta { item_id: String, output_index: usize, content_index: usize, delta: String },
    #[serde(rename = "response.reasoning_text.done")]
    ReasoningTextDone { item_id: String, output_index: usize, content_index: usize, text: String },
    #[serde(rename = "response.output_text.delta")]
    OutputTextDelta {
        item_id: String,
        output_index: usize,
        content_index: usize,
        delta: String,
        logprobs: Vec<Logprob>,
    },
    #[serde(rename = "response.output_text.done")]
    OutputTextDone { item_id: String, output_index: usize, content_index: usize, text: String, logprobs: Vec<Logprob> },
    #[serde(rename = "response.function_call_arguments.delta")]
    ArgumentsDelta { item_id: String, output_index: usize, delta: String },
    #[serde(rename = "response.function_call_arguments.done")]
    ArgumentsDone { item_id: String, output_index: usize, name: String, arguments: String },
}

impl StreamEvent {
    /// The event's name: its `type`, and the SSE `event:` field.
    pub fn name(&self) -> &'static str {
        match self {
            StreamEvent::Created { .. } => "response.created",
            StreamEvent::InProgress { .. } => "response.in_progress",
            StreamEvent::Completed { .. } => "response.completed",
            StreamEvent::Incomplete { .. } => "response.incomplete",
            StreamEvent::Failed { .. } => "response.failed",
            StreamEvent::OutputItemAdded { .. } => "response.output_item.added",
            StreamEvent::OutputItemDone { .. } => "response.output_item.done",
            StreamEvent::ContentPartAdded { .. } => "response.content_part.added",
            StreamEvent::ContentPartDone { .. } => "response.content_part.done",
            StreamEvent::ReasoningTextDelta { .. } => "response.reasoning_text.delta",
            StreamEvent::ReasoningTextDone { .. } => "response.reasoning_text.done",
            StreamEvent::OutputTextDelta { .. } => "response.output_text.delta",
            StreamEvent::OutputTextDone { .. } => "response.output_text.done",
            StreamEvent::ArgumentsDelta { .. } => "response.function_call_arguments.delta",
            StreamEvent::ArgumentsDone { .. } => "response.function_call_arguments.done",
        }
    }
}
