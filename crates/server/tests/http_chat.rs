//! `POST /v1/chat/completions` end to end through the router, over a backend that replays scripted token
//! streams: reasoning and answer fields, tool calls (whole and streamed), preambles, length cuts, stop strings,
//! `n`, usage, malformed model output, and `tool_choice`.
//!
//! `<|call|>` and `<|return|>` are stop tokens: a script is replayed up to the first of them, so two tool
//! calls in one turn are only possible when the first ends with `<|end|>` (malformed, but seen in the wild).

mod common;

use common::{
    ANSWER, MODEL, REASONING, Server, TOOL_CALL, assert_no_special_tokens, fold, ids, ids_split, reasoning_then_answer,
    server, server_ids, time_tool, tokenizer, user, weather_tool,
};
use gpt_oss_model::tokenizer::special;
use serde_json::{Value, json};

fn with_tools(mut body: Value, tools: &[Value]) -> Value {
    body["tools"] = Value::Array(tools.to_vec());
    body
}

fn message(response: &Value) -> &Value {
    &response["choices"][0]["message"]
}

fn usage_numbers(usage: &Value) -> (u64, u64, u64, u64, u64) {
    (
        usage["prompt_tokens"].as_u64().expect("prompt_tokens"),
        usage["completion_tokens"].as_u64().expect("completion_tokens"),
        usage["total_tokens"].as_u64().expect("total_tokens"),
        usage["prompt_tokens_details"]["cached_tokens"].as_u64().expect("prompt_tokens_details.cached_tokens"),
        usage["completion_tokens_details"]["reasoning_tokens"]
            .as_u64()
            .expect("completion_tokens_details.reasoning_tokens"),
    )
}

// ---------------------------------------------------------------------------
// Whole responses
// ---------------------------------------------------------------------------

#[tokio::test]
async fn reasoning_goes_to_both_reasoning_fields_and_the_answer_to_content() {
    let script = reasoning_then_answer();
    let server = server(&[&script]);
    let response = server.chat(user("Hi")).await;

    assert_eq!(response["object"], "chat.completion");
    assert_eq!(response["model"], MODEL);
    assert!(response["id"].as_str().unwrap().starts_with("chatcmpl-"), "{}", response["id"]);
    assert!(response["created"].as_u64().unwrap() > 0);
    let choices = response["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 1);
    assert_eq!(choices[0]["index"], 0);
    assert_eq!(choices[0]["finish_reason"], "stop");
    assert_eq!(choices[0]["logprobs"], Value::Null);
    let message = message(&response);
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["content"], ANSWER);
    assert_eq!(message["reasoning_content"], REASONING);
    assert_eq!(message["reasoning"], REASONING);
    assert_eq!(message["refusal"], Value::Null);
    assert!(message.get("tool_calls").is_none(), "no tool_calls key without calls: {message}");
    assert!(!message["content"].as_str().unwrap().contains("greets"), "reasoning leaked into content");

    let prompt_len = server.requests()[0].prompt.len() as u64;
    let (prompt, completion, total, cached, reasoning) = usage_numbers(&response["usage"]);
    assert_eq!(prompt, prompt_len);
    assert_eq!(completion, ids(&script).len() as u64);
    assert_eq!(total, prompt + completion);
    assert_eq!(cached, 0);
    assert!(reasoning > 0 && reasoning < completion, "reasoning_tokens {reasoning} of {completion}");
}

#[tokio::test]
async fn an_answer_without_reasoning_has_no_reasoning_fields() {
    let server = server(&["<|channel|>final<|message|>Just the answer.<|return|>"]);
    let response = server.chat(user("Hi")).await;
    let message = message(&response);
    assert_eq!(message["content"], "Just the answer.");
    assert!(message.get("reasoning_content").is_none() && message.get("reasoning").is_none(), "{message}");
    let (.., reasoning) = usage_numbers(&response["usage"]);
    assert_eq!(reasoning, 0);
}

#[tokio::test]
async fn a_tool_call_is_returned_with_its_exact_arguments() {
    let server = server(&[TOOL_CALL]);
    let response = server.chat(with_tools(user("Weather in Paris?"), &[weather_tool()])).await;
    let choice = &response["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    let message = &choice["message"];
    assert_eq!(message["content"], Value::Null, "content is null beside tool calls: {message}");
    assert_eq!(message["reasoning_content"], "Need the weather tool for Paris.");
    assert_eq!(message["reasoning"], "Need the weather tool for Paris.");
    let calls = message["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert!(calls[0]["id"].as_str().unwrap().starts_with("call"), "{}", calls[0]["id"]);
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(calls[0]["function"]["arguments"], "{\"city\":\"Paris\"}");
    let (.., reasoning) = usage_numbers(&response["usage"]);
    assert!(reasoning > 0);
}

#[tokio::test]
async fn two_tool_calls_in_one_turn_when_the_first_ends_with_end() {
    let script = "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|end|><|start|>assistant<|channel|>commentary to=functions.get_time <|constrain|>json<|message|>{\"tz\":\"CET\"}<|call|>";
    let server = server(&[script]);
    let body = with_tools(user("Weather and time in Paris?"), &[weather_tool(), time_tool()]);
    let response = server.chat(body.clone()).await;
    assert_eq!(response["choices"][0]["finish_reason"], "tool_calls");
    let calls = response["choices"][0]["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(calls[0]["function"]["arguments"], "{\"city\":\"Paris\"}");
    assert_eq!(calls[1]["function"]["name"], "get_time");
    assert_eq!(calls[1]["function"]["arguments"], "{\"tz\":\"CET\"}");
    assert_ne!(calls[0]["id"], calls[1]["id"], "tool call ids are distinct");

    let streamed = fold(&server.chat_stream(body).await, 0);
    assert_eq!(streamed.tool_calls.len(), 2);
    assert_eq!(streamed.tool_calls[0].1, "get_weather");
    assert_eq!(streamed.tool_calls[0].2, "{\"city\":\"Paris\"}");
    assert_eq!(streamed.tool_calls[1].1, "get_time");
    assert_eq!(streamed.tool_calls[1].2, "{\"tz\":\"CET\"}");
    assert_ne!(streamed.tool_calls[0].0, streamed.tool_calls[1].0);
    assert_eq!(streamed.finish_reason.as_deref(), Some("tool_calls"));
}

#[tokio::test]
async fn the_turn_ends_at_the_first_call_token() {
    let first =
        "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>";
    let script = format!(
        "{first}<|start|>assistant<|channel|>commentary to=functions.get_time <|constrain|>json<|message|>{{}}<|call|>"
    );
    let server = server(&[&script]);
    let response = server.chat(with_tools(user("Weather?"), &[weather_tool(), time_tool()])).await;
    let calls = response["choices"][0]["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "generation stops at <|call|>: {calls:?}");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    let (_, completion, ..) = usage_numbers(&response["usage"]);
    assert_eq!(completion, ids(first).len() as u64);
}

#[tokio::test]
async fn a_preamble_goes_to_content_beside_the_tool_call() {
    let script = "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>commentary<|message|>Let me check the weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>";
    let server = server(&[script]);
    let body = with_tools(user("Weather in Paris?"), &[weather_tool()]);
    let response = server.chat(body.clone()).await;
    let message = message(&response);
    assert_eq!(message["content"], "Let me check the weather.");
    assert_eq!(message["reasoning"], "Need the weather.");
    assert_eq!(message["tool_calls"][0]["function"]["name"], "get_weather");
    assert_eq!(message["tool_calls"][0]["function"]["arguments"], "{\"city\":\"Paris\"}");
    assert_eq!(response["choices"][0]["finish_reason"], "tool_calls");

    let streamed = fold(&server.chat_stream(body).await, 0);
    assert_eq!(streamed.content, "Let me check the weather.");
    assert_eq!(streamed.reasoning, "Need the weather.");
    assert_eq!(streamed.tool_calls.len(), 1);
    assert_eq!(streamed.finish_reason.as_deref(), Some("tool_calls"));
}

#[tokio::test]
async fn a_tool_call_ended_by_return_still_finishes_with_tool_calls() {
    let script =
        "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|return|>";
    let server = server(&[script]);
    let response = server.chat(with_tools(user("Weather?"), &[weather_tool()])).await;
    assert_eq!(response["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"], "{\"city\":\"Paris\"}");
    assert_eq!(response["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn max_tokens_cuts_with_finish_reason_length() {
    let script = reasoning_then_answer();
    let server = server(&[&script]);
    for (field, limit) in [("max_tokens", 5), ("max_completion_tokens", 3)] {
        let mut body = user("Hi");
        body[field] = json!(limit);
        let response = server.chat(body.clone()).await;
        assert_eq!(response["choices"][0]["finish_reason"], "length", "{field}");
        let (_, completion, ..) = usage_numbers(&response["usage"]);
        assert_eq!(completion, limit, "{field}");
        assert_eq!(server.requests().last().unwrap().max_tokens, limit as usize);
        // Cut inside the reasoning: what was reasoned is kept, nothing reaches content.
        assert_eq!(message(&response)["content"], "");
        assert!(REASONING.starts_with(message(&response)["reasoning"].as_str().unwrap_or_default()));

        let chunks = server.chat_stream(body).await;
        assert_eq!(fold(&chunks, 0).finish_reason.as_deref(), Some("length"), "{field}");
    }
    // Cut inside the answer.
    let answer_at = ids(&script).len() - 3;
    let mut body = user("Hi");
    body["max_tokens"] = json!(answer_at);
    let response = server.chat(body).await;
    assert_eq!(response["choices"][0]["finish_reason"], "length");
    let content = message(&response)["content"].as_str().unwrap();
    assert!(!content.is_empty() && ANSWER.starts_with(content) && content != ANSWER, "{content:?}");
}

#[tokio::test]
async fn without_max_tokens_the_budget_is_the_rest_of_the_context() {
    let server = server(&["<|channel|>final<|message|>Hi<|return|>"]);
    server.chat(user("Hi")).await;
    let request = server.requests().pop().unwrap();
    assert_eq!(request.max_tokens, common::CONTEXT - request.prompt.len());
    assert_eq!(request.stop_tokens, vec![special::RETURN, special::CALL]);
}

// ---------------------------------------------------------------------------
// Malformed model output: never a 5xx, never a special token in any field
// ---------------------------------------------------------------------------

/// One case of `crates/model/tests/fixtures/harmony/malformed.json`, as the HTTP layer should show it.
struct Expected {
    reasoning: Vec<String>,
    content: Vec<String>,
    tool_calls: Vec<(String, String)>,
    finish: &'static str,
}

fn expected(case: &Value, ids: &[u32]) -> Expected {
    // The script is replayed up to its first stop token, so the messages after it are never generated.
    let stop = ids.iter().position(|id| [special::RETURN, special::CALL].contains(id));
    let mut out = Expected { reasoning: Vec::new(), content: Vec::new(), tool_calls: Vec::new(), finish: "length" };
    for message in case["expected"].as_array().unwrap() {
        let text = message["text"].as_str().unwrap().to_string();
        match message["kind"].as_str().unwrap() {
            "reasoning" => out.reasoning.push(text),
            "preamble" | "answer" => out.content.push(text),
            "tool_call" => out.tool_calls.push((message["name"].as_str().unwrap().to_string(), text)),
            other => panic!("unknown kind {other}"),
        }
        if ["call", "return"].contains(&message["stop"].as_str().unwrap()) {
            break;
        }
    }
    if let Some(at) = stop {
        out.finish = if !out.tool_calls.is_empty() { "tool_calls" } else { "stop" };
        assert!(at < ids.len());
    }
    out
}

/// `field` is `parts` joined, with or without a separator between messages.
fn joined(field: &str, parts: &[String]) -> bool {
    ["", "\n", "\n\n"].iter().any(|sep| parts.join(sep) == field)
}

fn malformed_cases() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../model/tests/fixtures/harmony/malformed.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let fixture: Value = serde_json::from_str(&text).unwrap();
    fixture["cases"].as_array().unwrap().clone()
}

#[tokio::test]
async fn malformed_outputs_are_recovered_never_a_server_error() {
    let cases = malformed_cases();
    assert!(cases.len() >= 5);
    let tools = [weather_tool(), time_tool()];
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let script = ids(case["completion"].as_str().unwrap());
        let want = expected(case, &script);
        let server = server_ids(vec![script], None);
        let body = with_tools(user("Go"), &tools);

        let reply = server.post("/v1/chat/completions", &body).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.text());
        let response = reply.json();
        assert_no_special_tokens(&response);
        let message = message(&response);
        let content = message["content"].as_str().unwrap_or_default();
        let reasoning = message["reasoning"].as_str().unwrap_or_default();
        assert_eq!(message["reasoning_content"], message["reasoning"], "{name}");
        assert!(joined(content, &want.content), "{name}: content {content:?}, expected {:?}", want.content);
        assert!(joined(reasoning, &want.reasoning), "{name}: reasoning {reasoning:?}, expected {:?}", want.reasoning);
        let calls: Vec<(String, String)> = message["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    c["function"]["name"].as_str().unwrap().to_string(),
                    c["function"]["arguments"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(calls, want.tool_calls, "{name}");
        if calls.is_empty() {
            assert!(message["content"].is_string(), "{name}: content is a string without tool calls");
        }
        assert_eq!(response["choices"][0]["finish_reason"], want.finish, "{name}");

        // The stream says the same.
        let streamed = fold(&server.chat_stream(body).await, 0);
        assert_eq!(streamed.content, content, "{name}");
        assert_eq!(streamed.reasoning, reasoning, "{name}");
        assert_eq!(streamed.reasoning_content, reasoning, "{name}");
        let streamed_calls: Vec<(String, String)> =
            streamed.tool_calls.iter().map(|(_, name, args)| (name.clone(), args.clone())).collect();
        assert_eq!(streamed_calls, want.tool_calls, "{name}");
        assert_eq!(streamed.finish_reason.as_deref(), Some(want.finish), "{name}");
    }
}

#[tokio::test]
async fn junk_tokens_never_fail_the_request() {
    // Special tokens in odd places, ids the tokenizer does not know, a lone <|constrain|>, an empty script.
    let vocab = tokenizer().vocab_size() as u32;
    let scripts = vec![
        vec![special::END, special::END, special::MESSAGE, special::CONSTRAIN, special::RETURN],
        [vec![special::CHANNEL, vocab + 5, special::MESSAGE], ids("x<|endoftext|>y<|return|>")].concat(),
        vec![special::START, special::START, special::CALL],
        ids("<|constrain|><|channel|><|message|><|end|><|start|>"),
        Vec::new(),
    ];
    for script in scripts {
        let server = server_ids(vec![script.clone()], None);
        let reply = server.post("/v1/chat/completions", &user("Go")).await;
        assert_eq!(reply.status, 200, "{script:?}: {}", reply.text());
        assert_no_special_tokens(&reply.json());
        server.chat_stream(user("Go")).await;
    }
}

// ---------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------

fn choice_deltas(chunks: &[Value]) -> Vec<&Value> {
    chunks.iter().flat_map(|c| c["choices"].as_array().unwrap()).collect()
}

#[tokio::test]
async fn a_stream_opens_with_the_role_and_carries_reasoning_in_both_fields() {
    let script = reasoning_then_answer();
    let server = server(&[&script]);
    let chunks = server.chat_stream(user("Hi")).await;
    assert!(chunks.len() >= 4, "{chunks:?}");

    let id = chunks[0]["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-"));
    for chunk in &chunks {
        assert_eq!(chunk["id"], id, "every chunk has the same id");
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], MODEL);
        assert_eq!(chunk["created"], chunks[0]["created"]);
        assert_eq!(chunk["usage"], Value::Null, "no usage without stream_options.include_usage");
        assert_eq!(chunk["choices"].as_array().unwrap().len(), 1);
    }
    let first = &chunks[0]["choices"][0];
    assert_eq!(first["delta"]["role"], "assistant");
    assert_eq!(first["finish_reason"], Value::Null);

    for choice in choice_deltas(&chunks) {
        let delta = &choice["delta"];
        assert_eq!(delta.get("reasoning"), delta.get("reasoning_content"), "reasoning deltas carry both fields");
        if delta.get("reasoning").is_some() {
            assert!(delta.get("content").is_none(), "reasoning and content in one delta: {delta}");
        }
    }
    let last = &chunks.last().unwrap()["choices"][0];
    assert_eq!(last["finish_reason"], "stop");
    assert!(choice_deltas(&chunks)[..chunks.len() - 1].iter().all(|c| c["finish_reason"].is_null()));

    let streamed = fold(&chunks, 0);
    assert_eq!(streamed.role.as_deref(), Some("assistant"));
    assert_eq!(streamed.content, ANSWER);
    assert_eq!(streamed.reasoning, REASONING);
    assert_eq!(streamed.reasoning_content, REASONING);
    // Reasoning comes before the answer.
    let first_content = chunks.iter().position(|c| c["choices"][0]["delta"].get("content").is_some()).unwrap();
    let last_reasoning = chunks.iter().rposition(|c| c["choices"][0]["delta"].get("reasoning").is_some()).unwrap();
    assert!(last_reasoning < first_content);
}

#[tokio::test]
async fn a_streamed_tool_call_opens_with_its_name_then_streams_arguments() {
    let server = server(&[TOOL_CALL]);
    let chunks = server.chat_stream(with_tools(user("Weather in Paris?"), &[weather_tool()])).await;
    let deltas: Vec<&Value> = choice_deltas(&chunks).into_iter().map(|c| &c["delta"]).collect();
    let call_deltas: Vec<(usize, &Value)> = deltas
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.get("tool_calls").map(|calls| (i, calls)))
        .inspect(|(_, calls)| assert_eq!(calls.as_array().unwrap().len(), 1))
        .map(|(i, calls)| (i, &calls[0]))
        .collect();
    assert!(call_deltas.len() >= 3, "an opening delta and several argument fragments: {call_deltas:?}");

    let (opened_at, opening) = call_deltas[0];
    assert_eq!(opening["index"], 0);
    assert!(opening["id"].as_str().unwrap().starts_with("call"));
    assert_eq!(opening["type"], "function");
    assert_eq!(opening["function"]["name"], "get_weather");
    let mut arguments = opening["function"]["arguments"].as_str().unwrap_or_default().to_string();
    for (_, fragment) in &call_deltas[1..] {
        assert_eq!(fragment["index"], 0);
        assert!(fragment.get("id").is_none() && fragment.get("type").is_none(), "{fragment}");
        assert!(fragment["function"].get("name").is_none(), "{fragment}");
        arguments.push_str(fragment["function"]["arguments"].as_str().unwrap());
    }
    assert_eq!(arguments, "{\"city\":\"Paris\"}");

    // The reasoning is over before the tool call starts.
    assert!(deltas[..opened_at].iter().any(|d| d.get("reasoning").is_some()));
    assert!(deltas[opened_at..].iter().all(|d| d.get("reasoning").is_none() && d.get("reasoning_content").is_none()));
    assert!(deltas.iter().all(|d| d.get("content").is_none()), "no content: {deltas:?}");

    let last = &chunks.last().unwrap()["choices"][0];
    assert_eq!(last["finish_reason"], "tool_calls");
    let streamed = fold(&chunks, 0);
    assert_eq!(streamed.reasoning, "Need the weather tool for Paris.");
    assert_eq!(streamed.tool_calls[0].1, "get_weather");
}

#[tokio::test]
async fn include_usage_adds_a_last_chunk_with_usage_and_no_choices() {
    let script = reasoning_then_answer();
    let server = server(&[&script]);
    let whole = server.chat(user("Hi")).await;
    let mut body = user("Hi");
    body["stream_options"] = json!({"include_usage": true});
    let chunks = server.chat_stream(body).await;

    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["id"], chunks[0]["id"]);
    assert_eq!(last["object"], "chat.completion.chunk");
    assert_eq!(usage_numbers(&last["usage"]), usage_numbers(&whole["usage"]));
    let (.., reasoning) = usage_numbers(&last["usage"]);
    assert!(reasoning > 0);
    for chunk in &chunks[..chunks.len() - 1] {
        assert_eq!(chunk["usage"], Value::Null);
        assert_eq!(chunk["choices"].as_array().unwrap().len(), 1);
    }
    assert_eq!(chunks[chunks.len() - 2]["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn n_choices_stream_with_their_own_index() {
    let first = "<|channel|>final<|message|>First answer.<|return|>";
    let second = "<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>final<|message|>Second answer.<|return|>";
    let body = || {
        let mut body = user("Hi");
        body["n"] = json!(2);
        body
    };

    let whole = server(&[first, second]).chat(body()).await;
    let choices = whole["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 2);
    assert_eq!(choices[0]["index"], 0);
    assert_eq!(choices[0]["message"]["content"], "First answer.");
    assert_eq!(choices[1]["index"], 1);
    assert_eq!(choices[1]["message"]["content"], "Second answer.");
    assert_eq!(choices[1]["message"]["reasoning"], "Think.");
    let (_, completion, ..) = usage_numbers(&whole["usage"]);
    assert_eq!(completion, (ids(first).len() + ids(second).len()) as u64);

    let server = server(&[first, second]);
    let mut streaming = body();
    streaming["stream_options"] = json!({"include_usage": true});
    let chunks = server.chat_stream(streaming).await;
    let id = &chunks[0]["id"];
    assert!(chunks.iter().all(|c| &c["id"] == id));
    let zero = fold(&chunks, 0);
    let one = fold(&chunks, 1);
    assert_eq!(zero.role.as_deref(), Some("assistant"));
    assert_eq!(one.role.as_deref(), Some("assistant"));
    assert_eq!(zero.content, "First answer.");
    assert_eq!(one.content, "Second answer.");
    assert_eq!(one.reasoning, "Think.");
    assert_eq!(zero.finish_reason.as_deref(), Some("stop"));
    assert_eq!(one.finish_reason.as_deref(), Some("stop"));
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    let (_, completion, ..) = usage_numbers(&last["usage"]);
    assert_eq!(completion, (ids(first).len() + ids(second).len()) as u64);
    // The prompt is counted once.
    let (prompt, ..) = usage_numbers(&last["usage"]);
    assert_eq!(prompt, server.requests()[0].prompt.len() as u64);
}

// ---------------------------------------------------------------------------
// Stop strings: the final answer only, cut before the match
// ---------------------------------------------------------------------------

async fn both(server: &Server, body: Value) -> (Value, common::Streamed) {
    let whole = server.chat(body.clone()).await;
    let streamed = fold(&server.chat_stream(body).await, 0);
    let message = message(&whole);
    assert_eq!(streamed.content, message["content"].as_str().unwrap_or_default());
    assert_eq!(streamed.reasoning, message["reasoning"].as_str().unwrap_or_default());
    assert_eq!(streamed.finish_reason.as_deref(), whole["choices"][0]["finish_reason"].as_str());
    (whole, streamed)
}

#[tokio::test]
async fn stop_strings_cut_the_answer_but_not_the_reasoning() {
    let script = "<|channel|>analysis<|message|>I could say STOP here, but I will go on.<|end|><|start|>assistant<|channel|>final<|message|>Hello there STOP and more text.<|return|>";
    let server = server(&[script]);
    let mut body = user("Hi");
    body["stop"] = json!("STOP");
    let (whole, _) = both(&server, body).await;
    let message = message(&whole);
    assert_eq!(message["reasoning"], "I could say STOP here, but I will go on.");
    assert_eq!(message["content"], "Hello there ");
    assert_eq!(whole["choices"][0]["finish_reason"], "stop");
    let (prompt, completion, total, ..) = usage_numbers(&whole["usage"]);
    assert_eq!(prompt, server.requests()[0].prompt.len() as u64, "usage counts the prompt after a stop string");
    assert!(completion > 0 && completion < ids(script).len() as u64, "the generation was cut: {completion}");
    assert_eq!(total, prompt + completion);
}

#[tokio::test]
async fn a_stop_string_split_across_tokens_still_cuts() {
    let script = ids_split(&["<|channel|>final<|message|>Hello wor", "ld ST", "O", "P and the rest.", "<|return|>"]);
    let server = server_ids(vec![script], None);
    let mut body = user("Hi");
    body["stop"] = json!(["NEVER", "STOP"]);
    let (whole, streamed) = both(&server, body.clone()).await;
    assert_eq!(message(&whole)["content"], "Hello world ");
    assert_eq!(whole["choices"][0]["finish_reason"], "stop");
    assert_eq!(streamed.content, "Hello world ");

    body["stream_options"] = json!({"include_usage": true});
    let chunks = server.chat_stream(body).await;
    let (prompt, completion, ..) = usage_numbers(&chunks.last().unwrap()["usage"]);
    assert!(prompt > 0, "the usage chunk counts the prompt after a stop string");
    assert!(completion > 0);
}

#[tokio::test]
async fn a_partial_stop_string_at_the_end_is_released() {
    let server = server(&["<|channel|>final<|message|>Ends with ST<|return|>"]);
    let mut body = user("Hi");
    body["stop"] = json!("STOP");
    let (whole, _) = both(&server, body).await;
    assert_eq!(message(&whole)["content"], "Ends with ST");
    assert_eq!(whole["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn stop_strings_do_not_touch_tool_arguments() {
    let server = server(&[TOOL_CALL]);
    let mut body = with_tools(user("Weather?"), &[weather_tool()]);
    body["stop"] = json!(["Paris", "weather"]);
    let (whole, streamed) = both(&server, body).await;
    assert_eq!(message(&whole)["tool_calls"][0]["function"]["arguments"], "{\"city\":\"Paris\"}");
    assert_eq!(message(&whole)["reasoning"], "Need the weather tool for Paris.");
    assert_eq!(streamed.tool_calls[0].2, "{\"city\":\"Paris\"}");
    assert_eq!(whole["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn held_back_preamble_text_comes_before_the_tool_call() {
    // "ST" could start the stop string, so it is held back; the tool call that follows releases it first.
    let script = "<|channel|>commentary<|message|>Checking ST<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>";
    let server = server(&[script]);
    let mut body = with_tools(user("Weather?"), &[weather_tool()]);
    body["stop"] = json!("STOP");
    let (whole, streamed) = both(&server, body.clone()).await;
    assert_eq!(message(&whole)["content"], "Checking ST");
    assert_eq!(streamed.content, "Checking ST");
    let chunks = server.chat_stream(body).await;
    let deltas: Vec<&Value> = choice_deltas(&chunks).into_iter().map(|c| &c["delta"]).collect();
    let last_content = deltas.iter().rposition(|d| d.get("content").is_some()).unwrap();
    let first_call = deltas.iter().position(|d| d.get("tool_calls").is_some()).unwrap();
    assert!(last_content < first_call, "content after the tool call started: {deltas:?}");
}

// ---------------------------------------------------------------------------
// tool_choice
// ---------------------------------------------------------------------------

#[tokio::test]
async fn tool_choice_none_offers_no_tools() {
    let server = server(&["<|channel|>final<|message|>No tools.<|return|>"]);
    let mut body = with_tools(user("Weather?"), &[weather_tool()]);
    server.chat(body.clone()).await;
    let offered = server.last_prompt();
    assert!(offered.contains("type get_weather = (_: {"), "{offered}");
    assert!(offered.contains("Calls to these tools must go to the commentary channel: 'functions'."));

    body["tool_choice"] = json!("none");
    let response = server.chat(body).await;
    assert_eq!(message(&response)["content"], "No tools.");
    let prompt = server.last_prompt();
    assert!(!prompt.contains("get_weather"), "{prompt}");
    assert!(!prompt.contains("# Tools") && !prompt.contains("'functions'"), "{prompt}");
}

#[tokio::test]
async fn a_named_tool_choice_writes_the_call_header_into_the_prompt() {
    let server = server(&["{\"city\":\"Paris\"}<|call|>"]);
    let mut body = with_tools(user("Weather in Paris?"), &[time_tool(), weather_tool()]);
    body["tool_choice"] = json!({"type": "function", "function": {"name": "get_weather"}});
    let response = server.chat(body.clone()).await;
    let prompt = server.last_prompt();
    assert!(
        prompt
            .ends_with("<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"),
        "{prompt}"
    );
    let choice = &response["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let calls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(calls[0]["function"]["arguments"], "{\"city\":\"Paris\"}");
    // The header the server wrote is not generated: only the arguments and <|call|> count.
    let (_, completion, ..) = usage_numbers(&response["usage"]);
    assert_eq!(completion, ids("{\"city\":\"Paris\"}<|call|>").len() as u64);

    let chunks = server.chat_stream(body).await;
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let opening = &chunks[1]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(opening["function"]["name"], "get_weather", "{chunks:?}");
    assert_eq!(opening["type"], "function");
    let streamed = fold(&chunks, 0);
    assert_eq!(streamed.tool_calls.len(), 1);
    assert_eq!(streamed.tool_calls[0].2, "{\"city\":\"Paris\"}");
    assert_eq!(streamed.finish_reason.as_deref(), Some("tool_calls"));
}

#[tokio::test]
async fn tool_choice_required_starts_a_call_and_the_model_names_the_tool() {
    let server = server(&["get_time <|constrain|>json<|message|>{\"tz\":\"CET\"}<|call|>"]);
    let mut body = with_tools(user("Time?"), &[weather_tool(), time_tool()]);
    body["tool_choice"] = json!("required");
    let response = server.chat(body).await;
    assert!(server.last_prompt().ends_with("<|start|>assistant<|channel|>commentary to=functions."));
    let calls = message(&response)["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["function"]["name"], "get_time");
    assert_eq!(calls[0]["function"]["arguments"], "{\"tz\":\"CET\"}");
    assert_eq!(response["choices"][0]["finish_reason"], "tool_calls");
}

// ---------------------------------------------------------------------------
// The prompt a chat request renders
// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_chat_prompt_has_the_date_the_effort_and_the_response_format() {
    let server = server(&["<|channel|>final<|message|>{}<|return|>"]);
    server.chat(user("Hi")).await;
    let prompt = server.last_prompt();
    assert!(prompt.starts_with("<|start|>system<|message|>"), "{prompt}");
    assert!(prompt.contains("Current date: "), "{prompt}");
    assert!(prompt.contains("Reasoning: medium"), "medium by default: {prompt}");
    assert!(prompt.contains("<|start|>user<|message|>Hi<|end|>"));
    assert!(prompt.ends_with("<|start|>assistant"), "{prompt}");

    for (key, value) in [
        ("reasoning_effort", json!("high")),
        ("reasoning", json!({"effort": "high"})),
        ("chat_template_kwargs", json!({"reasoning_effort": "high"})),
    ] {
        let mut body = user("Hi");
        body[key] = value;
        server.chat(body).await;
        let prompt = server.last_prompt();
        assert!(prompt.contains("Reasoning: high") && !prompt.contains("Reasoning: medium"), "{key}: {prompt}");
    }

    let mut body = user("Weather as JSON");
    body["response_format"] = json!({
        "type": "json_schema",
        "json_schema": {
            "name": "weather",
            "schema": {"type": "object", "properties": {"temp_c": {"type": "number"}}}
        }
    });
    server.chat(body).await;
    let prompt = server.last_prompt();
    assert!(prompt.contains("<|start|>developer<|message|>"), "{prompt}");
    assert!(prompt.contains("# Response Formats\n\n## weather\n\n"), "{prompt}");
    assert!(prompt.contains("\"temp_c\""), "{prompt}");
}

#[tokio::test]
async fn the_chat_prompt_is_what_tokenize_renders() {
    let server = server(&["<|channel|>final<|message|>Hi<|return|>"]);
    let messages = json!([
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"}
    ]);
    let body = json!({"model": MODEL, "messages": messages, "tools": [weather_tool()], "reasoning_effort": "low"});
    server.chat(body.clone()).await;
    let chat_prompt = server.requests().pop().unwrap().prompt;
    let reply = server.post("/tokenize", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let tokens: Vec<u32> = serde_json::from_value(reply.json()["tokens"].clone()).unwrap();
    assert_eq!(tokens, chat_prompt);
}

// ---------------------------------------------------------------------------
// Log-probabilities: of the answer's tokens only
// ---------------------------------------------------------------------------

#[tokio::test]
async fn logprobs_cover_the_answer_tokens_only() {
    let script = reasoning_then_answer();
    let server = server(&[&script]);
    let mut body = user("Hi");
    body["logprobs"] = json!(true);
    body["top_logprobs"] = json!(1);
    let response = server.chat(body.clone()).await;
    let content = response["choices"][0]["logprobs"]["content"].as_array().unwrap();
    let text: String = content.iter().map(|t| t["token"].as_str().unwrap()).collect();
    assert_eq!(text, ANSWER, "one entry per answer token, none for reasoning or special tokens");
    assert_eq!(content.len(), tokenizer().encode(ANSWER, false).len());
    for token in content {
        assert!(token["logprob"].as_f64().unwrap() <= 0.0);
        let bytes: Vec<u8> = serde_json::from_value(token["bytes"].clone()).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), token["token"].as_str().unwrap());
        assert_eq!(token["top_logprobs"].as_array().unwrap().len(), 1);
    }

    let chunks = server.chat_stream(body).await;
    let streamed: String = chunks
        .iter()
        .flat_map(|c| c["choices"].as_array().unwrap())
        .filter_map(|c| c["logprobs"]["content"].as_array())
        .flatten()
        .map(|t| t["token"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(streamed, ANSWER);
    for chunk in &chunks {
        let choice = &chunk["choices"][0];
        if choice["logprobs"].is_object() {
            assert!(choice["delta"]["content"].is_string(), "logprobs ride on content deltas: {chunk}");
        }
    }
}

#[tokio::test]
async fn characters_split_across_tokens_arrive_whole() {
    const TEXT: &str = "Grüße aus 東京 🌍🚀🦀 — fin.";
    let script = format!(
        "<|channel|>analysis<|message|>Think 🤔 about 東京.<|end|><|start|>assistant<|channel|>final<|message|>{TEXT}<|return|>"
    );
    assert!(ids(&script).len() > TEXT.split_whitespace().count() + 10, "some characters take several tokens");
    let server = server(&[&script]);
    let (whole, streamed) = both(&server, user("Hi")).await;
    assert_eq!(message(&whole)["content"], TEXT);
    assert_eq!(message(&whole)["reasoning"], "Think 🤔 about 東京.");
    assert_eq!(streamed.content, TEXT);

    let mut body = user("Hi");
    body["stop"] = json!("🚀");
    let (whole, _) = both(&server, body).await;
    assert_eq!(message(&whole)["content"], "Grüße aus 東京 🌍");
}
