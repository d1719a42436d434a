//! The output parser: harmony's own parse of well-formed completions (`fixtures/harmony/parse.json`, computed by
//! openai-harmony 0.0.8), malformed completions reported against other servers (`fixtures/harmony/malformed.json`,
//! each with its source and the reading our rules give), and decoding across token boundaries.

mod common;

use gpt_oss_model::Tokenizer;
use gpt_oss_model::harmony::{Event, MessageKind, ParsedMessage, Parser, Stop, parse_completion};
use gpt_oss_model::tokenizer::special;
use serde::Deserialize;

fn tokenizer() -> &'static Tokenizer {
    common::tokenizer()
}

/// A message as the fixtures write it.
#[derive(Debug, PartialEq)]
struct Expected {
    kind: MessageKind,
    text: String,
    stop: Option<Stop>,
}

fn kind_of(channel: Option<&str>, recipient: Option<&str>, content_type: Option<&str>) -> MessageKind {
    match recipient.filter(|r| !["assistant", "user", "all", "system", "developer"].contains(r)) {
        Some(recipient) => MessageKind::ToolCall {
            recipient: recipient.to_string(),
            name: recipient.strip_prefix("functions.").unwrap_or(recipient).to_string(),
            content_type: content_type.map(|t| t.strip_prefix("<|constrain|>").unwrap_or(t).to_string()),
        },
        None => match channel {
            Some("analysis") => MessageKind::Reasoning,
            Some("commentary") => MessageKind::Preamble,
            _ => MessageKind::Answer,
        },
    }
}

fn actual(messages: Vec<ParsedMessage>, with_stop: bool) -> Vec<Expected> {
    messages.into_iter().map(|m| Expected { kind: m.kind, text: m.text, stop: with_stop.then_some(m.stop) }).collect()
}

#[derive(Deserialize)]
struct HarmonyParses {
    cases: Vec<HarmonyParse>,
}

#[derive(Deserialize)]
struct HarmonyParse {
    name: String,
    tokens: Vec<u32>,
    messages: Vec<HarmonyMessage>,
}

#[derive(Deserialize)]
struct HarmonyMessage {
    content: Vec<HarmonyText>,
    channel: Option<String>,
    recipient: Option<String>,
    content_type: Option<String>,
}

#[derive(Deserialize)]
struct HarmonyText {
    text: String,
}

#[test]
fn well_formed_completions_parse_as_openai_harmony_parses_them() {
    let goldens: HarmonyParses = serde_json::from_str(include_str!("fixtures/harmony/parse.json")).unwrap();
    assert!(goldens.cases.len() >= 15);
    for case in goldens.cases {
        let expected: Vec<Expected> = case
            .messages
            .iter()
            .map(|m| Expected {
                kind: kind_of(m.channel.as_deref(), m.recipient.as_deref(), m.content_type.as_deref()),
                text: m.content.iter().map(|c| c.text.as_str()).collect(),
                stop: None,
            })
            .collect();
        let parsed = parse_completion(tokenizer(), &case.tokens);
        // Well-formed output ends every message properly: with `<|return|>` or `<|call|>` last.
        let last = parsed.last().map(|m| m.stop);
        assert!(matches!(last, Some(Stop::Return | Stop::Call)), "{}: last stop {last:?}", case.name);
        assert!(parsed.iter().rev().skip(1).all(|m| m.stop == Stop::End), "{}: {parsed:?}", case.name);
        assert_eq!(actual(parsed, false), expected, "{}", case.name);
    }
}

#[derive(Deserialize)]
struct MalformedCases {
    cases: Vec<Malformed>,
}

#[derive(Deserialize)]
struct Malformed {
    name: String,
    sources: Vec<String>,
    completion: String,
    expected: Vec<MalformedMessage>,
}

#[derive(Deserialize)]
struct MalformedMessage {
    kind: String,
    text: String,
    name: Option<String>,
    recipient: Option<String>,
    stop: String,
}

impl MalformedMessage {
    fn expected(&self, content_type: Option<String>) -> Expected {
        let kind = match self.kind.as_str() {
            "reasoning" => MessageKind::Reasoning,
            "preamble" => MessageKind::Preamble,
            "answer" => MessageKind::Answer,
            "tool_call" => MessageKind::ToolCall {
                recipient: self.recipient.clone().unwrap_or_default(),
                name: self.name.clone().unwrap_or_default(),
                content_type,
            },
            other => panic!("unknown kind {other}"),
        };
        let stop = match self.stop.as_str() {
            "end" => Stop::End,
            "return" => Stop::Return,
            "call" => Stop::Call,
            "interrupted" => Stop::Interrupted,
            "truncated" => Stop::Truncated,
            other => panic!("unknown stop {other}"),
        };
        Expected { kind, text: self.text.clone(), stop: Some(stop) }
    }
}

#[test]
fn malformed_completions_recover_to_the_documented_reading() {
    let cases: MalformedCases = serde_json::from_str(include_str!("fixtures/harmony/malformed.json")).unwrap();
    assert!(cases.cases.len() >= 30);
    let mut failures = Vec::new();
    for case in &cases.cases {
        assert!(!case.sources.is_empty(), "{}: no source", case.name);
        let ids = tokenizer().encode(&case.completion, true);
        let parsed = actual(parse_completion(tokenizer(), &ids), true);
        // The fixtures name no content type: take the parser's, checked by the well-formed goldens.
        let expected: Vec<Expected> = case
            .expected
            .iter()
            .zip(
                parsed
                    .iter()
                    .map(|m| match &m.kind {
                        MessageKind::ToolCall { content_type, .. } => content_type.clone(),
                        _ => None,
                    })
                    .chain(std::iter::repeat(None)),
            )
            .map(|(m, content_type)| m.expected(content_type))
            .collect();
        if parsed != expected {
            failures
                .push(format!("{}: {:?}\n  expected {expected:?}\n  parsed   {parsed:?}", case.name, case.completion));
        }
        for message in &parsed {
            assert!(!message.text.contains("<|"), "{}: special token text in {message:?}", case.name);
            if let MessageKind::ToolCall { recipient, name, .. } = &message.kind {
                assert!(!recipient.contains("<|") && !name.contains("<|"), "{}: {message:?}", case.name);
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.cases.len(), failures.join("\n"));
}

/// Ids of the one-byte tokens: the byte-level vocabulary has one for each of the 256 bytes.
fn byte_token(byte: u8) -> u32 {
    (0..tokenizer().vocab_size() as u32).find(|&id| tokenizer().token_bytes(id) == Some(&[byte][..])).unwrap()
}

fn events_of(ids: &[u32]) -> Vec<Event> {
    let mut parser = Parser::new(tokenizer().clone());
    let mut events = Vec::new();
    for &id in ids {
        parser.push(id, &mut events);
    }
    parser.finish(&mut events);
    events
}

fn answer(ids: &[u32]) -> Vec<u32> {
    let mut all = tokenizer().encode("<|channel|>final<|message|>", true);
    all.extend_from_slice(ids);
    all
}

#[test]
fn characters_split_over_tokens_are_held_back_until_complete() {
    // "é😀": c3 a9 | f0 9f 98 80, one byte per token, a stray <|constrain|> and a padding id inside the emoji.
    let bytes = "é😀".as_bytes();
    let mut ids: Vec<u32> = bytes.iter().map(|&b| byte_token(b)).collect();
    ids.insert(4, special::CONSTRAIN);
    ids.insert(5, 200_500);
    ids.push(special::RETURN);
    let deltas: Vec<Event> =
        events_of(&answer(&ids)).into_iter().filter(|e| matches!(e, Event::TextDelta(_))).collect();
    assert_eq!(deltas, [Event::TextDelta("é".into()), Event::TextDelta("😀".into())]);
}

#[test]
fn a_character_cut_by_the_end_of_a_message_becomes_a_replacement_character() {
    let mut ids = vec![byte_token(b'a'), byte_token(0xf0), byte_token(0x9f), special::END];
    ids.extend(tokenizer().encode("<|start|>assistant<|channel|>final<|message|>b", true));
    let parsed = parse_completion(tokenizer(), &answer(&ids));
    let texts: Vec<&str> = parsed.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["a\u{fffd}", "b"]);
    assert_eq!(parsed[1].stop, Stop::Truncated);
}

#[test]
fn padding_ids_and_unknown_ids_are_ignored_everywhere() {
    let mut ids = vec![200_019, 201_087, u32::MAX];
    ids.extend(tokenizer().encode("<|channel|>analysis", true));
    ids.push(200_100);
    ids.extend(tokenizer().encode("<|message|>x<|end|>", true));
    ids.push(201_000);
    let parsed = parse_completion(tokenizer(), &ids);
    assert_eq!(parsed, [ParsedMessage { kind: MessageKind::Reasoning, text: "x".into(), stop: Stop::End }]);
}

#[test]
fn a_tool_call_streams_its_name_first_then_its_arguments() {
    let ids = tokenizer().encode(
        "<|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant<|channel|>commentary \
         to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>",
        true,
    );
    let events = events_of(&ids);
    let call = MessageKind::ToolCall {
        recipient: "functions.get_weather".into(),
        name: "get_weather".into(),
        content_type: Some("json".into()),
    };
    let start = events.iter().position(|e| *e == Event::MessageStarted(call.clone())).unwrap();
    // The reasoning message is closed before the call starts.
    assert_eq!(events[start - 1], Event::MessageFinished(Stop::End));
    let arguments: String = events[start + 1..]
        .iter()
        .map_while(|e| match e {
            Event::ArgumentsDelta(text) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(arguments, "{\"city\":\"Paris\"}");
    assert_eq!(events.last(), Some(&Event::MessageFinished(Stop::Call)));
    assert!(events[start + 1..].iter().filter(|e| matches!(e, Event::ArgumentsDelta(_))).count() > 1);
}

#[test]
fn a_header_that_turns_into_prose_streams_before_it_ends() {
    // No `<|message|>` ever comes: after the newline the text streams as the answer, without waiting for the end.
    let ids = tokenizer().encode("I think the answer is 4.\nIt is", false);
    let newline = ids.iter().position(|&id| tokenizer().decode(&[id]).contains('\n')).unwrap();
    let mut parser = Parser::new(tokenizer().clone());
    let mut events = Vec::new();
    for &id in &ids[..=newline] {
        parser.push(id, &mut events);
    }
    assert_eq!(events[0], Event::MessageStarted(MessageKind::Answer));
    assert!(matches!(&events[1], Event::TextDelta(text) if text.starts_with("I think")));
    for &id in &ids[newline + 1..] {
        parser.push(id, &mut events);
    }
    parser.finish(&mut events);
    let parsed = gpt_oss_model::harmony::collect_messages(events);
    assert_eq!(parsed[0].text, "I think the answer is 4.\nIt is");
}
