//! `POST /v1/completions`: the legacy text completion of a raw prompt (text, which may contain harmony's
//! special tokens, or token ids), without harmony parsing. Special tokens the model generates are not part of
//! the text; generation stops at `<|return|>`, `<|call|>` and `<|endoftext|>`.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse, Response};
use gpt_oss_model::Tokenizer;
use gpt_oss_model::harmony::STOP_TOKENS;
use gpt_oss_model::tokenizer::special;

use super::openapi::{GenerateErrors, SseEvent};
use super::sse;
use super::state::{AppState, blocking, new_id, submit_error, unix_now};
use super::stop::StopStrings;
use super::types::common::{FinishReason, Usage};
use super::types::completions::{
    Completion, CompletionChoice, CompletionLogprobs, CompletionRequest, PromptInput, TopLogprobs, ValidCompletion,
};
use crate::engine::{self, GenerateRequest, Generation, TokenEvent};
use crate::error::{ApiError, from_json_rejection};

/// Text completions, streaming (SSE) or not.
#[utoipa::path(post, path = "/v1/completions", request_body = CompletionRequest,
    responses((status = 200, description = "The completion; with `stream: true`, `Completion` chunks as events",
        content((Completion = "application/json"), (SseEvent = "text/event-stream"))), GenerateErrors))]
pub async fn completions(
    State(state): State<AppState>,
    body: Result<Json<CompletionRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(from_json_rejection)?;
    let request = request.validate(&state.limits)?;
    state.check_model(&request.model)?;
    if request.echo && request.logprobs.is_some() {
        return Err(ApiError::invalid_request(
            "'echo' with 'logprobs' is not supported: this server does not compute the prompt's log-probabilities.",
            Some("echo"),
        ));
    }
    let tokenizer = state.renderer.tokenizer().clone();
    let prompt = match request.prompt.clone() {
        PromptInput::Tokens(ids) => ids,
        PromptInput::Text(text) => {
            let tokenizer = tokenizer.clone();
            blocking(move || tokenizer.encode(&text, true)).await?
        }
    };
    let max_tokens = state.max_tokens(prompt.len(), Some(request.max_tokens), "prompt")?;
    let mut generations = Vec::new();
    for index in 0..request.n {
        let mut sampling = request.sampling.clone();
        sampling.seed = sampling.seed.map(|seed| seed.wrapping_add(u64::from(index)));
        let mut stop_tokens = STOP_TOKENS.to_vec();
        stop_tokens.push(special::ENDOFTEXT);
        let submitted = state.backend.submit(GenerateRequest {
            prompt: prompt.clone(),
            sampling,
            max_tokens,
            stop_tokens,
            logit_bias: request.logit_bias.clone(),
        });
        generations.push(submitted.map_err(|e| submit_error(e, "prompt"))?);
    }
    let echo = if request.echo { tokenizer.decode(&prompt) } else { String::new() };
    let reply = Reply { id: new_id("cmpl"), created: unix_now(), model: state.backend.info().id.clone() };
    if request.stream {
        Ok(stream(reply, generations, tokenizer, request, (prompt.len(), echo)).into_response())
    } else {
        let mut choices = Vec::new();
        let mut usage = Usage::new(prompt.len(), 0, 0, 0);
        for (index, generation) in generations.into_iter().enumerate() {
            let mut text = echo.clone();
            let ended = follow(generation, &tokenizer, &request, (prompt.len(), text.len()), |piece| {
                text.push_str(&piece.text)
            })
            .await?;
            usage = add_usage(usage, &ended.usage);
            choices.push(CompletionChoice {
                text,
                index: index as u32,
                logprobs: ended.logprobs,
                finish_reason: Some(ended.finish),
            });
        }
        Ok(Json(reply.completion(choices, Some(usage))).into_response())
    }
}

#[derive(Clone)]
struct Reply {
    id: String,
    created: u64,
    model: String,
}

impl Reply {
    fn completion(&self, choices: Vec<CompletionChoice>, usage: Option<Usage>) -> Completion {
        Completion {
            id: self.id.clone(),
            object: Default::default(),
            created: self.created,
            model: self.model.clone(),
            choices,
            usage,
            system_fingerprint: None,
        }
    }
}

/// Text of one step, with its log-probabilities when asked for.
struct Piece {
    text: String,
    logprobs: Option<CompletionLogprobs>,
}

/// How a generation ended.
struct Ended {
    finish: FinishReason,
    usage: engine::Usage,
    logprobs: Option<CompletionLogprobs>,
}

/// Follows a generation to its end, passing each step's text to `on_piece`. `offset` is where the generated
/// text starts in the choice's text (after an echoed prompt), for `text_offset`.
async fn follow(
    mut generation: Generation,
    tokenizer: &Tokenizer,
    request: &ValidCompletion,
    (prompt_tokens, mut offset): (usize, usize),
    mut on_piece: impl FnMut(Piece),
) -> Result<Ended, ApiError> {
    let mut decoder = tokenizer.decode_stream();
    let mut stops = StopStrings::new(request.stop.clone());
    let mut all = request.logprobs.map(|_| CompletionLogprobs::default());
    // Counted here too, for a generation a stop string ends before the engine reports its usage.
    let mut usage = engine::Usage { prompt_tokens, ..engine::Usage::default() };
    while let Some(event) = generation.events.recv().await {
        match event {
            TokenEvent::Token(token) => {
                usage.completion_tokens += 1;
                let text = if tokenizer.is_special(token.id) { None } else { decoder.decode_step(token.id) };
                let text = stops.push(&text.unwrap_or_default());
                let logprobs = request.logprobs.map(|_| {
                    let piece = tokenizer.token_bytes(token.id).unwrap_or_default();
                    let top = token
                        .top_logprobs
                        .iter()
                        .map(|&(id, logprob)| (token_text(tokenizer, id), logprob.max(-9999.0)))
                        .collect();
                    CompletionLogprobs {
                        tokens: vec![String::from_utf8_lossy(piece).into_owned()],
                        token_logprobs: vec![Some(token.logprob.max(-9999.0))],
                        top_logprobs: vec![Some(TopLogprobs(top))],
                        text_offset: vec![offset],
                    }
                });
                if let (Some(all), Some(step)) = (&mut all, &logprobs) {
                    all.tokens.extend(step.tokens.iter().cloned());
                    all.token_logprobs.extend(step.token_logprobs.iter().copied());
                    all.top_logprobs.extend(step.top_logprobs.iter().cloned());
                    all.text_offset.extend(step.text_offset.iter().copied());
                }
                offset += text.len();
                on_piece(Piece { text, logprobs });
                if stops.matched() {
                    return Ok(Ended { finish: FinishReason::Stop, usage, logprobs: all });
                }
            }
            TokenEvent::Finished { reason, usage: done } => {
                let mut tail = decoder.finish().map(|text| stops.push(&text)).unwrap_or_default();
                if !stops.matched() {
                    tail.push_str(&stops.flush());
                }
                if !tail.is_empty() {
                    on_piece(Piece { text: tail, logprobs: None });
                }
                let finish = match reason {
                    engine::FinishReason::Length => FinishReason::Length,
                    engine::FinishReason::StopToken(_) => FinishReason::Stop,
                    engine::FinishReason::Error(message) => {
                        return Err(ApiError::internal(format!("generation failed: {message}")));
                    }
                };
                return Ok(Ended { finish, usage: done, logprobs: all });
            }
        }
    }
    Err(ApiError::internal("the engine stopped before finishing the generation"))
}

fn token_text(tokenizer: &Tokenizer, id: u32) -> String {
    String::from_utf8_lossy(tokenizer.token_bytes(id).unwrap_or_default()).into_owned()
}

fn add_usage(usage: Usage, more: &engine::Usage) -> Usage {
    Usage::new(
        more.prompt_tokens.max(usage.prompt_tokens),
        usage.completion_tokens + more.completion_tokens,
        more.cached_tokens,
        0,
    )
}

fn stream(
    reply: Reply,
    generations: Vec<Generation>,
    tokenizer: Tokenizer,
    request: ValidCompletion,
    (prompt_tokens, echo): (usize, String),
) -> impl IntoResponse {
    let (tx, response) = sse::channel();
    tokio::spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for (index, generation) in generations.into_iter().enumerate() {
            let (tx, reply, tokenizer, request, echo) =
                (tx.clone(), reply.clone(), tokenizer.clone(), request.clone(), echo.clone());
            tasks.spawn(async move {
                let index = index as u32;
                let chunk = |text: String, logprobs, finish_reason| {
                    reply.completion(vec![CompletionChoice { text, index, logprobs, finish_reason }], None)
                };
                if !echo.is_empty() && !sse::send_json(&tx, &chunk(echo.clone(), None, None)) {
                    return None;
                }
                let closed = tx.clone();
                let follow = follow(generation, &tokenizer, &request, (prompt_tokens, echo.len()), |piece| {
                    if !piece.text.is_empty() || piece.logprobs.is_some() {
                        let _ = sse::send_json(&tx, &chunk(piece.text, piece.logprobs, None));
                    }
                });
                tokio::select! {
                    ended = follow => match ended {
                        Ok(ended) => {
                            sse::send_json(&tx, &chunk(String::new(), None, Some(ended.finish)));
                            Some(ended.usage)
                        }
                        Err(e) => {
                            sse::send_json(&tx, &e.to_body());
                            None
                        }
                    },
                    () = closed.closed() => None,
                }
            });
        }
        let mut usage = Usage::new(0, 0, 0, 0);
        while let Some(result) = tasks.join_next().await {
            match result {
                Ok(Some(more)) => usage = add_usage(usage, &more),
                _ => return,
            }
        }
        if request.include_usage {
            sse::send_json(&tx, &reply.completion(Vec::new(), Some(usage)));
        }
        sse::send_done(&tx);
    });
    response
}
