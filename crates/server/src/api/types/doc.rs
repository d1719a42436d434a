//! OpenAPI schemas that the derives cannot state: string enums of fields typed `String`, `logit_bias` keys,
//! and request parts whose required fields depend on a tag (`role`, `type`). They say what validation
//! accepts, so that a request the document allows is one the server accepts. Written as JSON Schema and
//! put into the generated document by [`crate::api::openapi::document`] (utoipa's schema types would drop
//! keywords they do not model, such as `propertyNames`).

use serde_json::{Value, json};

/// (component, JSON pointer in it, schema).
pub(crate) type Override = (&'static str, &'static str, fn() -> Value);

/// What [`crate::api::openapi::document`] puts into the derived schemas: (component, JSON pointer in it,
/// schema). A pointer to a property replaces the derived one, `/allOf` adds requirements, an empty pointer
/// replaces the whole component. Rules between fields (`stream_options` needs `stream: true`, `top_logprobs`
/// needs `logprobs`, a chosen tool must be among `tools`) are left out: `if`/`then` breaks schemathesis'
/// coverage phase, and such requests get a documented 400.
pub(crate) const OVERRIDES: &[Override] = &[
    ("ChatCompletionRequest", "/properties/messages", chat_messages),
    ("ChatCompletionRequest", "/properties/response_format", response_format),
    ("ChatCompletionRequest", "/properties/reasoning_effort", effort),
    ("ChatCompletionRequest", "/properties/stop", stop),
    ("ChatCompletionRequest", "/properties/modalities", modalities),
    ("ChatCompletionRequest", "/properties/logit_bias", logit_bias),
    ("ChatCompletionRequest", "/properties/chat_template_kwargs", chat_template_kwargs),
    ("ReasoningOptions", "/properties/effort", effort),
    ("FunctionDefinition", "/properties/name", name),
    ("JsonSchemaFormat", "/properties/name", name),
    ("CompletionRequest", "/properties/prompt", completion_prompt),
    ("CompletionRequest", "/properties/suffix", no_suffix),
    ("CompletionRequest", "/properties/stop", stop),
    ("CompletionRequest", "/properties/logit_bias", logit_bias),
    ("CompletionRequest", "/properties/best_of", best_of),
    ("ResponsesRequest", "/properties/input", responses_input),
    ("ResponsesRequest", "/properties/tools", responses_tools),
    ("ResponsesRequest", "/properties/tool_choice", responses_tool_choice),
    ("ResponsesRequest", "/properties/text", responses_text),
    ("ResponsesRequest", "/properties/include", responses_include),
    ("ResponsesRequest", "/properties/metadata", metadata),
    ("ResponsesRequest", "/properties/truncation", truncation),
    ("ResponsesRequest", "/properties/background", background),
    ("ResponsesRequest", "/allOf", responses_rules),
    ("TokenizeRequest", "", tokenize_request),
    ("DetokenizeRequest", "/properties/tokens", detokenize_tokens),
];

/// `{"$ref": "#/components/schemas/<name>"}`.
fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A reasoning effort: `low`, `medium`, `high`, or `minimal` (taken as `low`).
fn effort() -> Value {
    json!({"type": "string", "enum": super::common::EFFORT_WORDS})
}

/// A function or format name: `^[a-zA-Z0-9_-]{1,64}$`.
fn name() -> Value {
    json!({"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"})
}

/// `logit_bias`: token ids (decimal strings) to a bias in [-100, 100]. Ids of 5 digits at most are in every
/// gpt-oss vocabulary (201 088 tokens); larger ones are checked against it.
fn logit_bias() -> Value {
    json!({
        "type": "object",
        "maxProperties": 1024,
        "propertyNames": {"pattern": "^[0-9]{1,5}$"},
        "additionalProperties": {"type": "number", "minimum": -100, "maximum": 100}
    })
}

/// `stop`: a non-empty string, or up to 4 of them.
fn stop() -> Value {
    let one = json!({"type": "string", "minLength": 1});
    json!({"oneOf": [one, {"type": "array", "maxItems": 4, "items": one}]})
}

/// `chat_template_kwargs`: any object; `reasoning_effort` in it must be an effort.
fn chat_template_kwargs() -> Value {
    json!({
        "type": "object",
        "properties": {"reasoning_effort": {"type": "string", "enum": super::common::EFFORT_WORDS}}
    })
}

/// `modalities`: only `["text"]`.
fn modalities() -> Value {
    json!({"type": "array", "items": {"type": "string", "enum": ["text"]}})
}

/// `suffix`: not supported, so only empty.
fn no_suffix() -> Value {
    json!({"type": "string", "maxLength": 0})
}

/// An object schema with exactly `properties` (none other accepted), of which `required` must be given.
fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

fn one_of(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}

/// Chat `messages`: at least one; the fields each role requires. A tool message names its function
/// (`name`) unless it answers an earlier tool call of the same id; the document asks for `name` always.
fn chat_messages() -> Value {
    let string = json!({"type": "string"});
    let text_part = object(json!({"type": one_of(&["text"]), "text": string}), &["type", "text"]);
    let text = json!({"oneOf": [string, {"type": "array", "minItems": 1, "items": text_part}]});
    // Refusal parts are accepted in assistant messages too; the document leaves them out to stay shallow
    // (schemathesis' coverage phase overflows Python's recursion limit on deeper nesting).
    let assistant_content = json!({"oneOf": [{"type": ["string", "null"]}, {"type": "array", "items": text_part}]});
    let tool_call = object(
        json!({
            "id": string,
            "type": one_of(&["function"]),
            "function": object(json!({"name": string, "arguments": string}), &["name", "arguments"]),
        }),
        &["id", "function"],
    );
    let message = json!({"oneOf": [
        object(json!({"role": one_of(&["system", "developer", "user"]), "content": text, "name": string}),
            &["role", "content"]),
        object(json!({
            "role": one_of(&["assistant"]), "content": assistant_content, "name": string,
            "tool_calls": {"type": "array", "items": tool_call},
            "reasoning_content": string, "reasoning": string, "thinking": string, "refusal": string,
        }), &["role"]),
        object(json!({"role": one_of(&["tool"]), "tool_call_id": string, "content": text, "name": string}),
            &["role", "tool_call_id", "content", "name"]),
    ]});
    json!({"type": "array", "minItems": 1, "items": message})
}

/// Chat `response_format`: `text`, `json_object`, or `json_schema` with its `json_schema`.
fn response_format() -> Value {
    let format = object(
        json!({"name": name(), "description": {"type": "string"}, "schema": {"type": "object"},
               "strict": {"type": "boolean"}}),
        &["name"],
    );
    json!({"oneOf": [
        object(json!({"type": one_of(&["text", "json_object"])}), &["type"]),
        object(json!({"type": one_of(&["json_schema"]), "json_schema": format}), &["type", "json_schema"]),
    ]})
}

/// Responses `input`: a user message as a string, or at least one item.
fn responses_input() -> Value {
    let string = json!({"type": "string"});
    let part = json!({"oneOf": [
        object(json!({"type": one_of(&["input_text", "output_text", "text", "reasoning_text", "summary_text"]),
                      "text": string}), &["type", "text"]),
        object(json!({"type": one_of(&["refusal"]), "refusal": string}), &["type", "refusal"]),
    ]});
    let text = json!({"oneOf": [string, {"type": "array", "minItems": 1, "items": part}]});
    let item = json!({"oneOf": [
        object(json!({"type": one_of(&["message"]), "role": one_of(&["user", "assistant", "system", "developer"]),
                      "content": text, "phase": one_of(&["commentary", "final_answer"])}), &["role", "content"]),
        object(json!({"type": one_of(&["function_call"]), "call_id": string, "name": string, "arguments": string}),
            &["type", "call_id", "name", "arguments"]),
        object(json!({"type": one_of(&["function_call_output"]), "call_id": string, "output": text}),
            &["type", "call_id", "output"]),
        object(json!({"type": one_of(&["reasoning"]), "content": {"type": "array", "items": part},
                      "summary": {"type": "array", "items": part}}), &["type"]),
    ]});
    json!({"oneOf": [string, {"type": "array", "minItems": 1, "items": item}]})
}

/// Responses `tools`: function tools, at most 128.
fn responses_tools() -> Value {
    let tool = object(
        json!({"type": one_of(&["function"]), "name": name(), "description": {"type": "string"},
               "parameters": {"type": "object"}, "strict": {"type": "boolean"}}),
        &["type", "name"],
    );
    json!({"type": "array", "maxItems": 128, "items": tool})
}

/// Responses `tool_choice`: a mode, or `{"type": "function", "name"}`.
fn responses_tool_choice() -> Value {
    json!({"oneOf": [
        one_of(&["none", "auto", "required"]),
        object(json!({"type": one_of(&["function"]), "name": {"type": "string"}}), &["type", "name"]),
    ]})
}

/// Responses `text`: the output `format` and `verbosity`.
fn responses_text() -> Value {
    let format = json!({"oneOf": [
        object(json!({"type": one_of(&["text", "json_object"])}), &["type"]),
        object(json!({"type": one_of(&["json_schema"]), "name": name(), "schema": {"type": "object"},
                      "description": {"type": "string"}, "strict": {"type": "boolean"}}), &["type", "name", "schema"]),
    ]});
    object(json!({"format": format, "verbosity": one_of(&["low", "medium", "high"])}), &[])
}

/// Responses `include`: the values OpenAI defines.
fn responses_include() -> Value {
    json!({"type": "array", "items": one_of(super::responses::INCLUDE_KNOWN)})
}

/// Responses `metadata`: up to 16 strings of at most 512 characters, keys of at most 64.
fn metadata() -> Value {
    json!({
        "type": "object", "maxProperties": 16, "propertyNames": {"maxLength": 64},
        "additionalProperties": {"type": "string", "maxLength": 512}
    })
}

/// Responses `truncation`.
fn truncation() -> Value {
    one_of(&["auto", "disabled"])
}

/// Responses `background`: only `false`.
fn background() -> Value {
    json!({"type": "boolean", "enum": [false]})
}

/// Token ids below 100 000: in every gpt-oss vocabulary (201 088 tokens); larger ones are checked against it.
fn token_ids() -> Value {
    json!({"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0, "maximum": 99_999}})
}

/// Completions `prompt`: one prompt, as a non-empty string, token ids, or a one-element array of either.
fn completion_prompt() -> Value {
    let string = json!({"type": "string", "minLength": 1});
    json!({"oneOf": [
        string,
        {"type": "array", "minItems": 1, "maxItems": 1, "items": string},
        token_ids(),
        {"type": "array", "minItems": 1, "maxItems": 1, "items": token_ids()},
    ]})
}

/// `/detokenize` `tokens`.
fn detokenize_tokens() -> Value {
    let mut ids = token_ids();
    ids["minItems"] = json!(0);
    ids
}

/// The body of `/tokenize`: `prompt` alone, or `messages` with the chat options.
fn tokenize_request() -> Value {
    let string = json!({"type": "string"});
    let boolean = json!({"type": "boolean"});
    let messages = chat_messages();
    let kwargs = chat_template_kwargs();
    json!({
        "description": "Text (`prompt`) to tokenize as is, or a conversation (`messages`) rendered as for chat \
                        completions; `model`, when given, must name the served model.",
        "oneOf": [
            object(json!({"model": string, "prompt": string, "add_special_tokens": boolean}), &["prompt"]),
            object(json!({
                "model": string, "messages": messages, "add_special_tokens": boolean,
                "add_generation_prompt": boolean, "reasoning_effort": one_of(&super::common::EFFORT_WORDS),
                "chat_template_kwargs": kwargs, "tools": {"type": "array", "maxItems": 128, "items": reference("Tool")},
            }), &["messages"]),
        ]
    })
}

/// `best_of`: only equal to `n`; the document allows 1 (`n` may still differ: a 400).
fn best_of() -> Value {
    json!({"enum": [1, null]})
}

/// The document asks for `input` always; the server also takes `previous_response_id` alone.
fn responses_rules() -> Value {
    json!([{"required": ["input"]}])
}
