//! Validation of a Responses request into a [`ValidResponses`].

use gpt_oss_model::sampling::MAX_TOP_LOGPROBS;
use serde_json::{Map, Value};

use super::request::{
    ContentPart, Input, InputItem, ItemContent, RESPONSES_KNOWN, ResponsesRequest, ResponsesTool, ResponsesToolChoice,
    TextOptions,
};
use super::valid::{Phase, ValidItem, ValidResponses};
use crate::api::types::chat::{
    FunctionSpec, FunctionTool, OutputFormat, ToolChoiceMode, ToolUse, empty_array, json_schema_format, json_type,
    missing, resolve_effort,
};
use crate::api::types::common::{
    Known, Limits, SamplingFields, array_too_long, check_integer, check_token_limit, reject_unknown,
    reject_unknown_with,
};
use crate::error::ApiError;

/// The `include` value that asks for the answer's log-probabilities.
pub const INCLUDE_LOGPROBS: &str = "message.output_text.logprobs";

/// The `include` values OpenAI defines; all are accepted.
pub(crate) const INCLUDE_KNOWN: &[&str] = &[
    INCLUDE_LOGPROBS,
    "reasoning.encrypted_content",
    "code_interpreter_call.outputs",
    "computer_call_output.output.image_url",
    "file_search_call.results",
    "message.input_image.image_url",
    "web_search_call.action.sources",
    "web_search_call.results",
];

/// OpenAI's bounds on `metadata`.
const METADATA_MAX_PAIRS: usize = 16;
const METADATA_MAX_KEY: usize = 64;
const METADATA_MAX_VALUE: usize = 512;

impl ResponsesRequest {
    /// Checks the request against OpenAI's rules and `limits`; every error is a 400 naming the parameter.
    pub fn validate(&self, limits: &Limits) -> Result<ValidResponses, ApiError> {
        reject_unknown_with(&self.extra, "", RESPONSES_KNOWN)?;
        let input = match &self.input {
            None if self.previous_response_id.is_none() => return Err(missing("input")),
            None => Vec::new(),
            Some(Input::Text(text)) => vec![ValidItem::User(text.clone())],
            Some(Input::Items(items)) if items.is_empty() && self.previous_response_id.is_none() => {
                return Err(empty_array("input"));
            }
            Some(Input::Items(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| validate_item(item, &format!("input[{i}]")))
                .collect::<Result<Vec<_>, _>>()?,
        };
        let tools = validate_tools(self.tools.as_deref().unwrap_or_default(), limits)?;
        let tool_choice = validate_tool_choice(self.tool_choice.as_ref(), &tools)?;
        let format = validate_text(self.text.as_ref())?;
        let effort = resolve_effort(None, self.reasoning.as_ref(), None)?;
        let max_output_tokens = check_token_limit(self.max_output_tokens, "max_output_tokens")?;
        let include = self.include.as_deref().unwrap_or_default();
        for (i, value) in include.iter().enumerate() {
            if !INCLUDE_KNOWN.contains(&value.as_str()) {
                return Err(ApiError::invalid_request(
                    format!("Invalid value: '{value}'. Supported values are: {}.", INCLUDE_KNOWN.join(", ")),
                    Some(&format!("include[{i}]")),
                )
                .with_code("invalid_value"));
            }
        }
        let logprobs = include.iter().any(|value| value == INCLUDE_LOGPROBS);
        let top_logprobs = match self.top_logprobs {
            Some(n) => Some(check_integer(n, "top_logprobs", 0, MAX_TOP_LOGPROBS as i64)?),
            None => None,
        };
        let sampling = SamplingFields {
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: None,
            min_p: None,
            presence_penalty: None,
            frequency_penalty: None,
            repetition_penalty: None,
            seed: None,
            logprobs,
            top_logprobs: top_logprobs.filter(|_| logprobs),
        }
        .build()?;
        let stream = self.stream.unwrap_or(false);
        if self.stream_options.is_some() && !stream {
            return Err(ApiError::invalid_request(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                Some("stream_options"),
            )
            .with_code("invalid_value"));
        }
        if self.background == Some(true) {
            return Err(ApiError::invalid_request(
                "Background responses ('background': true) are not supported: a response runs while its request is \
                 open. Use 'stream': true to follow a long response.",
                Some("background"),
            )
            .with_code("unsupported_value"));
        }
        let truncation = match self.truncation.as_deref() {
            None | Some("disabled") => "disabled",
            Some("auto") => "auto",
            Some(other) => {
                return Err(ApiError::invalid_request(
                    format!("Invalid value: '{other}'. Supported values are: 'auto' and 'disabled'."),
                    Some("truncation"),
                )
                .with_code("invalid_value"));
            }
        };
        if let Some(id) = &self.previous_response_id
            && id.is_empty()
        {
            return Err(ApiError::invalid_request(
                "Invalid 'previous_response_id': empty string. Expected the id of a stored response.",
                Some("previous_response_id"),
            )
            .with_code("empty_string"));
        }
        Ok(ValidResponses {
            model: self.model.clone(),
            input,
            instructions: self.instructions.clone().filter(|text| !text.is_empty()),
            tools,
            tool_choice,
            parallel_tool_calls: self.parallel_tool_calls.unwrap_or(true),
            format,
            effort,
            summary: self.reasoning.as_ref().and_then(|r| r.summary.clone()),
            sampling,
            max_output_tokens,
            store: self.store.unwrap_or(true),
            previous_response_id: self.previous_response_id.clone(),
            stream,
            metadata: validate_metadata(self.metadata.as_ref())?,
            truncation: truncation.to_string(),
            user: self.user.clone(),
        })
    }
}

fn invalid_value(message: String, param: &str) -> ApiError {
    ApiError::invalid_request(message, Some(param)).with_code("invalid_value")
}

/// Fields of the items OpenAI defines (an item sent back as it was received has them); others are refused.
/// `async_` is how the Python SDK's `model_dump()` spells `async`.
const ITEM_FIELDS: &[&str] = &["id", "status", "encrypted_content", "namespace", "caller", "async", "async_"];

/// Fields of content parts beyond `type`, `text` and `refusal`.
const PART_FIELDS: &[&str] = &["annotations", "logprobs"];

fn reject_unknown_fields(extra: &Map<String, Value>, known: &[&str], path: &str) -> Result<(), ApiError> {
    let known: Vec<(&str, Known)> = known.iter().map(|name| (*name, Known::Ignored)).collect();
    reject_unknown_with(extra, path, &known)
}

fn validate_item(item: &InputItem, path: &str) -> Result<ValidItem, ApiError> {
    reject_unknown_fields(&item.extra, ITEM_FIELDS, path)?;
    let required = |value: &Option<String>, field: &str| -> Result<String, ApiError> {
        value.clone().ok_or_else(|| missing(&format!("{path}.{field}")))
    };
    match item.kind.as_deref().unwrap_or("message") {
        "message" => {
            let Some(role) = &item.role else { return Err(missing(&format!("{path}.role"))) };
            let Some(content) = &item.content else { return Err(missing(&format!("{path}.content"))) };
            let text = content_text(content, &format!("{path}.content"))?;
            match role.as_str() {
                "user" => Ok(ValidItem::User(text)),
                "system" | "developer" => Ok(ValidItem::Instructions(text)),
                "assistant" => {
                    let phase = match item.phase.as_deref() {
                        None => None,
                        Some("commentary") => Some(Phase::Commentary),
                        Some("final_answer") => Some(Phase::FinalAnswer),
                        Some(other) => {
                            return Err(invalid_value(
                                format!(
                                    "Invalid value: '{other}'. Supported values are: 'commentary' and 'final_answer'."
                                ),
                                &format!("{path}.phase"),
                            ));
                        }
                    };
                    Ok(ValidItem::Assistant { text, phase })
                }
                other => Err(invalid_value(
                    format!(
                        "Invalid value: '{other}'. Supported values are: 'user', 'assistant', 'system' and 'developer'."
                    ),
                    &format!("{path}.role"),
                )),
            }
        }
        "function_call" => Ok(ValidItem::FunctionCall {
            call_id: required(&item.call_id, "call_id")?,
            name: required(&item.name, "name")?,
            arguments: required(&item.arguments, "arguments")?,
        }),
        "function_call_output" => {
            let Some(output) = &item.output else { return Err(missing(&format!("{path}.output"))) };
            Ok(ValidItem::FunctionCallOutput {
                call_id: required(&item.call_id, "call_id")?,
                output: content_text(output, &format!("{path}.output"))?,
            })
        }
        "reasoning" => {
            // The reasoning text, else its summary; an item with neither (encrypted only) adds nothing.
            let text = match (&item.content, &item.summary) {
                (Some(ItemContent::Parts(parts)), summary) if parts.is_empty() => {
                    parts_text(summary.as_deref().unwrap_or_default(), &format!("{path}.summary"))?
                }
                (Some(content), _) => content_text(content, &format!("{path}.content"))?,
                (None, Some(summary)) => parts_text(summary, &format!("{path}.summary"))?,
                (None, None) => String::new(),
            };
            Ok(ValidItem::Reasoning(text))
        }
        "item_reference" => Err(ApiError::invalid_request(
            "Item references ('item_reference') are not supported: send the item itself, or continue with \
             'previous_response_id'.",
            Some(&format!("{path}.type")),
        )
        .with_code("unsupported_value")),
        other => Err(ApiError::invalid_request(
            format!(
                "Invalid value: '{other}'. Supported item types are: 'message', 'function_call', \
                 'function_call_output' and 'reasoning' (gpt-oss serve runs function tools only)."
            ),
            Some(&format!("{path}.type")),
        )
        .with_code("invalid_value")),
    }
}

/// The text of a string or of text parts, joined with `\n`.
fn content_text(content: &ItemContent, path: &str) -> Result<String, ApiError> {
    match content {
        ItemContent::Text(text) => Ok(text.clone()),
        ItemContent::Parts(parts) if parts.is_empty() => Err(empty_array(path)),
        ItemContent::Parts(parts) => parts_text(parts, path),
    }
}

fn parts_text(parts: &[ContentPart], path: &str) -> Result<String, ApiError> {
    let mut texts = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let part_path = format!("{path}[{j}]");
        let text_only = ["input_image", "input_file", "input_audio"].contains(&part.kind.as_str());
        if !text_only {
            reject_unknown_fields(&part.extra, PART_FIELDS, &part_path)?;
        }
        match part.kind.as_str() {
            "input_text" | "output_text" | "text" | "reasoning_text" | "summary_text" => match &part.text {
                Some(text) => texts.push(text.as_str()),
                None => return Err(missing(&format!("{part_path}.text"))),
            },
            "refusal" => texts.extend(part.refusal.as_deref().or(part.text.as_deref())),
            "input_image" | "input_file" | "input_audio" => {
                return Err(ApiError::invalid_request(
                    format!("gpt-oss accepts text only: '{}' content parts are not supported.", part.kind),
                    Some(&format!("{part_path}.type")),
                )
                .with_code("unsupported_value"));
            }
            other => {
                return Err(invalid_value(
                    format!(
                        "Invalid value: '{other}'. Supported content part types are: 'input_text', 'output_text' and 'refusal'."
                    ),
                    &format!("{part_path}.type"),
                ));
            }
        }
    }
    Ok(texts.join("\n"))
}

fn validate_tools(tools: &[ResponsesTool], limits: &Limits) -> Result<Vec<FunctionTool>, ApiError> {
    if tools.len() > limits.max_tools {
        return Err(array_too_long("tools", limits.max_tools, tools.len()));
    }
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let path = format!("tools[{i}]");
        if tool.kind != "function" {
            return Err(ApiError::invalid_request(
                format!(
                    "Tool type '{}' is not supported: gpt-oss serve offers function tools ('type': 'function'), \
                     which the client runs.",
                    tool.kind
                ),
                Some(&format!("{path}.type")),
            )
            .with_code("unsupported_value"));
        }
        reject_unknown(&tool.extra, &path)?;
        let Some(name) = &tool.name else { return Err(missing(&format!("{path}.name"))) };
        let spec = FunctionSpec {
            name,
            description: tool.description.as_deref(),
            parameters: tool.parameters.as_ref(),
            strict: tool.strict,
        };
        out.push(spec.validate(&path, &out)?);
    }
    Ok(out)
}

fn validate_tool_choice(choice: Option<&ResponsesToolChoice>, tools: &[FunctionTool]) -> Result<ToolUse, ApiError> {
    let no_tools = || {
        invalid_value(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.".into(),
            "tool_choice",
        )
    };
    match choice {
        None | Some(ResponsesToolChoice::Mode(ToolChoiceMode::Auto)) if tools.is_empty() => Ok(ToolUse::None),
        None | Some(ResponsesToolChoice::Mode(ToolChoiceMode::Auto)) => Ok(ToolUse::Auto),
        Some(ResponsesToolChoice::Mode(ToolChoiceMode::None)) => Ok(ToolUse::None),
        Some(ResponsesToolChoice::Mode(ToolChoiceMode::Required)) if tools.is_empty() => Err(no_tools()),
        Some(ResponsesToolChoice::Mode(ToolChoiceMode::Required)) => Ok(ToolUse::Required),
        Some(ResponsesToolChoice::Tool(object)) => {
            if object.kind != "function" {
                return Err(ApiError::invalid_request(
                    format!(
                        "Invalid value for 'tool_choice.type': '{}'. Only function tools can be chosen: \
                         {{\"type\": \"function\", \"name\": ...}}.",
                        object.kind
                    ),
                    Some("tool_choice.type"),
                )
                .with_code("unsupported_value"));
            }
            reject_unknown(&object.extra, "tool_choice")?;
            let Some(name) = &object.name else { return Err(missing("tool_choice.name")) };
            if tools.is_empty() {
                return Err(no_tools());
            }
            if !tools.iter().any(|t| &t.name == name) {
                return Err(invalid_value(
                    format!("Invalid value for 'tool_choice': function '{name}' is not among the 'tools'."),
                    "tool_choice.name",
                ));
            }
            Ok(ToolUse::Named(name.clone()))
        }
    }
}

fn validate_text(text: Option<&TextOptions>) -> Result<OutputFormat, ApiError> {
    let Some(text) = text else { return Ok(OutputFormat::Text) };
    reject_unknown(&text.extra, "text")?;
    if let Some(verbosity) = &text.verbosity
        && !["low", "medium", "high"].contains(&verbosity.as_str())
    {
        return Err(invalid_value(
            format!("Invalid value: '{verbosity}'. Supported values are: 'low', 'medium' and 'high'."),
            "text.verbosity",
        ));
    }
    let Some(format) = &text.format else { return Ok(OutputFormat::Text) };
    reject_unknown(&format.extra, "text.format")?;
    match format.kind.as_str() {
        "text" => Ok(OutputFormat::Text),
        "json_object" => Ok(OutputFormat::JsonObject),
        "json_schema" => {
            let Some(name) = &format.name else { return Err(missing("text.format.name")) };
            if format.schema.is_none() {
                return Err(missing("text.format.schema"));
            }
            json_schema_format(
                name,
                format.description.as_deref(),
                format.schema.as_ref(),
                format.strict,
                "text.format",
            )
        }
        other => Err(invalid_value(
            format!("Invalid value: '{other}'. Supported values are: 'text', 'json_object' and 'json_schema'."),
            "text.format.type",
        )),
    }
}

fn validate_metadata(metadata: Option<&Map<String, Value>>) -> Result<Map<String, Value>, ApiError> {
    let Some(metadata) = metadata else { return Ok(Map::new()) };
    if metadata.len() > METADATA_MAX_PAIRS {
        return Err(invalid_value(
            format!(
                "Invalid 'metadata': too many keys. Expected at most {METADATA_MAX_PAIRS}, but got {}.",
                metadata.len()
            ),
            "metadata",
        ));
    }
    for (key, value) in metadata {
        let param = format!("metadata.{key}");
        if key.chars().count() > METADATA_MAX_KEY {
            return Err(invalid_value(
                format!("Invalid 'metadata': key longer than {METADATA_MAX_KEY} characters."),
                "metadata",
            ));
        }
        match value {
            Value::String(s) if s.chars().count() <= METADATA_MAX_VALUE => {}
            Value::String(_) => {
                return Err(invalid_value(
                    format!("Invalid '{param}': string longer than {METADATA_MAX_VALUE} characters."),
                    &param,
                ));
            }
            other => {
                return Err(ApiError::invalid_request(
                    format!("Invalid type for '{param}': expected a string, but got {} instead.", json_type(other)),
                    Some(&param),
                )
                .with_code("invalid_type"));
            }
        }
    }
    Ok(metadata.clone())
}
