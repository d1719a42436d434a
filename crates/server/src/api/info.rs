//! The endpoints that generate nothing: models, health, metrics, tokenize and detokenize.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use gpt_oss_model::harmony::{RenderOptions, Role};
use serde::Serialize;
use utoipa::ToSchema;

use super::openapi::{AuthErrors, LookupErrors, TokenizeErrors};
use super::prompt;
use super::state::{AppState, blocking};
use super::types::models::{Model, ModelList};
use super::types::tokenize::{DetokenizeRequest, DetokenizeResponse, TokenizeRequest, TokenizeResponse, ValidTokenize};
use crate::error::{ApiError, from_json_rejection, from_path_rejection};

fn served_model(state: &AppState) -> Model {
    let info = state.backend.info();
    let mut model = Model::new(info.id.clone(), info.created, "openai");
    model.max_model_len = Some(info.context_length);
    model
}

/// The served model.
#[utoipa::path(get, path = "/v1/models", responses((status = 200, body = ModelList), AuthErrors))]
pub async fn list_models(State(state): State<AppState>) -> Json<ModelList> {
    Json(ModelList::new(vec![served_model(&state)]))
}

/// One model by id.
#[utoipa::path(get, path = "/v1/models/{model}", params(("model" = String, Path)),
    responses((status = 200, body = Model), LookupErrors))]
pub async fn get_model(
    State(state): State<AppState>,
    model: Result<Path<String>, PathRejection>,
) -> Result<Json<Model>, ApiError> {
    let Path(model) = model.map_err(from_path_rejection)?;
    state.check_model(&model)?;
    Ok(Json(served_model(&state)))
}

/// `/health`: the engine's load; 200 while the server serves.
#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub model: String,
    pub running: usize,
    pub waiting: usize,
    pub kv_cache_bytes: usize,
}

#[utoipa::path(get, path = "/health", responses((status = 200, body = Health)))]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    let load = state.backend.load();
    Json(Health {
        status: "ok",
        model: state.backend.info().id.clone(),
        running: load.running,
        waiting: load.waiting,
        kv_cache_bytes: load.kv_bytes,
    })
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, content_type = "text/plain"), AuthErrors))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}

/// Token ids of a prompt, or of a chat conversation rendered in harmony (as vLLM's `/tokenize`).
#[utoipa::path(post, path = "/tokenize", request_body = TokenizeRequest,
    responses((status = 200, body = TokenizeResponse), TokenizeErrors))]
pub async fn tokenize(
    State(state): State<AppState>,
    body: Result<Json<TokenizeRequest>, JsonRejection>,
) -> Result<Json<TokenizeResponse>, ApiError> {
    let Json(request) = body.map_err(from_json_rejection)?;
    let renderer = state.renderer.clone();
    let tokens = match request.validate(&state.limits)? {
        ValidTokenize::Prompt { model, prompt, .. } => {
            check_optional_model(&state, model.as_deref())?;
            blocking(move || renderer.tokenizer().encode(&prompt, false)).await?
        }
        ValidTokenize::Chat { model, messages, add_generation_prompt, effort, tools } => {
            check_optional_model(&state, model.as_deref())?;
            let tools = tools.iter().map(|tool| tool.to_harmony()).collect();
            let conversation = prompt::chat(effort, &messages, tools, None);
            blocking(move || {
                let options = RenderOptions::default();
                let rendered = if add_generation_prompt {
                    renderer.render_for_completion(&conversation, Role::Assistant, options)
                } else {
                    renderer.render_conversation(&conversation, options)
                };
                rendered.map_err(|e| ApiError::invalid_request(e.to_string(), Some("messages")))
            })
            .await??
        }
    };
    let max_model_len = state.backend.info().context_length;
    Ok(Json(TokenizeResponse { count: tokens.len(), max_model_len, tokens }))
}

/// Text of token ids.
#[utoipa::path(post, path = "/detokenize", request_body = DetokenizeRequest,
    responses((status = 200, body = DetokenizeResponse), TokenizeErrors))]
pub async fn detokenize(
    State(state): State<AppState>,
    body: Result<Json<DetokenizeRequest>, JsonRejection>,
) -> Result<Json<DetokenizeResponse>, ApiError> {
    let Json(request) = body.map_err(from_json_rejection)?;
    let request = request.validate()?;
    check_optional_model(&state, request.model.as_deref())?;
    let tokenizer = state.renderer.tokenizer().clone();
    let vocab = tokenizer.vocab_size();
    if let Some(&id) = request.tokens.iter().find(|&&id| id as usize >= vocab) {
        return Err(ApiError::invalid_request(
            format!("Invalid token id {id}: the vocabulary has {vocab} tokens."),
            Some("tokens"),
        ));
    }
    let prompt = blocking(move || tokenizer.decode(&request.tokens)).await?;
    Ok(Json(DetokenizeResponse { prompt }))
}

fn check_optional_model(state: &AppState, model: Option<&str>) -> Result<(), ApiError> {
    model.map_or(Ok(()), |model| state.check_model(model))
}
