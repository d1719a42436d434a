//! Reading a message header the model wrote, such as `<|channel|>commentary to=functions.get_weather
//! <|constrain|>json`, tolerantly: words in any order, unknown words skipped, values cut at special tokens, a
//! repeated field's last value kept.
//!
//! The header arrives as bytes (the ordinary tokens' bytes, with `<|channel|>` and `<|constrain|>` as their
//! text). It is scanned as bytes, since everything it recognises is ASCII and a character may be cut in two
//! when the header is read before it is complete.

use super::parse::MessageKind;

const CHANNEL: &[u8] = b"<|channel|>";
const CONSTRAIN: &[u8] = b"<|constrain|>";

/// Recipients that address a person or the assistant, not a tool: such a message is plain text.
const NOT_TOOLS: [&str; 5] = ["assistant", "user", "all", "system", "developer"];

/// What a header says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub channel: Option<String>,
    pub recipient: Option<String>,
    pub content_type: Option<String>,
    /// Where the first word that is not header starts (the end when there is none).
    pub rest: usize,
}

/// How to treat the first word that is not header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// Skip it and read on: the header ended with `<|message|>`, so everything in it is header.
    Skip,
    /// Stop there: the header never reached `<|message|>`, so what follows is the message's text. Only
    /// markers, `to=`, the author after `<|start|>` and `json` after a tool recipient are header then; other
    /// words are text.
    Stop,
}

impl Header {
    /// Reads `bytes`. `explicit_start`: the header followed `<|start|>`, so its first word is the author (the
    /// first message of a completion follows the prompt's `<|start|>assistant` and has none).
    pub fn read(bytes: &[u8], explicit_start: bool, unknown: Unknown) -> Header {
        let mut header = Header { rest: bytes.len(), ..Header::default() };
        let complete = unknown == Unknown::Skip;
        // A marker with its value in the next word (`<|channel|> final`).
        let mut pending: Option<Field> = None;
        for (index, (start, end)) in words(bytes).into_iter().enumerate() {
            let word = &bytes[start..end];
            if let Some(field) = pending.take()
                && !word.starts_with(b"<|")
                && !word.starts_with(b"to=")
            {
                header.set(field, word);
                continue;
            }
            if let Some(value) = word.strip_prefix(CHANNEL) {
                if value.is_empty() {
                    pending = Some(Field::Channel);
                } else {
                    header.set(Field::Channel, value);
                }
            } else if let Some(value) = word.strip_prefix(CONSTRAIN) {
                if value.is_empty() {
                    pending = Some(Field::ContentType);
                } else {
                    header.set(Field::ContentType, value);
                }
            } else if let Some(value) = word.strip_prefix(b"to=") {
                if !value.is_empty() {
                    header.recipient = Some(lossy(value));
                }
            } else if index == 0 && (explicit_start || (complete && is_role(word))) {
                // The author: a role, or a name (a tool's, should the model write a tool's message). Without
                // `<|start|>`, a role word is only taken for the author in a complete header: in prose it is text.
            } else if header.content_type.is_none()
                && header.is_tool_call()
                && (if complete { is_format_name(word) } else { word.eq_ignore_ascii_case(b"json") })
            {
                // `commentary to=functions.f json`, as Hugging Face's chat template writes it. In a header that
                // may be prose, only `json` is taken for a format.
                header.content_type = Some(lossy(word));
            } else {
                header.rest = header.rest.min(start);
                if unknown == Unknown::Stop {
                    break;
                }
            }
        }
        header
    }

    /// A later value replaces an earlier one: in `<|channel|>commentary to=assistant<|channel|>final` the model
    /// corrected itself (llama.cpp reads it the same way).
    fn set(&mut self, field: Field, value: &[u8]) {
        let slot = match field {
            Field::Channel => &mut self.channel,
            Field::ContentType => &mut self.content_type,
        };
        *slot = Some(lossy(value));
    }

    /// Whether the header says nothing of what the message is: no channel and no tool recipient.
    pub fn is_silent(&self) -> bool {
        self.channel.is_none() && !self.is_tool_call()
    }

    fn is_tool_call(&self) -> bool {
        self.recipient.as_deref().is_some_and(|r| !NOT_TOOLS.contains(&r))
    }

    /// What kind of message the header starts. A recipient other than a person or the assistant makes a tool
    /// call, whatever the channel (the model sometimes calls tools from `analysis`); otherwise the channel
    /// decides, and a missing or unknown channel is the answer (where a refusal without channel belongs).
    pub fn kind(&self) -> MessageKind {
        if let Some(recipient) = self.recipient.as_deref().filter(|r| !NOT_TOOLS.contains(r)) {
            let name = recipient.strip_prefix("functions.").unwrap_or(recipient);
            return MessageKind::ToolCall {
                recipient: recipient.to_string(),
                name: name.to_string(),
                content_type: self.content_type.clone(),
            };
        }
        match self.channel.as_deref() {
            Some("analysis") => MessageKind::Reasoning,
            Some("commentary") => MessageKind::Preamble,
            _ => MessageKind::Answer,
        }
    }
}

#[derive(Clone, Copy)]
enum Field {
    Channel,
    ContentType,
}

/// The words of a header as byte ranges: split at whitespace and before every `<|`, so that a special token's
/// text is never part of a value (`to=functions.f<|channel|>commentary` is two words).
fn words(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        i += [CHANNEL, CONSTRAIN, b"<|"].iter().find(|marker| bytes[i..].starts_with(marker)).map_or(1, |m| m.len());
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !bytes[i..].starts_with(b"<|") {
            i += 1;
        }
        words.push((start, i));
    }
    words
}

fn is_role(word: &[u8]) -> bool {
    std::str::from_utf8(word).is_ok_and(|word| super::Role::from_word(word).is_some())
}

/// A bare word that can name an arguments format (`json`), as opposed to the start of prose or of JSON.
fn is_format_name(word: &[u8]) -> bool {
    word.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Header {
        Header::read(text.as_bytes(), false, Unknown::Stop)
    }

    #[test]
    fn reads_words_in_any_order() {
        let expected = Header {
            channel: Some("commentary".into()),
            recipient: Some("functions.get_weather".into()),
            content_type: Some("json".into()),
            rest: 0,
        };
        let a = "<|channel|>commentary to=functions.get_weather <|constrain|>json";
        let b = " to=functions.get_weather<|channel|>commentary<|constrain|>json";
        for text in [a, b] {
            assert_eq!(read(text), Header { rest: text.len(), ..expected.clone() });
        }
    }

    #[test]
    fn values_stop_at_special_tokens_and_rest_keeps_its_spacing() {
        let header = read("<|channel|>final  Hello,  world");
        assert_eq!(header.channel.as_deref(), Some("final"));
        assert_eq!(&"<|channel|>final  Hello,  world"[header.rest..], "Hello,  world");
        let junk = "commentary to=functions.f <|constrain|>json";
        let skipped = Header::read(junk.as_bytes(), false, Unknown::Skip);
        assert_eq!((skipped.rest, skipped.recipient.as_deref()), (0, Some("functions.f")));
        assert_eq!(Header::read(junk.as_bytes(), false, Unknown::Stop).recipient, None);
        let header = Header::read(b"assistant to=functions.f<|channel|>analysis", true, Unknown::Stop);
        assert_eq!(header.recipient.as_deref(), Some("functions.f"));
        assert_eq!(header.channel.as_deref(), Some("analysis"));
    }

    #[test]
    fn kinds() {
        assert_eq!(read("<|channel|>commentary to=assistant").kind(), MessageKind::Preamble);
        assert_eq!(read("<|channel|>analysis").kind(), MessageKind::Reasoning);
        assert_eq!(read("<|channel|>thoughts").kind(), MessageKind::Answer);
        assert_eq!(read("").kind(), MessageKind::Answer);
        let call = read("<|channel|>analysis to=python").kind();
        assert_eq!(
            call,
            MessageKind::ToolCall { recipient: "python".into(), name: "python".into(), content_type: None }
        );
    }
}
