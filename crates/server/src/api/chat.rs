//! `POST /v1/chat/completions`: validate, render the harmony prompt off the runtime, generate `n` choices,
//! and answer with one JSON body or an SSE stream of chunks (`data: [DONE]` last).
//!
//! Streams carry reasoning in both `reasoning_content` and `reasoning`, tool calls as a first delta with
//! index, id, type and name and then argument fragments as they are generated, and close the reasoning before
//! a tool call starts (the parser finishes a message before the next begins). `tool_choice: required` or a
//! named function writes the start of the tool-call header into the prompt, so the model's turn is that call.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse, Response};
use gpt_oss_model::harmony::STOP_TOKENS;

use super::generate::{Driven, Prompt, drive, render_prompt};
use super::openapi::{GenerateErrors, SseEvent};
use super::output::{Finish, Output, Piece, TokenLogprob};
use super::prompt;
use super::sse;
use super::state::{AppState, new_id, submit_error, unix_now};
use super::types::chat::{
    AssistantMessage, ChatChoice, ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChoiceLogprobs,
    ChunkChoice, Delta, ToolCall, ToolCallDelta, ToolUse, ValidChat,
};
use super::types::chat::{TokenLogprob as ApiLogprob, TopLogprob};
use super::types::common::{FinishReason, Usage};
use crate::engine::{GenerateRequest, Generation};
use crate::error::{ApiError, from_json_rejection};

/// Chat completions, streaming (SSE) or not.
#[utoipa::path(post, path = "/v1/chat/completions", request_body = ChatCompletionRequest,
    responses((status = 200, description = "The completion; with `stream: true`, `ChatCompletionChunk` events",
        content((ChatCompletion = "application/json"), (SseEvent = "text/event-stream"))), GenerateErrors))]
pub async fn chat_completions(
    State(state): State<AppState>,
    body: Result<Json<ChatCompletionRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(from_json_rejection)?;
    let chat = request.validate(&state.limits)?;
    state.check_model(&chat.model)?;
    let Prompt { ids: prompt, prefill } = render_prompt(&state, messages(&chat), &chat.tool_choice, "messages").await?;
    let max_tokens = state.max_tokens(prompt.len(), chat.max_tokens, "messages")?;
    let prompt_tokens = prompt.len();
    let mut generations = Vec::new();
    for index in 0..chat.n {
        let mut sampling = chat.sampling.clone();
        sampling.seed = sampling.seed.map(|seed| seed.wrapping_add(u64::from(index)));
        let request = GenerateRequest {
            prompt: prompt.clone(),
            sampling,
            max_tokens,
            stop_tokens: STOP_TOKENS.to_vec(),
            logit_bias: chat.logit_bias.clone(),
        };
        generations.push(state.backend.submit(request).map_err(|e| submit_error(e, "messages"))?);
    }
    // OpenAI's ids look like `call_<random>`; each choice's calls are numbered after it.
    let call_prefix = new_id("call").replace('-', "_");
    let outputs = (0..chat.n)
        .map(|index| {
            let mut output =
                Output::new(state.renderer.tokenizer().clone(), chat.stop.clone(), format!("{call_prefix}{index}"));
            let first = output.prefill(&prefill);
            (output, first)
        })
        .collect::<Vec<_>>();
    let reply = Reply { id: new_id("chatcmpl"), created: unix_now(), model: state.backend.info().id.clone() };
    if chat.stream {
        Ok(stream(reply, generations, outputs, prompt_tokens, chat.include_usage, chat.sampling.logprobs)
            .into_response())
    } else {
        Ok(Json(whole(reply, generations, outputs, prompt_tokens, chat.sampling.logprobs).await?).into_response())
    }
}

/// The harmony conversation of a chat; no tools are offered for `tool_choice: none`.
fn messages(chat: &ValidChat) -> Vec<gpt_oss_model::harmony::Message> {
    let tools = match chat.tool_choice {
        ToolUse::None => Vec::new(),
        _ => chat.tools.iter().map(|tool| tool.to_harmony()).collect(),
    };
    prompt::chat(chat.effort, &chat.messages, tools, prompt::response_format(&chat.response_format))
}

/// The fields every chunk and body repeats.
#[derive(Clone)]
struct Reply {
    id: String,
    created: u64,
    model: String,
}

/// One choice generated to its end.
#[derive(Default)]
struct Choice {
    reasoning: String,
    content: String,
    tool_calls: Vec<ToolCall>,
    logprobs: Vec<ApiLogprob>,
    driven: Driven,
}

impl Choice {
    fn add(&mut self, piece: &Piece) {
        match piece {
            Piece::Begin(_) => {}
            Piece::Reasoning(text) => self.reasoning.push_str(text),
            Piece::Text(text) => self.content.push_str(text),
            Piece::ToolCall { id, name, .. } => self.tool_calls.push(ToolCall::function(id, name, "")),
            Piece::Arguments { delta, .. } => {
                if let Some(call) = self.tool_calls.last_mut() {
                    call.function.arguments.push_str(delta);
                }
            }
        }
    }
}

fn api_logprob(logprob: &TokenLogprob) -> ApiLogprob {
    ApiLogprob {
        token: logprob.token.clone(),
        logprob: logprob.logprob.max(-9999.0),
        bytes: Some(logprob.bytes.clone()),
        top_logprobs: logprob
            .top
            .iter()
            .map(|(token, bytes, logprob)| TopLogprob {
                token: token.clone(),
                logprob: logprob.max(-9999.0),
                bytes: Some(bytes.clone()),
            })
            .collect(),
    }
}

fn finish_reason(finish: Finish) -> FinishReason {
    match finish {
        Finish::Stop => FinishReason::Stop,
        Finish::Length => FinishReason::Length,
        Finish::ToolCalls => FinishReason::ToolCalls,
    }
}

fn usage(choices: &[Driven]) -> Usage {
    let prompt = choices.first().map_or(0, |c| c.usage.prompt_tokens);
    let cached = choices.first().map_or(0, |c| c.usage.cached_tokens);
    let completion = choices.iter().map(|c| c.usage.completion_tokens).sum();
    let reasoning = choices.iter().map(|c| c.reasoning_tokens).sum();
    Usage::new(prompt, completion, cached, reasoning)
}

async fn whole(
    reply: Reply,
    generations: Vec<Generation>,
    outputs: Vec<(Output, Vec<Piece>)>,
    prompt_tokens: usize,
    logprobs: bool,
) -> Result<ChatCompletion, ApiError> {
    let mut choices = Vec::new();
    for (generation, (output, first)) in generations.into_iter().zip(outputs) {
        let mut choice = Choice::default();
        choice.driven = drive(generation, output, first, prompt_tokens, |pieces, logprob, _| {
            pieces.iter().for_each(|p| choice.add(p));
            choice.logprobs.extend(logprob.map(api_logprob));
            true
        })
        .await?;
        choices.push(choice);
    }
    let usage = usage(&choices.iter().map(|c| c.driven).collect::<Vec<_>>());
    let choices = choices
        .into_iter()
        .enumerate()
        .map(|(index, choice)| ChatChoice {
            index: index as u32,
            finish_reason: finish_reason(choice.driven.finish.unwrap_or(Finish::Stop)),
            logprobs: logprobs.then_some(ChoiceLogprobs { content: Some(choice.logprobs), refusal: None }),
            message: AssistantMessage::new(
                (!choice.content.is_empty() || choice.tool_calls.is_empty()).then_some(choice.content),
                (!choice.reasoning.is_empty()).then_some(choice.reasoning),
                choice.tool_calls,
            ),
        })
        .collect();
    Ok(ChatCompletion {
        id: reply.id,
        object: Default::default(),
        created: reply.created,
        model: reply.model,
        choices,
        usage,
        system_fingerprint: None,
    })
}

/// The SSE response: one task per choice writes chunks; a closing task adds the usage chunk and `[DONE]`.
fn stream(
    reply: Reply,
    generations: Vec<Generation>,
    outputs: Vec<(Output, Vec<Piece>)>,
    prompt_tokens: usize,
    include_usage: bool,
    logprobs: bool,
) -> impl IntoResponse {
    let (tx, response) = sse::channel();
    let reply = Arc::new(reply);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (generation, (output, first))) in generations.into_iter().zip(outputs).enumerate() {
        let (tx, reply) = (tx.clone(), reply.clone());
        tasks.spawn(async move {
            let index = index as u32;
            let role = ChunkChoice { index, delta: Delta::role(), ..ChunkChoice::default() };
            if !send(&tx, &reply, role) {
                return None;
            }
            let tx_closed = tx.clone();
            let drive = drive(generation, output, first, prompt_tokens, |pieces, logprob, finish| {
                let chunks = chunks(index, pieces, logprob, finish, logprobs);
                chunks.into_iter().all(|choice| send(&tx, &reply, choice))
            });
            // A client that goes away during a long prefill is noticed here, not only at the next token.
            tokio::select! {
                result = drive => match result {
                    Ok(choice) => Some(choice),
                    Err(e) => {
                        sse::send_json(&tx, &e.to_body());
                        None
                    }
                },
                _ = tx_closed.closed() => None,
            }
        });
    }
    tokio::spawn(async move {
        let mut choices = Vec::new();
        while let Some(result) = tasks.join_next().await {
            match result {
                Ok(Some(choice)) => choices.push(choice),
                _ => return,
            }
        }
        if include_usage {
            let chunk = ChatCompletionChunk::usage(&reply.id, reply.created, &reply.model, usage(&choices));
            sse::send_json(&tx, &chunk);
        }
        sse::send_done(&tx);
    });
    response
}

/// The chunks of one step: text, reasoning and tool-call deltas in order, the finish reason last.
fn chunks(
    index: u32,
    pieces: &[Piece],
    logprob: Option<&TokenLogprob>,
    finish: Option<Finish>,
    logprobs: bool,
) -> Vec<ChunkChoice> {
    let mut out: Vec<ChunkChoice> = pieces
        .iter()
        .filter_map(|piece| {
            let delta = match piece {
                Piece::Begin(_) => return None,
                Piece::Reasoning(text) => Delta::reasoning(text),
                Piece::Text(text) => Delta::content(text),
                Piece::ToolCall { index, id, name } => Delta::tool_call(ToolCallDelta::start(*index as u32, id, name)),
                Piece::Arguments { index, delta } => Delta::tool_call(ToolCallDelta::arguments(*index as u32, delta)),
            };
            Some(ChunkChoice { index, delta, ..ChunkChoice::default() })
        })
        .collect();
    if logprobs && let Some(logprob) = logprob {
        // The token's log-probability rides on the text it produced.
        if let Some(chunk) = out.iter_mut().rev().find(|c| c.delta.content.is_some()) {
            chunk.logprobs = Some(ChoiceLogprobs { content: Some(vec![api_logprob(logprob)]), refusal: None });
        }
    }
    if let Some(finish) = finish {
        out.push(ChunkChoice { index, finish_reason: Some(finish_reason(finish)), ..ChunkChoice::default() });
    }
    out
}

fn send(tx: &sse::Sender, reply: &Reply, choice: ChunkChoice) -> bool {
    sse::send_json(tx, &ChatCompletionChunk::new(&reply.id, reply.created, &reply.model, choice))
}
