//! The response of a chat completion and the chunks of a streamed one.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::request::ToolType;
use crate::api::types::common::{FinishReason, Usage, object_marker};

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
