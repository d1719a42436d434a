//! The custom deserializers of the request types: content as a string or
//! parts, arguments as text or an object, and `tool_choice`.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::request::{ContentPart, MessageContent, NamedToolChoice, ToolChoice, ToolChoiceMode};

impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MessageContent, D::Error> {
        struct ContentVisitor;
        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = MessageContent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of content parts")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MessageContent, E> {
                Ok(MessageContent::Text(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MessageContent, A::Error> {
                let mut parts = Vec::new();
                while let Some(part) = seq.next_element::<ContentPart>()? {
                    parts.push(part);
                }
                Ok(MessageContent::Parts(parts))
            }
        }
        deserializer.deserialize_any(ContentVisitor)
    }
}

pub(super) fn deserialize_arguments<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(s) => Ok(s),
        Value::Null => Ok(String::new()),
        v @ Value::Object(_) => Ok(v.to_string()),
        other => Err(de::Error::invalid_type(unexpected(&other), &"a string (the arguments as JSON text)")),
    }
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => de::Unexpected::Signed(i),
            (_, Some(u), _) => de::Unexpected::Unsigned(u),
            (_, _, f) => de::Unexpected::Float(f.unwrap_or(0.0)),
        },
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ToolChoice, D::Error> {
        struct ChoiceVisitor;
        impl<'de> Visitor<'de> for ChoiceVisitor {
            type Value = ToolChoice;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("'none', 'auto', 'required' or an object naming a function")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ToolChoice, E> {
                match v {
                    "none" => Ok(ToolChoice::Mode(ToolChoiceMode::None)),
                    "auto" => Ok(ToolChoice::Mode(ToolChoiceMode::Auto)),
                    "required" => Ok(ToolChoice::Mode(ToolChoiceMode::Required)),
                    other => Err(E::unknown_variant(other, &["none", "auto", "required"])),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ToolChoice, A::Error> {
                NamedToolChoice::deserialize(de::value::MapAccessDeserializer::new(map)).map(ToolChoice::Named)
            }
        }
        deserializer.deserialize_any(ChoiceVisitor)
    }
}
