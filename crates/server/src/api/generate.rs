//! The steps every generating endpoint that speaks harmony shares: the prompt with the part of the model's
//! turn the server writes for a forced tool call, and following a generation to its end through [`Output`].

use gpt_oss_model::harmony::{Message, RenderOptions, Role};

use super::output::{Finish, Output, Piece, TokenLogprob};
use super::state::{AppState, blocking};
use super::types::chat::ToolUse;
use crate::engine::{FinishReason, Generation, TokenEvent, Usage};
use crate::error::ApiError;

/// A rendered prompt: the token ids to generate from, and the tokens the server wrote at the start of the
/// model's turn (the header of a forced tool call), which are also the prompt's last ids.
pub struct Prompt {
    pub ids: Vec<u32>,
    pub prefill: Vec<u32>,
}

/// Renders `messages` for the assistant's next turn, off the runtime. `tool_choice: required` or a named
/// function writes the start of the tool-call header into the prompt, so that the model's turn is that call.
/// Errors name `param`, the request field the conversation came from.
pub async fn render_prompt(
    state: &AppState,
    messages: Vec<Message>,
    tool_choice: &ToolUse,
    param: &'static str,
) -> Result<Prompt, ApiError> {
    let forced = match tool_choice {
        ToolUse::Required => Some("<|channel|>commentary to=functions.".to_string()),
        ToolUse::Named(name) => Some(format!("<|channel|>commentary to=functions.{name} <|constrain|>json<|message|>")),
        ToolUse::None | ToolUse::Auto => None,
    };
    let renderer = state.renderer.clone();
    blocking(move || {
        let mut ids = renderer
            .render_for_completion(&messages, Role::Assistant, RenderOptions::default())
            .map_err(|e| ApiError::invalid_request(e.to_string(), Some(param)))?;
        let prefill = forced.map(|header| renderer.tokenizer().encode(&header, true)).unwrap_or_default();
        ids.extend_from_slice(&prefill);
        Ok(Prompt { ids, prefill })
    })
    .await?
}

/// How a generation ended, once followed to its end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Driven {
    pub usage: Usage,
    pub reasoning_tokens: usize,
    /// `None` when the client went away first.
    pub finish: Option<Finish>,
}

/// Follows a generation to its end, reporting each step's pieces to `on_step`, which returns false to stop
/// (the client left). `first` are the pieces of the prefill. Returns `Err` only for an engine fault.
/// `prompt_tokens` is the usage's prompt count until the engine reports its own (a generation cut by a stop
/// string is dropped before it does).
pub async fn drive(
    mut generation: Generation,
    mut output: Output,
    first: Vec<Piece>,
    prompt_tokens: usize,
    mut on_step: impl FnMut(&[Piece], Option<&TokenLogprob>, Option<Finish>) -> bool,
) -> Result<Driven, ApiError> {
    let mut driven = Driven::default();
    driven.usage.prompt_tokens = prompt_tokens;
    if !first.is_empty() && !on_step(&first, None, None) {
        return Ok(driven);
    }
    // The engine's reason, or `None` when a stop string ended the answer (dropping the generation cancels it).
    let reason = loop {
        match generation.events.recv().await {
            Some(TokenEvent::Token(token)) => {
                driven.usage.completion_tokens += 1;
                let (pieces, logprob) = output.push(&token);
                if !on_step(&pieces, logprob.as_ref(), None) {
                    return Ok(driven);
                }
                if output.stopped() {
                    break None;
                }
            }
            Some(TokenEvent::Finished { reason, usage }) => {
                if let FinishReason::Error(message) = &reason {
                    return Err(ApiError::internal(format!("generation failed: {message}")));
                }
                driven.usage = usage;
                break Some(reason);
            }
            None => return Err(ApiError::internal("the engine stopped before finishing the generation")),
        }
    };
    let (pieces, finish) = output.finish(reason.as_ref());
    driven.finish = Some(finish);
    driven.reasoning_tokens = output.reasoning_tokens;
    on_step(&pieces, None, Some(finish));
    Ok(driven)
}
