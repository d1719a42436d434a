//! Harmony, the format gpt-oss was trained on: conversations rendered to prompt tokens exactly as
//! openai-harmony renders them, and the model's output parsed back into reasoning, tool calls and answer.
//!
//! The module knows the tokenizer and nothing of the transformer or of HTTP.

mod conversation;
mod header;
mod parse;
mod render;
mod schema;

pub use conversation::{
    Author, ChannelConfig, Content, DeveloperContent, FUNCTIONS, Message, ReasoningEffort, ResponseFormat, Role,
    SystemContent, ToolDescription, ToolNamespace,
};
pub use parse::{
    Event, MAX_HEADER_TOKENS, MessageKind, ParsedMessage, Parser, Stop, collect_messages, parse_completion,
};
pub use render::{RenderError, RenderOptions, Renderer, developer_text, system_text};
pub use schema::typescript;

use crate::tokenizer::special;

/// The tokens that end generation: `<|return|>` after an answer, `<|call|>` after a tool call. Not `<|end|>`,
/// after which the model goes on with its next message.
pub const STOP_TOKENS: [u32; 2] = [special::RETURN, special::CALL];
