//! Generated tokens into what an API response is made of: reasoning, answer text, tool calls with streamed
//! arguments, per-token log-probabilities of the answer, and how it ended. Shared by chat completions and
//! responses, in streaming and whole responses alike (a whole response is the stream collected).

use gpt_oss_model::Tokenizer;
use gpt_oss_model::harmony::{Event, MessageKind, Parser};

use super::stop::StopStrings;
use crate::engine::{FinishReason, GeneratedToken};

/// A part of the output, in the order the model wrote it.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// A message of the model begins (a tool call begins with [`Piece::ToolCall`] instead). Chat completions
    /// join the messages of a turn; the Responses API makes each one an output item.
    Begin(Segment),
    Reasoning(String),
    /// Answer text (the final channel, and preambles on the commentary channel).
    Text(String),
    /// A tool call begins; `index` counts the calls of this output from 0.
    ToolCall {
        index: usize,
        id: String,
        name: String,
    },
    Arguments {
        index: usize,
        delta: String,
    },
}

/// What kind of message a [`Piece::Begin`] starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Chain of thought (the `analysis` channel).
    Reasoning,
    /// Text to the user before tool calls (the `commentary` channel).
    Preamble,
    /// The answer (the `final` channel).
    Answer,
}

/// How an output ended, as OpenAI names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    Stop,
    Length,
    ToolCalls,
}

impl Finish {
    pub fn as_str(self) -> &'static str {
        match self {
            Finish::Stop => "stop",
            Finish::Length => "length",
            Finish::ToolCalls => "tool_calls",
        }
    }
}

/// A token of the answer with its log-probability and alternatives.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenLogprob {
    pub token: String,
    pub bytes: Vec<u8>,
    pub logprob: f32,
    pub top: Vec<(String, Vec<u8>, f32)>,
}

/// Follows one generation's tokens.
pub struct Output {
    tokenizer: Tokenizer,
    parser: Parser,
    stops: StopStrings,
    events: Vec<Event>,
    tool_calls: usize,
    /// The id prefix of this output's tool calls: the ids are `{call_prefix}_{index}`.
    call_prefix: String,
    pub reasoning_tokens: usize,
}

impl Output {
    pub fn new(tokenizer: Tokenizer, stops: Vec<String>, call_prefix: String) -> Output {
        Output {
            parser: Parser::new(tokenizer.clone()),
            tokenizer,
            stops: StopStrings::new(stops),
            events: Vec::new(),
            tool_calls: 0,
            call_prefix,
            reasoning_tokens: 0,
        }
    }

    /// Feeds tokens the server wrote at the start of the model's turn (a forced tool-call header): they are
    /// parsed as output but are not generated tokens.
    pub fn prefill(&mut self, ids: &[u32]) -> Vec<Piece> {
        for &id in ids {
            self.parser.push(id, &mut self.events);
        }
        self.drain()
    }

    /// Whether a stop string ended the answer: the caller should stop the generation.
    pub fn stopped(&self) -> bool {
        self.stops.matched()
    }

    pub fn has_tool_calls(&self) -> bool {
        self.tool_calls > 0
    }

    /// Takes one generated token: the pieces it completes, and its log-probability when it is answer text.
    pub fn push(&mut self, token: &GeneratedToken) -> (Vec<Piece>, Option<TokenLogprob>) {
        if self.stopped() {
            return (Vec::new(), None);
        }
        let was_reasoning = self.parser.current_kind() == Some(&MessageKind::Reasoning);
        self.parser.push(token.id, &mut self.events);
        if was_reasoning || self.parser.current_kind() == Some(&MessageKind::Reasoning) {
            self.reasoning_tokens += 1;
        }
        let pieces = self.drain();
        let is_text = pieces.iter().any(|p| matches!(p, Piece::Text(_)));
        (pieces, is_text.then(|| self.logprob(token)))
    }

    /// Ends the output: the pieces left, and the finish reason. `reason` is the engine's, `None` when the
    /// output ended at a stop string.
    pub fn finish(&mut self, reason: Option<&FinishReason>) -> (Vec<Piece>, Finish) {
        if !self.stopped() {
            self.parser.finish(&mut self.events);
        }
        let mut pieces = self.drain();
        let tail = self.stops.flush();
        if !tail.is_empty() {
            pieces.push(Piece::Text(tail));
        }
        let finish = match reason {
            None => Finish::Stop,
            Some(_) if self.stopped() => Finish::Stop,
            // A call the model ended with `<|return|>` (or `<|end|>`, then answered) is still a call the client
            // must run: clients look for `tool_calls` to do so.
            Some(FinishReason::StopToken(_)) if self.has_tool_calls() => Finish::ToolCalls,
            Some(FinishReason::StopToken(_) | FinishReason::Error(_)) => Finish::Stop,
            Some(FinishReason::Length) => Finish::Length,
        };
        (pieces, finish)
    }

    fn drain(&mut self) -> Vec<Piece> {
        let mut pieces = Vec::new();
        for event in std::mem::take(&mut self.events) {
            match event {
                Event::MessageStarted(MessageKind::ToolCall { name, .. }) => {
                    // Text held back as a possible stop string start goes out before the call: a stream's
                    // content does not resume after its tool calls began.
                    let held = self.stops.flush();
                    if !held.is_empty() {
                        pieces.push(Piece::Text(held));
                    }
                    let index = self.tool_calls;
                    self.tool_calls += 1;
                    pieces.push(Piece::ToolCall { index, id: format!("{}_{index}", self.call_prefix), name });
                }
                Event::MessageStarted(MessageKind::Reasoning) => pieces.push(Piece::Begin(Segment::Reasoning)),
                Event::MessageStarted(MessageKind::Preamble) => pieces.push(Piece::Begin(Segment::Preamble)),
                Event::MessageStarted(MessageKind::Answer) => pieces.push(Piece::Begin(Segment::Answer)),
                Event::MessageFinished(_) => {}
                Event::ReasoningDelta(text) => pieces.push(Piece::Reasoning(text)),
                Event::TextDelta(text) => {
                    let released = self.stops.push(&text);
                    if !released.is_empty() {
                        pieces.push(Piece::Text(released));
                    }
                    if self.stops.matched() {
                        break;
                    }
                }
                Event::ArgumentsDelta(delta) => {
                    pieces.push(Piece::Arguments { index: self.tool_calls.saturating_sub(1), delta })
                }
            }
        }
        pieces
    }

    fn logprob(&self, token: &GeneratedToken) -> TokenLogprob {
        let describe = |id: u32| {
            let bytes = self.tokenizer.token_bytes(id).unwrap_or_default().to_vec();
            (String::from_utf8_lossy(&bytes).into_owned(), bytes)
        };
        let (text, bytes) = describe(token.id);
        let top = token
            .top_logprobs
            .iter()
            .map(|&(id, logprob)| {
                let (text, bytes) = describe(id);
                (text, bytes, logprob)
            })
            .collect();
        TokenLogprob { token: text, bytes, logprob: token.logprob, top }
    }
}
