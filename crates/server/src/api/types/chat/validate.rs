//! Validation of a chat request into a [`ValidChat`].

use std::collections::HashMap;

use gpt_oss_model::harmony::ReasoningEffort;
use serde_json::{Map, Value};

use super::request::{
    CHAT_KNOWN, ChatCompletionRequest, ChatMessage, ChatRole, ContentPartType, MESSAGE_KNOWN, MessageContent,
    PART_KNOWN, ResponseFormat, ResponseFormatType, Tool, ToolChoice, ToolChoiceMode,
};
use super::valid::{FunctionTool, OutputFormat, ToolUse, ValidChat, ValidMessage, ValidToolCall};
use crate::api::types::common::{
    Known, Limits, ReasoningOptions, SamplingFields, array_too_long, check_n, check_token_limit, parse_effort,
    reject_unknown, reject_unknown_with, validate_logit_bias, validate_stop, validate_stream_options,
};
use crate::api::types::schema::check_schema;
use crate::error::ApiError;

impl ChatCompletionRequest {
    /// Checks the request against OpenAI's rules and `limits`; every error is a
    /// 400 naming the parameter.
    pub fn validate(&self, limits: &Limits) -> Result<ValidChat, ApiError> {
        reject_unknown_with(&self.extra, "", CHAT_KNOWN)?;
        let messages = validate_messages(&self.messages)?;
        let tools = validate_tools(self.tools.as_deref(), limits)?;
        let tool_choice = validate_tool_choice(self.tool_choice.as_ref(), &tools)?;
        let response_format = validate_response_format(self.response_format.as_ref())?;
        let effort = resolve_effort(
            self.reasoning_effort.as_deref(),
            self.reasoning.as_ref(),
            self.chat_template_kwargs.as_ref(),
        )?;
        let max_completion_tokens = check_token_limit(self.max_completion_tokens, "max_completion_tokens")?;
        let max_tokens = check_token_limit(self.max_tokens, "max_tokens")?;
        let stop = validate_stop(self.stop.as_ref(), limits)?;
        let sampling = SamplingFields {
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: self.top_k,
            min_p: self.min_p,
            presence_penalty: self.presence_penalty,
            frequency_penalty: self.frequency_penalty,
            repetition_penalty: self.repetition_penalty,
            seed: self.seed,
            logprobs: self.logprobs.unwrap_or(false),
            top_logprobs: self.top_logprobs,
        }
        .build()?;
        let n = check_n(self.n, limits)?;
        let stream = self.stream.unwrap_or(false);
        let include_usage = validate_stream_options(stream, self.stream_options.as_ref())?;
        if let Some(modalities) = &self.modalities
            && let Some(other) = modalities.iter().find(|m| m.as_str() != "text")
        {
            return Err(ApiError::invalid_request(
                format!("gpt-oss accepts text only: modality '{other}' is not supported."),
                Some("modalities"),
            )
            .with_code("unsupported_value"));
        }
        let logit_bias = validate_logit_bias(self.logit_bias.as_ref(), limits)?;
        Ok(ValidChat {
            model: self.model.clone(),
            messages,
            tools,
            tool_choice,
            parallel_tool_calls: self.parallel_tool_calls.unwrap_or(true),
            response_format,
            effort,
            sampling,
            max_tokens: max_completion_tokens.or(max_tokens),
            stop,
            n,
            stream,
            include_usage,
            logit_bias,
            user: self.user.clone(),
        })
    }
}

/// The effort from, in order: `reasoning_effort`, `reasoning.effort`,
/// `chat_template_kwargs.reasoning_effort`; medium when none is given.
/// Each one given must be a valid effort, even if an earlier one wins.
pub(crate) fn resolve_effort(
    reasoning_effort: Option<&str>,
    reasoning: Option<&ReasoningOptions>,
    chat_template_kwargs: Option<&Map<String, Value>>,
) -> Result<ReasoningEffort, ApiError> {
    let top = reasoning_effort.map(|e| parse_effort(e, "reasoning_effort")).transpose()?;
    let nested = match reasoning {
        Some(options) => {
            reject_unknown(&options.extra, "reasoning")?;
            options.effort.as_deref().map(|e| parse_effort(e, "reasoning.effort")).transpose()?
        }
        None => None,
    };
    let kwargs = match chat_template_kwargs.and_then(|kw| kw.get("reasoning_effort")) {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) => Some(parse_effort(e, "chat_template_kwargs.reasoning_effort")?),
        Some(other) => {
            return Err(ApiError::invalid_request(
                format!(
                    "Invalid type for 'chat_template_kwargs.reasoning_effort': expected a string, but got {} instead.",
                    json_type(other)
                ),
                Some("chat_template_kwargs.reasoning_effort"),
            )
            .with_code("invalid_type"));
        }
    };
    Ok(top.or(nested).or(kwargs).unwrap_or_default())
}

/// `a string`, `an object`, ... for messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// OpenAI's error for an array that must not be empty.
pub(crate) fn empty_array(param: &str) -> ApiError {
    ApiError::invalid_request(
        format!(
            "Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array instead."
        ),
        Some(param),
    )
    .with_code("empty_array")
}

pub(crate) fn missing(param: &str) -> ApiError {
    ApiError::invalid_request(format!("Missing required parameter: '{param}'."), Some(param))
        .with_code("missing_required_parameter")
}

/// Validates `messages` (non-empty) into typed messages. Tool messages get
/// their function's name from the assistant tool call they answer.
pub(crate) fn validate_messages(messages: &[ChatMessage]) -> Result<Vec<ValidMessage>, ApiError> {
    if messages.is_empty() {
        return Err(empty_array("messages"));
    }
    let mut call_names: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(messages.len());
    for (i, message) in messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        let valid = validate_message(message, &path, &call_names)?;
        if let ValidMessage::Assistant { tool_calls, .. } = &valid {
            for call in tool_calls {
                call_names.insert(call.id.clone(), call.name.clone());
            }
        }
        out.push(valid);
    }
    Ok(out)
}

fn validate_message(
    message: &ChatMessage,
    path: &str,
    call_names: &HashMap<String, String>,
) -> Result<ValidMessage, ApiError> {
    reject_unknown_with(&message.extra, path, MESSAGE_KNOWN)?;
    let role = message.role;
    if role != ChatRole::Assistant && message.tool_calls.as_ref().is_some_and(|calls| !calls.is_empty()) {
        let param = format!("{path}.tool_calls");
        return Err(ApiError::invalid_request(
            format!("Invalid parameter: '{param}': 'tool_calls' is only allowed in messages with role 'assistant'."),
            Some(&param),
        )
        .with_code("invalid_value"));
    }
    let name = message.name.clone();
    let required_text = || -> Result<String, ApiError> {
        let content_path = format!("{path}.content");
        match &message.content {
            None => Err(missing(&content_path)),
            Some(content) => content_text(content, &content_path, false),
        }
    };
    Ok(match role {
        ChatRole::System => ValidMessage::System { content: required_text()?, name },
        ChatRole::Developer => ValidMessage::Developer { content: required_text()?, name },
        ChatRole::User => ValidMessage::User { content: required_text()?, name },
        ChatRole::Tool => {
            let Some(tool_call_id) = message.tool_call_id.clone() else {
                return Err(missing(&format!("{path}.tool_call_id")));
            };
            let content = required_text()?;
            let Some(name) = call_names.get(&tool_call_id).cloned().or(name) else {
                let param = format!("{path}.tool_call_id");
                return Err(ApiError::invalid_request(
                    format!(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceding message with \
                         'tool_calls'. No earlier tool call has the id '{tool_call_id}' (and the message has no \
                         'name')."
                    ),
                    Some(&param),
                )
                .with_code("invalid_value"));
            };
            ValidMessage::Tool { tool_call_id, name, content }
        }
        ChatRole::Assistant => {
            let content_path = format!("{path}.content");
            let content = match &message.content {
                None => None,
                Some(content) => Some(content_text(content, &content_path, true)?),
            }
            .filter(|c| !c.is_empty());
            let reasoning = [&message.reasoning_content, &message.reasoning, &message.thinking]
                .into_iter()
                .flatten()
                .find(|r| !r.is_empty())
                .cloned();
            let mut tool_calls = Vec::new();
            for (j, call) in message.tool_calls.iter().flatten().enumerate() {
                let call_path = format!("{path}.tool_calls[{j}]");
                reject_unknown_with(&call.extra, &call_path, &[("index", Known::Ignored)])?;
                reject_unknown(&call.function.extra, &format!("{call_path}.function"))?;
                tool_calls.push(ValidToolCall {
                    id: call.id.clone(),
                    name: call.function.name.clone(),
                    arguments: call.function.arguments.clone(),
                });
            }
            ValidMessage::Assistant { content, reasoning, tool_calls, refusal: message.refusal.clone(), name }
        }
        ChatRole::Function => {
            let param = format!("{path}.role");
            return Err(ApiError::invalid_request(
                "The 'function' role is deprecated and not supported: send the function's result as a message with \
                 role 'tool' and its 'tool_call_id'.",
                Some(&param),
            )
            .with_code("unsupported_value"));
        }
    })
}

/// The text of a content value: text parts joined with `\n`. Refusal parts
/// are accepted in assistant messages (and left out of the text).
fn content_text(content: &MessageContent, path: &str, assistant: bool) -> Result<String, ApiError> {
    let parts = match content {
        MessageContent::Text(text) => return Ok(text.clone()),
        MessageContent::Parts(parts) if parts.is_empty() && !assistant => return Err(empty_array(path)),
        MessageContent::Parts(parts) => parts,
    };
    let mut texts = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let part_path = format!("{path}[{j}]");
        match part.kind {
            ContentPartType::Text => {
                reject_unknown_with(&part.extra, &part_path, PART_KNOWN)?;
                match &part.text {
                    Some(text) => texts.push(text.as_str()),
                    None => return Err(missing(&format!("{part_path}.text"))),
                }
            }
            ContentPartType::Refusal if assistant => reject_unknown_with(&part.extra, &part_path, PART_KNOWN)?,
            ContentPartType::Refusal => {
                let param = format!("{part_path}.type");
                return Err(ApiError::invalid_request(
                    "Invalid value: 'refusal'. Content parts of type 'refusal' are only allowed in assistant messages.",
                    Some(&param),
                )
                .with_code("invalid_value"));
            }
            other => {
                let param = format!("{part_path}.type");
                let kind = match other {
                    ContentPartType::ImageUrl => "image_url",
                    ContentPartType::InputAudio => "input_audio",
                    _ => "file",
                };
                return Err(ApiError::invalid_request(
                    format!("gpt-oss accepts text only: '{kind}' content parts are not supported."),
                    Some(&param),
                )
                .with_code("unsupported_value"));
            }
        }
    }
    Ok(texts.join("\n"))
}

/// Whether `name` matches `^[a-zA-Z0-9_-]{1,64}$`; the error names `param`.
fn check_function_name(name: &str, param: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::invalid_request(
            format!(
                "Invalid '{param}': empty string. Expected a string with minimum length 1, but got an empty string \
                 instead."
            ),
            Some(param),
        )
        .with_code("empty_string"));
    }
    let len = name.chars().count();
    if len > 64 {
        return Err(ApiError::invalid_request(
            format!(
                "Invalid '{param}': string too long. Expected a string with maximum length 64, but got a string with \
                 length {len} instead."
            ),
            Some(param),
        )
        .with_code("string_above_max_length"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(ApiError::invalid_request(
            format!(
                "Invalid '{param}': string does not match pattern. Expected a string that matches the pattern \
                 '^[a-zA-Z0-9_-]+$'."
            ),
            Some(param),
        )
        .with_code("invalid_value"));
    }
    Ok(())
}

/// Validates `tools`: names valid and unique, `parameters` a JSON object.
pub(crate) fn validate_tools(tools: Option<&[Tool]>, limits: &Limits) -> Result<Vec<FunctionTool>, ApiError> {
    let tools = tools.unwrap_or_default();
    if tools.len() > limits.max_tools {
        return Err(array_too_long("tools", limits.max_tools, tools.len()));
    }
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let path = format!("tools[{i}]");
        reject_unknown(&tool.extra, &path)?;
        let function = &tool.function;
        let fpath = format!("{path}.function");
        reject_unknown(&function.extra, &fpath)?;
        let spec = FunctionSpec {
            name: &function.name,
            description: function.description.as_deref(),
            parameters: function.parameters.as_ref(),
            strict: function.strict,
        };
        out.push(spec.validate(&fpath, &out)?);
    }
    Ok(out)
}

/// A function tool's fields, whatever the API's shape around them.
pub(crate) struct FunctionSpec<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub parameters: Option<&'a Value>,
    pub strict: Option<bool>,
}

impl FunctionSpec<'_> {
    /// A valid name not among `earlier`'s, `parameters` a JSON object; errors name fields under `path`.
    pub(crate) fn validate(&self, path: &str, earlier: &[FunctionTool]) -> Result<FunctionTool, ApiError> {
        check_function_name(self.name, &format!("{path}.name"))?;
        if earlier.iter().any(|tool| tool.name == self.name) {
            let param = format!("{path}.name");
            return Err(ApiError::invalid_request(
                format!("Invalid 'tools': duplicate function name '{}'. Function names must be unique.", self.name),
                Some(&param),
            )
            .with_code("invalid_value"));
        }
        let owner = format!("function '{}'", self.name);
        let parameters =
            optional_schema(self.parameters, &format!("{path}.parameters"), &owner, "invalid_function_parameters")?;
        Ok(FunctionTool {
            name: self.name.to_string(),
            description: self.description.map(str::to_string),
            parameters,
            strict: self.strict.unwrap_or(false),
        })
    }
}

fn validate_tool_choice(choice: Option<&ToolChoice>, tools: &[FunctionTool]) -> Result<ToolUse, ApiError> {
    let no_tools = || {
        ApiError::invalid_request(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            Some("tool_choice"),
        )
        .with_code("invalid_value")
    };
    match choice {
        None if tools.is_empty() => Ok(ToolUse::None),
        None => Ok(ToolUse::Auto),
        Some(ToolChoice::Mode(ToolChoiceMode::None)) => Ok(ToolUse::None),
        Some(ToolChoice::Mode(ToolChoiceMode::Auto)) if tools.is_empty() => Ok(ToolUse::None),
        Some(ToolChoice::Mode(ToolChoiceMode::Auto)) => Ok(ToolUse::Auto),
        Some(ToolChoice::Mode(ToolChoiceMode::Required)) if tools.is_empty() => Err(no_tools()),
        Some(ToolChoice::Mode(ToolChoiceMode::Required)) => Ok(ToolUse::Required),
        Some(ToolChoice::Named(named)) => {
            reject_unknown(&named.extra, "tool_choice")?;
            reject_unknown(&named.function.extra, "tool_choice.function")?;
            if tools.is_empty() {
                return Err(no_tools());
            }
            let name = &named.function.name;
            if !tools.iter().any(|t| &t.name == name) {
                return Err(ApiError::invalid_request(
                    format!("Invalid value for 'tool_choice': function '{name}' is not among the 'tools'."),
                    Some("tool_choice.function.name"),
                )
                .with_code("invalid_value"));
            }
            Ok(ToolUse::Named(name.clone()))
        }
    }
}

fn validate_response_format(format: Option<&ResponseFormat>) -> Result<OutputFormat, ApiError> {
    let Some(format) = format else { return Ok(OutputFormat::Text) };
    reject_unknown(&format.extra, "response_format")?;
    match format.kind {
        ResponseFormatType::Text => Ok(OutputFormat::Text),
        ResponseFormatType::JsonObject => Ok(OutputFormat::JsonObject),
        ResponseFormatType::JsonSchema => {
            let Some(spec) = &format.json_schema else {
                return Err(missing("response_format.json_schema"));
            };
            reject_unknown(&spec.extra, "response_format.json_schema")?;
            json_schema_format(
                &spec.name,
                spec.description.as_deref(),
                spec.schema.as_ref(),
                spec.strict,
                "response_format.json_schema",
            )
        }
    }
}

/// A `json_schema` output format: a valid name and, when given, a schema object; errors name fields under
/// `path`.
pub(crate) fn json_schema_format(
    name: &str,
    description: Option<&str>,
    schema: Option<&Value>,
    strict: Option<bool>,
    path: &str,
) -> Result<OutputFormat, ApiError> {
    check_function_name(name, &format!("{path}.name"))?;
    let owner = format!("response format '{name}'");
    let schema = optional_schema(schema, &format!("{path}.schema"), &owner, "invalid_json_schema")?;
    Ok(OutputFormat::JsonSchema {
        name: name.to_string(),
        description: description.map(str::to_string),
        schema,
        strict: strict.unwrap_or(false),
    })
}

/// An optional JSON Schema (`null` counts as absent): an object that [`check_schema`] accepts. Errors name
/// `param`, and `owner` (`function 'f'`) with the code `code` for a schema of the wrong shape.
fn optional_schema(value: Option<&Value>, param: &str, owner: &str, code: &str) -> Result<Option<Value>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(schema @ Value::Object(_)) => match check_schema(schema) {
            Ok(()) => Ok(Some(schema.clone())),
            Err(problem) => {
                Err(ApiError::invalid_request(format!("Invalid schema for {owner}: {problem}."), Some(param))
                    .with_code(code))
            }
        },
        Some(other) => Err(ApiError::invalid_request(
            format!(
                "Invalid type for '{param}': expected an object (a JSON Schema), but got {} instead.",
                json_type(other)
            ),
            Some(param),
        )
        .with_code("invalid_type")),
    }
}
