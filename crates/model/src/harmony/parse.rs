//! The model's output back into reasoning, tool calls and answer: a streaming parser fed one token at a time,
//! which never fails.
//!
//! Input: the tokens the model generates after a prompt ending in `<|start|>assistant`. Well-formed output is
//! a sequence of messages, `<|channel|>analysis<|message|>...<|end|>`, `<|start|>assistant<|channel|>final
//! <|message|>...<|return|>`, a tool call `<|start|>assistant<|channel|>commentary to=functions.f
//! <|constrain|>json<|message|>{...}<|call|>`. Real output is sometimes malformed; each case recovers to the
//! reading that loses nothing the user should see and shows nothing they should not:
//!
//! 1. **Header** (up to `<|message|>`): words in any order; the recipient may come before `<|channel|>`; values
//!    stop at whitespace and at special tokens (`to=functions.f<|channel|>commentary`); a repeated field's
//!    last value counts; unknown words are skipped. Header text never reaches any output.
//! 2. **Kind**: a recipient other than assistant/user/all/system/developer is a tool call, on any channel
//!    (`analysis` included); `to=assistant` is not a call. Otherwise `analysis` is reasoning, `commentary` a
//!    preamble, and `final`, a missing or an unknown channel the answer.
//! 3. **Content** runs from `<|message|>` to `<|end|>`, `<|return|>` or `<|call|>`, or is interrupted by a
//!    `<|start|>` or `<|channel|>` that begins the next message without an end, or is truncated by the end of
//!    the tokens (max_tokens). Any other special token inside it (`<|message|>`, `<|constrain|>`,
//!    `<|endoftext|>`, ids the tokenizer does not know) is dropped, never shown.
//! 4. **Between messages**, `<|start|>` or `<|channel|>` begins a header, `<|message|>` an answer with no
//!    header, and ordinary text a header too (the model left out `<|start|>`: `<|end|>assistant<|channel|>
//!    final<|message|>`); should that header name neither channel nor tool, its message continues the previous
//!    message's kind after a stray `<|end|>` (the model ended a message and went on writing it), else it is the
//!    answer. Stray end tokens are ignored.
//! 5. **A header that never reaches `<|message|>`** is taken for a message once it ends (an end token or the
//!    end of the tokens), grows past [`MAX_HEADER_TOKENS`], or has a newline after text that is not header
//!    (prose): its header words up to the first other word are read as in 1, and everything from that word on
//!    is the message's text (without the text of any special token in it), streamed from then on. In such a
//!    header only markers, `to=`, the author after `<|start|>` and `json` after a tool recipient count as
//!    header: a role name or another bare word there is text.
//! 6. **Text** is decoded across token boundaries: a character split over tokens is held back until complete;
//!    bytes that never form one become U+FFFD when the message ends.
//!
//! Every text token of a message's content appears in exactly one text event, in order.

use super::header::{Header, Unknown};
use crate::tokenizer::{DecodeStream, Tokenizer, special};

/// A header longer than this is taken for text (rule 5): real headers are under 20 tokens.
pub const MAX_HEADER_TOKENS: usize = 64;

/// What a message is, from its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// `analysis`: chain of thought, never the answer.
    Reasoning,
    /// `commentary` without a tool recipient: text shown to the user before tool calls.
    Preamble,
    /// `final` (or no channel): the answer.
    Answer,
    /// A call of the tool `recipient` (`functions.get_weather`); `name` is without the `functions.` namespace;
    /// the content is the arguments, in `content_type` (`json`) when given.
    ToolCall { recipient: String, name: String, content_type: Option<String> },
}

/// How a message ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// `<|end|>`: more messages may follow.
    End,
    /// `<|return|>`: the answer is complete; generation stops.
    Return,
    /// `<|call|>`: a tool call is complete; generation stops and waits for the result.
    Call,
    /// A new message began without this one ending.
    Interrupted,
    /// The tokens ended inside the message (max_tokens, or a stop string).
    Truncated,
}

/// What the parser reports, in order. Every text event belongs to the message last started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    MessageStarted(MessageKind),
    ReasoningDelta(String),
    /// Text of the answer or of a preamble.
    TextDelta(String),
    /// Arguments of the tool call being made.
    ArgumentsDelta(String),
    MessageFinished(Stop),
}

/// A whole parsed message, for non-streaming responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedMessage {
    pub kind: MessageKind,
    /// The content: reasoning, text, or a tool call's arguments.
    pub text: String,
    pub stop: Stop,
}

/// The streaming parser. Feed it every generated token with [`push`](Parser::push), then call
/// [`finish`](Parser::finish) once.
#[derive(Clone, Debug)]
pub struct Parser {
    tokenizer: Tokenizer,
    state: State,
    /// The last finished message, for text that follows a stray end (rule 4).
    previous: Option<(MessageKind, Stop)>,
}

#[derive(Clone, Debug)]
enum State {
    /// Between messages.
    Idle,
    Header(PendingHeader),
    Content {
        kind: MessageKind,
        decoder: DecodeStream,
    },
}

/// A header being read.
#[derive(Clone, Debug, Default)]
struct PendingHeader {
    /// The ordinary tokens' bytes, with `<|channel|>` and `<|constrain|>` as their text.
    bytes: Vec<u8>,
    /// Where in `bytes` the text of special tokens lies: never message text (rule 5).
    specials: Vec<std::ops::Range<usize>>,
    tokens: usize,
    /// It followed `<|start|>`: its first word is the author.
    explicit_start: bool,
    /// It began as text between messages: when it names neither channel nor tool, its message continues this.
    continues: Option<MessageKind>,
}

impl PendingHeader {
    fn push(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        self.tokens += 1;
    }

    fn push_special(&mut self, text: &[u8]) {
        self.specials.push(self.bytes.len()..self.bytes.len() + text.len());
        self.push(text);
    }

    /// The header's bytes from `start` on, without the special tokens' text.
    fn text_from(&self, start: usize) -> Vec<u8> {
        let mut text = Vec::new();
        let mut at = start;
        for special in self.specials.iter().filter(|s| s.end > start) {
            text.extend_from_slice(&self.bytes[at..special.start.max(at)]);
            at = special.end;
        }
        text.extend_from_slice(&self.bytes[at..]);
        text
    }

    /// The header, and the kind of the message it starts.
    fn read(&self, unknown: Unknown) -> (Header, MessageKind) {
        let header = Header::read(&self.bytes, self.explicit_start, unknown);
        let kind = match &self.continues {
            Some(kind) if header.is_silent() => kind.clone(),
            _ => header.kind(),
        };
        (header, kind)
    }

    /// Rule 5: text that a header cannot contain, a newline or too many tokens, means it was never a header.
    fn is_text(&self) -> bool {
        self.tokens > MAX_HEADER_TOKENS
            || (self.bytes.contains(&b'\n') && self.read(Unknown::Stop).0.rest < self.bytes.len())
    }
}

impl Parser {
    /// A parser for what the model writes after `<|start|>assistant`.
    pub fn new(tokenizer: Tokenizer) -> Parser {
        Parser { tokenizer, state: State::Header(PendingHeader::default()), previous: None }
    }

    /// The kind of the message being written, once its header is read.
    pub fn current_kind(&self) -> Option<&MessageKind> {
        match &self.state {
            State::Content { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// Feeds one generated token; appends what it completes to `events`.
    pub fn push(&mut self, id: u32, events: &mut Vec<Event>) {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => self.idle(id, events),
            State::Header(header) => self.header(id, header, events),
            State::Content { kind, decoder } => self.content(id, kind, decoder, events),
        }
    }

    /// Ends the output: finishes a message left open as truncated (rule 5 for a header).
    pub fn finish(&mut self, events: &mut Vec<Event>) {
        if let State::Header(header) = &self.state {
            let header = header.clone();
            self.state = State::Idle;
            if header.tokens == 0 {
                return;
            }
            self.header_as_message(&header, events);
        }
        self.end_message(Stop::Truncated, events);
    }

    fn idle(&mut self, id: u32, events: &mut Vec<Event>) {
        match id {
            special::START => self.state = State::Header(PendingHeader { explicit_start: true, ..Default::default() }),
            special::CHANNEL => {
                let mut header = PendingHeader::default();
                header.push_special(b"<|channel|>");
                self.state = State::Header(header);
            }
            special::MESSAGE => self.start_message(MessageKind::Answer, events),
            _ if self.is_text(id) => {
                let continues = match self.previous.take() {
                    Some((
                        kind @ (MessageKind::Reasoning | MessageKind::Preamble | MessageKind::Answer),
                        Stop::End,
                    )) => Some(kind),
                    _ => None,
                };
                self.state = State::Header(PendingHeader { continues, ..Default::default() });
                self.push(id, events);
            }
            _ => {}
        }
    }

    fn header(&mut self, id: u32, mut header: PendingHeader, events: &mut Vec<Event>) {
        match id {
            special::MESSAGE => {
                let (_, kind) = header.read(Unknown::Skip);
                self.start_message(kind, events);
            }
            special::START => self.state = State::Header(PendingHeader { explicit_start: true, ..Default::default() }),
            special::END | special::RETURN | special::CALL => {
                if header.tokens > 0 {
                    self.header_as_message(&header, events);
                    self.end_message(stop_of(id), events);
                }
            }
            special::CHANNEL | special::CONSTRAIN => {
                header.push_special(self.tokenizer.token_bytes(id).unwrap_or_default());
                self.state = State::Header(header);
            }
            _ if self.is_text(id) => {
                header.push(self.tokenizer.token_bytes(id).unwrap_or_default());
                if header.is_text() {
                    self.header_as_message(&header, events);
                } else {
                    self.state = State::Header(header);
                }
            }
            _ => self.state = State::Header(header),
        }
    }

    fn content(&mut self, id: u32, kind: MessageKind, mut decoder: DecodeStream, events: &mut Vec<Event>) {
        match id {
            special::END | special::RETURN | special::CALL => {
                self.state = State::Content { kind, decoder };
                self.end_message(stop_of(id), events);
            }
            special::START | special::CHANNEL => {
                self.state = State::Content { kind, decoder };
                self.end_message(Stop::Interrupted, events);
                self.push(id, events);
            }
            _ if self.is_text(id) => {
                if let Some(text) = decoder.decode_step(id) {
                    events.push(delta(&kind, text));
                }
                self.state = State::Content { kind, decoder };
            }
            _ => self.state = State::Content { kind, decoder },
        }
    }

    /// Rule 5: starts the message a header without `<|message|>` stands for; its non-header text is content.
    fn header_as_message(&mut self, pending: &PendingHeader, events: &mut Vec<Event>) {
        let (header, kind) = pending.read(Unknown::Stop);
        self.start_message(kind.clone(), events);
        if let State::Content { decoder, .. } = &mut self.state
            && let Some(text) = decoder.push_bytes(&pending.text_from(header.rest))
        {
            events.push(delta(&kind, text));
        }
    }

    fn start_message(&mut self, kind: MessageKind, events: &mut Vec<Event>) {
        events.push(Event::MessageStarted(kind.clone()));
        self.state = State::Content { kind, decoder: self.tokenizer.decode_stream() };
    }

    /// Ends the message in progress, if any.
    fn end_message(&mut self, stop: Stop, events: &mut Vec<Event>) {
        if let State::Content { kind, mut decoder } = std::mem::replace(&mut self.state, State::Idle) {
            if let Some(text) = decoder.finish() {
                events.push(delta(&kind, text));
            }
            events.push(Event::MessageFinished(stop));
            self.previous = Some((kind, stop));
        }
    }

    /// An ordinary token with text: not special, known to the tokenizer.
    fn is_text(&self, id: u32) -> bool {
        !self.tokenizer.is_special(id) && self.tokenizer.token_bytes(id).is_some()
    }
}

fn stop_of(id: u32) -> Stop {
    match id {
        special::RETURN => Stop::Return,
        special::CALL => Stop::Call,
        _ => Stop::End,
    }
}

fn delta(kind: &MessageKind, text: String) -> Event {
    match kind {
        MessageKind::Reasoning => Event::ReasoningDelta(text),
        MessageKind::Preamble | MessageKind::Answer => Event::TextDelta(text),
        MessageKind::ToolCall { .. } => Event::ArgumentsDelta(text),
    }
}

/// Parses a whole completion into its messages.
pub fn parse_completion(tokenizer: &Tokenizer, ids: &[u32]) -> Vec<ParsedMessage> {
    let mut parser = Parser::new(tokenizer.clone());
    let mut events = Vec::new();
    for &id in ids {
        parser.push(id, &mut events);
    }
    parser.finish(&mut events);
    collect_messages(events)
}

/// Folds events into whole messages.
pub fn collect_messages(events: impl IntoIterator<Item = Event>) -> Vec<ParsedMessage> {
    let mut messages = Vec::new();
    let mut current: Option<(MessageKind, String)> = None;
    for event in events {
        match event {
            Event::MessageStarted(kind) => current = Some((kind, String::new())),
            Event::ReasoningDelta(text) | Event::TextDelta(text) | Event::ArgumentsDelta(text) => {
                if let Some((_, content)) = &mut current {
                    content.push_str(&text);
                }
            }
            Event::MessageFinished(stop) => {
                if let Some((kind, text)) = current.take() {
                    messages.push(ParsedMessage { kind, text, stop });
                }
            }
        }
    }
    messages
}
