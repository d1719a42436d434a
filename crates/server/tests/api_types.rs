//! The OpenAI request/response types: parsing through axum's `Json`
//! extractor and `from_json_rejection`, validation, and serialization
//! against OpenAI's documented JSON.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use axum::Json;
use axum::body::Body;
use axum::extract::FromRequest;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use gpt_oss_model::harmony::ReasoningEffort;
use gpt_oss_server::api::types::chat::{ChatCompletionChunkObject, ChatCompletionObject, ToolType};
use gpt_oss_server::api::types::common::PromptTokensDetails;
use gpt_oss_server::api::types::completions::TextCompletionObject;
use gpt_oss_server::api::types::*;
use gpt_oss_server::error::{ApiError, from_json_rejection};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Polls a future that completes without waiting (in-memory bodies).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("future did not complete");
}

fn parse<T: DeserializeOwned>(body: &str) -> Result<T, ApiError> {
    Json::<T>::from_bytes(body.as_bytes()).map(|Json(v)| v).map_err(from_json_rejection)
}

fn chat_str(body: &str) -> Result<ValidChat, ApiError> {
    parse::<ChatCompletionRequest>(body)?.validate(&Limits::default())
}

fn chat(body: Value) -> Result<ValidChat, ApiError> {
    chat_str(&body.to_string())
}

fn completion(body: Value) -> Result<ValidCompletion, ApiError> {
    parse::<CompletionRequest>(&body.to_string())?.validate(&Limits::default())
}

fn tokenize(body: Value) -> Result<ValidTokenize, ApiError> {
    parse::<TokenizeRequest>(&body.to_string())?.validate(&Limits::default())
}

fn detokenize(body: Value) -> Result<ValidDetokenize, ApiError> {
    parse::<DetokenizeRequest>(&body.to_string())?.validate()
}

/// A minimal valid chat body with `patch` merged in (`null` removes a key).
fn with(patch: Value) -> Value {
    let mut body = json!({"model": "gpt-oss-20b", "messages": [{"role": "user", "content": "Hi"}]});
    merge(&mut body, patch);
    body
}

fn merge(body: &mut Value, patch: Value) {
    if let (Some(map), Value::Object(patch)) = (body.as_object_mut(), patch) {
        for (k, v) in patch {
            if v.is_null() {
                map.remove(&k);
            } else {
                map.insert(k, v);
            }
        }
    }
}

/// A body with one message.
fn with_message(message: Value) -> Value {
    with(json!({"messages": [message]}))
}

/// Checks an error: 400 `invalid_request_error`, `param`, and a message
/// containing every fragment.
#[track_caller]
fn check_400(result: Result<impl std::fmt::Debug, ApiError>, param: Option<&str>, fragments: &[&str]) {
    let err = result.expect_err("expected a 400");
    assert_eq!(err.status(), StatusCode::BAD_REQUEST, "status of {err}");
    assert_eq!(err.kind(), "invalid_request_error", "type of {err}");
    assert_eq!(err.param(), param, "param of {err}");
    for fragment in fragments {
        assert!(err.message().contains(fragment), "message {:?} lacks {fragment:?}", err.message());
    }
}

/// Serializes through text so f32 values compare as written.
fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::from_str(&serde_json::to_string(value).expect("serialize")).expect("reparse")
}

// ---------------------------------------------------------------------------
// Valid requests
// ---------------------------------------------------------------------------

/// What the OpenAI Python SDK sends for a tool-using, streamed conversation.
fn sdk_request() -> Value {
    json!({
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in English."}]},
            {"role": "user", "content": [{"type": "text", "text": "Weather in"}, {"type": "text", "text": "Paris?"}]},
            {
                "role": "assistant",
                "content": null,
                "reasoning_content": "Need the weather tool.",
                "tool_calls": [{
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}
                }]
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18C, sunny"},
            {"role": "user", "content": "Thanks. And tomorrow?", "name": "ann"}
        ],
        "model": "gpt-oss-20b",
        "frequency_penalty": 0.5,
        "logit_bias": {"50256": -100, "12": 5.5},
        "logprobs": true,
        "max_completion_tokens": 512,
        "metadata": {"session": "x"},
        "n": 2,
        "parallel_tool_calls": false,
        "presence_penalty": -0.25,
        "reasoning_effort": "high",
        "response_format": {"type": "text"},
        "seed": 42,
        "service_tier": "auto",
        "stop": ["\n\n", "END"],
        "store": false,
        "stream": true,
        "stream_options": {"include_usage": true},
        "temperature": 0.7,
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "tools": [{
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                "strict": true
            }
        }],
        "top_logprobs": 3,
        "top_p": 0.9,
        "user": "user-1234"
    })
}

#[test]
fn sdk_chat_request_round_trips_and_validates() {
    let body = sdk_request();
    let request: ChatCompletionRequest = parse(&body.to_string()).expect("parses");
    let serialized = to_json(&request);
    let again: ChatCompletionRequest = parse(&serialized.to_string()).expect("reparses");
    assert_eq!(again, request, "serializing and parsing again gives the same request");
    for key in ["tools", "tool_choice", "stop", "stream_options", "response_format", "metadata", "seed", "temperature"]
    {
        assert_eq!(serialized[key], body[key], "{key} serializes as sent");
    }
    assert_eq!(serialized["messages"][2], body["messages"][2]);
    let valid = request.validate(&Limits::default()).expect("valid");
    assert_eq!(valid.model, "gpt-oss-20b");
    assert_eq!(valid.messages.len(), 6);
    assert_eq!(valid.messages[0], ValidMessage::System { content: "You are terse.".into(), name: None });
    assert_eq!(valid.messages[1], ValidMessage::Developer { content: "Answer in English.".into(), name: None });
    assert_eq!(valid.messages[2], ValidMessage::User { content: "Weather in\nParis?".into(), name: None });
    assert_eq!(
        valid.messages[3],
        ValidMessage::Assistant {
            content: None,
            reasoning: Some("Need the weather tool.".into()),
            tool_calls: vec![ValidToolCall {
                id: "call_1".into(),
                name: "get_weather".into(),
                arguments: "{\"city\":\"Paris\"}".into()
            }],
            refusal: None,
            name: None,
        }
    );
    assert_eq!(
        valid.messages[4],
        ValidMessage::Tool { tool_call_id: "call_1".into(), name: "get_weather".into(), content: "18C, sunny".into() }
    );
    assert_eq!(
        valid.messages[5],
        ValidMessage::User { content: "Thanks. And tomorrow?".into(), name: Some("ann".into()) }
    );
    assert_eq!(valid.tools.len(), 1);
    assert_eq!(valid.tools[0].name, "get_weather");
    assert!(valid.tools[0].strict);
    assert_eq!(valid.tools[0].to_harmony().description, "Current weather");
    assert_eq!(valid.tool_choice, ToolUse::Named("get_weather".into()));
    assert!(!valid.parallel_tool_calls);
    assert_eq!(valid.response_format, OutputFormat::Text);
    assert_eq!(valid.effort, ReasoningEffort::High);
    assert_eq!(valid.max_tokens, Some(512));
    assert_eq!(valid.stop, vec!["\n\n".to_string(), "END".to_string()]);
    assert_eq!(valid.n, 2);
    assert!(valid.stream);
    assert!(valid.include_usage);
    assert_eq!(valid.logit_bias, vec![(12, 5.5), (50256, -100.0)]);
    assert_eq!(valid.user.as_deref(), Some("user-1234"));
    let s = &valid.sampling;
    assert_eq!((s.temperature, s.top_p, s.top_k, s.min_p), (0.7, 0.9, None, 0.0));
    assert_eq!((s.presence_penalty, s.frequency_penalty), (-0.25, 0.5));
    assert_eq!((s.seed, s.logprobs, s.top_logprobs), (Some(42), true, 3));
}

#[test]
fn minimal_chat_gets_defaults() {
    let valid = chat(with(json!({}))).expect("valid");
    assert_eq!(valid.effort, ReasoningEffort::Medium);
    assert_eq!(valid.tool_choice, ToolUse::None);
    assert!(valid.parallel_tool_calls);
    assert_eq!(valid.n, 1);
    assert_eq!(valid.max_tokens, None);
    assert!(!valid.stream && !valid.include_usage);
    assert!(valid.stop.is_empty() && valid.tools.is_empty() && valid.logit_bias.is_empty());
    assert_eq!(valid.sampling, gpt_oss_model::SamplingParams::default());
}

#[test]
fn nulls_mean_absent() {
    let body = with(json!({}));
    let mut body = body;
    for key in ["temperature", "top_p", "n", "stream", "stop", "seed", "max_tokens", "tools", "tool_choice", "user"] {
        body[key] = Value::Null;
    }
    body["functions"] = Value::Null;
    body["messages"] = json!([{"role": "user", "content": "x", "audio": null, "function_call": null}]);
    let valid = chat(body).expect("nulls are accepted");
    assert_eq!(valid.n, 1);
}

#[test]
fn effort_sources_and_precedence() {
    let effort = |patch: Value| chat(with(patch)).expect("valid").effort;
    assert_eq!(effort(json!({"reasoning_effort": "low"})), ReasoningEffort::Low);
    assert_eq!(effort(json!({"reasoning_effort": "minimal"})), ReasoningEffort::Low);
    assert_eq!(effort(json!({"reasoning": {"effort": "high"}})), ReasoningEffort::High);
    assert_eq!(
        effort(json!({"chat_template_kwargs": {"reasoning_effort": "low", "enable_thinking": true}})),
        ReasoningEffort::Low
    );
    assert_eq!(effort(json!({"reasoning_effort": "high", "reasoning": {"effort": "low"}})), ReasoningEffort::High);
    assert_eq!(
        effort(
            json!({"reasoning": {"effort": "high", "summary": "auto"}, "chat_template_kwargs": {"reasoning_effort": "low"}})
        ),
        ReasoningEffort::High
    );
}

#[test]
fn max_tokens_precedence() {
    let max = |patch: Value| chat(with(patch)).expect("valid").max_tokens;
    assert_eq!(max(json!({"max_tokens": 10})), Some(10));
    assert_eq!(max(json!({"max_completion_tokens": 20, "max_tokens": 10})), Some(20));
}

#[test]
fn assistant_reasoning_fields() {
    let reasoning = |message: Value| match chat(with(json!({"messages": [message, {"role": "user", "content": "go"}]})))
        .expect("valid")
        .messages
        .remove(0)
    {
        ValidMessage::Assistant { reasoning, content, .. } => (reasoning, content),
        other => panic!("not an assistant message: {other:?}"),
    };
    assert_eq!(reasoning(json!({"role": "assistant", "content": "a", "reasoning": "r"})).0.as_deref(), Some("r"));
    assert_eq!(reasoning(json!({"role": "assistant", "content": "a", "thinking": "t"})).0.as_deref(), Some("t"));
    assert_eq!(
        reasoning(
            json!({"role": "assistant", "content": "a", "reasoning_content": "", "reasoning": "r", "thinking": "t"})
        )
        .0
        .as_deref(),
        Some("r")
    );
    assert_eq!(
        reasoning(json!({"role": "assistant", "content": "a", "reasoning_content": "rc", "reasoning": "r"}))
            .0
            .as_deref(),
        Some("rc")
    );
    assert_eq!(reasoning(json!({"role": "assistant", "content": ""})), (None, None));
    let parts = json!({"role": "assistant", "content": [{"type": "text", "text": "x"}, {"type": "refusal", "refusal": "no"}], "refusal": null, "annotations": []});
    assert_eq!(reasoning(parts).1.as_deref(), Some("x"));
}

#[test]
fn tool_messages_take_name_from_call_or_field() {
    let body = with(json!({"messages": [{"role": "tool", "tool_call_id": "c9", "name": "lookup", "content": "1"}]}));
    let valid = chat(body).expect("name given");
    assert_eq!(
        valid.messages[0],
        ValidMessage::Tool { tool_call_id: "c9".into(), name: "lookup".into(), content: "1".into() }
    );
    let history = json!({"messages": [
        {"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": {"a": 1}}, "index": 0}]},
        {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "ok"}]}
    ]});
    let valid = chat(with(history)).expect("name from call; object arguments and `index` accepted");
    assert_eq!(
        valid.messages[1],
        ValidMessage::Tool { tool_call_id: "c1".into(), name: "f".into(), content: "ok".into() }
    );
    match &valid.messages[0] {
        ValidMessage::Assistant { tool_calls, .. } => assert_eq!(tool_calls[0].arguments, "{\"a\":1}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tools_and_choices() {
    let tool = json!({"type": "function", "function": {"name": "f-1_x"}});
    let valid = chat(with(json!({"tools": [tool]}))).expect("valid");
    assert_eq!(valid.tool_choice, ToolUse::Auto);
    assert_eq!(valid.tools[0].parameters, None);
    let valid = chat(with(json!({"tools": [tool], "tool_choice": "required"}))).expect("valid");
    assert_eq!(valid.tool_choice, ToolUse::Required);
    let valid = chat(with(json!({"tools": [tool], "tool_choice": "none"}))).expect("valid");
    assert_eq!(valid.tool_choice, ToolUse::None);
    let valid = chat(with(json!({"tools": [], "tool_choice": "auto"}))).expect("empty tools are no tools");
    assert_eq!(valid.tool_choice, ToolUse::None);
}

#[test]
fn response_formats() {
    let format = |f: Value| chat(with(json!({"response_format": f}))).expect("valid").response_format;
    assert_eq!(format(json!({"type": "json_object"})), OutputFormat::JsonObject);
    let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}}});
    let f = format(json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": true}}));
    assert_eq!(
        f,
        OutputFormat::JsonSchema {
            name: "answer".into(),
            description: None,
            schema: Some(schema.clone()),
            strict: true
        }
    );
    let harmony = f.to_harmony().expect("schema format");
    assert_eq!((harmony.name.as_str(), &harmony.schema), ("answer", &schema));
}

#[test]
fn sampling_extensions() {
    let s = |patch: Value| chat(with(patch)).expect("valid").sampling;
    assert_eq!(s(json!({"top_k": -1})).top_k, None);
    assert_eq!(s(json!({"top_k": 0})).top_k, None);
    assert_eq!(s(json!({"top_k": 40})).top_k, Some(40));
    assert_eq!(s(json!({"min_p": 0.05})).min_p, 0.05);
    assert_eq!(s(json!({"repetition_penalty": 1.0})), gpt_oss_model::SamplingParams::default());
    assert_eq!(s(json!({"seed": u64::MAX})).seed, Some(u64::MAX));
    assert_eq!(s(json!({"seed": -1})).seed, Some(u64::MAX));
    assert_eq!(s(json!({"temperature": 0})).temperature, 0.0);
    assert_eq!(s(json!({"temperature": 2})).temperature, 2.0);
}

#[test]
fn completions_prompt_shapes() {
    let prompt = |p: Value| completion(json!({"model": "m", "prompt": p})).expect("valid").prompt;
    assert_eq!(prompt(json!("hello")), PromptInput::Text("hello".into()));
    assert_eq!(prompt(json!(["hello"])), PromptInput::Text("hello".into()));
    assert_eq!(prompt(json!([1, 2, 3])), PromptInput::Tokens(vec![1, 2, 3]));
    assert_eq!(prompt(json!([[7, 8]])), PromptInput::Tokens(vec![7, 8]));
    let valid = completion(json!({"model": "m", "prompt": "x"})).expect("valid");
    assert_eq!(valid.max_tokens, 16);
    assert_eq!(valid.logprobs, None);
    assert!(!valid.echo);
    let valid = completion(json!({
        "model": "m", "prompt": "x", "max_tokens": 5, "logprobs": 2, "echo": true, "n": 2, "best_of": 2,
        "stream": true, "stream_options": {"include_usage": true}, "stop": "\n", "seed": 3, "top_k": 5,
        "min_p": 0.1, "user": "u", "suffix": null, "logit_bias": {"1": 1}
    }))
    .expect("valid");
    assert_eq!((valid.max_tokens, valid.logprobs, valid.echo, valid.n), (5, Some(2), true, 2));
    assert!(valid.sampling.logprobs);
    assert_eq!(valid.sampling.top_logprobs, 2);
    assert!(valid.stream && valid.include_usage);
    assert_eq!(valid.stop, vec!["\n".to_string()]);
    assert_eq!(valid.logit_bias, vec![(1, 1.0)]);
    let zero = completion(json!({"model": "m", "prompt": "x", "logprobs": 0})).expect("valid");
    assert_eq!(zero.logprobs, Some(0));
    assert!(zero.sampling.logprobs);
}

#[test]
fn tokenize_shapes() {
    assert_eq!(
        tokenize(json!({"prompt": "hi"})).expect("valid"),
        ValidTokenize::Prompt { model: None, prompt: "hi".into(), add_special_tokens: true }
    );
    match tokenize(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "low"}))
        .expect("valid")
    {
        ValidTokenize::Chat { model, messages, add_generation_prompt, effort, tools } => {
            assert_eq!(model.as_deref(), Some("m"));
            assert_eq!(messages.len(), 1);
            assert!(add_generation_prompt);
            assert_eq!(effort, ReasoningEffort::Low);
            assert!(tools.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(detokenize(json!({"tokens": [1, 2]})).expect("valid").tokens, vec![1, 2]);
}

// ---------------------------------------------------------------------------
// Malformed requests: status, type, param and message
// ---------------------------------------------------------------------------

#[test]
fn chat_rejects_malformed_top_level() {
    check_400(chat(json!({"messages": []})), Some("model"), &["Missing required parameter: 'model'."]);
    check_400(chat(json!({"model": "m"})), Some("messages"), &["Missing required parameter: 'messages'."]);
    check_400(chat(with(json!({"messages": []}))), Some("messages"), &["empty array", "minimum length 1"]);
    check_400(
        chat(with(json!({"messages": "hi"}))),
        Some("messages"),
        &["Invalid type for 'messages': expected an array, but got a string instead."],
    );
    check_400(
        chat(with(json!({"model": 5}))),
        Some("model"),
        &["Invalid type for 'model': expected a string, but got an integer instead."],
    );
    check_400(chat(with(json!({"foo": 1}))), Some("foo"), &["Unrecognized request argument supplied: foo"]);
    check_400(chat(with(json!({"functions": [{"name": "f"}]}))), Some("functions"), &["'functions' is deprecated"]);
    check_400(chat(with(json!({"function_call": "auto"}))), Some("function_call"), &["tool_choice"]);
    check_400(chat(with(json!({"audio": {"voice": "x"}}))), Some("audio"), &["text only"]);
    check_400(chat(with(json!({"modalities": ["text", "audio"]}))), Some("modalities"), &["'audio'"]);
    check_400(
        chat(with(json!({"metadata": 1, "bar": true}))),
        Some("bar"),
        &["Unrecognized request argument supplied: bar"],
    );
}

#[test]
fn chat_rejects_bad_numbers() {
    check_400(
        chat(with(json!({"temperature": "hot"}))),
        Some("temperature"),
        &["Invalid type for 'temperature': expected a number, but got a string instead."],
    );
    check_400(
        chat(with(json!({"temperature": 3}))),
        Some("temperature"),
        &["Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead."],
    );
    check_400(chat(with(json!({"temperature": -0.5}))), Some("temperature"), &["below minimum value", "-0.5"]);
    check_400(chat(with(json!({"top_p": 0}))), Some("top_p"), &["Expected a value > 0"]);
    check_400(chat(with(json!({"top_p": 1.5}))), Some("top_p"), &["above maximum value"]);
    check_400(chat(with(json!({"presence_penalty": 2.5}))), Some("presence_penalty"), &["<= 2"]);
    check_400(chat(with(json!({"frequency_penalty": -3}))), Some("frequency_penalty"), &[">= -2"]);
    check_400(
        chat(with(json!({"max_tokens": 0}))),
        Some("max_tokens"),
        &["Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead."],
    );
    check_400(chat(with(json!({"max_tokens": -5}))), Some("max_tokens"), &["-5"]);
    check_400(
        chat(with(json!({"max_tokens": 1.5}))),
        Some("max_tokens"),
        &["Invalid type for 'max_tokens': expected an integer, but got a decimal number instead."],
    );
    check_400(
        chat(with(json!({"max_completion_tokens": "100"}))),
        Some("max_completion_tokens"),
        &["expected an integer"],
    );
    check_400(chat(with(json!({"max_completion_tokens": 0}))), Some("max_completion_tokens"), &[">= 1"]);
    check_400(chat(with(json!({"n": 0}))), Some("n"), &["Expected a value >= 1"]);
    check_400(chat(with(json!({"n": 9}))), Some("n"), &["Expected a value <= 8, but got 9"]);
    check_400(chat(with(json!({"top_logprobs": 3}))), Some("top_logprobs"), &["'logprobs' must be set to true"]);
    check_400(chat(with(json!({"top_logprobs": 21, "logprobs": true}))), Some("top_logprobs"), &["<= 20"]);
    check_400(chat(with(json!({"logprobs": "yes"}))), Some("logprobs"), &["expected a boolean, but got a string"]);
    check_400(chat(with(json!({"seed": "abc"}))), Some("seed"), &["Invalid type for 'seed': expected an integer"]);
    check_400(chat(with(json!({"seed": 1.5}))), Some("seed"), &["but got a decimal number instead"]);
    check_400(chat(with(json!({"top_k": -2}))), Some("top_k"), &["Expected a value >= -1"]);
    check_400(chat(with(json!({"min_p": 1.5}))), Some("min_p"), &["<= 1"]);
    check_400(chat(with(json!({"repetition_penalty": 1.2}))), Some("repetition_penalty"), &["presence_penalty"]);
    check_400(
        chat_str(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1e309}"#),
        Some("temperature"),
        &["Invalid 'temperature': number out of range"],
    );
    check_400(chat(with(json!({"stream": "true"}))), Some("stream"), &["expected a boolean, but got a string"]);
}

#[test]
fn chat_rejects_bad_stream_stop_and_bias() {
    check_400(
        chat(with(json!({"stream_options": {"include_usage": true}}))),
        Some("stream_options"),
        &["The 'stream_options' parameter is only allowed when 'stream' is enabled."],
    );
    check_400(
        chat(with(json!({"stream": false, "stream_options": {"include_usage": true}}))),
        Some("stream_options"),
        &["only allowed when 'stream' is enabled"],
    );
    check_400(
        chat(with(json!({"stream": true, "stream_options": {"foo": 1}}))),
        Some("stream_options.foo"),
        &["Unrecognized request argument supplied: stream_options.foo"],
    );
    check_400(
        chat(with(json!({"stop": ["a", "b", "c", "d", "e"]}))),
        Some("stop"),
        &["array too long", "maximum length 4", "length 5"],
    );
    check_400(chat(with(json!({"stop": ""}))), Some("stop"), &["empty string"]);
    check_400(chat(with(json!({"stop": ["a", ""]}))), Some("stop[1]"), &["Invalid 'stop[1]': empty string"]);
    check_400(
        chat(with(json!({"stop": 42}))),
        Some("stop"),
        &["Invalid type for 'stop': expected a string or an array of strings, but got an integer instead."],
    );
    check_400(chat(with(json!({"stop": ["a", 1]}))), Some("stop[1]"), &["expected a string, but got an integer"]);
    check_400(
        chat(with(json!({"logit_bias": {"abc": 1}}))),
        Some("logit_bias"),
        &["Invalid key in 'logit_bias': 'abc'"],
    );
    check_400(chat(with(json!({"logit_bias": {"5": 101}}))), Some("logit_bias.5"), &["<= 100"]);
    check_400(
        chat(with(json!({"logit_bias": {"5": "x"}}))),
        Some("logit_bias.5"),
        &["Invalid type for 'logit_bias.5': expected a number"],
    );
    check_400(chat(with(json!({"logit_bias": [1]}))), Some("logit_bias"), &["expected an object, but got an array"]);
}

#[test]
fn chat_rejects_bad_messages() {
    check_400(
        chat(with_message(json!({"role": "function", "name": "f", "content": "x"}))),
        Some("messages[0].role"),
        &["'function' role is deprecated", "'tool'"],
    );
    check_400(
        chat(with_message(json!({"role": "robot", "content": "x"}))),
        Some("messages[0].role"),
        &[
            "Invalid value: 'robot'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool', and 'function'.",
        ],
    );
    check_400(
        chat(with_message(json!({"content": "x"}))),
        Some("messages[0].role"),
        &["Missing required parameter: 'messages[0].role'."],
    );
    check_400(
        chat(with_message(json!({"role": "user"}))),
        Some("messages[0].content"),
        &["Missing required parameter: 'messages[0].content'."],
    );
    check_400(
        chat(with_message(json!({"role": "system", "content": null}))),
        Some("messages[0].content"),
        &["Missing"],
    );
    check_400(
        chat(with_message(json!({"role": "user", "content": 42}))),
        Some("messages[0].content"),
        &[
            "Invalid type for 'messages[0].content': expected a string or an array of content parts, but got an integer instead.",
        ],
    );
    check_400(
        chat(with_message(json!({"role": "user", "content": [
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
        ]}))),
        Some("messages[0].content[1].type"),
        &["gpt-oss accepts text only", "'image_url'"],
    );
    check_400(
        chat(with_message(
            json!({"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}]}),
        )),
        Some("messages[0].content[0].type"),
        &["text only", "'input_audio'"],
    );
    check_400(
        chat(with_message(json!({"role": "user", "content": [{"type": "file", "file": {"file_id": "f"}}]}))),
        Some("messages[0].content[0].type"),
        &["'file'"],
    );
    check_400(
        chat(with_message(json!({"role": "user", "content": [{"type": "video"}]}))),
        Some("messages[0].content[0].type"),
        &["Invalid value: 'video'. Supported values are: 'text', 'refusal', 'image_url', 'input_audio', and 'file'."],
    );
    check_400(
        chat(with_message(json!({"role": "user", "content": [{"type": "text"}]}))),
        Some("messages[0].content[0].text"),
        &["Missing required parameter: 'messages[0].content[0].text'."],
    );
    check_400(
        chat(with_message(json!({"role": "user", "content": [{"type": "text", "text": 5}]}))),
        Some("messages[0].content[0].text"),
        &["expected a string, but got an integer"],
    );
    check_400(
        chat(with_message(json!({"role": "user", "content": [{"type": "text", "text": "a", "foo": 1}]}))),
        Some("messages[0].content[0].foo"),
        &["Unrecognized request argument supplied: messages[0].content[0].foo"],
    );
    check_400(
        chat(with_message(json!({"role": "user", "content": [{"type": "refusal", "refusal": "no"}]}))),
        Some("messages[0].content[0].type"),
        &["only allowed in assistant messages"],
    );
    check_400(
        chat(with_message(json!({"role": "tool", "content": "x"}))),
        Some("messages[0].tool_call_id"),
        &["Missing required parameter: 'messages[0].tool_call_id'."],
    );
    check_400(
        chat(with_message(json!({"role": "tool", "tool_call_id": "nope", "content": "x"}))),
        Some("messages[0].tool_call_id"),
        &["must be a response to a preceding message with 'tool_calls'", "'nope'"],
    );
    check_400(
        chat(with_message(
            json!({"role": "user", "content": "x", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}),
        )),
        Some("messages[0].tool_calls"),
        &["only allowed in messages with role 'assistant'"],
    );
    check_400(
        chat(with_message(json!({"role": "user", "content": "x", "foo": 1}))),
        Some("messages[0].foo"),
        &["Unrecognized request argument supplied: messages[0].foo"],
    );
    check_400(
        chat(with_message(json!({"role": "user", "content": "x", "audio": {"id": "a"}}))),
        Some("messages[0].audio"),
        &["text only"],
    );
    check_400(
        chat(with_message(json!({"role": "user", "content": "x", "name": 5}))),
        Some("messages[0].name"),
        &["Invalid type for 'messages[0].name': expected a string, but got an integer instead."],
    );
    check_400(
        chat(with_message(
            json!({"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]}),
        )),
        Some("messages[0].tool_calls[0].id"),
        &["Missing required parameter: 'messages[0].tool_calls[0].id'."],
    );
    check_400(
        chat(with_message(
            json!({"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": 5}}]}),
        )),
        Some("messages[0].tool_calls[0].function.arguments"),
        &["expected a string (the arguments as JSON text), but got an integer instead"],
    );
    check_400(
        chat(with_message(
            json!({"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}, "extra": 1}]}),
        )),
        Some("messages[0].tool_calls[0].extra"),
        &["Unrecognized request argument supplied: messages[0].tool_calls[0].extra"],
    );
    check_400(
        chat(with(json!({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": ["x"]}]}))),
        Some("messages[1].content[0]"),
        &["Invalid type for 'messages[1].content[0]': expected an object, but got a string instead."],
    );
}

#[test]
fn chat_rejects_bad_tools() {
    let tools = |tools: Value| chat(with(json!({"tools": tools})));
    check_400(
        tools(json!([{"type": "function", "function": {"name": ""}}])),
        Some("tools[0].function.name"),
        &["Invalid 'tools[0].function.name': empty string."],
    );
    check_400(
        tools(json!([{"type": "function", "function": {"name": "get weather"}}])),
        Some("tools[0].function.name"),
        &["string does not match pattern", "^[a-zA-Z0-9_-]+$"],
    );
    check_400(
        tools(json!([{"type": "function", "function": {"name": "a".repeat(65)}}])),
        Some("tools[0].function.name"),
        &["string too long", "maximum length 64", "length 65"],
    );
    check_400(
        tools(
            json!([{"type": "function", "function": {"name": "f"}}, {"type": "function", "function": {"name": "f"}}]),
        ),
        Some("tools[1].function.name"),
        &["duplicate function name 'f'"],
    );
    check_400(
        tools(json!([{"type": "function", "function": {"name": "f", "parameters": "{}"}}])),
        Some("tools[0].function.parameters"),
        &["Invalid type for 'tools[0].function.parameters': expected an object", "but got a string instead"],
    );
    check_400(
        tools(json!([{"type": "custom", "custom": {"name": "f"}}])),
        Some("tools[0].type"),
        &["Invalid value: 'custom'. Supported values are: 'function'."],
    );
    check_400(
        tools(json!([{"type": "function"}])),
        Some("tools[0].function"),
        &["Missing required parameter: 'tools[0].function'."],
    );
    check_400(tools(json!({"type": "function"})), Some("tools"), &["expected an array, but got an object"]);
    check_400(
        tools(json!([{"type": "function", "function": {"name": "f", "descriptio": "typo"}}])),
        Some("tools[0].function.descriptio"),
        &["Unrecognized request argument supplied: tools[0].function.descriptio"],
    );
    let many: Vec<Value> =
        (0..129).map(|i| json!({"type": "function", "function": {"name": format!("f{i}")}})).collect();
    check_400(tools(Value::Array(many)), Some("tools"), &["maximum length 128"]);

    let tool = json!([{"type": "function", "function": {"name": "f"}}]);
    check_400(
        chat(with(json!({"tools": tool, "tool_choice": "sometimes"}))),
        Some("tool_choice"),
        &["Invalid value: 'sometimes'. Supported values are: 'none', 'auto', and 'required'."],
    );
    check_400(
        chat(with(json!({"tool_choice": "required"}))),
        Some("tool_choice"),
        &["'tool_choice' is only allowed when 'tools' are specified."],
    );
    check_400(
        chat(with(json!({"tool_choice": {"type": "function", "function": {"name": "f"}}}))),
        Some("tool_choice"),
        &["only allowed when 'tools' are specified"],
    );
    check_400(
        chat(with(json!({"tools": tool, "tool_choice": {"type": "function", "function": {"name": "g"}}}))),
        Some("tool_choice.function.name"),
        &["function 'g' is not among the 'tools'"],
    );
    check_400(
        chat(with(json!({"tools": tool, "tool_choice": {"type": "function"}}))),
        Some("tool_choice.function"),
        &["Missing required parameter: 'tool_choice.function'."],
    );
    check_400(
        chat(with(json!({"tools": tool, "tool_choice": 5}))),
        Some("tool_choice"),
        &["Invalid type for 'tool_choice'", "but got an integer instead"],
    );
}

#[test]
fn chat_rejects_bad_formats_and_effort() {
    check_400(
        chat(with(json!({"response_format": {"type": "xml"}}))),
        Some("response_format.type"),
        &["Invalid value: 'xml'. Supported values are: 'text', 'json_object', and 'json_schema'."],
    );
    check_400(
        chat(with(json!({"response_format": {"type": "json_schema"}}))),
        Some("response_format.json_schema"),
        &["Missing required parameter: 'response_format.json_schema'."],
    );
    check_400(
        chat(with(json!({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}))),
        Some("response_format.json_schema.name"),
        &["Missing required parameter: 'response_format.json_schema.name'."],
    );
    check_400(
        chat(with(json!({"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": [1]}}}))),
        Some("response_format.json_schema.schema"),
        &["expected an object", "but got an array instead"],
    );
    check_400(
        chat(with(json!({"response_format": {"type": "json_schema", "json_schema": {"name": "a b"}}}))),
        Some("response_format.json_schema.name"),
        &["does not match pattern"],
    );
    check_400(
        chat(with(json!({"response_format": "json"}))),
        Some("response_format"),
        &["Invalid type for 'response_format': expected an object, but got a string instead."],
    );
    check_400(
        chat(with(json!({"reasoning_effort": "ultra"}))),
        Some("reasoning_effort"),
        &["Invalid value: 'ultra'. Supported values are: 'minimal', 'low', 'medium', and 'high'."],
    );
    check_400(
        chat(with(json!({"reasoning_effort": 3}))),
        Some("reasoning_effort"),
        &["expected a string, but got an integer"],
    );
    check_400(
        chat(with(json!({"reasoning": {"effort": "max"}}))),
        Some("reasoning.effort"),
        &["Invalid value: 'max'."],
    );
    check_400(
        chat(with(json!({"reasoning": {"effort": "low", "budget": 5}}))),
        Some("reasoning.budget"),
        &["Unrecognized request argument supplied: reasoning.budget"],
    );
    check_400(
        chat(with(json!({"chat_template_kwargs": {"reasoning_effort": 3}}))),
        Some("chat_template_kwargs.reasoning_effort"),
        &["expected a string, but got an integer instead"],
    );
    check_400(
        chat(with(json!({"chat_template_kwargs": {"reasoning_effort": "huge"}}))),
        Some("chat_template_kwargs.reasoning_effort"),
        &["Invalid value: 'huge'."],
    );
}

#[test]
fn rejects_bodies_that_are_not_json_objects() {
    check_400(
        chat_str("{\"model\": \"m\", "),
        None,
        &["We could not parse the JSON body of your request", "line 1 column"],
    );
    check_400(chat_str("{model: 1}"), None, &["We could not parse the JSON body", "key must be a string"]);
    check_400(chat_str(""), None, &["the body is empty"]);
    check_400(
        chat_str("[]"),
        None,
        &["Invalid type for the request body: expected an object, but got an array instead."],
    );
    check_400(
        chat_str(r#"{"model":"m","messages":[{"role":"user","content":"x"}]} trailing"#),
        None,
        &["We could not parse the JSON body", "trailing characters"],
    );
    check_400(
        chat_str(r#"{"model":"m","model":"n","messages":[{"role":"user","content":"x"}]}"#),
        Some("model"),
        &["Duplicate parameter: 'model'"],
    );
    let err = chat_str("{\"model\": \"m\",\n \"messages\": [}").expect_err("syntax");
    assert_eq!(err.code(), Some("invalid_json"));
    assert!(err.message().contains("line 2 column"), "{}", err.message());
}

#[test]
fn completions_reject_malformed() {
    check_400(completion(json!({"model": "m"})), Some("prompt"), &["Missing required parameter: 'prompt'."]);
    check_400(
        completion(json!({"model": "m", "prompt": 5})),
        Some("prompt"),
        &[
            "Invalid type for 'prompt': expected a string, an array of strings, an array of token ids or an array of token-id arrays, but got an integer instead.",
        ],
    );
    check_400(
        completion(json!({"model": "m", "prompt": [1, -1]})),
        Some("prompt[1]"),
        &["Invalid value for 'prompt[1]'", "but got -1 instead"],
    );
    check_400(completion(json!({"model": "m", "prompt": [[1], [-2]]})), Some("prompt[1][0]"), &["but got -2 instead"]);
    check_400(completion(json!({"model": "m", "prompt": [4294967296u64]})), Some("prompt[0]"), &["4294967296"]);
    check_400(
        completion(json!({"model": "m", "prompt": [1.5]})),
        Some("prompt[0]"),
        &["but got a decimal number instead"],
    );
    check_400(
        completion(json!({"model": "m", "prompt": ["a", 1]})),
        Some("prompt"),
        &["Invalid 'prompt': mixes strings"],
    );
    check_400(
        completion(json!({"model": "m", "prompt": ["a", "b"]})),
        Some("prompt"),
        &["batched prompts are not supported", "2 prompts"],
    );
    check_400(completion(json!({"model": "m", "prompt": [[1], [2], [3]]})), Some("prompt"), &["3 prompts"]);
    check_400(completion(json!({"model": "m", "prompt": []})), Some("prompt"), &["empty array"]);
    check_400(completion(json!({"model": "m", "prompt": [[]]})), Some("prompt"), &["empty array"]);
    check_400(completion(json!({"model": "m", "prompt": "x", "suffix": "y"})), Some("suffix"), &["not supported"]);
    check_400(
        completion(json!({"model": "m", "prompt": "x", "logprobs": 6})),
        Some("logprobs"),
        &["Expected a value <= 5"],
    );
    check_400(
        completion(json!({"model": "m", "prompt": "x", "logprobs": true})),
        Some("logprobs"),
        &["expected an integer, but got a boolean"],
    );
    check_400(completion(json!({"model": "m", "prompt": "x", "best_of": 3})), Some("best_of"), &["best_of"]);
    check_400(completion(json!({"model": "m", "prompt": "x", "max_tokens": 0})), Some("max_tokens"), &[">= 1"]);
    check_400(
        completion(json!({"model": "m", "prompt": "x", "messages": []})),
        Some("messages"),
        &["Unrecognized request argument supplied: messages"],
    );
    check_400(
        completion(json!({"model": "m", "prompt": "x", "stream_options": {}})),
        Some("stream_options"),
        &["only allowed when 'stream'"],
    );
    check_400(completion(json!({"model": "m", "prompt": "x", "temperature": 5})), Some("temperature"), &["<= 2"]);
}

#[test]
fn tokenize_rejects_malformed() {
    check_400(tokenize(json!({})), Some("prompt"), &["Missing required parameter: 'prompt'"]);
    check_400(tokenize(json!({"prompt": "a", "messages": []})), Some("messages"), &["not both"]);
    check_400(tokenize(json!({"prompt": "a", "tools": []})), Some("tools"), &["'tools' applies to 'messages' only"]);
    check_400(tokenize(json!({"messages": []})), Some("messages"), &["empty array"]);
    check_400(tokenize(json!({"prompt": 1})), Some("prompt"), &["expected a string, but got an integer"]);
    check_400(
        tokenize(json!({"prompt": "a", "foo": 1})),
        Some("foo"),
        &["Unrecognized request argument supplied: foo"],
    );
    check_400(detokenize(json!({"tokens": [-1]})), Some("tokens[0]"), &["Invalid value for 'tokens[0]'", "-1"]);
    check_400(detokenize(json!({"tokens": "abc"})), Some("tokens"), &["expected an array, but got a string"]);
    check_400(detokenize(json!({})), Some("tokens"), &["Missing required parameter: 'tokens'."]);
}

#[test]
fn limits_are_configurable() {
    let limits = Limits { max_n: 2, max_stop_sequences: 1, ..Limits::default() };
    let request: ChatCompletionRequest = parse(&with(json!({"n": 3})).to_string()).expect("parses");
    check_400(request.validate(&limits), Some("n"), &["<= 2"]);
    let request: ChatCompletionRequest = parse(&with(json!({"stop": ["a", "b"]})).to_string()).expect("parses");
    check_400(request.validate(&limits), Some("stop"), &["maximum length 1"]);
}

// ---------------------------------------------------------------------------
// Extraction from HTTP requests: content type and size
// ---------------------------------------------------------------------------

fn extract(content_type: Option<&str>, body: Vec<u8>) -> Result<ChatCompletionRequest, ApiError> {
    let mut builder = Request::builder().method("POST").uri("/v1/chat/completions");
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    let request = builder.body(Body::from(body)).expect("request");
    block_on(Json::<ChatCompletionRequest>::from_request(request, &())).map(|Json(v)| v).map_err(from_json_rejection)
}

#[test]
fn content_type_and_size() {
    let body = with(json!({})).to_string().into_bytes();
    assert!(extract(Some("application/json"), body.clone()).is_ok());
    assert!(extract(Some("application/json; charset=utf-8"), body.clone()).is_ok());
    check_400(extract(None, body.clone()), None, &["Content-Type", "application/json"]);
    check_400(extract(Some("text/plain"), body.clone()), None, &["Content-Type"]);
    let err = extract(Some("application/x-www-form-urlencoded"), body).expect_err("form");
    assert_eq!(err.code(), Some("invalid_content_type"));
    let huge = format!("{{\"model\": \"{}\"}}", "x".repeat(3 << 20)).into_bytes();
    let err = extract(Some("application/json"), huge).expect_err("too large");
    assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(err.kind(), "invalid_request_error");
}

// ---------------------------------------------------------------------------
// Errors as HTTP responses
// ---------------------------------------------------------------------------

fn response_json(err: ApiError) -> (StatusCode, Value) {
    let response = err.into_response();
    let status = response.status();
    let bytes = block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).expect("body");
    (status, serde_json::from_slice(&bytes).expect("json"))
}

#[test]
fn error_bodies_match_openai() {
    let (status, body) = response_json(ApiError::unknown_model("gpt-5"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error": {
            "message": "The model `gpt-5` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found"
        }})
    );
    let (status, body) = response_json(chat(with(json!({"foo": 1}))).expect_err("unknown"));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["message"], "Unrecognized request argument supplied: foo");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let (status, body) = response_json(ApiError::not_found("POST", "/v1/chat/completion"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error": {"message": "Invalid URL (POST /v1/chat/completion)", "type": "invalid_request_error", "param": null, "code": null}})
    );
    let (status, body) = response_json(ApiError::unauthorized(None));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.starts_with("You didn't provide an API key.")));
    assert_eq!(body["error"]["code"], "invalid_api_key");
    let err = ApiError::unauthorized(Some("sk-secret-key-123456"));
    assert!(err.message().starts_with("Incorrect API key provided: sk-s"), "{}", err.message());
    assert!(!err.message().contains("secret"), "the key is masked");
    assert_eq!(ApiError::method_not_allowed("GET", "/v1/completions").status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(ApiError::payload_too_large(Some(10)).status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(ApiError::overloaded("queue full").status(), StatusCode::SERVICE_UNAVAILABLE);
    let limited = ApiError::rate_limited("too many");
    assert_eq!((limited.status(), limited.code()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limit_exceeded")));
    let (status, body) = response_json(ApiError::internal("boom"));
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"]["type"], "server_error");
    let ctx = ApiError::context_length_exceeded(131072, 140000, None, "messages");
    assert_eq!(ctx.code(), Some("context_length_exceeded"));
    assert!(ctx.message().starts_with(
        "This model's maximum context length is 131072 tokens. However, your messages resulted in 140000 tokens."
    ));
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

#[test]
fn chat_completion_serializes_like_openai() {
    // OpenAI's documented response (with the `refusal: null` the API sends),
    // plus the usage details this server always fills.
    let expected = json!({
        "id": "chatcmpl-123",
        "object": "chat.completion",
        "created": 1677652288,
        "model": "gpt-oss-20b",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "\n\nHello there, how may I assist you today?", "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": 9,
            "completion_tokens": 12,
            "total_tokens": 21,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0}
        },
        "system_fingerprint": "fp_44709d6fcb"
    });
    let completion = ChatCompletion {
        id: "chatcmpl-123".into(),
        object: ChatCompletionObject::ChatCompletion,
        created: 1677652288,
        model: "gpt-oss-20b".into(),
        choices: vec![ChatChoice {
            index: 0,
            message: AssistantMessage::new(Some("\n\nHello there, how may I assist you today?".into()), None, vec![]),
            logprobs: None,
            finish_reason: FinishReason::Stop,
        }],
        usage: Usage::new(9, 12, 0, 0),
        system_fingerprint: Some("fp_44709d6fcb".into()),
    };
    assert_eq!(to_json(&completion), expected);
    let back: ChatCompletion = serde_json::from_value(expected).expect("deserializes");
    assert_eq!(back, completion);
}

#[test]
fn tool_calls_reasoning_and_logprobs_serialize_like_openai() {
    let message = AssistantMessage::new(
        None,
        Some("The user wants weather.".into()),
        vec![ToolCall::function("call_abc123", "get_current_weather", "{\n\"location\": \"Boston, MA\"\n}")],
    );
    assert_eq!(
        to_json(&message),
        json!({
            "role": "assistant",
            "content": null,
            "reasoning_content": "The user wants weather.",
            "reasoning": "The user wants weather.",
            "tool_calls": [{
                "id": "call_abc123",
                "type": "function",
                "function": {"name": "get_current_weather", "arguments": "{\n\"location\": \"Boston, MA\"\n}"}
            }],
            "refusal": null
        })
    );
    let logprobs = ChoiceLogprobs {
        content: Some(vec![TokenLogprob {
            token: "Hello".into(),
            logprob: -0.31725305,
            bytes: Some(b"Hello".to_vec()),
            top_logprobs: vec![
                TopLogprob { token: "Hello".into(), logprob: -0.31725305, bytes: Some(b"Hello".to_vec()) },
                TopLogprob { token: "Hi".into(), logprob: -1.3190403, bytes: Some(b"Hi".to_vec()) },
            ],
        }]),
        refusal: None,
    };
    assert_eq!(
        to_json(&logprobs),
        json!({
            "content": [{
                "token": "Hello",
                "logprob": -0.31725305,
                "bytes": [72, 101, 108, 108, 111],
                "top_logprobs": [
                    {"token": "Hello", "logprob": -0.31725305, "bytes": [72, 101, 108, 108, 111]},
                    {"token": "Hi", "logprob": -1.3190403, "bytes": [72, 105]}
                ]
            }],
            "refusal": null
        })
    );
    assert_eq!(finite_logprob(f32::NEG_INFINITY), -9999.0);
    assert_eq!(finite_logprob(-0.5), -0.5);
}

#[test]
fn chunks_omit_absent_fields() {
    let first = ChatCompletionChunk {
        system_fingerprint: Some("fp_44709d6fcb".into()),
        ..ChatCompletionChunk::new(
            "chatcmpl-123",
            1694268190,
            "gpt-oss-20b",
            ChunkChoice {
                index: 0,
                delta: Delta { content: Some(String::new()), ..Delta::role() },
                ..Default::default()
            },
        )
    };
    assert_eq!(
        to_json(&first),
        json!({
            "id": "chatcmpl-123",
            "object": "chat.completion.chunk",
            "created": 1694268190,
            "model": "gpt-oss-20b",
            "system_fingerprint": "fp_44709d6fcb",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}],
            "usage": null
        })
    );
    let choice = |delta: Delta| to_json(&ChunkChoice { index: 0, delta, ..Default::default() })["delta"].clone();
    assert_eq!(choice(Delta::content("Hel")), json!({"content": "Hel"}));
    assert_eq!(choice(Delta::reasoning("think")), json!({"reasoning_content": "think", "reasoning": "think"}));
    assert_eq!(
        choice(Delta::tool_call(ToolCallDelta::start(0, "call_1", "get_weather"))),
        json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]})
    );
    assert_eq!(
        choice(Delta::tool_call(ToolCallDelta::arguments(0, "{\"ci"))),
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"ci"}}]})
    );
    assert_eq!(choice(Delta::default()), json!({}));
    let last =
        ChunkChoice { index: 1, delta: Delta::default(), logprobs: None, finish_reason: Some(FinishReason::ToolCalls) };
    assert_eq!(to_json(&last), json!({"index": 1, "delta": {}, "logprobs": null, "finish_reason": "tool_calls"}));
    let usage = ChatCompletionChunk::usage("chatcmpl-1", 1, "m", Usage::new(3, 4, 1, 2));
    assert_eq!(usage.object, ChatCompletionChunkObject::ChatCompletionChunk);
    let usage = to_json(&usage);
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(
        usage["usage"],
        json!({"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7,
               "prompt_tokens_details": {"cached_tokens": 1}, "completion_tokens_details": {"reasoning_tokens": 2}})
    );
    for reason in [FinishReason::Stop, FinishReason::Length, FinishReason::ToolCalls, FinishReason::ContentFilter] {
        let text = to_json(&reason);
        assert!(["stop", "length", "tool_calls", "content_filter"].contains(&text.as_str().unwrap_or("")));
    }
}

#[test]
fn completion_serializes_like_openai() {
    let expected = json!({
        "id": "cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7",
        "object": "text_completion",
        "created": 1589478378,
        "model": "gpt-oss-20b",
        "choices": [{"text": "\n\nThis is indeed a test", "index": 0, "logprobs": null, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
        "system_fingerprint": "fp_44709d6fcb"
    });
    let completion = Completion {
        id: "cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7".into(),
        object: TextCompletionObject::TextCompletion,
        created: 1589478378,
        model: "gpt-oss-20b".into(),
        choices: vec![CompletionChoice {
            text: "\n\nThis is indeed a test".into(),
            index: 0,
            logprobs: None,
            finish_reason: Some(FinishReason::Length),
        }],
        usage: Some(Usage { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12, ..Usage::default() }),
        system_fingerprint: Some("fp_44709d6fcb".into()),
    };
    assert_eq!(to_json(&completion), expected);
    let logprobs = CompletionLogprobs {
        tokens: vec!["Hello".into(), " world".into()],
        token_logprobs: vec![None, Some(-0.5)],
        top_logprobs: vec![
            None,
            Some(TopLogprobs(vec![(" world".into(), -0.5), (" there".into(), -1.25), (" world".into(), -3.0)])),
        ],
        text_offset: vec![0, 5],
    };
    let json = to_json(&logprobs);
    assert_eq!(
        json,
        json!({"tokens": ["Hello", " world"], "token_logprobs": [null, -0.5],
               "top_logprobs": [null, {" world": -0.5, " there": -1.25}], "text_offset": [0, 5]})
    );
    let keys: Vec<&String> = json["top_logprobs"][1].as_object().map(|m| m.keys().collect()).unwrap_or_default();
    assert_eq!(keys, [" world", " there"], "most likely first");
    let back: CompletionLogprobs = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back.top_logprobs[1].as_ref().map(|t| t.0.len()), Some(2));
}

#[test]
fn models_and_tokenize_responses() {
    let mut model = Model::new("gpt-oss-20b", 1686935002, "openai");
    assert_eq!(
        to_json(&ModelList::new(vec![model.clone()])),
        json!({"object": "list", "data": [{"id": "gpt-oss-20b", "object": "model", "created": 1686935002, "owned_by": "openai"}]})
    );
    model.max_model_len = Some(131072);
    assert_eq!(to_json(&model)["max_model_len"], 131072);
    assert_eq!(
        to_json(&TokenizeResponse { count: 2, max_model_len: 131072, tokens: vec![13225, 0] }),
        json!({"count": 2, "max_model_len": 131072, "tokens": [13225, 0]})
    );
    assert_eq!(to_json(&DetokenizeResponse { prompt: "Hi".into() }), json!({"prompt": "Hi"}));
}

#[test]
fn openapi_schemas_generate() {
    use utoipa::openapi::ComponentsBuilder;
    let components = ComponentsBuilder::new()
        .schema_from::<ChatCompletionRequest>()
        .schema_from::<ChatCompletion>()
        .schema_from::<ChatCompletionChunk>()
        .schema_from::<CompletionRequest>()
        .schema_from::<Completion>()
        .schema_from::<ModelList>()
        .schema_from::<TokenizeRequest>()
        .schema_from::<TokenizeResponse>()
        .schema_from::<DetokenizeRequest>()
        .schema_from::<DetokenizeResponse>()
        .schema_from::<gpt_oss_server::error::ErrorResponse>()
        .build();
    let json = serde_json::to_value(&components).expect("serializes");
    let request = &json["schemas"]["ChatCompletionRequest"];
    assert!(request["properties"]["messages"].is_object(), "{request}");
    assert!(request["properties"]["extra"].is_null(), "extra is not part of the schema");
    assert!(json["schemas"]["ChatCompletion"]["properties"]["choices"].is_object());
    assert_eq!(ToolType::Function, ToolType::default());
    assert_eq!(PromptTokensDetails::default().cached_tokens, 0);
}
