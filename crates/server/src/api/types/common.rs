//! Pieces shared by the chat, completions and tokenize types: server
//! [`Limits`], unknown-field rejection, reasoning effort, `stop`, `seed`,
//! `stream_options`, `logit_bias`, sampling parameters, usage and finish reasons.

use std::collections::BTreeMap;
use std::fmt;

use gpt_oss_model::harmony::ReasoningEffort;
use gpt_oss_model::sampling::{MAX_TOP_LOGPROBS, SamplingError, SamplingParams};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::{ApiError, clip, join_or};

/// Server-side limits the validation enforces. The defaults follow OpenAI
/// where OpenAI publishes a limit (4 stop sequences, 128 tools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest `n` (choices per request). OpenAI allows up to 128; each
    /// choice is a sequence in the batch, so the server keeps it small.
    pub max_n: u32,
    /// Most `stop` sequences (OpenAI: 4).
    pub max_stop_sequences: usize,
    /// Most `tools` (OpenAI: 128).
    pub max_tools: usize,
    /// Most `logit_bias` entries.
    pub max_logit_bias: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_n: 8, max_stop_sequences: 4, max_tools: 128, max_logit_bias: 1024 }
    }
}

/// Most `logprobs` on the legacy completions API (OpenAI: 5).
pub const MAX_COMPLETION_LOGPROBS: u32 = 5;

/// What to do with a key that is not a field of the request type but that
/// OpenAI (or common clients) define. A JSON `null` is always accepted.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Known {
    /// Accepted and ignored.
    Ignored,
    /// Rejected with this message (400).
    Unsupported(&'static str),
}

/// Rejects the first key of `extra` (the fields the request type does not
/// know) with OpenAI's `Unrecognized request argument supplied: foo`.
/// `prefix` is the path of the object holding them (`""` at the top level,
/// `messages[0]` for a message), so nested keys are named in full.
pub fn reject_unknown(extra: &Map<String, Value>, prefix: &str) -> Result<(), ApiError> {
    reject_unknown_with(extra, prefix, &[])
}

/// [`reject_unknown`], but keys listed in `known` get their own treatment.
pub(crate) fn reject_unknown_with(
    extra: &Map<String, Value>,
    prefix: &str,
    known: &[(&str, Known)],
) -> Result<(), ApiError> {
    for (key, value) in extra {
        let path = join_path(prefix, &clip(key));
        match known.iter().find(|(name, _)| name == key) {
            Some((_, Known::Ignored)) => {}
            Some((_, Known::Unsupported(_))) if value.is_null() => {}
            Some((_, Known::Unsupported(message))) => {
                return Err(ApiError::invalid_request(*message, Some(&path)).with_code("unsupported_parameter"));
            }
            None => {
                return Err(ApiError::invalid_request(
                    format!("Unrecognized request argument supplied: {path}"),
                    Some(&path),
                )
                .with_code("unknown_parameter"));
            }
        }
    }
    Ok(())
}

/// `prefix.key`, or `key` at the top level.
pub(crate) fn join_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

/// The effort words accepted on input, in the order error messages list them.
pub(crate) const EFFORT_WORDS: [&str; 4] = ["minimal", "low", "medium", "high"];

/// Parses a reasoning effort: `low`, `medium`, `high`, and `minimal` (the
/// gpt-5 level below low, which clients configured for gpt-5 send) as `low`.
/// Anything else is a 400 naming the allowed values.
pub fn parse_effort(value: &str, param: &str) -> Result<ReasoningEffort, ApiError> {
    match value {
        "minimal" | "low" => Ok(ReasoningEffort::Low),
        "medium" => Ok(ReasoningEffort::Medium),
        "high" => Ok(ReasoningEffort::High),
        other => {
            let allowed: Vec<String> = EFFORT_WORDS.iter().map(|w| format!("'{w}'")).collect();
            Err(ApiError::invalid_request(
                format!("Invalid value: '{other}'. Supported values are: {}.", join_or(&allowed, "and")),
                Some(param),
            )
            .with_code("invalid_value"))
        }
    }
}

/// `reasoning: {"effort": ...}` (the Responses API's shape, which several
/// clients also send to chat completions). `summary` is accepted and ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReasoningOptions {
    /// `low`, `medium` or `high` (`minimal` is taken as `low`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// Accepted for compatibility; gpt-oss returns its full reasoning, not a summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// Up to 4 sequences where the API stops generating: one string or an array.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Stop {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Stop, D::Error> {
        struct StopVisitor;
        impl<'de> Visitor<'de> for StopVisitor {
            type Value = Stop;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Stop, E> {
                Ok(Stop::One(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Stop, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Stop::Many(out))
            }
        }
        deserializer.deserialize_any(StopVisitor)
    }
}

/// The stop strings: at most `limits.max_stop_sequences`, none empty.
pub(crate) fn validate_stop(stop: Option<&Stop>, limits: &Limits) -> Result<Vec<String>, ApiError> {
    let stops = match stop {
        None => return Ok(Vec::new()),
        Some(Stop::One(s)) => {
            if s.is_empty() {
                return Err(ApiError::invalid_request(
                    "Invalid 'stop': empty string. Stop sequences must be non-empty.",
                    Some("stop"),
                )
                .with_code("invalid_value"));
            }
            return Ok(vec![s.clone()]);
        }
        Some(Stop::Many(stops)) => stops,
    };
    if stops.len() > limits.max_stop_sequences {
        return Err(array_too_long("stop", limits.max_stop_sequences, stops.len()));
    }
    if let Some(i) = stops.iter().position(|s| s.is_empty()) {
        let param = format!("stop[{i}]");
        return Err(ApiError::invalid_request(
            format!("Invalid '{param}': empty string. Stop sequences must be non-empty."),
            Some(&param),
        )
        .with_code("invalid_value"));
    }
    Ok(stops.clone())
}

/// Deserializes `seed` as an integer that fits `i64` or `u64` (`null`
/// allowed). A `u64` above `i64::MAX` is kept as the `i64` with the same
/// bits, so every 64-bit seed is distinct.
pub(crate) fn deserialize_seed<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    struct SeedVisitor;
    impl<'de> Visitor<'de> for SeedVisitor {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an integer")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<i64>, D::Error> {
            deserializer.deserialize_i64(SeedVisitor)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<i64>, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<i64>, E> {
            Ok(Some(v as i64))
        }
    }
    deserializer.deserialize_option(SeedVisitor)
}

/// `stream_options`: only with `stream: true`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamOptions {
    /// Send a last chunk with `usage` (and `choices: []`) before `[DONE]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    /// Accepted and ignored (the server adds no obfuscation padding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_obfuscation: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `include_usage`, after checking `stream_options` comes only with `stream`.
pub(crate) fn validate_stream_options(stream: bool, options: Option<&StreamOptions>) -> Result<bool, ApiError> {
    let Some(options) = options else { return Ok(false) };
    if !stream {
        return Err(ApiError::invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            Some("stream_options"),
        )
        .with_code("invalid_value"));
    }
    reject_unknown(&options.extra, "stream_options")?;
    Ok(options.include_usage.unwrap_or(false))
}

/// Checks `value` is in `[min, max]` with OpenAI's wording
/// (`Invalid 'temperature': decimal above maximum value. ...`).
pub(crate) fn check_decimal(value: f64, param: &str, min: f64, max: f64) -> Result<f64, ApiError> {
    if value.is_nan() || value < min {
        return Err(ApiError::invalid_request(
            format!(
                "Invalid '{param}': decimal below minimum value. Expected a value >= {min}, but got {value} instead."
            ),
            Some(param),
        )
        .with_code("decimal_below_min_value"));
    }
    if value > max {
        return Err(ApiError::invalid_request(
            format!(
                "Invalid '{param}': decimal above maximum value. Expected a value <= {max}, but got {value} instead."
            ),
            Some(param),
        )
        .with_code("decimal_above_max_value"));
    }
    Ok(value)
}

/// Checks `value` is in `[min, max]` with OpenAI's wording.
pub(crate) fn check_integer(value: i64, param: &str, min: i64, max: i64) -> Result<i64, ApiError> {
    if value < min {
        return Err(ApiError::invalid_request(
            format!(
                "Invalid '{param}': integer below minimum value. Expected a value >= {min}, but got {value} instead."
            ),
            Some(param),
        )
        .with_code("integer_below_min_value"));
    }
    if value > max {
        return Err(ApiError::invalid_request(
            format!(
                "Invalid '{param}': integer above maximum value. Expected a value <= {max}, but got {value} instead."
            ),
            Some(param),
        )
        .with_code("integer_above_max_value"));
    }
    Ok(value)
}

/// `max_tokens`-style limits: `None`, or an integer in `[1, u32::MAX]`.
pub(crate) fn check_token_limit(value: Option<i64>, param: &str) -> Result<Option<u32>, ApiError> {
    value.map(|v| check_integer(v, param, 1, i64::from(u32::MAX)).map(|v| v as u32)).transpose()
}

/// `n`: absent means 1; at most `limits.max_n`.
pub(crate) fn check_n(value: Option<i64>, limits: &Limits) -> Result<u32, ApiError> {
    Ok(check_integer(value.unwrap_or(1), "n", 1, i64::from(limits.max_n))? as u32)
}

/// `logit_bias`: token id (as a string) to a bias in `[-100, 100]`, added
/// to that token's logit before sampling. Sorted by token id. Whether the
/// ids are in the vocabulary is for the handler to check.
pub(crate) fn validate_logit_bias(
    bias: Option<&BTreeMap<String, f64>>,
    limits: &Limits,
) -> Result<Vec<(u32, f32)>, ApiError> {
    let Some(bias) = bias else { return Ok(Vec::new()) };
    if bias.len() > limits.max_logit_bias {
        return Err(ApiError::invalid_request(
            format!(
                "Invalid 'logit_bias': too many entries. Expected at most {}, but got {} instead.",
                limits.max_logit_bias,
                bias.len()
            ),
            Some("logit_bias"),
        )
        .with_code("invalid_value"));
    }
    let mut out = Vec::with_capacity(bias.len());
    for (key, &value) in bias {
        let Ok(token) = key.trim().parse::<u32>() else {
            return Err(ApiError::invalid_request(
                format!(
                    "Invalid key in 'logit_bias': '{key}'. Keys must be token ids: non-negative integers as strings."
                ),
                Some("logit_bias"),
            )
            .with_code("invalid_value"));
        };
        let param = format!("logit_bias.{key}");
        let value = check_decimal(value, &param, -100.0, 100.0)?;
        out.push((token, value as f32));
    }
    out.sort_by_key(|&(token, _)| token);
    out.dedup_by_key(|&mut (token, _)| token);
    Ok(out)
}

/// The sampling fields of a request, as sent (all optional).
#[derive(Debug, Clone, Default)]
pub(crate) struct SamplingFields {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<i64>,
    pub min_p: Option<f64>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    pub repetition_penalty: Option<f64>,
    pub seed: Option<i64>,
    pub logprobs: bool,
    pub top_logprobs: Option<i64>,
}

impl SamplingFields {
    /// Range-checks every field with OpenAI's wording and builds the
    /// sampler's parameters. `top_k` of `-1` or `0` disables it (vLLM's
    /// convention); `repetition_penalty` is accepted only as 1 (no effect):
    /// gpt-oss serves OpenAI's presence and frequency penalties instead.
    pub fn build(&self) -> Result<SamplingParams, ApiError> {
        let defaults = SamplingParams::default();
        let temperature = self.temperature.map(|t| check_decimal(t, "temperature", 0.0, 2.0)).transpose()?;
        if let Some(top_p) = self.top_p {
            check_decimal(top_p, "top_p", 0.0, 1.0)?;
            if top_p <= 0.0 {
                return Err(ApiError::invalid_request(
                    "Invalid 'top_p': decimal below minimum value. Expected a value > 0, but got 0 instead.",
                    Some("top_p"),
                )
                .with_code("decimal_below_min_value"));
            }
        }
        let top_k = match self.top_k {
            None | Some(-1) | Some(0) => None,
            Some(k) => Some(check_integer(k, "top_k", -1, i64::from(u32::MAX))? as usize),
        };
        let min_p = self.min_p.map(|p| check_decimal(p, "min_p", 0.0, 1.0)).transpose()?;
        let presence = self.presence_penalty.map(|p| check_decimal(p, "presence_penalty", -2.0, 2.0)).transpose()?;
        let frequency = self.frequency_penalty.map(|p| check_decimal(p, "frequency_penalty", -2.0, 2.0)).transpose()?;
        if let Some(r) = self.repetition_penalty
            && r != 1.0
        {
            return Err(ApiError::invalid_request(
                format!(
                    "Invalid 'repetition_penalty': {r}. This server does not implement repetition_penalty (only 1, \
                     meaning none, is accepted); use 'presence_penalty' or 'frequency_penalty' instead."
                ),
                Some("repetition_penalty"),
            )
            .with_code("unsupported_value"));
        }
        let top_logprobs = match self.top_logprobs {
            None => 0,
            Some(n) => {
                let n = check_integer(n, "top_logprobs", 0, MAX_TOP_LOGPROBS as i64)? as usize;
                if !self.logprobs && n > 0 {
                    return Err(ApiError::invalid_request(
                        "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is \
                         used.",
                        Some("top_logprobs"),
                    )
                    .with_code("invalid_value"));
                }
                n
            }
        };
        let params = SamplingParams {
            temperature: temperature.map_or(defaults.temperature, |t| t as f32),
            top_p: self.top_p.map_or(defaults.top_p, |p| p as f32),
            top_k,
            min_p: min_p.map_or(defaults.min_p, |p| p as f32),
            presence_penalty: presence.map_or(defaults.presence_penalty, |p| p as f32),
            frequency_penalty: frequency.map_or(defaults.frequency_penalty, |p| p as f32),
            seed: self.seed.map(|s| s as u64),
            logprobs: self.logprobs,
            top_logprobs,
        };
        params.validate().map_err(sampling_error)?;
        Ok(params)
    }
}

/// A [`SamplingError`] as a 400 naming the parameter.
pub fn sampling_error(err: SamplingError) -> ApiError {
    let param = match err {
        SamplingError::Temperature(_) => "temperature",
        SamplingError::TopP(_) => "top_p",
        SamplingError::TopK => "top_k",
        SamplingError::MinP(_) => "min_p",
        SamplingError::PresencePenalty(_) => "presence_penalty",
        SamplingError::FrequencyPenalty(_) => "frequency_penalty",
        SamplingError::TopLogprobs(_) | SamplingError::TopLogprobsWithoutLogprobs => "top_logprobs",
    };
    ApiError::invalid_request(format!("Invalid '{param}': {err}."), Some(param)).with_code("invalid_value")
}

/// A log-probability JSON can carry: `-inf` (a token the sampler could not
/// pick) becomes `-9999.0` as OpenAI reports it; serde_json would write `null`.
pub fn finite_logprob(logprob: f32) -> f32 {
    if logprob.is_finite() { logprob } else { -9999.0 }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model finished its answer (`<|return|>`) or hit a stop sequence.
    Stop,
    /// `max_tokens` or the context length was reached.
    Length,
    /// The model called a tool (`<|call|>`).
    ToolCalls,
    /// Never produced by this server; part of OpenAI's enum.
    ContentFilter,
}

/// Token counts of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub total_tokens: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

impl Usage {
    /// Usage with both detail objects filled; `total_tokens` is the sum.
    pub fn new(prompt_tokens: usize, completion_tokens: usize, cached_tokens: usize, reasoning_tokens: usize) -> Usage {
        Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
            prompt_tokens_details: Some(PromptTokensDetails { cached_tokens }),
            completion_tokens_details: Some(CompletionTokensDetails { reasoning_tokens }),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PromptTokensDetails {
    /// Prompt tokens served from the prefix cache.
    pub cached_tokens: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CompletionTokensDetails {
    /// Completion tokens spent on reasoning (the analysis channel).
    pub reasoning_tokens: usize,
}

/// Declares a one-value enum that serializes as a fixed string (`"object":
/// "chat.completion"`), so responses cannot carry a wrong `object` and the
/// OpenAPI schema shows the constant. `$value` is a `tt`, not a `literal`: a
/// `literal` fragment reaches the derives wrapped in an invisible group,
/// which serde reads but utoipa does not (it would publish the variant name).
macro_rules! object_marker {
    ($(#[$meta:meta])* $name:ident :: $variant:ident = $value:tt) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        pub enum $name {
            #[default]
            #[serde(rename = $value)]
            $variant,
        }
    };
}
pub(crate) use object_marker;

object_marker!(
    /// `"list"`.
    ListObject::List = "list"
);

/// 400 for an array parameter over its maximum length, in OpenAI's words.
pub(crate) fn array_too_long(param: &str, max: usize, len: usize) -> ApiError {
    ApiError::invalid_request(
        format!(
            "Invalid '{param}': array too long. Expected an array with maximum length {max}, but got an array with \
             length {len} instead."
        ),
        Some(param),
    )
    .with_code("array_above_max_length")
}
