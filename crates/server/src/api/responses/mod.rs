//! `/v1/responses`: the Responses API that gpt-oss was trained for and that agent clients (Codex CLI, the
//! Agents SDK) speak. `POST` validates, joins the stored conversation of `previous_response_id` with
//! `input`, renders the harmony prompt and answers with the response object, or streams its typed events;
//! `GET` and `DELETE` read and drop stored responses.
//!
//! A stream is `response.created`, `response.in_progress`, the events of each output item (see [`turn`]),
//! then always one of `response.completed`, `response.incomplete` (cut at `max_output_tokens`) or
//! `response.failed` (an engine fault), each event with `type` and `sequence_number`, and named in the
//! SSE `event:` field. Stored are completed and incomplete responses with `store` (the default): the
//! response object and the conversation up to its output, chain of thought included.

pub mod input;
pub mod store;
pub mod turn;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gpt_oss_model::harmony::STOP_TOKENS;
use serde_json::{Value, json};

use self::store::{Missing, StoredResponse};
use self::turn::Turn;
use super::generate::{Driven, Prompt, drive, render_prompt};
use super::openapi::{GenerateErrors, LookupErrors, SseEvent};
use super::output::{Finish, Output};
use super::prompt::{self, PromptParts};
use super::sse;
use super::state::{AppState, new_id, submit_error, unix_now};
use super::types::chat::{OutputFormat, ToolUse};
use super::types::responses::{
    DeletedResponse, IncompleteDetails, OutputItem, ReasoningEcho, ResponseError, ResponseObject, ResponseUsage,
    ResponsesRequest, Status, StreamEvent, TextEcho, ValidItem, ValidResponses,
};
use crate::engine::{GenerateRequest, Generation};
use crate::error::{ApiError, INVALID_REQUEST_ERROR, clip, from_json_rejection, from_path_rejection};

/// Creates a response, streaming (SSE) or not.
#[utoipa::path(post, path = "/v1/responses", request_body = ResponsesRequest,
    responses((status = 200, description = "The response; with `stream: true`, its typed events",
        content((ResponseObject = "application/json"), (SseEvent = "text/event-stream"))), GenerateErrors))]
pub async fn create_response(
    State(state): State<AppState>,
    body: Result<Json<ResponsesRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(from_json_rejection)?;
    let valid = request.validate(&state.limits)?;
    if let Some(model) = &valid.model {
        state.check_model(model)?;
    }
    let mut conversation = match &valid.previous_response_id {
        Some(id) => {
            state.responses.get(id).map_err(|missing| previous_missing(&state, id, missing))?.conversation.clone()
        }
        None => Vec::new(),
    };
    let first_input = conversation.len();
    conversation.extend(valid.input.iter().cloned());
    let messages = messages(&valid, &conversation, first_input)?;
    let Prompt { ids, prefill } = render_prompt(&state, messages, &valid.tool_choice, "input").await?;
    let max_tokens = state.max_tokens(ids.len(), valid.max_output_tokens, "input")?;
    let prompt_tokens = ids.len();
    let request = GenerateRequest {
        prompt: ids,
        sampling: valid.sampling.clone(),
        max_tokens,
        stop_tokens: STOP_TOKENS.to_vec(),
        logit_bias: Vec::new(),
    };
    let generation = state.backend.submit(request).map_err(|e| submit_error(e, "input"))?;
    let id = new_id("resp").replace('-', "_");
    let base = id.trim_start_matches("resp_").to_string();
    let mut output = Output::new(state.renderer.tokenizer().clone(), Vec::new(), format!("call_{base}"));
    let first = output.prefill(&prefill);
    let run = Run {
        state: state.clone(),
        frame: frame(&valid, id, state.backend.info().id.clone()),
        turn: Turn::new(&base, valid.sampling.logprobs),
        conversation,
        store: valid.store,
    };
    if valid.stream {
        Ok(stream(run, generation, output, first, prompt_tokens).into_response())
    } else {
        Ok(Json(whole(run, generation, output, first, prompt_tokens).await?).into_response())
    }
}

/// Returns a stored response.
#[utoipa::path(get, path = "/v1/responses/{response_id}", params(("response_id" = String, Path)),
    responses((status = 200, body = ResponseObject), LookupErrors))]
pub async fn get_response(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ResponseObject>, ApiError> {
    let Path(id) = id.map_err(from_path_rejection)?;
    match state.responses.get(&id) {
        Ok(stored) => Ok(Json(stored.response.clone())),
        Err(missing) => Err(not_found(&state, &id, missing)),
    }
}

/// Deletes a stored response.
#[utoipa::path(delete, path = "/v1/responses/{response_id}", params(("response_id" = String, Path)),
    responses((status = 200, body = DeletedResponse), LookupErrors))]
pub async fn delete_response(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<DeletedResponse>, ApiError> {
    let Path(id) = id.map_err(from_path_rejection)?;
    if state.responses.remove(&id) {
        Ok(Json(DeletedResponse { id, object: "response", deleted: true }))
    } else {
        Err(not_found(&state, &id, Missing::Unknown))
    }
}

/// What the store keeps, for messages about ids it does not have.
fn retention(state: &AppState) -> String {
    let limits = state.responses.limits();
    format!(
        "Responses are kept in memory for {} minutes (at most {} of them) and not across restarts, and only with \
         'store': true",
        limits.max_age.as_secs() / 60,
        limits.max_responses
    )
}

fn not_found(state: &AppState, id: &str, missing: Missing) -> ApiError {
    let what = if missing == Missing::Expired { "has expired" } else { "was not found" };
    ApiError::new(
        StatusCode::NOT_FOUND,
        INVALID_REQUEST_ERROR,
        format!("Response with id '{}' {what}. {}.", clip(id), retention(state)),
    )
    .with_param("response_id")
    .with_code("not_found")
}

fn previous_missing(state: &AppState, id: &str, missing: Missing) -> ApiError {
    let what = if missing == Missing::Expired { "has expired" } else { "not found" };
    ApiError::invalid_request(
        format!(
            "Previous response with id '{}' {what}. {}. Send the whole conversation in 'input' instead.",
            clip(id),
            retention(state)
        ),
        Some("previous_response_id"),
    )
    .with_code("previous_response_not_found")
}

/// The harmony conversation: system and developer messages, then the items. `instructions` come first among
/// the instructions, then the `system` and `developer` items in order. No tools are offered for
/// `tool_choice: none`.
fn messages(
    valid: &ValidResponses,
    conversation: &[ValidItem],
    first_input: usize,
) -> Result<Vec<gpt_oss_model::harmony::Message>, ApiError> {
    let items = input::conversation(conversation, first_input)?;
    let mut instructions: Vec<&str> = valid.instructions.iter().map(String::as_str).collect();
    instructions.extend(items.instructions);
    let tools = match valid.tool_choice {
        ToolUse::None => Vec::new(),
        _ => valid.tools.iter().map(|tool| tool.to_harmony()).collect(),
    };
    let format = prompt::response_format(&valid.format);
    let mut messages = prompt::preamble(PromptParts { effort: valid.effort, instructions, tools, format });
    messages.extend(items.messages);
    prompt::drop_answered_reasoning(&mut messages);
    Ok(messages)
}

/// The response object as it starts: everything the request decides, no output yet.
fn frame(valid: &ValidResponses, id: String, model: String) -> ResponseObject {
    let tool_choice = match &valid.tool_choice {
        ToolUse::None => json!("none"),
        ToolUse::Auto => json!("auto"),
        ToolUse::Required => json!("required"),
        ToolUse::Named(name) => json!({"type": "function", "name": name}),
    };
    let tools = valid
        .tools
        .iter()
        .map(|tool| {
            json!({
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
                "strict": tool.strict,
            })
        })
        .collect();
    let format = match &valid.format {
        OutputFormat::Text => json!({"type": "text"}),
        OutputFormat::JsonObject => json!({"type": "json_object"}),
        OutputFormat::JsonSchema { name, description, schema, strict } => json!({
            "type": "json_schema",
            "name": name,
            "description": description,
            "schema": schema.clone().unwrap_or_else(|| json!({})),
            "strict": strict,
        }),
    };
    ResponseObject {
        id,
        object: "response",
        created_at: unix_now(),
        status: Status::InProgress,
        completed_at: None,
        error: None,
        incomplete_details: None,
        instructions: valid.instructions.clone(),
        max_output_tokens: valid.max_output_tokens,
        model,
        output: Vec::new(),
        parallel_tool_calls: valid.parallel_tool_calls,
        previous_response_id: valid.previous_response_id.clone(),
        reasoning: ReasoningEcho { effort: valid.effort.as_str(), summary: valid.summary.clone() },
        store: valid.store,
        temperature: valid.sampling.temperature,
        top_p: valid.sampling.top_p,
        top_logprobs: valid.sampling.top_logprobs,
        text: TextEcho { format },
        tool_choice,
        tools,
        truncation: valid.truncation.clone(),
        usage: None,
        user: valid.user.clone(),
        metadata: valid.metadata.clone(),
        background: false,
        service_tier: "default",
    }
}

/// One response being generated.
struct Run {
    state: AppState,
    /// The response object without its outcome.
    frame: ResponseObject,
    turn: Turn,
    /// The conversation up to the model's turn: what is stored, with the output, for `previous_response_id`.
    conversation: Vec<ValidItem>,
    store: bool,
}

impl Run {
    /// The finished response: output, usage and status; stored when asked.
    fn finish(mut self, driven: &Driven, events: &mut Vec<StreamEvent>) -> ResponseObject {
        let complete = driven.finish != Some(Finish::Length);
        self.turn.finish(complete, events);
        let mut response = self.frame;
        response.output = self.turn.items().to_vec();
        response.completed_at = Some(unix_now());
        response.usage = Some(ResponseUsage::new(
            driven.usage.prompt_tokens,
            driven.usage.cached_tokens,
            driven.usage.completion_tokens,
            driven.reasoning_tokens,
        ));
        if complete {
            response.status = Status::Completed;
        } else {
            response.status = Status::Incomplete;
            response.incomplete_details = Some(IncompleteDetails { reason: "max_output_tokens".into() });
        }
        if self.store {
            let mut conversation = self.conversation;
            conversation.extend(response.output.iter().map(item_of));
            if !self.state.responses.insert(StoredResponse { response: response.clone(), conversation }) {
                tracing::warn!(id = %response.id, "a response too large for the response store was not stored");
            }
        }
        response
    }
}

/// An output item as it is continued from.
fn item_of(item: &OutputItem) -> ValidItem {
    match item {
        OutputItem::Reasoning { content, .. } => {
            ValidItem::Reasoning(content.iter().map(|part| part.text.as_str()).collect::<Vec<_>>().join("\n"))
        }
        OutputItem::Message { content, phase, .. } => ValidItem::Assistant {
            text: content.iter().map(|part| part.text.as_str()).collect::<Vec<_>>().join("\n"),
            phase: Some(*phase),
        },
        OutputItem::FunctionCall { call_id, name, arguments, .. } => {
            ValidItem::FunctionCall { call_id: call_id.clone(), name: name.clone(), arguments: arguments.clone() }
        }
    }
}

async fn whole(
    mut run: Run,
    generation: Generation,
    output: Output,
    first: Vec<super::output::Piece>,
    prompt_tokens: usize,
) -> Result<ResponseObject, ApiError> {
    let mut events = Vec::new();
    let driven = drive(generation, output, first, prompt_tokens, |pieces, logprob, _| {
        run.turn.push(pieces, logprob, &mut events);
        events.clear();
        true
    })
    .await?;
    Ok(run.finish(&driven, &mut events))
}

/// Numbers and sends the events of one stream.
struct Events {
    tx: sse::Sender,
    sequence: u64,
}

impl Events {
    /// Sends `event` with its `sequence_number`; false once the client has gone.
    fn send(&mut self, event: &StreamEvent) -> bool {
        let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.insert("sequence_number".into(), self.sequence.into());
        }
        self.sequence += 1;
        sse::send_named(&self.tx, event.name(), &value)
    }

    fn send_all(&mut self, events: &mut Vec<StreamEvent>) -> bool {
        let sent = events.iter().all(|event| self.send(event));
        events.clear();
        sent
    }
}

fn stream(
    mut run: Run,
    generation: Generation,
    output: Output,
    first: Vec<super::output::Piece>,
    prompt_tokens: usize,
) -> impl IntoResponse {
    let (tx, response) = sse::channel();
    tokio::spawn(async move {
        let mut events = Events { tx: tx.clone(), sequence: 0 };
        let started = Box::new(run.frame.clone());
        if !events.send(&StreamEvent::Created { response: started.clone() })
            || !events.send(&StreamEvent::InProgress { response: started })
        {
            return;
        }
        let mut pending = Vec::new();
        let driving = drive(generation, output, first, prompt_tokens, |pieces, logprob, _| {
            run.turn.push(pieces, logprob, &mut pending);
            events.send_all(&mut pending)
        });
        // A client that goes away during a long prefill is noticed here, not only at the next token.
        let result = tokio::select! {
            result = driving => result,
            _ = tx.closed() => return,
        };
        let last = match result {
            Ok(driven) if driven.finish.is_none() => return,
            Ok(driven) => {
                let response = Box::new(run.finish(&driven, &mut pending));
                events.send_all(&mut pending);
                match response.status {
                    Status::Incomplete => StreamEvent::Incomplete { response },
                    _ => StreamEvent::Completed { response },
                }
            }
            Err(error) => {
                let mut response = Box::new(run.frame);
                response.status = Status::Failed;
                response.output = run.turn.items().to_vec();
                response.error =
                    Some(ResponseError { code: "server_error".into(), message: error.message().to_string() });
                StreamEvent::Failed { response }
            }
        };
        events.send(&last);
    });
    response
}
