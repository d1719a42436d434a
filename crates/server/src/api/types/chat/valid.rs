//! The validated chat request: plain structs the handler works from.

use gpt_oss_model::harmony::{ReasoningEffort, ResponseFormat as HarmonyResponseFormat, ToolDescription};
use gpt_oss_model::sampling::SamplingParams;
use serde_json::{Map, Value};

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
