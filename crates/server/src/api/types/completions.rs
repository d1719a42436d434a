//! `POST /v1/completions`, OpenAI's legacy text completions: raw prompt in,
//! raw text out (no harmony rendering). One prompt per request.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use gpt_oss_model::sampling::SamplingParams;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::common::{
    FinishReason, Limits, MAX_COMPLETION_LOGPROBS, SamplingFields, Stop, StreamOptions, Usage, check_integer, check_n,
    check_token_limit, deserialize_seed, object_marker, reject_unknown, validate_logit_bias, validate_stop,
    validate_stream_options,
};
use crate::error::ApiError;

/// OpenAI's default `max_tokens` for legacy completions.
pub const DEFAULT_COMPLETION_MAX_TOKENS: u32 = 16;

/// The body of `POST /v1/completions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompletionRequest {
    pub model: String,
    /// One prompt: a string, a token-id array, or a one-element array of either.
    pub prompt: Prompt,
    /// Not supported (400 unless absent, `null` or empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// Default 16 (also when `null`), as OpenAI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub max_tokens: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1e-30, maximum = 1)]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 8)]
    pub n: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// In [0, 5]: return the log-probabilities of this many most likely tokens per position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 5)]
    pub logprobs: Option<i64>,
    /// Return the prompt before the completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -2, maximum = 2)]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -2, maximum = 2)]
    pub frequency_penalty: Option<f64>,
    /// Only absent or equal to `n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_of: Option<i64>,
    #[serde(default, deserialize_with = "deserialize_seed", skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<BTreeMap<String, f64>>,
    /// Accepted, no effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// vLLM extension: -1 or 0 disables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -1, maximum = 2147483647)]
    pub top_k: Option<i64>,
    /// vLLM extension, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    pub min_p: Option<f64>,
    /// vLLM extension, not implemented: only 1 is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1)]
    pub repetition_penalty: Option<f64>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `prompt`, in any of OpenAI's four shapes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Prompt {
    Text(String),
    Texts(Vec<String>),
    Tokens(Vec<u32>),
    TokenLists(Vec<Vec<u32>>),
}

impl Default for Prompt {
    fn default() -> Self {
        Prompt::Text(String::new())
    }
}

/// One element of a prompt array.
enum PromptItem {
    Text(String),
    Token(u32),
    Tokens(Vec<u32>),
}

impl<'de> Deserialize<'de> for PromptItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PromptItem, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = PromptItem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, a token id or an array of token ids")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PromptItem, E> {
                Ok(PromptItem::Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PromptItem, E> {
                u32::try_from(v)
                    .map(PromptItem::Token)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &"u32"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PromptItem, E> {
                u32::try_from(v).map(PromptItem::Token).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &"u32"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PromptItem, A::Error> {
                let mut tokens = Vec::new();
                while let Some(token) = seq.next_element::<u32>()? {
                    tokens.push(token);
                }
                Ok(PromptItem::Tokens(tokens))
            }
        }
        deserializer.deserialize_any(ItemVisitor)
    }
}

impl<'de> Deserialize<'de> for Prompt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Prompt, D::Error> {
        struct PromptVisitor;
        impl<'de> Visitor<'de> for PromptVisitor {
            type Value = Prompt;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, an array of strings, an array of token ids or an array of token-id arrays")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Prompt, E> {
                Ok(Prompt::Text(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Prompt, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<PromptItem>()? {
                    items.push(item);
                }
                let mixed = || {
                    de::Error::custom(
                        "mixes strings, token ids and token-id arrays. Expected an array of one kind only",
                    )
                };
                match items.first() {
                    None => Ok(Prompt::Tokens(Vec::new())),
                    Some(PromptItem::Text(_)) => items
                        .into_iter()
                        .map(|i| if let PromptItem::Text(t) = i { Ok(t) } else { Err(mixed()) })
                        .collect::<Result<_, _>>()
                        .map(Prompt::Texts),
                    Some(PromptItem::Token(_)) => items
                        .into_iter()
                        .map(|i| if let PromptItem::Token(t) = i { Ok(t) } else { Err(mixed()) })
                        .collect::<Result<_, _>>()
                        .map(Prompt::Tokens),
                    Some(PromptItem::Tokens(_)) => items
                        .into_iter()
                        .map(|i| if let PromptItem::Tokens(t) = i { Ok(t) } else { Err(mixed()) })
                        .collect::<Result<_, _>>()
                        .map(Prompt::TokenLists),
                }
            }
        }
        deserializer.deserialize_any(PromptVisitor)
    }
}

/// The one prompt of a validated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptInput {
    /// To be tokenized by the handler (may be empty).
    Text(String),
    /// Token ids as sent (non-empty); the handler checks them against the vocabulary.
    Tokens(Vec<u32>),
}

/// A completions request that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidCompletion {
    pub model: String,
    pub prompt: PromptInput,
    /// Default 16.
    pub max_tokens: u32,
    pub echo: bool,
    /// `logprobs`: `None` = no log-probabilities; `Some(k)` = the sampled
    /// token's plus `k` (0..=5) alternatives per position. Mirrored in
    /// `sampling.logprobs` / `sampling.top_logprobs`.
    pub logprobs: Option<u32>,
    pub sampling: SamplingParams,
    pub stop: Vec<String>,
    /// In `1..=Limits::max_n`.
    pub n: u32,
    pub stream: bool,
    pub include_usage: bool,
    /// (token id, bias) sorted by id, ids unique.
    pub logit_bias: Vec<(u32, f32)>,
    pub user: Option<String>,
}

impl CompletionRequest {
    /// Checks the request; every error is a 400 naming the parameter.
    pub fn validate(&self, limits: &Limits) -> Result<ValidCompletion, ApiError> {
        reject_unknown(&self.extra, "")?;
        let prompt = validate_prompt(&self.prompt)?;
        if self.suffix.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(ApiError::invalid_request(
                "Invalid 'suffix': insertion ('suffix') is not supported by this server.",
                Some("suffix"),
            )
            .with_code("unsupported_parameter"));
        }
        let max_tokens = check_token_limit(self.max_tokens, "max_tokens")?.unwrap_or(DEFAULT_COMPLETION_MAX_TOKENS);
        let logprobs = self
            .logprobs
            .map(|k| check_integer(k, "logprobs", 0, i64::from(MAX_COMPLETION_LOGPROBS)).map(|k| k as u32))
            .transpose()?;
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
            logprobs: logprobs.is_some(),
            top_logprobs: logprobs.map(i64::from),
        }
        .build()?;
        let n = check_n(self.n, limits)?;
        if let Some(best_of) = self.best_of
            && best_of != i64::from(n)
        {
            return Err(ApiError::invalid_request(
                format!(
                    "Invalid 'best_of': {best_of}. This server does not support best_of; send it equal to 'n' ({n}) \
                     or leave it out."
                ),
                Some("best_of"),
            )
            .with_code("unsupported_value"));
        }
        let stream = self.stream.unwrap_or(false);
        let include_usage = validate_stream_options(stream, self.stream_options.as_ref())?;
        let logit_bias = validate_logit_bias(self.logit_bias.as_ref(), limits)?;
        Ok(ValidCompletion {
            model: self.model.clone(),
            prompt,
            max_tokens,
            echo: self.echo.unwrap_or(false),
            logprobs,
            sampling,
            stop,
            n,
            stream,
            include_usage,
            logit_bias,
            user: self.user.clone(),
        })
    }
}

fn validate_prompt(prompt: &Prompt) -> Result<PromptInput, ApiError> {
    let batch = |count: usize| {
        ApiError::invalid_request(
            format!(
                "Invalid 'prompt': batched prompts are not supported. Send one prompt per request, but got {count} \
                 prompts."
            ),
            Some("prompt"),
        )
        .with_code("unsupported_value")
    };
    let empty_tokens = || {
        ApiError::invalid_request(
            "Invalid 'prompt': empty array. Expected a string or at least one token id.",
            Some("prompt"),
        )
        .with_code("empty_array")
    };
    match prompt {
        Prompt::Text(text) => Ok(PromptInput::Text(text.clone())),
        Prompt::Texts(texts) => match texts.as_slice() {
            [one] => Ok(PromptInput::Text(one.clone())),
            _ => Err(batch(texts.len())),
        },
        Prompt::Tokens(tokens) if tokens.is_empty() => Err(empty_tokens()),
        Prompt::Tokens(tokens) => Ok(PromptInput::Tokens(tokens.clone())),
        Prompt::TokenLists(lists) => match lists.as_slice() {
            [one] if one.is_empty() => Err(empty_tokens()),
            [one] => Ok(PromptInput::Tokens(one.clone())),
            _ => Err(batch(lists.len())),
        },
    }
}

// ---------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------

object_marker!(
    /// `"text_completion"` (also on stream chunks, as OpenAI).
    TextCompletionObject::TextCompletion = "text_completion"
);

/// A completion, or one chunk of a streamed completion (then `text` is the
/// new text, `finish_reason` is `null` until the end, `usage` is `null`
/// except in the last chunk with `stream_options.include_usage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Completion {
    /// `cmpl-...`.
    pub id: String,
    pub object: TextCompletionObject,
    pub created: u64,
    pub model: String,
    pub choices: Vec<CompletionChoice>,
    pub usage: Option<Usage>,
    pub system_fingerprint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompletionChoice {
    pub text: String,
    pub index: u32,
    pub logprobs: Option<CompletionLogprobs>,
    pub finish_reason: Option<FinishReason>,
}

/// Legacy log-probabilities: parallel arrays, one entry per token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompletionLogprobs {
    pub tokens: Vec<String>,
    /// `null` for the first prompt token when echoing (it has no log-probability).
    pub token_logprobs: Vec<Option<f32>>,
    /// Token text to log-probability, most likely first.
    #[schema(value_type = Vec<Option<HashMap<String, f32>>>)]
    pub top_logprobs: Vec<Option<TopLogprobs>>,
    /// Character offset of each token in the returned text.
    pub text_offset: Vec<usize>,
}

/// An ordered token-to-logprob map; serialized as a JSON object keeping the
/// order, the first occurrence of a repeated token text winning.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopLogprobs(pub Vec<(String, f32)>);

impl Serialize for TopLogprobs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seen = HashSet::new();
        let unique: Vec<&(String, f32)> = self.0.iter().filter(|(token, _)| seen.insert(token.as_str())).collect();
        let mut map = serializer.serialize_map(Some(unique.len()))?;
        for (token, logprob) in unique {
            map.serialize_entry(token, logprob)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for TopLogprobs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TopLogprobs, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = TopLogprobs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of token to log-probability")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<TopLogprobs, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, f32>()? {
                    out.push(entry);
                }
                Ok(TopLogprobs(out))
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}
