//! The router: every endpoint, the API key check, the body size limit, OpenAI-shaped 404/405, request
//! counting, and `/openapi.json` (see [`super::openapi`]).

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{Method, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::state::AppState;
use super::{chat, completions, info, openapi, responses};
use crate::error::ApiError;

/// Largest request body accepted (a long conversation with tools fits many times over).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat::chat_completions))
        .route("/v1/completions", post(completions::completions))
        .route("/v1/responses", post(responses::create_response))
        .route("/v1/responses/{response_id}", get(responses::get_response).delete(responses::delete_response))
        .route("/v1/models", get(info::list_models))
        // A wildcard: hub ids have a slash (`GET /v1/models/openai/gpt-oss-20b`).
        .route("/v1/models/{*model}", get(info::get_model))
        .route("/tokenize", post(info::tokenize))
        .route("/detokenize", post(info::detokenize))
        .route("/metrics", get(info::metrics))
        .route("/openapi.json", get(openapi_json))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_api_key))
        .route("/health", get(info::health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), count_requests))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The OpenAPI document, with `model` restricted to the names this server answers to.
async fn openapi_json(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(openapi::document(&state.model_names()))
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(method.as_str(), uri.path())
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::method_not_allowed(method.as_str(), uri.path())
}

/// With an API key set, requires `Authorization: Bearer <key>`, compared in constant time.
async fn require_api_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(expected) = &state.api_key else {
        return next.run(request).await;
    };
    let provided = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .map(str::trim);
    match provided {
        Some(key) if constant_time_eq(key.as_bytes(), expected.as_bytes()) => next.run(request).await,
        other => ApiError::unauthorized(other).into_response(),
    }
}

/// Equal length and equal bytes, taking the same time whichever byte differs.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, &x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(!x));
    }
    diff == 0
}

async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let endpoint =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state.metrics.requests.with_label_values(&[endpoint.as_str(), response.status().as_str()]).inc();
    response
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn compares_keys() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }
}
