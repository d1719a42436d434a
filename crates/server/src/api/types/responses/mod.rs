//! `/v1/responses`: the request as OpenAI defines it, its validation into [`ValidResponses`], and the
//! response object, output items and stream events.
//!
//! Supported: `input` as a string or items (`message` with text parts, `function_call`,
//! `function_call_output`, `reasoning`), `instructions`, function `tools`, `tool_choice`,
//! `reasoning.effort`, `max_output_tokens`, `temperature`, `top_p`, `top_logprobs` with
//! `include: ["message.output_text.logprobs"]`, `text.format`, `store`, `previous_response_id`,
//! `stream`, `metadata`, `user`. Refused with a clear message: other tool types, image/file/audio parts,
//! `item_reference`, `background: true`, `conversation`, `prompt`.

mod request;
mod response;
mod valid;
mod validate;

pub use request::{
    ContentPart, Input, InputItem, ItemContent, ResponsesRequest, ResponsesTool, ResponsesToolChoice, TextFormat,
    TextOptions, ToolChoiceObject,
};
pub use response::{
    DeletedResponse, IncompleteDetails, InputTokensDetails, ItemStatus, Logprob, OutputItem, OutputText,
    OutputTokensDetails, Part, ReasoningEcho, ReasoningText, ResponseError, ResponseObject, ResponseUsage, Status,
    StreamEvent, TextEcho, TopLogprob,
};
pub use valid::{Phase, ValidItem, ValidResponses};
pub(crate) use validate::INCLUDE_KNOWN;
pub use validate::INCLUDE_LOGPROBS;
