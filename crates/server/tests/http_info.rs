//! The endpoints that generate nothing: models, health, metrics, the OpenAPI document, tokenize and
//! detokenize.

mod common;

use axum::http::StatusCode;
use common::{CONTEXT, MODEL, server, server_with, tokenizer};
use gpt_oss_server::engine::ModelInfo;
use serde_json::{Value, json};

fn quiet() -> common::Server {
    server(&["<|channel|>final<|message|>Hi<|return|>"])
}

#[tokio::test]
async fn models_lists_the_served_model() {
    let server = quiet();
    let reply = server.get("/v1/models").await;
    assert_eq!(reply.status, 200);
    let list = reply.json();
    assert_eq!(list["object"], "list");
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["id"], MODEL);
    assert_eq!(data[0]["object"], "model");
    assert_eq!(data[0]["created"], 0);
    assert!(data[0]["owned_by"].is_string());
    assert_eq!(data[0]["max_model_len"], CONTEXT);

    let reply = server.get(&format!("/v1/models/{MODEL}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json(), data[0]);

    let reply = server.get("/v1/models/gpt-4o").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let error = &reply.json()["error"];
    assert_eq!(error["code"], "model_not_found");
    assert_eq!(error["param"], "model");
}

#[tokio::test]
async fn health_reports_the_model_and_load() {
    let server = quiet();
    let reply = server.get("/health").await;
    assert_eq!(reply.status, 200);
    let health = reply.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["model"], MODEL);
    for key in ["running", "waiting", "kv_cache_bytes"] {
        assert_eq!(health[key], 0, "{key}: {health}");
    }
}

#[tokio::test]
async fn metrics_count_requests_by_endpoint_and_status() {
    let server = quiet();
    assert_eq!(server.get("/health").await.status, 200);
    assert_eq!(server.get("/health").await.status, 200);
    let chat = json!({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]});
    assert_eq!(server.post("/v1/chat/completions", &chat).await.status, 200);
    assert_eq!(server.get("/v1/models/unknown").await.status, 404);
    assert_eq!(server.get("/nowhere").await.status, 404);

    let reply = server.get("/metrics").await;
    assert_eq!(reply.status, 200);
    assert!(reply.content_type().starts_with("text/plain"), "{}", reply.content_type());
    let text = reply.text();
    assert!(text.contains("# TYPE gpt_oss_requests_total counter"), "{text}");
    assert!(text.contains("gpt_oss_requests_total{endpoint=\"/health\",status=\"200\"} 2"), "{text}");
    assert!(text.contains("gpt_oss_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("gpt_oss_requests_total{endpoint=\"/v1/models/{*model}\",status=\"404\"} 1"), "{text}");
    assert!(text.contains("status=\"404\"} 1"), "{text}");
    for name in ["gpt_oss_running_sequences", "gpt_oss_waiting_requests", "gpt_oss_kv_cache_bytes"] {
        assert!(text.contains(name), "{name}: {text}");
    }
}

#[tokio::test]
async fn openapi_describes_the_endpoints() {
    let server = quiet();
    let reply = server.get("/openapi.json").await;
    assert_eq!(reply.status, 200);
    assert!(reply.content_type().starts_with("application/json"));
    let doc = reply.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().unwrap();
    for path in ["/v1/chat/completions", "/v1/models", "/v1/models/{model}", "/tokenize", "/detokenize", "/health"] {
        assert!(paths.contains_key(path), "{path} missing: {:?}", paths.keys().collect::<Vec<_>>());
    }
    assert!(paths["/v1/chat/completions"]["post"].is_object());
    assert!(paths["/v1/models"]["get"].is_object());
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in ["ChatCompletionRequest", "ChatCompletion", "ErrorResponse"] {
        assert!(schemas.contains_key(schema), "{schema} missing");
    }
}

#[tokio::test]
async fn tokenize_and_detokenize_round_trip() {
    let server = quiet();
    let text = "Hello, world! Ünïcödé and <|end|> as text.";
    let reply = server.post("/tokenize", &json!({"model": MODEL, "prompt": text})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    let tokens: Vec<u32> = serde_json::from_value(json["tokens"].clone()).unwrap();
    assert_eq!(tokens, tokenizer().encode(text, false));
    assert_eq!(json["count"], tokens.len());
    assert_eq!(json["max_model_len"], CONTEXT);
    assert!(tokens.iter().all(|&id| !tokenizer().is_special(id)), "prompt text never becomes special tokens");

    let reply = server.post("/detokenize", &json!({"model": MODEL, "tokens": tokens})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json(), json!({"prompt": text}));

    let reply = server.post("/detokenize", &json!({"tokens": []})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["prompt"], "");
    let reply = server.post("/tokenize", &json!({"prompt": ""})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["tokens"], Value::Array(Vec::new()));
}

#[tokio::test]
async fn a_hub_model_id_is_found_whole_and_by_its_short_name() {
    let info = ModelInfo { id: "openai/gpt-oss-test".into(), context_length: CONTEXT, created: 7 };
    let server = server_with(info, vec![common::ids("<|channel|>final<|message|>Hi<|return|>")], None);
    for path in ["/v1/models/openai/gpt-oss-test", "/v1/models/gpt-oss-test"] {
        let reply = server.get(path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        assert_eq!(reply.json()["id"], "openai/gpt-oss-test");
        assert_eq!(reply.json()["created"], 7);
    }
    for path in ["/v1/models/openai/other", "/v1/models/other/gpt-oss-test/x"] {
        let reply = server.get(path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.json()["error"]["code"], "model_not_found", "{path}");
    }
    for model in ["openai/gpt-oss-test", "gpt-oss-test"] {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "Hi"}]});
        let response = server.chat(body).await;
        assert_eq!(response["model"], "openai/gpt-oss-test");
    }
}
