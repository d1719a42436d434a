//! Properties of the harmony output parser ([`Parser`]) over generated token sequences, with the real
//! o200k_harmony tokenizer (see `common`): random sequences never break the event protocol, structured
//! completions (well-formed and malformed headers, stray specials, padding, split characters) give exactly the
//! messages the recovery rules of `harmony/parse.rs` imply, and text survives any split into tokens.
//!
//! Findings become plain `#[test]`s at the end of this file, with the token ids spelled out. Proptest's failure
//! persistence is off: a failing case is printed shrunk, and belongs in such a test.

mod common;

use std::sync::OnceLock;

use gpt_oss_model::Tokenizer;
use gpt_oss_model::harmony::{Event, MessageKind, ParsedMessage, Parser, Stop, collect_messages, parse_completion};
use gpt_oss_model::tokenizer::special;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;

/// The special ids the parser gives a meaning to.
const HARMONY: [u32; 9] = [
    special::START,
    special::END,
    special::MESSAGE,
    special::CHANNEL,
    special::CONSTRAIN,
    special::RETURN,
    special::CALL,
    special::ENDOFTEXT,
    special::STARTOFTEXT,
];

/// Recipients that are not tools (`header.rs`).
const NOT_TOOLS: [&str; 5] = ["assistant", "user", "all", "system", "developer"];

fn config(cases: u32) -> Config {
    Config { cases, failure_persistence: None, ..Config::default() }
}

fn tok() -> &'static Tokenizer {
    common::tokenizer()
}

/// Token ids by what they are, from a scan of the whole vocabulary.
struct Pools {
    /// Ordinary tokens (not special, known to the tokenizer).
    ordinary: Vec<u32>,
    /// Ordinary tokens whose bytes contain neither `<` nor `|`: they cannot spell a special token's text.
    plain: Vec<u32>,
    /// The token whose bytes are exactly that one byte.
    byte_ids: [u32; 256],
    /// Multi-byte ordinary tokens that are not valid UTF-8 on their own (pieces of characters), without `<`/`|`.
    partial: Vec<u32>,
    /// Ordinary tokens containing a newline (which ends a header without `<|message|>`), without `<`/`|`.
    newline: Vec<u32>,
    /// Every special id of the file (`<|reserved_200000|>` and the like included).
    specials: Vec<u32>,
    /// Specials inside content that the parser drops (rule 3).
    dropped_specials: Vec<u32>,
    /// Encoded words that occur in headers, so that random sequences often spell (part of) a header.
    words: Vec<Vec<u32>>,
}

fn pools() -> &'static Pools {
    static POOLS: OnceLock<Pools> = OnceLock::new();
    POOLS.get_or_init(|| {
        let tok = tok();
        let vocab = tok.vocab_size() as u32;
        let specials: Vec<u32> = (0..vocab).filter(|&id| tok.is_special(id)).collect();
        let ordinary: Vec<u32> = (0..vocab).filter(|&id| !tok.is_special(id)).collect();
        let bytes = |id: u32| tok.token_bytes(id).unwrap();
        let safe = |id: &u32| !bytes(*id).iter().any(|b| matches!(b, b'<' | b'|'));
        let plain: Vec<u32> = ordinary.iter().copied().filter(safe).collect();
        let mut byte_ids = [u32::MAX; 256];
        for &id in &ordinary {
            if let [byte] = bytes(id) {
                assert_eq!(byte_ids[usize::from(*byte)], u32::MAX, "two tokens for byte {byte:#x}");
                byte_ids[usize::from(*byte)] = id;
            }
        }
        assert!(byte_ids.iter().all(|&id| id != u32::MAX), "a byte has no single-byte token");
        let partial: Vec<u32> = plain
            .iter()
            .copied()
            .filter(|&id| bytes(id).len() > 1 && std::str::from_utf8(bytes(id)).is_err())
            .collect();
        let newline: Vec<u32> = plain.iter().copied().filter(|&id| bytes(id).contains(&b'\n')).collect();
        assert!(partial.len() > 100 && newline.len() > 10, "{} {}", partial.len(), newline.len());
        let dropped_specials = specials
            .iter()
            .copied()
            .filter(|id| ![special::START, special::CHANNEL, special::END, special::RETURN, special::CALL].contains(id))
            .collect();
        let words = [
            "analysis",
            "final",
            "commentary",
            " to=functions.get_weather",
            " to=functions.f",
            " to=assistant",
            " to=python",
            "to=",
            "assistant",
            "json",
            " json",
            " ",
            "\n",
            "Hello",
            " world",
            "{\"x\": 1}",
        ]
        .iter()
        .map(|word| tok.encode(word, false))
        .collect();
        Pools { ordinary, plain, byte_ids, partial, newline, specials, dropped_specials, words }
    })
}

fn pick(pool: &'static [u32]) -> BoxedStrategy<u32> {
    (0..pool.len()).prop_map(move |i| pool[i]).boxed()
}

/// A few ids of a random sequence: any kind of id, weighted so that headers, specials, split characters and
/// ids the tokenizer does not know all occur often. `plain_only`: no ordinary token contains `<` or `|`.
fn fragment(plain_only: bool) -> BoxedStrategy<Vec<u32>> {
    let p = pools();
    let ordinary = if plain_only { &p.plain } else { &p.ordinary };
    let byte = (0..=255u8)
        .prop_filter("a byte that could spell `<|`", move |b| !plain_only || !matches!(b, b'<' | b'|'))
        .prop_map(|b| p.byte_ids[usize::from(b)]);
    let high_byte = (0x80..=0xffu8).prop_map(|b| p.byte_ids[usize::from(b)]);
    let one = |s: BoxedStrategy<u32>| s.prop_map(|id| vec![id]);
    prop_oneof![
        6 => one(pick(ordinary)),
        2 => one(byte.boxed()),
        3 => one(high_byte.boxed()),
        2 => one(pick(&p.partial)),
        1 => one(pick(&p.newline)),
        4 => (0..p.words.len()).prop_map(move |i| p.words[i].clone()),
        6 => one(pick(&HARMONY)),
        1 => one(pick(&p.specials)),
        1 => one((tok().vocab_size() as u32..common::MODEL_VOCAB).boxed()),
        1 => one((common::MODEL_VOCAB..=u32::MAX).boxed()),
    ]
    .boxed()
}

fn sequence(plain_only: bool) -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(fragment(plain_only), 0..48).prop_map(|fragments| fragments.concat())
}

/// Runs the parser over `ids`; the events of each push and those of `finish`.
fn run(ids: &[u32]) -> (Vec<Vec<Event>>, Vec<Event>) {
    let mut parser = Parser::new(tok().clone());
    let pushed = ids
        .iter()
        .map(|&id| {
            let mut events = Vec::new();
            parser.push(id, &mut events);
            events
        })
        .collect();
    let mut finished = Vec::new();
    parser.finish(&mut finished);
    (pushed, finished)
}

fn events_of(ids: &[u32]) -> Vec<Event> {
    let (pushed, finished) = run(ids);
    pushed.into_iter().flatten().chain(finished).collect()
}

fn delta_text(event: &Event) -> Option<&str> {
    match event {
        Event::ReasoningDelta(text) | Event::TextDelta(text) | Event::ArgumentsDelta(text) => Some(text),
        _ => None,
    }
}

fn delta_matches(kind: &MessageKind, event: &Event) -> bool {
    matches!(
        (kind, event),
        (MessageKind::Reasoning, Event::ReasoningDelta(_))
            | (MessageKind::Preamble | MessageKind::Answer, Event::TextDelta(_))
            | (MessageKind::ToolCall { .. }, Event::ArgumentsDelta(_))
    )
}

/// A tool call's header values: what `to=`/`<|constrain|>` can give (non-empty, cut at whitespace and `<|`).
fn check_kind(kind: &MessageKind) {
    if let MessageKind::ToolCall { recipient, name, content_type } = kind {
        assert!(!recipient.is_empty() && !NOT_TOOLS.contains(&recipient.as_str()), "{kind:?}");
        assert_eq!(recipient.strip_prefix("functions.").unwrap_or(recipient), name, "{kind:?}");
        for value in [Some(recipient), content_type.as_ref()].into_iter().flatten() {
            assert!(!value.is_empty(), "empty header value in {kind:?}");
            assert!(!value.bytes().any(|b| b.is_ascii_whitespace()), "whitespace in a header value: {kind:?}");
            assert!(!value.contains("<|"), "special token text in a header value: {kind:?}");
        }
    }
}

/// The invariants every sequence must keep, with ids as they came.
fn check_invariants(ids: &[u32], plain_only: bool) {
    let tok = tok();
    let (pushed, finished) = run(ids);

    // Well nested; deltas of the message's kind, never empty; every message finished at the end.
    let mut open: Option<&MessageKind> = None;
    let all: Vec<&Event> = pushed.iter().flatten().chain(&finished).collect();
    for (i, event) in all.iter().enumerate() {
        match event {
            Event::MessageStarted(kind) => {
                assert!(open.is_none(), "event {i}: a message started inside another: {all:?}");
                check_kind(kind);
                open = Some(kind);
            }
            Event::MessageFinished(_) => {
                assert!(open.take().is_some(), "event {i}: finished outside a message: {all:?}");
            }
            delta => {
                let kind = open.unwrap_or_else(|| panic!("event {i}: a delta outside a message: {all:?}"));
                assert!(delta_matches(kind, delta), "event {i}: {delta:?} in a {kind:?} message");
                let text = delta_text(delta).unwrap();
                assert!(!text.is_empty(), "event {i}: empty delta");
                if plain_only {
                    assert!(!text.contains("<|"), "event {i}: special token text in {delta:?}: {all:?}");
                }
            }
        }
    }
    assert!(open.is_none(), "a message is left open after finish: {all:?}");

    // Which token can end a message how: <|end|>/<|return|>/<|call|> their own stop, <|start|>/<|channel|> an
    // interruption, `finish` a truncation; ids the parser ignores do nothing at all.
    for (&id, events) in ids.iter().zip(&pushed) {
        for event in events {
            if let Event::MessageFinished(stop) = event {
                let expected = match id {
                    special::END => Stop::End,
                    special::RETURN => Stop::Return,
                    special::CALL => Stop::Call,
                    special::START | special::CHANNEL => Stop::Interrupted,
                    _ => panic!("token {id} finished a message with {stop:?}"),
                };
                assert_eq!(*stop, expected, "token {id}");
            }
        }
        if tok.token_bytes(id).is_none() || (tok.is_special(id) && !HARMONY[..7].contains(&id)) {
            assert!(events.is_empty(), "ignored id {id} gave {events:?}");
        }
    }
    for event in &finished {
        if let Event::MessageFinished(stop) = event {
            assert_eq!(*stop, Stop::Truncated);
        }
    }

    // Streaming equals whole.
    let events: Vec<Event> = all.into_iter().cloned().collect();
    assert_eq!(collect_messages(events.clone()), parse_completion(tok, ids));

    // Ids the tokenizer does not know, and specials that mean nothing to harmony, change nothing.
    let kept: Vec<u32> = ids
        .iter()
        .copied()
        .filter(|&id| tok.token_bytes(id).is_some() && (!tok.is_special(id) || HARMONY[..7].contains(&id)))
        .collect();
    assert_eq!(events_of(&kept), events, "ignored ids changed the events");
}

/// Pushing `ids` in chunks, each into a fresh vector, from a parser cloned at every chunk boundary, gives the
/// same events concatenated.
fn check_chunking(ids: &[u32], cuts: &[Index]) {
    let whole = events_of(ids);
    let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(ids.len() + 1)).collect();
    cuts.push(0);
    cuts.push(ids.len());
    cuts.sort_unstable();
    let mut parser = Parser::new(tok().clone());
    let mut chunked = Vec::new();
    for window in cuts.windows(2) {
        let mut events = Vec::new();
        for &id in &ids[window[0]..window[1]] {
            parser.push(id, &mut events);
        }
        chunked.extend(events);
        parser = parser.clone();
    }
    let mut events = Vec::new();
    parser.finish(&mut events);
    chunked.extend(events);
    assert_eq!(chunked, whole);
}

/// The text of the ordinary ids among `ids`, decoded as one byte string.
fn text_of(ids: &[u32]) -> String {
    let tok = tok();
    let bytes: Vec<u8> = ids
        .iter()
        .filter(|&&id| !tok.is_special(id))
        .filter_map(|&id| tok.token_bytes(id))
        .flatten()
        .copied()
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

// ---------------------------------------------------------------------------------------------------------------
// Structured completions.

/// A message header, well-formed or malformed in a way the parser recognises.
#[derive(Clone, Debug)]
enum Header {
    Analysis,
    Final,
    /// `<|channel|> final`: the value in the next word.
    SpacedFinal,
    /// An unknown channel: the answer.
    Thoughts,
    Commentary,
    CommentaryToAssistant,
    FinalToUser,
    /// A tool call from `analysis`.
    AnalysisToPython,
    Constrained(String),
    ConstrainBeforeRecipient(String),
    /// The recipient before `<|channel|>`, as gpt-oss writes it.
    RecipientFirst(String),
    /// `to=functions.f json`, Hugging Face's chat template.
    BareJson(String),
    /// Nothing between (`<|start|>assistant`) and `<|message|>`.
    Empty,
}

impl Header {
    fn text(&self) -> String {
        match self {
            Header::Analysis => "<|channel|>analysis".into(),
            Header::Final => "<|channel|>final".into(),
            Header::SpacedFinal => "<|channel|> final".into(),
            Header::Thoughts => "<|channel|>thoughts".into(),
            Header::Commentary => "<|channel|>commentary".into(),
            Header::CommentaryToAssistant => "<|channel|>commentary to=assistant".into(),
            Header::FinalToUser => "<|channel|>final to=user".into(),
            Header::AnalysisToPython => "<|channel|>analysis to=python".into(),
            Header::Constrained(name) => format!("<|channel|>commentary to=functions.{name} <|constrain|>json"),
            Header::ConstrainBeforeRecipient(name) => {
                format!("<|channel|>commentary<|constrain|>json to=functions.{name}")
            }
            Header::RecipientFirst(name) => format!(" to=functions.{name}<|channel|>commentary"),
            Header::BareJson(name) => format!("<|channel|>commentary to=functions.{name} json"),
            Header::Empty => String::new(),
        }
    }

    fn kind(&self) -> MessageKind {
        let call = |name: &str, content_type: Option<&str>| MessageKind::ToolCall {
            recipient: format!("functions.{name}"),
            name: name.into(),
            content_type: content_type.map(Into::into),
        };
        match self {
            Header::Analysis => MessageKind::Reasoning,
            Header::Commentary | Header::CommentaryToAssistant => MessageKind::Preamble,
            Header::Final | Header::SpacedFinal | Header::Thoughts | Header::FinalToUser | Header::Empty => {
                MessageKind::Answer
            }
            Header::AnalysisToPython => {
                MessageKind::ToolCall { recipient: "python".into(), name: "python".into(), content_type: None }
            }
            Header::Constrained(name) | Header::ConstrainBeforeRecipient(name) | Header::BareJson(name) => {
                call(name, Some("json"))
            }
            Header::RecipientFirst(name) => call(name, None),
        }
    }

    fn starts_with_channel(&self) -> bool {
        self.text().starts_with("<|channel|>")
    }
}

fn header() -> impl Strategy<Value = Header> {
    let name = "[a-z][a-z0-9_]{0,10}";
    prop_oneof![
        Just(Header::Analysis),
        Just(Header::Final),
        Just(Header::SpacedFinal),
        Just(Header::Thoughts),
        Just(Header::Commentary),
        Just(Header::CommentaryToAssistant),
        Just(Header::FinalToUser),
        Just(Header::AnalysisToPython),
        name.prop_map(Header::Constrained),
        name.prop_map(Header::ConstrainBeforeRecipient),
        name.prop_map(Header::RecipientFirst),
        name.prop_map(Header::BareJson),
        Just(Header::Empty),
    ]
}

/// Content ids: ordinary tokens of every sort (characters split over tokens included), with stray specials and
/// padding ids sprinkled in, which the parser drops.
fn content() -> impl Strategy<Value = Vec<u32>> {
    let p = pools();
    let token = prop_oneof![
        8 => pick(&p.ordinary),
        3 => (0x80..=0xffu8).prop_map(|b| p.byte_ids[usize::from(b)]),
        1 => (0..=0x7fu8).prop_map(|b| p.byte_ids[usize::from(b)]),
        2 => pick(&p.partial),
        1 => pick(&p.newline),
        1 => pick(&p.dropped_specials),
        1 => tok().vocab_size() as u32..=u32::MAX,
    ];
    prop::collection::vec(token, 0..40)
}

#[derive(Clone, Debug)]
struct MessageSpec {
    /// Preceded by `<|start|>assistant`.
    start: bool,
    header: Header,
    content: Vec<u32>,
    /// `<|end|>`, `<|return|>` or `<|call|>`; none: interrupted by the next message, or truncated.
    end: Option<u32>,
}

fn completion() -> impl Strategy<Value = Vec<MessageSpec>> {
    let end = prop_oneof![
        3 => Just(Some(special::END)),
        1 => Just(Some(special::RETURN)),
        1 => Just(Some(special::CALL)),
        1 => Just(None),
    ];
    let message = (any::<bool>(), header(), content(), end).prop_map(|(start, header, content, end)| MessageSpec {
        start,
        header,
        content,
        end,
    });
    prop::collection::vec(message, 1..5).prop_map(|mut messages| {
        // The prompt ends in `<|start|>assistant`. After a message without an end, only `<|start|>` or
        // `<|channel|>` can begin the next one (anything else is content).
        messages[0].start = false;
        for i in 1..messages.len() {
            if messages[i - 1].end.is_none() && !messages[i].header.starts_with_channel() {
                messages[i].start = true;
            }
        }
        messages
    })
}

fn encode_completion(messages: &[MessageSpec]) -> Vec<u32> {
    let mut ids = Vec::new();
    for message in messages {
        let start = if message.start { "<|start|>assistant" } else { "" };
        ids.extend(tok().encode(&format!("{start}{}<|message|>", message.header.text()), true));
        ids.extend(&message.content);
        ids.extend(message.end);
    }
    ids
}

fn expected_messages(messages: &[MessageSpec]) -> Vec<ParsedMessage> {
    let last = messages.len() - 1;
    messages
        .iter()
        .enumerate()
        .map(|(i, message)| ParsedMessage {
            kind: message.header.kind(),
            text: text_of(&message.content),
            stop: match message.end {
                Some(special::END) => Stop::End,
                Some(special::RETURN) => Stop::Return,
                Some(special::CALL) => Stop::Call,
                Some(id) => unreachable!("end {id}"),
                None if i == last => Stop::Truncated,
                None => Stop::Interrupted,
            },
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Text split over tokens.

/// Strings with characters of every length, including ones that look like special tokens.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("é"),
        Just("中文"),
        Just("😀"),
        Just("👩‍👩‍👧"),
        Just("\u{10ffff}"),
        Just("<|end|>"),
        Just("<|message|>"),
        Just(" to=functions.f"),
        Just("\n"),
        Just("a"),
    ];
    prop_oneof!["\\PC*", prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())]
}

proptest! {
    #![proptest_config(config(3000))]

    /// Any ids at all: no panic, well-nested events, deltas of the right kind, streaming equals whole, ignored
    /// ids ignored.
    #[test]
    fn random_sequences_keep_the_event_protocol(ids in sequence(false)) {
        check_invariants(&ids, false);
    }

    /// Without ordinary tokens that could spell `<|`, no output ever contains `<|`: the text of a special token
    /// (which came from its id) never reaches a delta.
    #[test]
    fn special_token_text_never_reaches_the_output(ids in sequence(true)) {
        check_invariants(&ids, true);
    }

}

proptest! {
    #![proptest_config(config(1500))]

    /// The parser is a function of the sequence alone: how pushes are grouped does not matter.
    #[test]
    fn chunking_does_not_matter(ids in sequence(false), cuts in prop::collection::vec(any::<Index>(), 0..6)) {
        check_chunking(&ids, &cuts);
    }
}

proptest! {
    #![proptest_config(config(2000))]

    /// Structured completions: the messages the headers imply, each with exactly the text of its ordinary
    /// content tokens (stray specials and padding dropped, split characters joined, invalid bytes U+FFFD).
    #[test]
    fn every_content_token_lands_in_its_message(messages in completion()) {
        let ids = encode_completion(&messages);
        check_invariants(&ids, false);
        prop_assert_eq!(parse_completion(tok(), &ids), expected_messages(&messages), "ids {:?}", ids);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// Any string, its tokens split into single-byte tokens at random, comes out whole.
    #[test]
    fn characters_split_over_tokens_come_out_whole(text in text(), split in prop::collection::vec(any::<bool>(), 0..64)) {
        let tok = tok();
        let p = pools();
        let mut ids = tok.encode("<|channel|>final<|message|>", true);
        for (i, id) in tok.encode(&text, false).into_iter().enumerate() {
            if split.get(i).copied().unwrap_or(true) {
                ids.extend(tok.token_bytes(id).unwrap().iter().map(|&b| p.byte_ids[usize::from(b)]));
            } else {
                ids.push(id);
            }
        }
        ids.push(special::RETURN);
        let expected = ParsedMessage { kind: MessageKind::Answer, text, stop: Stop::Return };
        prop_assert_eq!(parse_completion(tok, &ids), vec![expected]);
    }

    /// Rule 4: text after a stray end is a header, here one that never reaches `<|message|>` and names neither
    /// channel nor tool: its message continues the ended message's kind when that was `<|end|>` after
    /// reasoning, a preamble or an answer, else it is the answer; its text starts at its first word (rule 5).
    /// Stray ends and padding between change nothing.
    #[test]
    fn text_after_a_stray_end(
        header in header(),
        first in prop::collection::vec(pick(&pools().plain), 0..8),
        end in prop::sample::select(vec![special::END, special::RETURN, special::CALL]),
        stray in prop::collection::vec(
            prop::sample::select(vec![special::END, special::RETURN, special::CALL, special::ENDOFTEXT, 200_500]),
            0..3,
        ),
        second in prop::collection::vec(pick(&pools().plain), 0..8),
    ) {
        let tok = tok();
        let mut ids = tok.encode(&format!("{}<|message|>", header.text()), true);
        ids.extend(&first);
        ids.push(end);
        ids.extend(&stray);
        // A first word that is neither a role (an author) nor `to=`.
        ids.extend(tok.encode(" Hello,", false));
        ids.extend(&second);
        let kind = header.kind();
        let continued = match kind {
            MessageKind::ToolCall { .. } => MessageKind::Answer,
            _ if end != special::END => MessageKind::Answer,
            _ => kind.clone(),
        };
        let stop = if end == special::END { Stop::End } else if end == special::RETURN { Stop::Return } else { Stop::Call };
        let expected = vec![
            ParsedMessage { kind, text: text_of(&first), stop },
            ParsedMessage { kind: continued, text: format!("Hello,{}", text_of(&second)), stop: Stop::Truncated },
        ];
        prop_assert_eq!(parse_completion(tok, &ids), expected, "ids {:?}", ids);
    }

    /// Rule 5: a header that never reaches `<|message|>` is a message of its header's kind once it ends (an end
    /// token, the end of the tokens, a newline, or too many tokens), its text everything from the first word that
    /// is not header on.
    #[test]
    fn header_without_message(
        header in header(),
        rest in prop::collection::vec(pick(&pools().plain), 0..80),
        end in prop::sample::select(vec![Some(special::END), Some(special::RETURN), Some(special::CALL), None]),
    ) {
        let tok = tok();
        let mut ids = tok.encode(&header.text(), true);
        // Not a word a header could take for a format name (`to=functions.f json`).
        ids.extend(tok.encode(" Hello,", false));
        ids.extend(&rest);
        ids.extend(end);
        let stop = match end {
            Some(special::END) => Stop::End,
            Some(special::RETURN) => Stop::Return,
            Some(_) => Stop::Call,
            None => Stop::Truncated,
        };
        let text = format!("Hello,{}", text_of(&rest));
        let expected = vec![ParsedMessage { kind: header.kind(), text, stop }];
        prop_assert_eq!(parse_completion(tok, &ids), expected, "ids {:?}", ids);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Findings, as regression tests.

/// Rule 5 reads a header that never reached `<|message|>` as a message whose text is everything from the first
/// non-header word on; that slice of the header's bytes also holds the text `<|channel|>` / `<|constrain|>` of
/// special *ids* pushed after that word, which is then streamed as content.
#[test]
fn header_without_message_leaks_special_token_text() {
    let tok = tok();
    let cases: [&[u32]; 3] = [
        // "!" <|channel|>, then the end of the tokens: the answer "!<|channel|>".
        &[0, special::CHANNEL],
        // "Hello" <|constrain|> <|end|>
        &[13225, special::CONSTRAIN, special::END],
        // <|channel|> "analysis" " Hello" <|channel|> "final" "\n": reasoning "Hello<|channel|>final\n".
        &[special::CHANNEL, 35644, 32949, special::CHANNEL, 17196, 198],
    ];
    let leaks: Vec<String> = cases
        .iter()
        .map(|ids| (ids, events_of(ids)))
        .filter(|(_, events)| events.iter().any(|event| delta_text(event).is_some_and(|text| text.contains("<|"))))
        .map(|(ids, events)| format!("{:?} ({ids:?}) gave {events:?}", tok.decode(ids)))
        .collect();
    assert!(leaks.is_empty(), "{leaks:#?}");
}

/// `finish` must end a message left open in its content as truncated (a working-tree state of `finish` once
/// dropped it without `MessageFinished`).
#[test]
fn finish_truncates_an_open_message() {
    let tok = tok();
    // <|channel|> "final" <|message|> "Hello"
    let ids = [special::CHANNEL, 17196, special::MESSAGE, 13225];
    let expected = ParsedMessage { kind: MessageKind::Answer, text: "Hello".into(), stop: Stop::Truncated };
    assert_eq!(parse_completion(tok, &ids), [expected]);
    let events = events_of(&ids);
    assert_eq!(events.last(), Some(&Event::MessageFinished(Stop::Truncated)), "{events:?}");
}

/// Rule 5 reads the header words up to the first other word; after a recipient that is a person, a bare word is
/// still taken for a format name (`to=functions.f json`, Hugging Face's form), though such a message has no
/// arguments: prose after `to=assistant` loses its first word.
#[test]
fn prose_after_a_person_recipient_keeps_its_first_word() {
    let tok = tok();
    // <|channel|> "comment" "ary" " to" "=" "assistant" " Hello" " world" <|end|>
    let ids = [special::CHANNEL, 12606, 815, 316, 28, 173781, 32949, 2375, special::END];
    assert_eq!(tok.decode(&ids), "<|channel|>commentary to=assistant Hello world<|end|>");
    let expected = ParsedMessage { kind: MessageKind::Preamble, text: "Hello world".into(), stop: Stop::End };
    assert_eq!(parse_completion(tok, &ids), [expected]);
}

/// Text after a stray `<|end|>` is read as a header (rule 4), whose first word is skipped when it is a role
/// (the author): reasoning that goes on with the word `user` loses it.
#[test]
fn text_after_a_stray_end_keeps_a_first_word_that_is_a_role() {
    let tok = tok();
    // <|channel|> "analysis" <|message|> "A" <|end|> "user" " wants" " weather" "\n" <|end|>
    let ids = [special::CHANNEL, 35644, special::MESSAGE, 32, special::END, 1428, 10648, 11122, 198, special::END];
    assert_eq!(tok.decode(&ids), "<|channel|>analysis<|message|>A<|end|>user wants weather\n<|end|>");
    let messages = parse_completion(tok, &ids);
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!((&messages[1].kind, messages[1].text.as_str()), (&MessageKind::Reasoning, "user wants weather\n"));
}
