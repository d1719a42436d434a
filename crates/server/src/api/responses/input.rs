//! Conversation items as harmony messages, in order:
//!
//! - `system` and `developer` messages are instructions (the harmony developer message);
//! - a `reasoning` item is the chain of thought on `analysis`; harmony's rule then keeps it only after the
//!   last final answer, so the reasoning before a pending tool call reaches the model and that of answered
//!   turns does not;
//! - an assistant message is the answer on `final`, or a preamble on `commentary` when its `phase` says so
//!   or, without a phase, when a function call follows it in the same turn;
//! - a `function_call` is a call on `commentary` to `functions.NAME`, and its `function_call_output` a
//!   message from that function, named from the call with the same `call_id`.

use std::collections::HashMap;

use gpt_oss_model::harmony::{Message, Role};

use crate::api::prompt;
use crate::api::types::responses::{Phase, ValidItem};
use crate::error::ApiError;

/// The harmony messages of a conversation, and the instructions found among its items.
pub struct Conversation<'a> {
    pub instructions: Vec<&'a str>,
    pub messages: Vec<Message>,
}

/// Converts `items`. Those from `first_input` on are the request's `input` (the ones before come from the
/// previous response), which errors name.
pub fn conversation(items: &[ValidItem], first_input: usize) -> Result<Conversation<'_>, ApiError> {
    let mut out = Conversation { instructions: Vec::new(), messages: Vec::new() };
    let mut calls: HashMap<&str, &str> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            ValidItem::Instructions(text) => out.instructions.push(text),
            ValidItem::User(text) => out.messages.push(Message::text(Role::User, text.clone())),
            ValidItem::Reasoning(text) if text.is_empty() => {}
            ValidItem::Reasoning(text) => out.messages.push(prompt::reasoning(text)),
            ValidItem::Assistant { text, phase } => {
                let preamble = match phase {
                    Some(phase) => *phase == Phase::Commentary,
                    None => calls_follow(&items[i + 1..]),
                };
                out.messages.push(prompt::answer(text, preamble));
            }
            ValidItem::FunctionCall { call_id, name, arguments } => {
                calls.insert(call_id, name);
                out.messages.push(prompt::tool_call(name, arguments));
            }
            ValidItem::FunctionCallOutput { call_id, output } => {
                let Some(name) = calls.get(call_id.as_str()) else {
                    let param = match i.checked_sub(first_input) {
                        Some(index) => format!("input[{index}].call_id"),
                        None => "previous_response_id".to_string(),
                    };
                    return Err(ApiError::invalid_request(
                        format!(
                            "No tool output found for function call {call_id}: no 'function_call' item with \
                             call_id '{call_id}' comes before this 'function_call_output' in the input or the \
                             previous response."
                        ),
                        Some(&param),
                    )
                    .with_code("invalid_value"));
                };
                out.messages.push(prompt::tool_result(name, output));
            }
        }
    }
    Ok(out)
}

/// Whether a function call comes in the same assistant turn, before any user message or tool output.
fn calls_follow(rest: &[ValidItem]) -> bool {
    rest.iter()
        .take_while(|item| {
            matches!(item, ValidItem::Reasoning(_) | ValidItem::Assistant { .. } | ValidItem::FunctionCall { .. })
        })
        .any(|item| matches!(item, ValidItem::FunctionCall { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str) -> ValidItem {
        ValidItem::FunctionCall { call_id: id.into(), name: "get_weather".into(), arguments: "{}".into() }
    }

    #[test]
    fn items_become_harmony_messages_in_order() {
        let items = vec![
            ValidItem::Instructions("Be brief.".into()),
            ValidItem::User("Weather in Paris?".into()),
            ValidItem::Reasoning("Need the tool.".into()),
            ValidItem::Assistant { text: "Checking.".into(), phase: None },
            call("c1"),
            ValidItem::FunctionCallOutput { call_id: "c1".into(), output: "20C".into() },
        ];
        let conversation = conversation(&items, 0).unwrap();
        assert_eq!(conversation.instructions, vec!["Be brief."]);
        let channels: Vec<_> = conversation.messages.iter().map(|m| m.channel.as_deref()).collect();
        assert_eq!(channels, vec![None, Some("analysis"), Some("commentary"), Some("commentary"), Some("commentary")]);
        assert_eq!(conversation.messages[3].recipient.as_deref(), Some("functions.get_weather"));
        assert_eq!(conversation.messages[4].author.name.as_deref(), Some("functions.get_weather"));
    }

    #[test]
    fn the_phase_decides_between_preamble_and_answer() {
        let answer = |phase| vec![ValidItem::Assistant { text: "x".into(), phase }];
        let channel = |items: &[ValidItem]| conversation(items, 0).unwrap().messages[0].channel.clone();
        assert_eq!(channel(&answer(None)).as_deref(), Some("final"));
        assert_eq!(channel(&answer(Some(Phase::Commentary))).as_deref(), Some("commentary"));
        let mut with_call = answer(Some(Phase::FinalAnswer));
        with_call.push(call("c1"));
        assert_eq!(channel(&with_call).as_deref(), Some("final"));
        // A call after the user spoke again belongs to a later turn.
        let later =
            vec![ValidItem::Assistant { text: "x".into(), phase: None }, ValidItem::User("y".into()), call("c")];
        assert_eq!(channel(&later).as_deref(), Some("final"));
    }

    #[test]
    fn an_output_without_its_call_names_the_input_item() {
        let items = vec![
            ValidItem::User("hi".into()),
            ValidItem::FunctionCallOutput { call_id: "nope".into(), output: "1".into() },
        ];
        let error = conversation(&items, 1).err().unwrap();
        assert_eq!(error.param(), Some("input[0].call_id"));
        assert!(error.message().contains("nope"), "{}", error.message());
    }

    #[test]
    fn empty_reasoning_adds_nothing() {
        let items = vec![ValidItem::User("hi".into()), ValidItem::Reasoning(String::new())];
        assert_eq!(conversation(&items, 0).unwrap().messages.len(), 1);
    }
}
