//! The validated Responses request: plain structs the handler works from.

use gpt_oss_model::harmony::ReasoningEffort;
use gpt_oss_model::sampling::SamplingParams;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::api::types::chat::{FunctionTool, OutputFormat, ToolUse};

/// A Responses request that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidResponses {
    /// `None`: the served model.
    pub model: Option<String>,
    /// The `input` items (a string input is one user message); may be empty with `previous_response_id`.
    pub input: Vec<ValidItem>,
    pub instructions: Option<String>,
    pub tools: Vec<FunctionTool>,
    pub tool_choice: ToolUse,
    pub parallel_tool_calls: bool,
    pub format: OutputFormat,
    pub effort: ReasoningEffort,
    /// `reasoning.summary` as sent, echoed in the response.
    pub summary: Option<String>,
    pub sampling: SamplingParams,
    pub max_output_tokens: Option<u32>,
    pub store: bool,
    pub previous_response_id: Option<String>,
    pub stream: bool,
    pub metadata: Map<String, Value>,
    pub truncation: String,
    pub user: Option<String>,
}

/// One conversation item, validated. Output items of earlier responses take these forms too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidItem {
    /// A `system` or `developer` message: instructions.
    Instructions(String),
    User(String),
    Assistant {
        text: String,
        phase: Option<Phase>,
    },
    Reasoning(String),
    FunctionCall {
        call_id: String,
        name: String,
        arguments: String,
    },
    FunctionCallOutput {
        call_id: String,
        output: String,
    },
}

impl ValidItem {
    /// The bytes of text the item holds, for the store's size bound.
    pub fn text_len(&self) -> usize {
        match self {
            ValidItem::Instructions(text) | ValidItem::User(text) | ValidItem::Reasoning(text) => text.len(),
            ValidItem::Assistant { text, .. } => text.len(),
            ValidItem::FunctionCall { call_id, name, arguments } => call_id.len() + name.len() + arguments.len(),
            ValidItem::FunctionCallOutput { call_id, output } => call_id.len() + output.len(),
        }
    }
}

/// Which kind of assistant message: text before tool calls, or the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Commentary,
    FinalAnswer,
}
