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

mod content;
mod request;
mod response;
mod valid;
mod validate;

pub use request::{
    ChatCompletionRequest, ChatMessage, ChatRole, ContentPart, ContentPartType, FunctionCallParam, FunctionDefinition,
    JsonSchemaFormat, MessageContent, NamedFunction, NamedToolChoice, ResponseFormat, ResponseFormatType, Tool,
    ToolCallParam, ToolChoice, ToolChoiceMode, ToolType,
};
pub use response::{
    AssistantMessage, AssistantRole, ChatChoice, ChatCompletion, ChatCompletionChunk, ChatCompletionChunkObject,
    ChatCompletionObject, ChoiceLogprobs, ChunkChoice, Delta, FunctionCall, FunctionCallDelta, TokenLogprob, ToolCall,
    ToolCallDelta, TopLogprob,
};
pub use valid::{FunctionTool, OutputFormat, ToolUse, ValidChat, ValidMessage, ValidToolCall};
pub(crate) use validate::{
    FunctionSpec, empty_array, json_schema_format, json_type, missing, resolve_effort, validate_messages,
    validate_tools,
};
