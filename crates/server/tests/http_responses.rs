//! `/v1/responses` end to end through the router, over a backend that replays scripted token streams:
//! output items for reasoning, preambles, answers and tool calls, usage, `max_output_tokens`, the typed event
//! stream checked against the rules the OpenAI SDK's stream accumulator enforces, stored responses with
//! `previous_response_id` (chain of thought kept across a tool call), `GET` and `DELETE`, and errors.

mod common;

use axum::body::Body;
use axum::http::Method;
use common::{
    ANSWER, MODEL, REASONING, Server, TOOL_CALL, assert_no_special_tokens, ids, reasoning_then_answer, server,
    server_ids,
};
use gpt_oss_model::tokenizer::special;
use serde_json::{Value, json};

fn weather_tool() -> Value {
    json!({
        "type": "function",
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    })
}

fn body(input: Value) -> Value {
    json!({"model": MODEL, "input": input})
}

async fn create(server: &Server, body: &Value) -> Value {
    let reply = server.post("/v1/responses", body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let response = reply.json();
    assert_no_special_tokens(&response);
    response
}

async fn error(server: &Server, body: &Value, status: u16) -> Value {
    let reply = server.post("/v1/responses", body).await;
    assert_eq!(reply.status, status, "{}", reply.text());
    let error = reply.json()["error"].clone();
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
    error
}

fn types(output: &Value) -> Vec<&str> {
    output.as_array().unwrap().iter().map(|item| item["type"].as_str().unwrap()).collect()
}

// ---------------------------------------------------------------------------
// Whole responses
// ---------------------------------------------------------------------------

#[tokio::test]
async fn reasoning_and_answer_are_output_items_with_usage() {
    let script = reasoning_then_answer();
    let server = server(&[&script]);
    let response = create(&server, &body(json!("Hi"))).await;

    assert_eq!(response["object"], "response");
    assert!(response["id"].as_str().unwrap().starts_with("resp_"), "{}", response["id"]);
    assert_eq!(response["status"], "completed");
    assert_eq!(response["model"], MODEL);
    assert_eq!(response["error"], Value::Null);
    assert_eq!(response["incomplete_details"], Value::Null);
    assert_eq!(response["store"], true);
    assert_eq!(response["reasoning"]["effort"], "medium");
    assert_eq!(response["text"]["format"]["type"], "text");
    assert_eq!(response["tool_choice"], "none");
    assert!(response["created_at"].as_u64().unwrap() > 0);
    assert_eq!(types(&response["output"]), ["reasoning", "message"]);
    let reasoning = &response["output"][0];
    assert!(reasoning["id"].as_str().unwrap().starts_with("rs_"));
    assert_eq!(reasoning["content"], json!([{"type": "reasoning_text", "text": REASONING}]));
    assert_eq!(reasoning["summary"], json!([]));
    assert_eq!(reasoning["status"], "completed");
    let message = &response["output"][1];
    assert!(message["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["phase"], "final_answer");
    assert_eq!(message["status"], "completed");
    assert_eq!(message["content"], json!([{"type": "output_text", "text": ANSWER, "annotations": []}]));

    let usage = &response["usage"];
    let prompt = server.requests()[0].prompt.len() as u64;
    assert_eq!(usage["input_tokens"], prompt);
    assert_eq!(usage["output_tokens"], ids(&script).len() as u64);
    assert_eq!(usage["total_tokens"], prompt + ids(&script).len() as u64);
    assert_eq!(usage["input_tokens_details"]["cached_tokens"], 0);
    let reasoning_tokens = usage["output_tokens_details"]["reasoning_tokens"].as_u64().unwrap();
    assert!(reasoning_tokens >= ids(REASONING).len() as u64, "{usage}");
    assert!(reasoning_tokens < ids(&script).len() as u64, "{usage}");
}

#[tokio::test]
async fn a_tool_call_is_a_function_call_item_with_a_call_id() {
    let server = server(&[TOOL_CALL]);
    let mut request = body(json!("Weather in Paris?"));
    request["tools"] = json!([weather_tool()]);
    let response = create(&server, &request).await;
    assert_eq!(response["status"], "completed");
    assert_eq!(response["tool_choice"], "auto");
    assert_eq!(response["tools"][0]["name"], "get_weather");
    assert_eq!(types(&response["output"]), ["reasoning", "function_call"]);
    let call = &response["output"][1];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["arguments"], "{\"city\":\"Paris\"}");
    assert!(call["call_id"].as_str().unwrap().starts_with("call_"));
    assert!(call["id"].as_str().unwrap().starts_with("fc_"));
    assert_eq!(call["status"], "completed");
    let prompt = server.last_prompt();
    assert!(prompt.contains("type get_weather = (_: {"), "{prompt}");
}

#[tokio::test]
async fn a_preamble_is_a_commentary_message_before_the_call() {
    let script = "<|channel|>commentary<|message|>Let me check.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{}<|call|>";
    let server = server(&[script]);
    let mut request = body(json!("Weather?"));
    request["tools"] = json!([weather_tool()]);
    let response = create(&server, &request).await;
    assert_eq!(types(&response["output"]), ["message", "function_call"]);
    assert_eq!(response["output"][0]["phase"], "commentary");
    assert_eq!(response["output"][0]["content"][0]["text"], "Let me check.");
}

#[tokio::test]
async fn max_output_tokens_makes_the_response_incomplete() {
    let server = server(&[&reasoning_then_answer()]);
    let mut request = body(json!("Hi"));
    request["max_output_tokens"] = json!(5);
    let response = create(&server, &request).await;
    assert_eq!(response["status"], "incomplete");
    assert_eq!(response["incomplete_details"]["reason"], "max_output_tokens");
    assert_eq!(response["max_output_tokens"], 5);
    assert_eq!(response["usage"]["output_tokens"], 5);
    let output = response["output"].as_array().unwrap();
    assert_eq!(output.last().unwrap()["status"], "incomplete");
    assert_eq!(server.requests()[0].max_tokens, 5);
}

#[tokio::test]
async fn logprobs_come_with_include() {
    let server = server(&["<|channel|>final<|message|>Hi there<|return|>"]);
    let mut request = body(json!("Hi"));
    let response = create(&server, &request).await;
    assert!(response["output"][0]["content"][0].get("logprobs").is_none());
    request["include"] = json!(["message.output_text.logprobs"]);
    request["top_logprobs"] = json!(1);
    let response = create(&server, &request).await;
    let logprobs = response["output"][0]["content"][0]["logprobs"].as_array().unwrap();
    let text: String = logprobs.iter().map(|l| l["token"].as_str().unwrap()).collect();
    assert_eq!(text, "Hi there");
    assert_eq!(logprobs[0]["top_logprobs"].as_array().unwrap().len(), 1);
    assert_eq!(response["top_logprobs"], 1);
}

// ---------------------------------------------------------------------------
// The prompt
// ---------------------------------------------------------------------------

#[tokio::test]
async fn instructions_effort_and_format_reach_the_prompt() {
    let server = server(&["<|channel|>final<|message|>{}<|return|>"]);
    let mut request = body(json!([
        {"role": "developer", "content": "Answer in French."},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather?"}]}
    ]));
    request["instructions"] = json!("Be brief.");
    request["reasoning"] = json!({"effort": "high", "summary": "auto"});
    request["text"] = json!({"format": {"type": "json_schema", "name": "weather", "schema": {"type": "object"}}});
    let response = create(&server, &request).await;
    let prompt = server.last_prompt();
    assert!(prompt.contains("Reasoning: high"), "{prompt}");
    assert!(prompt.contains("# Instructions\n\nBe brief.\n\nAnswer in French."), "{prompt}");
    assert!(prompt.contains("# Response Formats\n\n## weather"), "{prompt}");
    assert!(prompt.ends_with("<|start|>user<|message|>Weather?<|end|><|start|>assistant"), "{prompt}");
    assert_eq!(response["instructions"], "Be brief.");
    assert_eq!(response["reasoning"], json!({"effort": "high", "summary": "auto"}));
    assert_eq!(response["text"]["format"]["name"], "weather");
}

#[tokio::test]
async fn a_named_tool_choice_writes_the_call_header() {
    let server = server(&["{\"city\":\"Oslo\"}<|call|>"]);
    let mut request = body(json!("Weather in Oslo?"));
    request["tools"] = json!([weather_tool()]);
    request["tool_choice"] = json!({"type": "function", "name": "get_weather"});
    let response = create(&server, &request).await;
    assert!(
        server.last_prompt().ends_with("commentary to=functions.get_weather <|constrain|>json<|message|>"),
        "{}",
        server.last_prompt()
    );
    assert_eq!(types(&response["output"]), ["function_call"]);
    assert_eq!(response["output"][0]["arguments"], "{\"city\":\"Oslo\"}");
    assert_eq!(response["tool_choice"], json!({"type": "function", "name": "get_weather"}));
}

#[tokio::test]
async fn sent_history_keeps_the_reasoning_before_a_pending_call_only() {
    let server = server(&["<|channel|>final<|message|>It is 20C.<|return|>"]);
    let history = json!([
        {"role": "user", "content": "Hi"},
        {"type": "reasoning", "id": "rs_1", "summary": [], "content": [{"type": "reasoning_text", "text": "Old thought."}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello!", "annotations": []}]},
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "reasoning", "id": "rs_2", "summary": [], "content": [{"type": "reasoning_text", "text": "Need the tool."}]},
        {"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}", "status": "completed"},
        {"type": "function_call_output", "call_id": "call_9", "output": "20C"}
    ]);
    let mut request = body(history);
    request["tools"] = json!([weather_tool()]);
    create(&server, &request).await;
    let prompt = server.last_prompt();
    assert!(!prompt.contains("Old thought."), "answered turns lose their reasoning: {prompt}");
    assert!(prompt.contains("<|start|>assistant<|channel|>final<|message|>Hello!<|end|>"), "{prompt}");
    assert!(
        prompt.contains(
            "<|start|>assistant<|channel|>analysis<|message|>Need the tool.<|end|><|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|><|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>20C<|end|>"
        ),
        "{prompt}"
    );
}

// ---------------------------------------------------------------------------
// Stored responses
// ---------------------------------------------------------------------------

#[tokio::test]
async fn previous_response_id_continues_after_a_tool_call_with_its_reasoning() {
    let server = server(&[
        TOOL_CALL,
        "<|channel|>final<|message|>It is 20C in Paris.<|return|>",
        "<|channel|>final<|message|>Bye!<|return|>",
    ]);
    let mut first = body(json!("Weather in Paris?"));
    first["tools"] = json!([weather_tool()]);
    first["instructions"] = json!("Be brief.");
    let response = create(&server, &first).await;
    let call_id = response["output"][1]["call_id"].as_str().unwrap().to_string();

    let second = json!({
        "model": MODEL,
        "previous_response_id": response["id"],
        "input": [{"type": "function_call_output", "call_id": call_id, "output": "{\"temp_c\": 20}"}],
        "tools": [weather_tool()]
    });
    let answer = create(&server, &second).await;
    assert_eq!(answer["previous_response_id"], response["id"]);
    assert_eq!(answer["output"][0]["content"][0]["text"], "It is 20C in Paris.");
    let prompt = server.last_prompt();
    assert!(prompt.contains("<|start|>user<|message|>Weather in Paris?<|end|>"), "{prompt}");
    assert!(
        prompt.contains("<|channel|>analysis<|message|>Need the weather tool for Paris.<|end|>"),
        "the chain of thought before the call is kept: {prompt}"
    );
    assert!(
        prompt.contains(
            "to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>"
        ),
        "{prompt}"
    );
    assert!(
        prompt.contains(
            "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{\"temp_c\": 20}<|end|>"
        ),
        "{prompt}"
    );
    assert!(!prompt.contains("Be brief."), "instructions are not carried over: {prompt}");

    // After the answer, a new user turn drops the reasoning of the finished one.
    let third = json!({"model": MODEL, "previous_response_id": answer["id"], "input": "Thanks!"});
    create(&server, &third).await;
    let prompt = server.last_prompt();
    assert!(!prompt.contains("Need the weather tool"), "{prompt}");
    assert!(prompt.contains("It is 20C in Paris.<|end|><|start|>user<|message|>Thanks!<|end|>"), "{prompt}");
}

#[tokio::test]
async fn stored_responses_can_be_read_and_deleted() {
    let server = server(&[&reasoning_then_answer()]);
    let response = create(&server, &body(json!("Hi"))).await;
    let id = response["id"].as_str().unwrap();
    let path = format!("/v1/responses/{id}");
    let got = server.get(&path).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json(), response);

    let deleted = server.send(Method::DELETE, &path, Body::empty(), &[]).await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_eq!(deleted.json(), json!({"id": id, "object": "response", "deleted": true}));
    let gone = server.get(&path).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json()["error"]["code"], "not_found");
    let again = server.send(Method::DELETE, &path, Body::empty(), &[]).await;
    assert_eq!(again.status, 404);

    let mut unstored = body(json!("Hi"));
    unstored["store"] = json!(false);
    let response = create(&server, &unstored).await;
    assert_eq!(response["store"], false);
    assert_eq!(server.get(&format!("/v1/responses/{}", response["id"].as_str().unwrap())).await.status, 404);
}

#[tokio::test]
async fn an_unknown_previous_response_is_a_clear_error() {
    let server = server(&[&reasoning_then_answer()]);
    let request = json!({"model": MODEL, "previous_response_id": "resp_nope", "input": "Hi"});
    let error = error(&server, &request, 400).await;
    assert_eq!(error["code"], "previous_response_not_found");
    assert_eq!(error["param"], "previous_response_id");
    assert!(error["message"].as_str().unwrap().contains("resp_nope"), "{error}");
    assert!(server.requests().is_empty());
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

#[tokio::test]
async fn bad_requests_name_the_parameter() {
    let server = server(&[&reasoning_then_answer()]);
    let cases = [
        (json!({"model": MODEL}), "input"),
        (json!({"model": MODEL, "input": 5}), ""),
        (json!({"model": MODEL, "input": [{"type": "computer_call"}]}), "input[0].type"),
        (json!({"model": MODEL, "input": [{"role": "wizard", "content": "x"}]}), "input[0].role"),
        (json!({"model": MODEL, "input": [{"role": "user"}]}), "input[0].content"),
        (
            json!({"model": MODEL, "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]}),
            "input[0].content[0].type",
        ),
        (
            json!({"model": MODEL, "input": [{"role": "user", "content": "x"}, {"type": "function_call_output", "call_id": "c", "output": "1"}]}),
            "input[1].call_id",
        ),
        (json!({"model": MODEL, "input": "x", "tools": [{"type": "web_search"}]}), "tools[0].type"),
        (json!({"model": MODEL, "input": "x", "tools": [{"type": "function"}]}), "tools[0].name"),
        (
            json!({"model": MODEL, "input": "x", "tools": [{"type": "function", "name": "f", "parameters": "x"}]}),
            "tools[0].parameters",
        ),
        (json!({"model": MODEL, "input": "x", "tool_choice": "required"}), "tool_choice"),
        (
            json!({"model": MODEL, "input": "x", "tools": [weather_tool()], "tool_choice": {"type": "function", "name": "nope"}}),
            "tool_choice.name",
        ),
        (json!({"model": MODEL, "input": "x", "reasoning": {"effort": "max"}}), "reasoning.effort"),
        (json!({"model": MODEL, "input": "x", "max_output_tokens": 0}), "max_output_tokens"),
        (json!({"model": MODEL, "input": "x", "temperature": 3}), "temperature"),
        (json!({"model": MODEL, "input": "x", "text": {"format": {"type": "yaml"}}}), "text.format.type"),
        (json!({"model": MODEL, "input": "x", "text": {"format": {"type": "json_schema"}}}), "text.format.name"),
        (json!({"model": MODEL, "input": "x", "background": true}), "background"),
        (json!({"model": MODEL, "input": "x", "include": ["everything"]}), "include[0]"),
        (json!({"model": MODEL, "input": "x", "frobnicate": 1}), "frobnicate"),
        (json!({"model": MODEL, "input": "x", "metadata": {"k": 1}}), "metadata.k"),
    ];
    for (request, param) in cases {
        let error = error(&server, &request, 400).await;
        if !param.is_empty() {
            assert_eq!(error["param"], param, "{request}: {error}");
        }
    }
    let error = error(&server, &json!({"model": "gpt-5", "input": "x"}), 404).await;
    assert_eq!(error["code"], "model_not_found");
    assert!(server.requests().is_empty(), "no bad request reached the engine");
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_refused() {
    let server = server(&[&reasoning_then_answer()]);
    let error = error(&server, &body(json!("word ".repeat(5000))), 400).await;
    assert_eq!(error["code"], "context_length_exceeded");
}

// ---------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------

/// The events of a Responses stream: (SSE event name, data).
fn events(body: &str) -> Vec<(String, Value)> {
    assert!(body.ends_with("\n\n"), "an SSE body ends with a blank line: {body:?}");
    let mut out = Vec::new();
    for event in body.split("\n\n").filter(|e| !e.is_empty()) {
        let mut name = None;
        let mut data = Vec::new();
        for line in event.lines().filter(|line| !line.starts_with(':')) {
            if let Some(value) = line.strip_prefix("event: ") {
                name = Some(value.to_string());
            } else if let Some(value) = line.strip_prefix("data: ") {
                data.push(value);
            } else {
                panic!("an unexpected SSE line: {line:?}");
            }
        }
        if data.is_empty() {
            continue;
        }
        let data = data.join("\n");
        assert_ne!(data, "[DONE]", "a Responses stream has no [DONE]");
        let value: Value = serde_json::from_str(&data).unwrap_or_else(|e| panic!("not JSON ({e}): {data}"));
        out.push((name.expect("every event is named"), value));
    }
    out
}

async fn stream(server: &Server, mut request: Value) -> Vec<Value> {
    request["stream"] = json!(true);
    let reply = server.post("/v1/responses", &request).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.content_type().starts_with("text/event-stream"), "{}", reply.content_type());
    let events = events(&reply.text());
    for (name, event) in &events {
        assert_no_special_tokens(event);
        assert_eq!(event["type"], name.as_str(), "the event's type is its name");
    }
    events.into_iter().map(|(_, event)| event).collect()
}

/// One output item as the stream builds it.
#[derive(Default)]
struct Item {
    added: Value,
    parts: usize,
    text: String,
    done_text: Option<String>,
    part_done: bool,
    done: Option<Value>,
}

/// Checks a stream against the rules the OpenAI SDK's accumulator enforces (and the order OpenAI sends):
/// created, then in_progress, first; numbered from 0; each item added once at the next index; content and
/// deltas only for an added, unfinished item of the right type, after its content part; every item done
/// before the one terminal event, whose response has the done items as its output. Returns the terminal event.
fn check_order(events: &[Value]) -> Value {
    assert!(events.len() >= 3, "{events:?}");
    assert_eq!(events[0]["type"], "response.created");
    assert_eq!(events[1]["type"], "response.in_progress");
    assert_eq!(events[0]["response"]["status"], "in_progress");
    let id = events[0]["response"]["id"].clone();
    let mut items: Vec<Item> = Vec::new();
    for (n, event) in events.iter().enumerate() {
        assert_eq!(event["sequence_number"], n, "sequence numbers count from 0: {event}");
        let kind = event["type"].as_str().unwrap();
        if kind.starts_with("response.") && event.get("response").is_some() {
            assert_eq!(event["response"]["id"], id, "the response keeps its id");
            continue;
        }
        let index = event["output_index"].as_u64().unwrap_or_else(|| panic!("no output_index: {event}")) as usize;
        if kind == "response.output_item.added" {
            assert_eq!(index, items.len(), "items are added in order: {event}");
            assert_eq!(event["item"]["status"], "in_progress");
            items.push(Item { added: event["item"].clone(), ..Item::default() });
            continue;
        }
        let item = items.get_mut(index).unwrap_or_else(|| panic!("an event for an item never added: {event}"));
        assert!(item.done.is_none(), "an event after the item was done: {event}");
        let item_type = item.added["type"].as_str().unwrap().to_string();
        if kind != "response.output_item.done" {
            assert_eq!(event["item_id"], item.added["id"], "{event}");
        }
        match kind {
            "response.content_part.added" => {
                assert_eq!(event["content_index"], item.parts);
                let part = if item_type == "reasoning" { "reasoning_text" } else { "output_text" };
                assert_eq!(event["part"]["type"], part);
                item.parts += 1;
            }
            "response.reasoning_text.delta" | "response.output_text.delta" => {
                assert_eq!(item_type, if kind.contains("reasoning") { "reasoning" } else { "message" });
                assert_eq!(item.parts, 1, "a delta comes after its content part: {event}");
                item.text.push_str(event["delta"].as_str().unwrap());
            }
            "response.function_call_arguments.delta" => {
                assert_eq!(item_type, "function_call");
                item.text.push_str(event["delta"].as_str().unwrap());
            }
            "response.reasoning_text.done" | "response.output_text.done" => {
                assert_eq!(event["text"].as_str().unwrap(), item.text);
                item.done_text = Some(item.text.clone());
            }
            "response.function_call_arguments.done" => {
                assert_eq!(event["arguments"].as_str().unwrap(), item.text);
                assert_eq!(event["name"], item.added["name"]);
                item.done_text = Some(item.text.clone());
            }
            "response.content_part.done" => {
                assert!(item.done_text.is_some(), "the text is done before its part: {event}");
                assert_eq!(event["part"]["text"].as_str().unwrap(), item.text);
                item.part_done = true;
            }
            "response.output_item.done" => {
                assert!(item.done_text.is_some(), "the content is done before the item: {event}");
                assert!(item_type == "function_call" || item.part_done);
                assert_eq!(event["item"]["id"], item.added["id"]);
                assert_ne!(event["item"]["status"], "in_progress");
                item.done = Some(event["item"].clone());
            }
            other => panic!("an unknown event type {other}"),
        }
    }
    let last = events.last().unwrap().clone();
    let terminal = ["response.completed", "response.incomplete", "response.failed"];
    assert!(terminal.contains(&last["type"].as_str().unwrap()), "the stream ends with a terminal event: {last}");
    for event in &events[..events.len() - 1] {
        assert!(!terminal.contains(&event["type"].as_str().unwrap()), "one terminal event, last");
    }
    let done: Vec<Value> = items.iter().map(|item| item.done.clone().expect("every item is done")).collect();
    assert_eq!(last["response"]["output"], Value::Array(done), "the final output is the items as done");
    last
}

#[tokio::test]
async fn a_stream_sends_the_events_in_order_and_the_same_response() {
    let server = server(&[&reasoning_then_answer()]);
    let whole = create(&server, &body(json!("Hi"))).await;
    let events = stream(&server, body(json!("Hi"))).await;
    let last = check_order(&events);
    assert_eq!(last["type"], "response.completed");
    let response = &last["response"];
    assert_eq!(response["status"], "completed");
    assert_eq!(types(&response["output"]), ["reasoning", "message"]);
    assert_eq!(response["output"][0]["content"][0]["text"], REASONING);
    assert_eq!(response["output"][1]["content"][0]["text"], ANSWER);
    assert_eq!(response["usage"], whole["usage"]);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let first_text = kinds.iter().position(|k| *k == "response.output_text.delta").unwrap();
    assert_eq!(kinds[first_text - 1], "response.content_part.added");
    assert_eq!(kinds[first_text - 2], "response.output_item.added");
    // Stored like a whole response.
    let got = server.get(&format!("/v1/responses/{}", response["id"].as_str().unwrap())).await;
    assert_eq!(got.json(), *response);
}

#[tokio::test]
async fn a_streamed_tool_call_has_its_call_id_from_the_start() {
    let server = server(&[TOOL_CALL]);
    let mut request = body(json!("Weather in Paris?"));
    request["tools"] = json!([weather_tool()]);
    let events = stream(&server, request).await;
    let last = check_order(&events);
    let added = events
        .iter()
        .find(|e| e["type"] == "response.output_item.added" && e["item"]["type"] == "function_call")
        .unwrap();
    assert_eq!(added["item"]["name"], "get_weather");
    assert_eq!(added["item"]["arguments"], "");
    assert_eq!(added["item"]["call_id"], last["response"]["output"][1]["call_id"]);
    assert_eq!(last["response"]["output"][1]["arguments"], "{\"city\":\"Paris\"}");
}

#[tokio::test]
async fn a_cut_stream_ends_with_response_incomplete() {
    let server = server(&[&reasoning_then_answer()]);
    let mut request = body(json!("Hi"));
    request["max_output_tokens"] = json!(4);
    let events = stream(&server, request).await;
    let last = check_order(&events);
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(last["response"]["incomplete_details"]["reason"], "max_output_tokens");
}

// ---------------------------------------------------------------------------
// Malformed model output
// ---------------------------------------------------------------------------

#[tokio::test]
async fn malformed_outputs_give_well_formed_responses_and_streams() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../model/tests/fixtures/harmony/malformed.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let vocab = common::tokenizer().vocab_size() as u32;
    let mut scripts: Vec<Vec<u32>> =
        fixture["cases"].as_array().unwrap().iter().map(|case| ids(case["completion"].as_str().unwrap())).collect();
    scripts.push(vec![special::END, special::MESSAGE, special::CONSTRAIN, special::RETURN]);
    scripts.push([vec![special::CHANNEL, vocab + 5, special::MESSAGE], ids("x<|endoftext|>y<|return|>")].concat());
    scripts.push(Vec::new());
    for script in scripts {
        let server = server_ids(vec![script.clone()], None);
        let mut request = body(json!("Go"));
        request["tools"] = json!([weather_tool()]);
        let whole = create(&server, &request).await;
        let events = stream(&server, request).await;
        let last = check_order(&events);
        let strip = |mut response: Value| {
            for key in ["id", "created_at", "completed_at"] {
                response[key] = Value::Null;
            }
            for item in response["output"].as_array_mut().unwrap() {
                item["id"] = Value::Null;
                if item["type"] == "function_call" {
                    item["call_id"] = Value::Null;
                }
            }
            response
        };
        assert_eq!(strip(last["response"].clone()), strip(whole), "{script:?}");
    }
}
