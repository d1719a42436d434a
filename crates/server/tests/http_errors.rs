//! Errors through the router: every one has the right status and OpenAI's error body, with the
//! `message`, `type`, `param` and `code` keys always present; none reaches the backend.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{CONTEXT, MODEL, Reply, Server, server, server_ids, user};
use gpt_oss_server::api::routes::MAX_BODY_BYTES;
use serde_json::{Value, json};

/// Checks the OpenAI error shape and returns `error`.
fn expect_error(reply: &Reply, status: StatusCode) -> Value {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert!(reply.content_type().starts_with("application/json"), "{}", reply.content_type());
    let body = reply.json();
    let error = body["error"].as_object().unwrap_or_else(|| panic!("no error object: {body}"));
    for key in ["message", "type", "param", "code"] {
        assert!(error.contains_key(key), "error.{key} missing: {body}");
    }
    assert_eq!(error.len(), 4, "{body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(error["type"].is_string(), "{body}");
    assert!(error["param"].is_string() || error["param"].is_null(), "{body}");
    assert!(error["code"].is_string() || error["code"].is_null(), "{body}");
    body["error"].clone()
}

fn quiet() -> Server {
    server(&["<|channel|>final<|message|>Hi<|return|>"])
}

async fn chat_error(server: &Server, body: &Value, status: StatusCode) -> Value {
    let reply = server.post("/v1/chat/completions", body).await;
    let error = expect_error(&reply, status);
    assert!(server.requests().is_empty(), "a refused request reached the backend");
    error
}

#[tokio::test]
async fn bodies_that_are_not_json() {
    let server = quiet();
    for body in ["{\"model\":", "", "not json", "{\"messages\": [{\"role\": \"user\",", "{\"model\": \"x\",}"] {
        let reply = server.post_raw("/v1/chat/completions", body.to_string()).await;
        let error = expect_error(&reply, StatusCode::BAD_REQUEST);
        assert_eq!(error["type"], "invalid_request_error");
        assert_eq!(error["code"], "invalid_json", "{body:?}: {error}");
    }
    // JSON, but not an object.
    let reply = server.post_raw("/v1/chat/completions", "[1, 2]").await;
    assert_eq!(expect_error(&reply, StatusCode::BAD_REQUEST)["code"], "invalid_type");
    // A JSON body without the JSON content type.
    let reply = server.send(Method::POST, "/v1/chat/completions", Body::from(user("Hi").to_string()), &[]).await;
    let error = expect_error(&reply, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "invalid_content_type");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn fields_of_the_wrong_type_name_the_field() {
    let server = quiet();
    let cases = [
        (json!({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "temperature": "hot"}), "temperature"),
        (json!({"model": MODEL, "messages": "Hi"}), "messages"),
        (json!({"model": 7, "messages": [{"role": "user", "content": "Hi"}]}), "model"),
        (json!({"model": MODEL, "messages": [{"role": "user", "content": 5}]}), "messages[0].content"),
        (json!({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "stream": "yes"}), "stream"),
    ];
    for (body, param) in cases {
        let error = chat_error(&server, &body, StatusCode::BAD_REQUEST).await;
        assert_eq!(error["param"], param, "{body}: {error}");
        assert_eq!(error["code"], "invalid_type", "{body}: {error}");
    }
    let error =
        chat_error(&server, &json!({"messages": [{"role": "user", "content": "Hi"}]}), StatusCode::BAD_REQUEST).await;
    assert_eq!(error["param"], "model");
    assert_eq!(error["code"], "missing_required_parameter");
    let mut body = user("Hi");
    body["messages"][0]["role"] = json!("robot");
    let error = chat_error(&server, &body, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["param"], "messages[0].role", "{error}");
}

#[tokio::test]
async fn unknown_fields_are_rejected() {
    let server = quiet();
    let mut body = user("Hi");
    body["temprature"] = json!(0.5);
    let error = chat_error(&server, &body, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["param"], "temprature");
    assert_eq!(error["code"], "unknown_parameter");
    assert_eq!(error["message"], "Unrecognized request argument supplied: temprature");

    let mut body = user("Hi");
    body["messages"][0]["colour"] = json!("red");
    let error = chat_error(&server, &body, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["param"], "messages[0].colour");
}

#[tokio::test]
async fn bad_values_are_400s() {
    let server = quiet();
    let with = |key: &str, value: Value| {
        let mut body = user("Hi");
        body[key] = value;
        body
    };
    let cases = [
        (with("temperature", json!(3)), "temperature"),
        (with("max_tokens", json!(0)), "max_tokens"),
        (with("n", json!(100)), "n"),
        (with("reasoning_effort", json!("extreme")), "reasoning_effort"),
        (with("reasoning", json!({"effort": "max"})), "reasoning.effort"),
        (with("tool_choice", json!("required")), "tool_choice"),
        (with("stream_options", json!({"include_usage": true})), "stream_options"),
        (with("stop", json!(["a", "b", "c", "d", "e"])), "stop"),
        (with("functions", json!([{"name": "f"}])), "functions"),
    ];
    for (body, param) in cases {
        let error = chat_error(&server, &body, StatusCode::BAD_REQUEST).await;
        assert_eq!(error["param"], param, "{body}: {error}");
        assert_eq!(error["type"], "invalid_request_error");
    }
}

#[tokio::test]
async fn an_unknown_model_is_404_model_not_found() {
    let server = quiet();
    let mut body = user("Hi");
    body["model"] = json!("gpt-5");
    let error = chat_error(&server, &body, StatusCode::NOT_FOUND).await;
    assert_eq!(error["code"], "model_not_found");
    assert_eq!(error["param"], "model");
    assert_eq!(error["type"], "invalid_request_error");
    assert!(error["message"].as_str().unwrap().contains("gpt-5"));
    // Streaming requests are refused before the stream starts.
    body["stream"] = json!(true);
    chat_error(&server, &body, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn empty_messages_are_400() {
    let server = quiet();
    let error = chat_error(&server, &json!({"model": MODEL, "messages": []}), StatusCode::BAD_REQUEST).await;
    assert_eq!(error["param"], "messages");
    assert_eq!(error["code"], "empty_array");
}

#[tokio::test]
async fn a_prompt_over_the_context_is_context_length_exceeded() {
    let server = quiet();
    let long = "lorem ipsum dolor ".repeat(CONTEXT);
    let error = chat_error(&server, &user(&long), StatusCode::BAD_REQUEST).await;
    assert_eq!(error["code"], "context_length_exceeded");
    assert_eq!(error["param"], "messages");
    assert!(error["message"].as_str().unwrap().contains(&format!("maximum context length is {CONTEXT} tokens")));
    // Streaming too: an error status, not a stream.
    let mut body = user(&long);
    body["stream"] = json!(true);
    let error = chat_error(&server, &body, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["code"], "context_length_exceeded");
}

#[tokio::test]
async fn max_tokens_beyond_the_context_is_context_length_exceeded() {
    let server = quiet();
    for key in ["max_tokens", "max_completion_tokens"] {
        let mut body = user("Hi");
        body[key] = json!(CONTEXT);
        let error = chat_error(&server, &body, StatusCode::BAD_REQUEST).await;
        assert_eq!(error["code"], "context_length_exceeded", "{key}");
        assert!(error["message"].as_str().unwrap().contains("in the completion"), "{error}");
    }
    let mut body = user("Hi");
    body["max_tokens"] = json!(u64::from(u32::MAX) + 1);
    let error = chat_error(&server, &body, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["param"], "max_tokens");
}

#[tokio::test]
async fn the_api_key_guards_every_route_but_health() {
    let server = server_ids(vec![common::ids("<|channel|>final<|message|>Hi<|return|>")], Some("sk-test-secret-key"));
    let chat = user("Hi").to_string();

    // No key.
    let reply = server.post("/v1/chat/completions", &user("Hi")).await;
    let error = expect_error(&reply, StatusCode::UNAUTHORIZED);
    assert_eq!(error["type"], "authentication_error");
    assert_eq!(error["code"], "invalid_api_key");
    for path in ["/v1/models", "/v1/models/gpt-oss-test", "/metrics", "/openapi.json"] {
        let reply = server.get(path).await;
        expect_error(&reply, StatusCode::UNAUTHORIZED);
    }
    let reply = server.post("/tokenize", &json!({"prompt": "x"})).await;
    expect_error(&reply, StatusCode::UNAUTHORIZED);

    // Wrong keys: another key, a prefix of it, another scheme.
    for auth in ["Bearer sk-test-wrong-key", "Bearer sk-test", "Basic c2stdGVzdA==", "sk-test-secret-key"] {
        let reply = server
            .send(
                Method::POST,
                "/v1/chat/completions",
                Body::from(chat.clone()),
                &[("content-type", "application/json"), ("authorization", auth)],
            )
            .await;
        let error = expect_error(&reply, StatusCode::UNAUTHORIZED);
        assert_eq!(error["code"], "invalid_api_key", "{auth}");
        assert!(!error["message"].as_str().unwrap().contains("sk-test-wrong-key"), "the key is masked");
    }
    assert!(server.requests().is_empty());

    // /health stays open.
    let reply = server.get("/health").await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    // The right key.
    let reply = server
        .send(
            Method::POST,
            "/v1/chat/completions",
            Body::from(chat),
            &[("content-type", "application/json"), ("authorization", "Bearer sk-test-secret-key")],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["choices"][0]["message"]["content"], "Hi");
    let reply =
        server.send(Method::GET, "/v1/models", Body::empty(), &[("authorization", "Bearer sk-test-secret-key")]);
    assert_eq!(reply.await.status, 200);
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_openai_errors() {
    let server = quiet();
    let reply = server.get("/v1/nope").await;
    let error = expect_error(&reply, StatusCode::NOT_FOUND);
    assert_eq!(error["message"], "Invalid URL (GET /v1/nope)");
    assert_eq!(error["type"], "invalid_request_error");
    let reply = server.post("/v1/completions/extra", &json!({})).await;
    expect_error(&reply, StatusCode::NOT_FOUND);

    let reply = server.get("/v1/chat/completions").await;
    let error405 = expect_error(&reply, StatusCode::METHOD_NOT_ALLOWED);
    assert!(error405["message"].as_str().unwrap().contains("GET /v1/chat/completions"), "{error405}");
    let reply = server.post("/v1/models", &json!({})).await;
    expect_error(&reply, StatusCode::METHOD_NOT_ALLOWED);
    let reply = server.send(Method::DELETE, "/health", Body::empty(), &[]).await;
    expect_error(&reply, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_body_over_16_mib_is_413() {
    let server = quiet();
    let padding = "x".repeat(MAX_BODY_BYTES);
    let body = json!({"model": MODEL, "messages": [{"role": "user", "content": padding}]}).to_string();
    assert!(body.len() > MAX_BODY_BYTES);
    let reply = server.post_raw("/v1/chat/completions", body.clone()).await;
    let error = expect_error(&reply, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error["type"], "invalid_request_error");
    // With a Content-Length header, as clients send it.
    let len = body.len().to_string();
    let reply = server
        .send(
            Method::POST,
            "/v1/chat/completions",
            Body::from(body),
            &[("content-type", "application/json"), ("content-length", &len)],
        )
        .await;
    expect_error(&reply, StatusCode::PAYLOAD_TOO_LARGE);
    let reply = server.post_raw("/tokenize", format!("{{\"prompt\": \"{padding}\"}}")).await;
    expect_error(&reply, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn tokenize_and_detokenize_errors() {
    let server = quiet();
    let cases = [
        (json!({}), "/tokenize", StatusCode::BAD_REQUEST),
        (json!({"prompt": "x", "messages": []}), "/tokenize", StatusCode::BAD_REQUEST),
        (json!({"prompt": "x", "model": "other"}), "/tokenize", StatusCode::NOT_FOUND),
        (json!({"prompt": "x", "extra": 1}), "/tokenize", StatusCode::BAD_REQUEST),
        (json!({"tokens": [999_999_999]}), "/detokenize", StatusCode::BAD_REQUEST),
        (json!({"tokens": [-1]}), "/detokenize", StatusCode::BAD_REQUEST),
        (json!({"tokens": "abc"}), "/detokenize", StatusCode::BAD_REQUEST),
        (json!({"tokens": [1], "model": "other"}), "/detokenize", StatusCode::NOT_FOUND),
    ];
    for (body, path, status) in cases {
        let reply = server.post(path, &body).await;
        expect_error(&reply, status);
    }
}
