//! What the `harmony_parser` fuzz target and the seed generator share: the input format (bytes to token ids and
//! back), the tokenizer, and the invariants the parser must keep on any sequence.
//!
//! # Input format
//!
//! The input is read 3 bytes at a time (a trailing 1 or 2 bytes are ignored); each triple `[b0, b1, b2]` gives
//! one or a few ids, by its tag `b0 & 7`, so that every kind of id occurs often:
//!
//! | tag     | ids                                                                                        |
//! |---------|--------------------------------------------------------------------------------------------|
//! | 0, 1, 2 | the ordinary token `((b0 >> 3) << 16 \| b1 << 8 \| b2) % 199998`                           |
//! | 3       | the single-byte token of byte `b2` (pieces of UTF-8 characters)                            |
//! | 4       | `b1` even: a harmony special, [`HARMONY`]`[b2 % 9]`; odd: any special, `199998 + b2 % 21`  |
//! | 5       | the tokens of a header word, [`WORDS`]`[b2 % len]` (`analysis`, ` to=functions.f`, ...)    |
//! | 6       | a padding id, `vocab_size + (b1 << 8 \| b2) % (201088 - vocab_size)`                        |
//! | 7       | an id far above the model's vocabulary: `b1 >= 128`: `u32::MAX - b2`, else `201088 + ...`  |
//!
//! [`encode`] writes a sequence of ordinary, special and padding ids in this format (for seeds).

use std::path::PathBuf;
use std::sync::OnceLock;

use gpt_oss_model::Tokenizer;
use gpt_oss_model::harmony::{Event, MessageKind, Parser, Stop, collect_messages, parse_completion};
use gpt_oss_model::tokenizer::special;

/// Where the o200k_harmony `tokenizer.json` is: `export GPT_OSS_TEST_TOKENIZER="$(scripts/fetch-tokenizer.sh)"`.
pub const ENV: &str = "GPT_OSS_TEST_TOKENIZER";
/// Rows of the model's embedding: ids from the tokenizer's size up to here are padding.
pub const MODEL_VOCAB: u32 = 201_088;
/// Ids below this are ordinary tokens; `STARTOFTEXT..vocab_size` are the special tokens of the file.
const ORDINARY: u32 = special::STARTOFTEXT;
/// How many special tokens the file has (`<|startoftext|>` to `<|endofprompt|>`).
const SPECIALS: u32 = 21;

/// The special ids the parser gives a meaning to, and the two it must ignore.
pub const HARMONY: [u32; 9] = [
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

/// Words of headers, which random ids would almost never spell.
pub const WORDS: [&str; 16] = [
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
];

/// The tokenizer, loaded once from `$GPT_OSS_TEST_TOKENIZER` (else the fetch script's default cache).
pub fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let path = tokenizer_path();
        Tokenizer::from_file(&path).unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
    })
}

fn tokenizer_path() -> PathBuf {
    if let Some(path) = std::env::var_os(ENV) {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
    let sha256 = "0614fe83cadab421296e664e1f48f4261fa8fef6e03e63bb75c20f38e37d07d3";
    match cache.map(|cache| cache.join(format!("gpt-oss/tokenizer/tokenizer-{sha256}.json"))) {
        Some(path) if path.is_file() => path,
        _ => panic!("set {ENV}: run `export {ENV}=\"$(scripts/fetch-tokenizer.sh)\"` from the repository root"),
    }
}

struct Tables {
    byte_ids: [u32; 256],
    words: Vec<Vec<u32>>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let tok = tokenizer();
        assert_eq!(tok.vocab_size() as u32, ORDINARY + SPECIALS, "not o200k_harmony");
        let mut byte_ids = [u32::MAX; 256];
        for id in 0..ORDINARY {
            if let Some(&[byte]) = tok.token_bytes(id) {
                byte_ids[usize::from(byte)] = id;
            }
        }
        assert!(byte_ids.iter().all(|&id| id != u32::MAX), "a byte without a single-byte token");
        let words = WORDS.iter().map(|word| tok.encode(word, false)).collect();
        Tables { byte_ids, words }
    })
}

/// The ids an input stands for (see the module documentation).
pub fn decode(data: &[u8]) -> Vec<u32> {
    let tables = tables();
    let vocab = tokenizer().vocab_size() as u32;
    let mut ids = Vec::with_capacity(data.len() / 3);
    for chunk in data.chunks_exact(3) {
        let [b0, b1, b2] = [chunk[0], chunk[1], chunk[2]].map(u32::from);
        let wide = (b0 >> 3) << 16 | b1 << 8 | b2;
        match b0 & 7 {
            0..=2 => ids.push(wide % ORDINARY),
            3 => ids.push(tables.byte_ids[b2 as usize]),
            4 if b1 % 2 == 0 => ids.push(HARMONY[(b2 % 9) as usize]),
            4 => ids.push(ORDINARY + b2 % SPECIALS),
            5 => ids.extend(&tables.words[b2 as usize % WORDS.len()]),
            6 => ids.push(vocab + (b1 << 8 | b2) % (MODEL_VOCAB - vocab)),
            _ if b1 >= 128 => ids.push(u32::MAX - b2),
            _ => ids.push(MODEL_VOCAB + wide),
        }
    }
    ids
}

/// Writes `ids` in the input format: `decode(&encode(ids)) == ids`. Panics on an id above the padding ids.
pub fn encode(ids: &[u32]) -> Vec<u8> {
    let vocab = tokenizer().vocab_size() as u32;
    let mut data = Vec::with_capacity(ids.len() * 3);
    for &id in ids {
        let triple = if id < ORDINARY {
            [((id >> 16) << 3) as u8, (id >> 8) as u8, id as u8]
        } else if let Some(index) = HARMONY.iter().position(|&h| h == id) {
            [4, 0, index as u8]
        } else if id < vocab {
            [4, 1, (id - ORDINARY) as u8]
        } else if id < MODEL_VOCAB {
            let offset = id - vocab;
            [6, (offset >> 8) as u8, offset as u8]
        } else {
            panic!("id {id} has no encoding")
        };
        data.extend(triple);
    }
    data
}

/// Runs the parser over `ids`: the events of each push, and those of `finish`.
fn run(ids: &[u32]) -> (Vec<Vec<Event>>, Vec<Event>) {
    let mut parser = Parser::new(tokenizer().clone());
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

/// All events of `ids`, pushed into one vector, the parser cloned half way through.
fn events_of(ids: &[u32]) -> Vec<Event> {
    let mut parser = Parser::new(tokenizer().clone());
    let mut events = Vec::new();
    let (head, tail) = ids.split_at(ids.len() / 2);
    for &id in head {
        parser.push(id, &mut events);
    }
    let mut parser = parser.clone();
    for &id in tail {
        parser.push(id, &mut events);
    }
    parser.finish(&mut events);
    events
}

fn delta_text(event: &Event) -> Option<&str> {
    match event {
        Event::ReasoningDelta(text) | Event::TextDelta(text) | Event::ArgumentsDelta(text) => Some(text),
        _ => None,
    }
}

/// Whether the parser acts on `id` at all: ordinary tokens and the harmony specials but `<|endoftext|>` and
/// `<|startoftext|>`. Padding ids, larger values and the other specials must change nothing.
fn is_meaningful(id: u32) -> bool {
    let tok = tokenizer();
    tok.token_bytes(id).is_some() && (!tok.is_special(id) || HARMONY[..7].contains(&id))
}

/// Checks the invariants of the parser over `ids`; panics, with the ids, when one does not hold.
///
/// - events are well nested: `MessageStarted`, deltas of that message's kind (`ReasoningDelta` for reasoning,
///   `TextDelta` for a preamble or the answer, `ArgumentsDelta` for a tool call), never empty, then
///   `MessageFinished`; every message is finished after `finish`;
/// - a tool call's recipient is not a person's and its name is the recipient without `functions.`; header
///   values are non-empty, without whitespace and without `<|`;
/// - only `<|end|>`/`<|return|>`/`<|call|>` (their own stop) and `<|start|>`/`<|channel|>` (interrupted) end a
///   message during pushes, and only `finish` truncates one;
/// - ignored ids produce no events, and removing them changes nothing;
/// - streaming equals whole: the events fold into `parse_completion`'s messages; pushing the tokens one by one
///   into separate vectors, or into one vector through a parser cloned half way, gives the same events;
/// - when no ordinary token of `ids` contains `<` or `|`, no delta contains `<|`: the text of a special token
///   never reaches the output.
pub fn check(ids: &[u32]) {
    let tok = tokenizer();
    let (pushed, finished) = run(ids);
    let all: Vec<Event> = pushed.iter().flatten().chain(&finished).cloned().collect();
    let fail = |what: String| -> ! { panic!("{what}\nids: {ids:?}\nevents: {all:?}") };

    let mut open: Option<&MessageKind> = None;
    for (i, event) in all.iter().enumerate() {
        match event {
            Event::MessageStarted(kind) => {
                if open.is_some() {
                    fail(format!("event {i}: a message started inside another"));
                }
                check_kind(kind).unwrap_or_else(|e| fail(format!("event {i}: {e}")));
                open = Some(kind);
            }
            Event::MessageFinished(_) => {
                if open.take().is_none() {
                    fail(format!("event {i}: finished outside a message"));
                }
            }
            delta => {
                let Some(kind) = open else { fail(format!("event {i}: a delta outside a message")) };
                let matches = matches!(
                    (kind, delta),
                    (MessageKind::Reasoning, Event::ReasoningDelta(_))
                        | (MessageKind::Preamble | MessageKind::Answer, Event::TextDelta(_))
                        | (MessageKind::ToolCall { .. }, Event::ArgumentsDelta(_))
                );
                if !matches {
                    fail(format!("event {i}: {delta:?} in a {kind:?} message"));
                }
                if delta_text(delta).is_some_and(str::is_empty) {
                    fail(format!("event {i}: an empty delta"));
                }
            }
        }
    }
    if open.is_some() {
        fail("a message left open after finish".into());
    }

    for (&id, events) in ids.iter().zip(&pushed) {
        for event in events {
            if let Event::MessageFinished(stop) = event {
                let expected = match id {
                    special::END => Some(Stop::End),
                    special::RETURN => Some(Stop::Return),
                    special::CALL => Some(Stop::Call),
                    special::START | special::CHANNEL => Some(Stop::Interrupted),
                    _ => None,
                };
                if expected != Some(*stop) {
                    fail(format!("token {id} finished a message with {stop:?}"));
                }
            }
        }
        if !is_meaningful(id) && !events.is_empty() {
            fail(format!("ignored id {id} gave {events:?}"));
        }
    }
    if finished.iter().any(|event| matches!(event, Event::MessageFinished(stop) if *stop != Stop::Truncated)) {
        fail("finish ended a message otherwise than truncated".into());
    }

    if collect_messages(all.clone()) != parse_completion(tok, ids) {
        fail("the events do not fold into parse_completion's messages".into());
    }
    if events_of(ids) != all {
        fail("pushing into one vector through a cloned parser gave other events".into());
    }
    let kept: Vec<u32> = ids.iter().copied().filter(|&id| is_meaningful(id)).collect();
    if kept.len() != ids.len() && events_of(&kept) != all {
        fail("removing ignored ids changed the events".into());
    }

    {
        let spells = |id: &u32| {
            !tok.is_special(*id) && tok.token_bytes(*id).is_some_and(|b| b.contains(&b'<') || b.contains(&b'|'))
        };
        if !ids.iter().any(spells) && all.iter().filter_map(delta_text).any(|text| text.contains("<|")) {
            fail("special token text in a delta".into());
        }
    }
}

fn check_kind(kind: &MessageKind) -> Result<(), String> {
    let MessageKind::ToolCall { recipient, name, content_type } = kind else { return Ok(()) };
    if ["assistant", "user", "all", "system", "developer"].contains(&recipient.as_str()) {
        return Err(format!("a tool call to a person: {kind:?}"));
    }
    if recipient.strip_prefix("functions.").unwrap_or(recipient) != name {
        return Err(format!("name and recipient disagree: {kind:?}"));
    }
    for value in [Some(recipient), content_type.as_ref()].into_iter().flatten() {
        if value.is_empty() || value.bytes().any(|b| b.is_ascii_whitespace()) || value.contains("<|") {
            return Err(format!("a header value that is empty, has whitespace or `<|`: {kind:?}"));
        }
    }
    Ok(())
}
