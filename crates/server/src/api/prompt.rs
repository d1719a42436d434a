//! A chat request as a harmony conversation, the way gpt-oss was trained to read it:
//!
//! - the system message carries the identity, today's date and the reasoning effort;
//! - OpenAI `system` and `developer` messages become the developer message's `# Instructions` (gpt-oss's
//!   system message is the harmony one above), with the function tools and the response format;
//! - an assistant message becomes its chain of thought (`reasoning_content`, `reasoning` or `thinking`) on
//!   `analysis`, its text on `final` (or, beside tool calls, as a `commentary` preamble), and each tool call
//!   as `to=functions.NAME` on `commentary` with `<|constrain|>json`;
//! - a tool result is a message from `functions.NAME` to the assistant on `commentary`.
//!
//! Which earlier reasoning is kept: reasoning before a pending tool call stays, reasoning of answered turns
//! goes (see [`drop_answered_reasoning`]).

use std::time::{SystemTime, UNIX_EPOCH};

use gpt_oss_model::harmony::{
    DeveloperContent, Message, ReasoningEffort, ResponseFormat, Role, SystemContent, ToolDescription,
};
use serde_json::json;

use super::types::chat::{OutputFormat, ValidMessage};

/// What the prompt is built from, whatever the API.
pub struct PromptParts<'a> {
    pub effort: ReasoningEffort,
    /// Instructions from the client's system and developer messages, in order.
    pub instructions: Vec<&'a str>,
    /// Offered function tools (empty when none, or when the tool choice is `none`).
    pub tools: Vec<ToolDescription>,
    pub format: Option<ResponseFormat>,
}

/// The whole harmony conversation of a chat: system and developer messages, then the turns.
pub fn chat(
    effort: ReasoningEffort,
    messages: &[ValidMessage],
    tools: Vec<ToolDescription>,
    format: Option<ResponseFormat>,
) -> Vec<Message> {
    let mut out = preamble(PromptParts { effort, instructions: instructions(messages), tools, format });
    out.extend(conversation(messages));
    drop_answered_reasoning(&mut out);
    out
}

/// Drops the chain of thought of turns that ended in an answer: the analysis messages before the assistant's
/// last `final` message. The reasoning after it (before a pending tool call) stays, so that the model knows
/// why it called the tool. This is what harmony's documentation asks and what OpenAI's reference Responses
/// server sends; harmony's renderer alone keeps every analysis message while a tool call is pending.
pub fn drop_answered_reasoning(messages: &mut Vec<Message>) {
    let last_answer =
        messages.iter().rposition(|m| m.author.role == Role::Assistant && m.channel.as_deref() == Some("final"));
    if let Some(last_answer) = last_answer {
        let mut index = 0;
        messages.retain(|m| {
            index += 1;
            index > last_answer || !(m.author.role == Role::Assistant && m.channel.as_deref() == Some("analysis"))
        });
    }
}

/// The harmony system and developer messages.
pub fn preamble(parts: PromptParts<'_>) -> Vec<Message> {
    let system = SystemContent {
        reasoning_effort: Some(parts.effort),
        conversation_start_date: Some(today()),
        ..SystemContent::default()
    };
    let mut messages = vec![Message::system(system)];
    let mut developer = DeveloperContent {
        instructions: (!parts.instructions.is_empty()).then(|| parts.instructions.join("\n\n")),
        ..DeveloperContent::default()
    };
    if !parts.tools.is_empty() {
        developer = developer.with_function_tools(parts.tools);
    }
    developer.response_formats.extend(parts.format);
    if developer != DeveloperContent::default() {
        messages.push(Message::developer(developer));
    }
    messages
}

/// The response format as harmony renders it: a JSON schema by its name; `json_object` as the schema of
/// any object.
pub fn response_format(format: &OutputFormat) -> Option<ResponseFormat> {
    match format {
        OutputFormat::Text => None,
        OutputFormat::JsonObject => {
            Some(ResponseFormat { name: "json_object".into(), description: None, schema: json!({"type": "object"}) })
        }
        OutputFormat::JsonSchema { .. } => format.to_harmony(),
    }
}

/// The client's system and developer messages' text, in order.
pub fn instructions(messages: &[ValidMessage]) -> Vec<&str> {
    messages
        .iter()
        .filter_map(|m| match m {
            ValidMessage::System { content, .. } | ValidMessage::Developer { content, .. } => Some(content.as_str()),
            _ => None,
        })
        .collect()
}

/// The conversation's other messages in harmony form.
pub fn conversation(messages: &[ValidMessage]) -> Vec<Message> {
    let mut out = Vec::new();
    for message in messages {
        match message {
            ValidMessage::System { .. } | ValidMessage::Developer { .. } => {}
            ValidMessage::User { content, .. } => out.push(Message::text(Role::User, content.clone())),
            ValidMessage::Assistant { content, reasoning, tool_calls, refusal, .. } => {
                out.extend(reasoning.as_ref().map(|text| self::reasoning(text)));
                out.extend(content.as_ref().or(refusal.as_ref()).map(|text| answer(text, !tool_calls.is_empty())));
                out.extend(tool_calls.iter().map(|call| tool_call(&call.name, &call.arguments)));
            }
            ValidMessage::Tool { name, content, .. } => out.push(tool_result(name, content)),
        }
    }
    out
}

/// The assistant's chain of thought, on `analysis`.
pub fn reasoning(text: &str) -> Message {
    Message::text(Role::Assistant, text).with_channel("analysis")
}

/// Assistant text: the answer on `final`, or a preamble to tool calls on `commentary`.
pub fn answer(text: &str, preamble: bool) -> Message {
    Message::text(Role::Assistant, text).with_channel(if preamble { "commentary" } else { "final" })
}

/// A call of the function `name`, as gpt-oss writes one.
pub fn tool_call(name: &str, arguments: &str) -> Message {
    Message::text(Role::Assistant, arguments)
        .with_channel("commentary")
        .with_recipient(format!("functions.{name}"))
        .with_content_type("<|constrain|>json")
}

/// The result of a call of the function `name`: a message from the tool to the assistant.
pub fn tool_result(name: &str, content: &str) -> Message {
    let mut result = Message::text(Role::Tool, content).with_channel("commentary").with_recipient("assistant");
    result.author.name = Some(format!("functions.{name}"));
    result
}

/// Today's date in UTC, `YYYY-MM-DD`, for the system message's `Current date:`.
pub fn today() -> String {
    let days = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400) as i64;
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::chat::ValidToolCall;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_536), (2023, 6, 28));
        assert_eq!(civil_from_days(20_415), (2025, 11, 23));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(today().len(), 10);
    }

    #[test]
    fn only_the_reasoning_after_the_last_answer_stays() {
        let texts = |messages: &[Message]| -> Vec<String> {
            messages.iter().map(|m| format!("{:?}", m.content)).collect::<Vec<_>>()
        };
        let mut messages = vec![
            Message::text(Role::User, "q1"),
            reasoning("old"),
            answer("a1", false),
            Message::text(Role::User, "q2"),
            reasoning("new"),
            tool_call("f", "{}"),
            tool_result("f", "1"),
        ];
        let expected = [&messages[..1], &messages[2..]].concat();
        drop_answered_reasoning(&mut messages);
        assert_eq!(texts(&messages), texts(&expected));
        // Without an answer yet, all reasoning stays.
        let mut first_turn = vec![Message::text(Role::User, "q"), reasoning("r"), tool_call("f", "{}")];
        drop_answered_reasoning(&mut first_turn);
        assert_eq!(first_turn.len(), 3);
    }

    #[test]
    fn tool_turns_keep_reasoning_and_name_the_tool() {
        let messages = vec![
            ValidMessage::User { content: "Weather in Paris?".into(), name: None },
            ValidMessage::Assistant {
                content: None,
                reasoning: Some("Need the weather tool.".into()),
                tool_calls: vec![ValidToolCall {
                    id: "call_1".into(),
                    name: "get_weather".into(),
                    arguments: "{\"city\":\"Paris\"}".into(),
                }],
                refusal: None,
                name: None,
            },
            ValidMessage::Tool { tool_call_id: "call_1".into(), name: "get_weather".into(), content: "20C".into() },
        ];
        let harmony = conversation(&messages);
        assert_eq!(harmony.len(), 4);
        assert_eq!(harmony[1].channel.as_deref(), Some("analysis"));
        assert_eq!(harmony[2].recipient.as_deref(), Some("functions.get_weather"));
        assert_eq!(harmony[2].content_type.as_deref(), Some("<|constrain|>json"));
        assert_eq!(harmony[3].author.name.as_deref(), Some("functions.get_weather"));
        assert_eq!(harmony[3].recipient.as_deref(), Some("assistant"));
    }
}
