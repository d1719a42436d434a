//! [`ApiError`]: every error the HTTP layer returns, as a status code and
//! OpenAI's error body `{"error": {"message", "type", "param", "code"}}`.
//!
//! Messages follow OpenAI's wording where OpenAI has one (unknown model,
//! API key, context length, unrecognized argument, invalid type/value), so
//! clients that match on them keep working. [`from_json_rejection`] turns
//! axum's JSON extractor failures into precise 400s naming the field.

use std::error::Error as StdError;
use std::fmt;

use axum::Json;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody, JsonRejection, PathRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `type` of client errors (4xx other than 401/429).
pub const INVALID_REQUEST_ERROR: &str = "invalid_request_error";
/// `type` of 401 responses.
pub const AUTHENTICATION_ERROR: &str = "authentication_error";
/// `type` of 5xx responses.
pub const SERVER_ERROR: &str = "server_error";
/// `type` of 429 responses (OpenAI says `requests` for request-count limits).
pub const RATE_LIMIT_ERROR: &str = "requests";

/// OpenAI's error envelope: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorDetail,
}

/// The body of an OpenAI error. `param` and `code` are always present,
/// `null` when they do not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A human-readable message naming the problem.
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, `server_error`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The request parameter at fault, as a path (`messages[2].content`).
    pub param: Option<String>,
    /// A machine-readable code (`model_not_found`, `context_length_exceeded`, ...).
    pub code: Option<String>,
}

/// An HTTP error: a status code and an OpenAI error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorDetail,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.status.as_u16(), self.body.kind, self.body.message)
    }
}

impl StdError for ApiError {}

impl ApiError {
    /// An error with any status, type and message; `param` and `code` unset.
    pub fn new(status: StatusCode, kind: impl Into<String>, message: impl Into<String>) -> ApiError {
        let body = ErrorDetail { message: message.into(), kind: kind.into(), param: None, code: None };
        ApiError { status, body }
    }

    /// Sets `param` (the request field at fault).
    pub fn with_param(mut self, param: impl Into<String>) -> ApiError {
        self.body.param = Some(param.into());
        self
    }

    /// Sets `code`.
    pub fn with_code(mut self, code: impl Into<String>) -> ApiError {
        self.body.code = Some(code.into());
        self
    }

    /// 400 `invalid_request_error`. `param` names the field at fault
    /// (`None` when the problem is not one field's).
    pub fn invalid_request(message: impl Into<String>, param: Option<&str>) -> ApiError {
        let err = ApiError::new(StatusCode::BAD_REQUEST, INVALID_REQUEST_ERROR, message);
        match param {
            Some(param) => err.with_param(param),
            None => err,
        }
    }

    /// 404 `model_not_found`, worded as OpenAI does.
    pub fn unknown_model(name: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            INVALID_REQUEST_ERROR,
            format!("The model `{}` does not exist or you do not have access to it.", clip(name)),
        )
        .with_param("model")
        .with_code("model_not_found")
    }

    /// 401 `invalid_api_key`. `provided` is the key the client sent (shown
    /// masked), `None` when it sent none.
    pub fn unauthorized(provided: Option<&str>) -> ApiError {
        let message = match provided {
            None => "You didn't provide an API key. You need to provide your API key in an Authorization header \
                     using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                .to_string(),
            Some(key) => format!("Incorrect API key provided: {}.", mask_key(key)),
        };
        ApiError::new(StatusCode::UNAUTHORIZED, AUTHENTICATION_ERROR, message).with_code("invalid_api_key")
    }

    /// 400 `context_length_exceeded`, worded as OpenAI does. `input_tokens`
    /// is the rendered prompt's length; `completion_tokens` the requested
    /// `max_tokens` when that is what pushes the total over `limit`
    /// (`None` when the input alone is too long). `param` is `messages` for
    /// chat, `prompt` for completions, `input` for responses.
    pub fn context_length_exceeded(
        limit: usize,
        input_tokens: usize,
        completion_tokens: Option<usize>,
        param: &str,
    ) -> ApiError {
        let noun = match param {
            "messages" => "messages",
            "prompt" => "prompt",
            _ => "input",
        };
        let message = match completion_tokens {
            Some(completion) if input_tokens <= limit => format!(
                "This model's maximum context length is {limit} tokens. However, you requested {} tokens \
                 ({input_tokens} in the {noun}, {completion} in the completion). Please reduce the length of the \
                 {noun} or completion.",
                input_tokens + completion
            ),
            _ => format!(
                "This model's maximum context length is {limit} tokens. However, your {noun} resulted in \
                 {input_tokens} tokens. Please reduce the length of the {noun}."
            ),
        };
        ApiError::invalid_request(message, Some(param)).with_code("context_length_exceeded")
    }

    /// 503: the server cannot take the request now (queue full, shutting down).
    pub fn overloaded(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, SERVER_ERROR, message).with_code("server_overloaded")
    }

    /// 429 `rate_limit_exceeded`: too many requests queued or in flight for this client.
    pub fn rate_limited(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, RATE_LIMIT_ERROR, message).with_code("rate_limit_exceeded")
    }

    /// 404 for an unknown route, worded as OpenAI does: `Invalid URL (POST /v1/foo)`.
    pub fn not_found(method: &str, path: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, INVALID_REQUEST_ERROR, format!("Invalid URL ({method} {path})"))
    }

    /// 405 for a known route called with the wrong method.
    pub fn method_not_allowed(method: &str, path: &str) -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            INVALID_REQUEST_ERROR,
            format!("Invalid method for URL ({method} {path})"),
        )
    }

    /// 413: the body is over the server's limit (`limit_bytes` when known).
    pub fn payload_too_large(limit_bytes: Option<usize>) -> ApiError {
        let message = match limit_bytes {
            Some(limit) => format!("The request body is too large: the limit is {limit} bytes."),
            None => "The request body is too large.".to_string(),
        };
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, INVALID_REQUEST_ERROR, message).with_code("payload_too_large")
    }

    /// 500: a fault of the server itself, never of the request or of the model's output.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, SERVER_ERROR, message)
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.body.message
    }

    /// The error `type` (`invalid_request_error`, ...).
    pub fn kind(&self) -> &str {
        &self.body.kind
    }

    pub fn param(&self) -> Option<&str> {
        self.body.param.as_deref()
    }

    pub fn code(&self) -> Option<&str> {
        self.body.code.as_deref()
    }

    pub fn detail(&self) -> &ErrorDetail {
        &self.body
    }

    /// The JSON body (also what a stream sends as its error event).
    pub fn to_body(&self) -> ErrorResponse {
        ErrorResponse { error: self.body.clone() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorResponse { error: self.body })).into_response()
    }
}

/// `sk-abc...xyz` style: the first and last few characters only.
fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

/// `text` shortened to at most 200 characters for an error message (a 1 MB key is not echoed back whole).
pub fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        None => text.into(),
        Some((at, _)) => format!("{}... ({} bytes)", &text[..at], text.len()).into(),
    }
}

/// A path parameter that could not be read (an id that is not UTF-8 once decoded): 400.
pub fn from_path_rejection(rejection: PathRejection) -> ApiError {
    ApiError::invalid_request(format!("Invalid URL: {}.", rejection.body_text().trim_end_matches('.')), None)
        .with_code("invalid_url")
}

/// Turns a failed `axum::Json` extraction into a precise OpenAI-style error:
/// 400 for bodies that are not JSON (with line and column), fields of the
/// wrong type (`Invalid type for 'temperature': expected a number, but got a
/// string instead.`, `param` = the field's path), missing fields, unknown enum
/// values and a missing or wrong `Content-Type`; 413 when the body is over
/// the limit.
pub fn from_json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(err) => match find_serde_error(&err) {
            Some(found) => data_error(&found),
            None => ApiError::invalid_request(err.body_text(), None).with_code("invalid_type"),
        },
        JsonRejection::JsonSyntaxError(err) => match find_serde_error(&err) {
            Some(found) => syntax_error(&found),
            None => {
                ApiError::invalid_request(format!("We could not parse the JSON body of your request: {err}."), None)
                    .with_code("invalid_json")
            }
        },
        JsonRejection::MissingJsonContentType(_) => ApiError::invalid_request(
            "Invalid Content-Type header: the request body must be JSON, sent with the header \
             'Content-Type: application/json'.",
            None,
        )
        .with_code("invalid_content_type"),
        JsonRejection::BytesRejection(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))) => {
            ApiError::payload_too_large(None)
        }
        JsonRejection::BytesRejection(err) => {
            ApiError::invalid_request(format!("Failed to read the request body: {err}."), None)
        }
        other => ApiError::invalid_request(other.body_text(), None),
    }
}

/// A serde_json error found under an axum rejection, with its path when
/// the deserializer tracked one.
struct SerdeFailure {
    path: String,
    /// The message without serde_json's ` at line L column C`.
    message: String,
    line: usize,
    column: usize,
    category: serde_json::error::Category,
}

fn find_serde_error(err: &(dyn StdError + 'static)) -> Option<SerdeFailure> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(tracked) = e.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            return Some(failure(format_path(tracked.path()), tracked.inner()));
        }
        if let Some(inner) = e.downcast_ref::<serde_json::Error>() {
            return Some(failure(String::new(), inner));
        }
        current = e.source();
    }
    None
}

fn failure(path: String, err: &serde_json::Error) -> SerdeFailure {
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    SerdeFailure { path, message, line: err.line(), column: err.column(), category: err.classify() }
}

/// `messages[0].content`, or an empty string at the root.
fn format_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

fn syntax_error(found: &SerdeFailure) -> ApiError {
    let at = format!("line {} column {}", found.line, found.column);
    if found.message == "number out of range" && !found.path.is_empty() {
        let path = &found.path;
        return ApiError::invalid_request(
            format!("Invalid '{path}': number out of range (at {at}). Expected a finite number."),
            Some(path),
        )
        .with_code("invalid_value");
    }
    if matches!(found.category, serde_json::error::Category::Eof) && found.line <= 1 && found.column == 0 {
        return ApiError::invalid_request(
            "We could not parse the JSON body of your request: the body is empty. The API expects a JSON object.",
            None,
        )
        .with_code("invalid_json");
    }
    let message = format!(
        "We could not parse the JSON body of your request: {} at {at}. The API expects a JSON payload, but what \
         was sent was not valid JSON.",
        found.message
    );
    let err = ApiError::invalid_request(message, None).with_code("invalid_json");
    if found.path.is_empty() { err } else { err.with_param(found.path.clone()) }
}

fn data_error(found: &SerdeFailure) -> ApiError {
    let path = found.path.as_str();
    let msg = found.message.as_str();
    let param = (!path.is_empty()).then_some(path);
    let subject = if path.is_empty() { "the request body".to_string() } else { format!("'{path}'") };

    if let Some(field) = msg.strip_prefix("missing field `").and_then(|rest| rest.strip_suffix('`')) {
        let full = if path.is_empty() { field.to_string() } else { format!("{path}.{field}") };
        return ApiError::invalid_request(format!("Missing required parameter: '{full}'."), Some(&full))
            .with_code("missing_required_parameter");
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        let message = format!(
            "Invalid type for {subject}: expected {}, but got {} instead.",
            describe_expected_type(expected),
            describe_unexpected(got)
        );
        return ApiError::invalid_request(message, param).with_code("invalid_type");
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        let message = format!(
            "Invalid value for {subject}: expected {}, but got {} instead.",
            describe_expected_value(expected),
            unexpected_value(got)
        );
        return ApiError::invalid_request(message, param).with_code("invalid_value");
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `")
        && let Some((value, allowed)) = rest.split_once("`, expected ")
    {
        let allowed: Vec<String> =
            allowed.trim_start_matches("one of ").split(", ").map(|v| format!("'{}'", v.trim_matches('`'))).collect();
        let message = format!("Invalid value: '{value}'. Supported values are: {}.", join_or(&allowed, "and"));
        return ApiError::invalid_request(message, param).with_code("invalid_value");
    }
    if let Some(field) = msg.strip_prefix("duplicate field `").and_then(|rest| rest.strip_suffix('`')) {
        let full = if path.is_empty() { field.to_string() } else { format!("{path}.{field}") };
        return ApiError::invalid_request(
            format!("Duplicate parameter: '{full}' appears more than once."),
            Some(&full),
        )
        .with_code("invalid_value");
    }
    if msg.starts_with(|c: char| c.is_ascii_uppercase()) {
        // Our own deserializers' messages: complete sentences already.
        return ApiError::invalid_request(msg, param).with_code("invalid_value");
    }
    ApiError::invalid_request(format!("Invalid {subject}: {msg}."), param).with_code("invalid_value")
}

/// `a`, `a and b`, `a, b, and c`.
pub(crate) fn join_or(items: &[String], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} {conjunction} {b}"),
        [init @ .., last] => format!("{}, {conjunction} {last}", init.join(", ")),
    }
}

/// serde's `expected ...` text for a wrong type, in OpenAI's words.
fn describe_expected_type(expected: &str) -> String {
    let plain = match expected {
        "f32" | "f64" => "a number",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => {
            "an integer"
        }
        "a string" | "a borrowed string" | "a character" | "variant identifier" | "field identifier" => "a string",
        "a boolean" => "a boolean",
        "a sequence" => "an array",
        "a map" | "any valid JSON value" => "an object",
        "unit" => "null",
        other if other.starts_with("struct ") || other.starts_with("internally tagged enum") => "an object",
        other => return other.to_string(),
    };
    plain.to_string()
}

/// serde's `expected ...` text for a value out of range.
fn describe_expected_value(expected: &str) -> String {
    let plain = match expected {
        "u8" => "an integer between 0 and 255",
        "u16" => "an integer between 0 and 65535",
        "u32" => "an integer between 0 and 4294967295",
        "u64" | "u128" | "usize" => "a non-negative integer",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer that fits in 64 bits",
        other => return describe_expected_type(other),
    };
    plain.to_string()
}

/// serde's `Unexpected` text (`string "hot"`, `integer `5``) as a type.
fn describe_unexpected(got: &str) -> &'static str {
    if got.starts_with("string") || got.starts_with("character") {
        "a string"
    } else if got.starts_with("integer") {
        "an integer"
    } else if got.starts_with("floating point") {
        "a decimal number"
    } else if got.starts_with("boolean") {
        "a boolean"
    } else if got == "null" || got == "unit value" || got == "Option value" {
        "null"
    } else if got == "sequence" {
        "an array"
    } else if got == "map" {
        "an object"
    } else {
        "a value of another type"
    }
}

/// serde's `Unexpected` text as the value itself: `integer `-1`` -> `-1`.
fn unexpected_value(got: &str) -> String {
    match got.split_once(' ') {
        Some((_, value)) if value.starts_with('`') => value.trim_matches('`').to_string(),
        Some(("string", value)) => value.to_string(),
        _ => got.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keys() {
        assert_eq!(mask_key("sk-1234567890"), "sk-1*****7890");
        assert_eq!(mask_key("short"), "*****");
    }

    #[test]
    fn joins_lists_like_openai() {
        let items = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(join_or(&items(&["'a'"]), "and"), "'a'");
        assert_eq!(join_or(&items(&["'a'", "'b'"]), "and"), "'a' and 'b'");
        assert_eq!(join_or(&items(&["'a'", "'b'", "'c'"]), "and"), "'a', 'b', and 'c'");
    }

    #[test]
    fn context_length_wording() {
        let e = ApiError::context_length_exceeded(8192, 9000, None, "messages");
        assert_eq!(
            e.message(),
            "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. \
             Please reduce the length of the messages."
        );
        let e = ApiError::context_length_exceeded(8192, 200, Some(8000), "messages");
        assert!(e.message().contains("you requested 8200 tokens (200 in the messages, 8000 in the completion)"));
        assert_eq!(e.code(), Some("context_length_exceeded"));
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }
}
