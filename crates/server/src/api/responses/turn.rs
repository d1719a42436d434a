//! The model's turn as Responses output items, built from the pieces of its output: each harmony message is
//! an item (reasoning, a preamble or answer message, a function call), opened at its first content and closed
//! when the next begins or the turn ends. Every step also yields the stream events that say so, in OpenAI's
//! order: `output_item.added`, `content_part.added`, the deltas, then the `.done` events of the text, the part
//! and the item. A whole response is the same turn with its events dropped.

use super::super::output::{Piece, Segment, TokenLogprob};
use crate::api::types::responses::{
    ItemStatus, Logprob, OutputItem, OutputText, Part, Phase, ReasoningText, StreamEvent, TopLogprob,
};

pub struct Turn {
    /// Random hex shared by this response's item ids.
    base: String,
    items: Vec<OutputItem>,
    /// Whether the last item is still being written.
    open: bool,
    /// The phase of the next message, from the last harmony message header.
    phase: Phase,
    logprobs: bool,
}

impl Turn {
    /// `logprobs`: whether answer text carries its tokens' log-probabilities.
    pub fn new(base: &str, logprobs: bool) -> Turn {
        Turn { base: base.to_string(), items: Vec::new(), open: false, phase: Phase::FinalAnswer, logprobs }
    }

    pub fn items(&self) -> &[OutputItem] {
        &self.items
    }

    /// Takes one step's pieces (and the log-probability of the token that made its text), adding the
    /// events to `events`.
    pub fn push(&mut self, pieces: &[Piece], logprob: Option<&TokenLogprob>, events: &mut Vec<StreamEvent>) {
        let logprob = logprob.filter(|_| self.logprobs).map(api_logprob);
        let last_text = pieces.iter().rposition(|p| matches!(p, Piece::Text(_)));
        for (i, piece) in pieces.iter().enumerate() {
            match piece {
                Piece::Begin(segment) => {
                    self.close(ItemStatus::Completed, events);
                    self.phase = if *segment == Segment::Preamble { Phase::Commentary } else { Phase::FinalAnswer };
                }
                Piece::Reasoning(delta) => {
                    if !self.is_open(|item| matches!(item, OutputItem::Reasoning { .. })) {
                        self.open_reasoning(events);
                    }
                    let (index, item_id) = self.current();
                    if let Some(OutputItem::Reasoning { content, .. }) = self.items.last_mut() {
                        content[0].text.push_str(delta);
                    }
                    events.push(StreamEvent::ReasoningTextDelta {
                        item_id,
                        output_index: index,
                        content_index: 0,
                        delta: delta.clone(),
                    });
                }
                Piece::Text(delta) => {
                    if !self.is_open(|item| matches!(item, OutputItem::Message { .. })) {
                        self.open_message(events);
                    }
                    let (index, item_id) = self.current();
                    let logprobs: Vec<Logprob> = logprob.iter().filter(|_| Some(i) == last_text).cloned().collect();
                    if let Some(OutputItem::Message { content, .. }) = self.items.last_mut() {
                        content[0].text.push_str(delta);
                        if let Some(all) = &mut content[0].logprobs {
                            all.extend(logprobs.iter().cloned());
                        }
                    }
                    events.push(StreamEvent::OutputTextDelta {
                        item_id,
                        output_index: index,
                        content_index: 0,
                        delta: delta.clone(),
                        logprobs,
                    });
                }
                Piece::ToolCall { id, name, .. } => {
                    self.close(ItemStatus::Completed, events);
                    let item = OutputItem::FunctionCall {
                        id: self.next_id("fc"),
                        call_id: id.clone(),
                        name: name.clone(),
                        arguments: String::new(),
                        status: ItemStatus::InProgress,
                    };
                    self.open(item.clone(), events);
                }
                Piece::Arguments { delta, .. } => {
                    if !self.is_open(|item| matches!(item, OutputItem::FunctionCall { .. })) {
                        continue;
                    }
                    let (index, item_id) = self.current();
                    if let Some(OutputItem::FunctionCall { arguments, .. }) = self.items.last_mut() {
                        arguments.push_str(delta);
                    }
                    events.push(StreamEvent::ArgumentsDelta { item_id, output_index: index, delta: delta.clone() });
                }
            }
        }
    }

    /// Ends the turn: the item being written is closed as `completed`, or `incomplete` when the output was
    /// cut short.
    pub fn finish(&mut self, complete: bool, events: &mut Vec<StreamEvent>) {
        self.close(if complete { ItemStatus::Completed } else { ItemStatus::Incomplete }, events);
    }

    fn is_open(&self, kind: impl Fn(&OutputItem) -> bool) -> bool {
        self.open && self.items.last().is_some_and(kind)
    }

    /// The open item's output index and id.
    fn current(&self) -> (usize, String) {
        (self.items.len() - 1, self.items.last().map(|item| item.id().to_string()).unwrap_or_default())
    }

    fn next_id(&self, prefix: &str) -> String {
        format!("{prefix}_{}{:04}", self.base, self.items.len())
    }

    fn open(&mut self, item: OutputItem, events: &mut Vec<StreamEvent>) {
        events.push(StreamEvent::OutputItemAdded { output_index: self.items.len(), item: item.clone() });
        self.items.push(item);
        self.open = true;
    }

    fn open_reasoning(&mut self, events: &mut Vec<StreamEvent>) {
        self.close(ItemStatus::Completed, events);
        let id = self.next_id("rs");
        let added = OutputItem::Reasoning {
            id: id.clone(),
            summary: Vec::new(),
            content: Vec::new(),
            status: ItemStatus::InProgress,
        };
        let output_index = self.items.len();
        events.push(StreamEvent::OutputItemAdded { output_index, item: added });
        events.push(StreamEvent::ContentPartAdded {
            item_id: id.clone(),
            output_index,
            content_index: 0,
            part: Part::Reasoning(ReasoningText::new("")),
        });
        self.items.push(OutputItem::Reasoning {
            id,
            summary: Vec::new(),
            content: vec![ReasoningText::new("")],
            status: ItemStatus::InProgress,
        });
        self.open = true;
    }

    fn open_message(&mut self, events: &mut Vec<StreamEvent>) {
        self.close(ItemStatus::Completed, events);
        let id = self.next_id("msg");
        let phase = self.phase;
        let added = OutputItem::Message {
            id: id.clone(),
            role: "assistant",
            status: ItemStatus::InProgress,
            content: Vec::new(),
            phase,
        };
        let output_index = self.items.len();
        let text = OutputText::new("", self.logprobs.then(Vec::new));
        events.push(StreamEvent::OutputItemAdded { output_index, item: added });
        events.push(StreamEvent::ContentPartAdded {
            item_id: id.clone(),
            output_index,
            content_index: 0,
            part: Part::Text(text.clone()),
        });
        self.items.push(OutputItem::Message {
            id,
            role: "assistant",
            status: ItemStatus::InProgress,
            content: vec![text],
            phase,
        });
        self.open = true;
    }

    /// Closes the open item with `status`: its text's, its part's and its own `.done` events.
    fn close(&mut self, status: ItemStatus, events: &mut Vec<StreamEvent>) {
        if !self.open {
            return;
        }
        self.open = false;
        let output_index = self.items.len() - 1;
        let Some(item) = self.items.last_mut() else { return };
        match item {
            OutputItem::Reasoning { id, content, status: s, .. } => {
                *s = status;
                let text = content[0].clone();
                events.push(StreamEvent::ReasoningTextDone {
                    item_id: id.clone(),
                    output_index,
                    content_index: 0,
                    text: text.text.clone(),
                });
                events.push(StreamEvent::ContentPartDone {
                    item_id: id.clone(),
                    output_index,
                    content_index: 0,
                    part: Part::Reasoning(text),
                });
            }
            OutputItem::Message { id, content, status: s, .. } => {
                *s = status;
                let text = content[0].clone();
                events.push(StreamEvent::OutputTextDone {
                    item_id: id.clone(),
                    output_index,
                    content_index: 0,
                    text: text.text.clone(),
                    logprobs: text.logprobs.clone().unwrap_or_default(),
                });
                events.push(StreamEvent::ContentPartDone {
                    item_id: id.clone(),
                    output_index,
                    content_index: 0,
                    part: Part::Text(text),
                });
            }
            OutputItem::FunctionCall { id, name, arguments, status: s, .. } => {
                *s = status;
                events.push(StreamEvent::ArgumentsDone {
                    item_id: id.clone(),
                    output_index,
                    name: name.clone(),
                    arguments: arguments.clone(),
                });
            }
        }
        events.push(StreamEvent::OutputItemDone { output_index, item: item.clone() });
    }
}

fn api_logprob(logprob: &TokenLogprob) -> Logprob {
    Logprob {
        token: logprob.token.clone(),
        bytes: logprob.bytes.clone(),
        logprob: logprob.logprob.max(-9999.0),
        top_logprobs: logprob
            .top
            .iter()
            .map(|(token, bytes, logprob)| TopLogprob {
                token: token.clone(),
                bytes: bytes.clone(),
                logprob: logprob.max(-9999.0),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(events: &[StreamEvent]) -> Vec<&'static str> {
        events.iter().map(StreamEvent::name).collect()
    }

    #[test]
    fn reasoning_then_answer_are_two_items_with_their_events_in_order() {
        let mut turn = Turn::new("ab", false);
        let mut events = Vec::new();
        turn.push(&[Piece::Begin(Segment::Reasoning), Piece::Reasoning("Think".into())], None, &mut events);
        turn.push(&[Piece::Reasoning("ing.".into())], None, &mut events);
        turn.push(&[Piece::Begin(Segment::Answer), Piece::Text("Hi".into())], None, &mut events);
        turn.finish(true, &mut events);
        assert_eq!(
            names(&events),
            vec![
                "response.output_item.added",
                "response.content_part.added",
                "response.reasoning_text.delta",
                "response.reasoning_text.delta",
                "response.reasoning_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
            ]
        );
        let items = turn.items();
        assert_eq!(items.len(), 2);
        assert!(
            matches!(&items[0], OutputItem::Reasoning { content, status: ItemStatus::Completed, .. } if content[0].text == "Thinking.")
        );
        assert!(
            matches!(&items[1], OutputItem::Message { content, phase: Phase::FinalAnswer, .. } if content[0].text == "Hi")
        );
        assert_ne!(items[0].id(), items[1].id());
    }

    #[test]
    fn a_preamble_and_a_call_are_separate_items() {
        let mut turn = Turn::new("ab", false);
        let mut events = Vec::new();
        let pieces = [
            Piece::Begin(Segment::Preamble),
            Piece::Text("Checking.".into()),
            Piece::ToolCall { index: 0, id: "call_1".into(), name: "get_weather".into() },
            Piece::Arguments { index: 0, delta: "{\"city\":".into() },
            Piece::Arguments { index: 0, delta: "\"Paris\"}".into() },
        ];
        turn.push(&pieces, None, &mut events);
        turn.finish(true, &mut events);
        let items = turn.items();
        assert!(matches!(&items[0], OutputItem::Message { phase: Phase::Commentary, .. }));
        match &items[1] {
            OutputItem::FunctionCall { call_id, name, arguments, status, .. } => {
                assert_eq!(
                    (call_id.as_str(), name.as_str(), arguments.as_str()),
                    ("call_1", "get_weather", "{\"city\":\"Paris\"}")
                );
                assert_eq!(*status, ItemStatus::Completed);
            }
            other => panic!("not a call: {other:?}"),
        }
        assert_eq!(
            names(&events)[6..],
            [
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
            ]
        );
    }

    #[test]
    fn a_cut_turn_leaves_its_last_item_incomplete() {
        let mut turn = Turn::new("ab", false);
        let mut events = Vec::new();
        turn.push(&[Piece::Begin(Segment::Reasoning), Piece::Reasoning("Hmm".into())], None, &mut events);
        turn.finish(false, &mut events);
        assert!(matches!(&turn.items()[0], OutputItem::Reasoning { status: ItemStatus::Incomplete, .. }));
    }

    #[test]
    fn logprobs_ride_on_the_text_when_asked() {
        let logprob = TokenLogprob { token: "Hi".into(), bytes: b"Hi".to_vec(), logprob: -0.5, top: vec![] };
        for asked in [false, true] {
            let mut turn = Turn::new("ab", asked);
            let mut events = Vec::new();
            turn.push(&[Piece::Begin(Segment::Answer), Piece::Text("Hi".into())], Some(&logprob), &mut events);
            turn.finish(true, &mut events);
            let OutputItem::Message { content, .. } = &turn.items()[0] else { panic!("a message") };
            assert_eq!(content[0].logprobs.as_ref().map(Vec::len), asked.then_some(1));
            let delta = events.iter().find(|e| e.name() == "response.output_text.delta").unwrap();
            let StreamEvent::OutputTextDelta { logprobs, .. } = delta else { unreachable!() };
            assert_eq!(logprobs.len(), usize::from(asked));
        }
    }
}
