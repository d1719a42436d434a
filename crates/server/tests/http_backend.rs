//! How the HTTP layer handles the backend's own troubles, through hand-written [`Backend`]s: a refused
//! submission, an engine fault before and during a stream, and a client that goes away (the generation must
//! be dropped, which is how the engine learns to free the sequence).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{MODEL, tokenizer, user};
use gpt_oss_model::Tokenizer;
use gpt_oss_server::api::routes::router;
use gpt_oss_server::api::state::AppState;
use gpt_oss_server::engine::{
    Backend, FinishReason, GenerateRequest, GeneratedToken, Generation, Load, ModelInfo, SubmitError, TokenEvent, Usage,
};
use gpt_oss_server::metrics::Metrics;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower::ServiceExt;

/// What the test backend does with a submission.
#[derive(Clone)]
enum Behaviour {
    Refuse(SubmitError),
    /// Sends these tokens, then fails.
    FailAfter(Vec<u32>),
    /// Sends these tokens and keeps the generation open; the senders are kept to see when the server drops
    /// the generation.
    Hang(Vec<u32>),
}

struct TestBackend {
    info: ModelInfo,
    tokenizer: Tokenizer,
    behaviour: Behaviour,
    open: Mutex<Vec<mpsc::UnboundedSender<TokenEvent>>>,
}

impl Backend for TestBackend {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    fn submit(&self, request: GenerateRequest) -> Result<Generation, SubmitError> {
        let (tx, events) = mpsc::unbounded_channel();
        let token = |id| TokenEvent::Token(GeneratedToken { id, logprob: -1.0, top_logprobs: Vec::new() });
        match &self.behaviour {
            Behaviour::Refuse(error) => return Err(error.clone()),
            Behaviour::FailAfter(ids) => {
                ids.iter().for_each(|&id| tx.send(token(id)).unwrap());
                let usage =
                    Usage { prompt_tokens: request.prompt.len(), completion_tokens: ids.len(), cached_tokens: 0 };
                tx.send(TokenEvent::Finished { reason: FinishReason::Error("the GPU fell over".into()), usage })
                    .unwrap();
            }
            Behaviour::Hang(ids) => {
                ids.iter().for_each(|&id| tx.send(token(id)).unwrap());
                self.open.lock().unwrap().push(tx);
            }
        }
        Ok(Generation { events })
    }

    fn load(&self) -> Load {
        Load::default()
    }
}

fn app(behaviour: Behaviour) -> (axum::Router, Arc<TestBackend>) {
    let info = ModelInfo { id: MODEL.into(), context_length: common::CONTEXT, created: 0 };
    let backend =
        Arc::new(TestBackend { info, tokenizer: tokenizer().clone(), behaviour, open: Mutex::new(Vec::new()) });
    let state = AppState::new(backend.clone(), Arc::new(Metrics::new()), None);
    (router(state), backend)
}

fn chat_request(body: &Value) -> Request<Body> {
    Request::post("/v1/chat/completions")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn send(app: axum::Router, body: &Value) -> (StatusCode, String) {
    let response = app.oneshot(chat_request(body)).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn streaming(body: Value) -> Value {
    let mut body = body;
    body["stream"] = json!(true);
    body
}

#[tokio::test]
async fn a_full_queue_is_503_and_a_shutdown_too() {
    for error in [SubmitError::QueueFull { waiting: 3 }, SubmitError::ShuttingDown] {
        let (app, _) = app(Behaviour::Refuse(error.clone()));
        for body in [user("Hi"), streaming(user("Hi"))] {
            let (status, text) = send(app.clone(), &body).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{error:?}: {text}");
            let json: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(json["error"]["type"], "server_error");
            assert_eq!(json["error"]["code"], "server_overloaded");
            assert!(json["error"].as_object().unwrap().contains_key("param"));
        }
    }
}

#[tokio::test]
async fn an_engine_fault_is_a_500_before_the_stream_and_an_error_event_in_it() {
    let (app, _) = app(Behaviour::FailAfter(common::ids("<|channel|>final<|message|>Hel")));
    let (status, text) = send(app.clone(), &user("Hi")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["error"]["type"], "server_error");
    assert!(json["error"]["message"].as_str().unwrap().contains("the GPU fell over"));

    // Streaming: the status is already 200; the error comes as an event, and the stream closes.
    let (status, text) = send(app, &streaming(user("Hi"))).await;
    assert_eq!(status, StatusCode::OK);
    let events: Vec<&str> = text.split("\n\n").filter_map(|e| e.strip_prefix("data: ")).collect();
    assert!(events.len() >= 2, "{text}");
    let role: Value = serde_json::from_str(events[0]).unwrap();
    assert_eq!(role["choices"][0]["delta"]["role"], "assistant");
    let error = events.iter().find(|e| e.contains("\"error\"")).unwrap_or_else(|| panic!("no error event: {text}"));
    let error: Value = serde_json::from_str(error).unwrap();
    assert_eq!(error["error"]["type"], "server_error");
    assert!(error["error"]["message"].as_str().unwrap().contains("the GPU fell over"));
}

async fn wait_until_dropped(backend: &TestBackend) {
    let all_closed = || {
        let open = backend.open.lock().unwrap();
        !open.is_empty() && open.iter().all(|tx| tx.is_closed())
    };
    for _ in 0..200 {
        if all_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the server kept the generation after the client left");
}

#[tokio::test]
async fn a_stream_the_client_leaves_drops_its_generation() {
    let (app, backend) = app(Behaviour::Hang(common::ids("<|channel|>final<|message|>Hello")));
    let mut body = streaming(user("Hi"));
    body["n"] = json!(2);
    let response = app.oneshot(chat_request(&body)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let first = body.frame().await.expect("a first event").unwrap();
    let first = String::from_utf8(first.into_data().unwrap().to_vec()).unwrap();
    assert!(first.starts_with("data: "), "{first}");
    assert_eq!(backend.open.lock().unwrap().len(), 2);
    assert!(backend.open.lock().unwrap().iter().all(|tx| !tx.is_closed()), "generating while the client reads");
    drop(body);
    wait_until_dropped(&backend).await;
}

#[tokio::test]
async fn a_whole_response_the_client_leaves_drops_its_generation() {
    let (app, backend) = app(Behaviour::Hang(common::ids("<|channel|>final<|message|>Hello")));
    let pending = tokio::spawn(app.oneshot(chat_request(&user("Hi"))));
    for _ in 0..200 {
        if !backend.open.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!pending.is_finished(), "the response waits for the generation");
    pending.abort();
    wait_until_dropped(&backend).await;
}
