//! Conversation to token ids, exactly as openai-harmony 0.0.8 renders it (`render_conversation*`).
//!
//! Each piece of a message (role, ` to=recipient`, channel, content type, each content) is tokenized on its own
//! and the special tokens are inserted by id, as harmony does: tokenizing the joined text would merge across the
//! pieces and give other ids. Text is always encoded as ordinary text, so `<|end|>` written by a user stays five
//! ordinary tokens and cannot forge a message boundary. The only tokenizer is the model's `tokenizer.json`.

use std::collections::BTreeMap;

use super::conversation::{Content, DeveloperContent, FUNCTIONS, Message, Role, SystemContent, ToolNamespace};
use super::schema;
use crate::tokenizer::{Tokenizer, special};

/// A conversation harmony cannot render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("message {index}: a tool's message needs the tool's name as its author name")]
    ToolWithoutName { index: usize },
    #[error("message {index}: {role} content may only appear in a {role} message")]
    MisplacedContent { index: usize, role: &'static str },
}

/// Options of [`Renderer::render_conversation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// Drop the `analysis` messages that precede the conversation's first `final` message when the last
    /// assistant message is `final` (harmony's default, and what gpt-oss was trained with): earlier turns'
    /// reasoning is dropped once answered, while the reasoning before a pending tool call is kept.
    pub auto_drop_analysis: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions { auto_drop_analysis: true }
    }
}

/// Renders harmony conversations with the model's tokenizer.
#[derive(Clone, Debug)]
pub struct Renderer {
    tokenizer: Tokenizer,
}

impl Renderer {
    pub fn new(tokenizer: Tokenizer) -> Renderer {
        Renderer { tokenizer }
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The prompt for the model's next message: the conversation, then `<|start|>{next}`.
    pub fn render_for_completion(
        &self,
        messages: &[Message],
        next: Role,
        options: RenderOptions,
    ) -> Result<Vec<u32>, RenderError> {
        let mut ids = self.render_conversation(messages, options)?;
        ids.push(special::START);
        self.text(next.as_str(), &mut ids);
        Ok(ids)
    }

    /// The conversation's messages, each ended by `<|end|>`, or `<|call|>` for an assistant's tool call. An
    /// assistant message that ended in `<|return|>` when generated is rendered with `<|end|>`, as harmony
    /// asks for history.
    pub fn render_conversation(&self, messages: &[Message], options: RenderOptions) -> Result<Vec<u32>, RenderError> {
        let has_function_tools = messages.iter().any(declares_function_tools);
        let last_assistant_is_final = messages
            .iter()
            .rev()
            .find(|m| m.author.role == Role::Assistant)
            .is_some_and(|m| m.channel.as_deref() == Some("final"));
        // Harmony looks for the first `final` message of any author, and keeps later analysis.
        let first_final = messages.iter().position(|m| m.channel.as_deref() == Some("final"));
        let drop_before = match (options.auto_drop_analysis && last_assistant_is_final, first_final) {
            (true, Some(index)) => index,
            _ => 0,
        };
        let mut ids = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            if index < drop_before && message.channel.as_deref() == Some("analysis") {
                continue;
            }
            self.render_message(index, message, has_function_tools, &mut ids)?;
        }
        Ok(ids)
    }

    fn render_message(
        &self,
        index: usize,
        message: &Message,
        has_function_tools: bool,
        ids: &mut Vec<u32>,
    ) -> Result<(), RenderError> {
        let role = message.author.role;
        ids.push(special::START);
        if role == Role::Tool {
            let name = message.author.name.as_deref().ok_or(RenderError::ToolWithoutName { index })?;
            self.text(name, ids);
        } else {
            self.text(role.as_str(), ids);
            if let Some(name) = &message.author.name {
                self.text(&format!(":{name}"), ids);
            }
        }
        if let Some(recipient) = message.recipient.as_deref().filter(|&r| r != "all") {
            self.text(&format!(" to={recipient}"), ids);
        }
        if let Some(channel) = &message.channel {
            ids.push(special::CHANNEL);
            self.text(channel, ids);
        }
        if let Some(content_type) = &message.content_type {
            match content_type.strip_prefix("<|constrain|>") {
                Some(format) => {
                    self.text(" ", ids);
                    ids.push(special::CONSTRAIN);
                    self.text(format, ids);
                }
                None => self.text(&format!(" {content_type}"), ids),
            }
        }
        ids.push(special::MESSAGE);
        for content in &message.content {
            match content {
                Content::Text { text } => self.text(text, ids),
                Content::SystemContent(system) => {
                    require_role(index, role, Role::System)?;
                    self.text(&system_text(system, has_function_tools), ids);
                }
                Content::DeveloperContent(developer) => {
                    require_role(index, role, Role::Developer)?;
                    self.text(&developer_text(developer), ids);
                }
            }
        }
        // Harmony ends any assistant message with a recipient (even `all`) as a tool call.
        ids.push(if role == Role::Assistant && message.recipient.is_some() { special::CALL } else { special::END });
        Ok(())
    }

    fn text(&self, text: &str, ids: &mut Vec<u32>) {
        ids.extend(self.tokenizer.encode(text, false));
    }
}

fn require_role(index: usize, role: Role, required: Role) -> Result<(), RenderError> {
    if role == required { Ok(()) } else { Err(RenderError::MisplacedContent { index, role: required.as_str() }) }
}

/// Whether the message is a developer message declaring at least one function tool: then the system message
/// says where calls go.
fn declares_function_tools(message: &Message) -> bool {
    message.content.iter().any(|content| match content {
        Content::DeveloperContent(developer) => {
            developer.tools.as_ref().and_then(|tools| tools.get(FUNCTIONS)).is_some_and(|ns| !ns.tools.is_empty())
        }
        _ => false,
    })
}

/// The system message's text: identity, dates, reasoning effort, built-in tools, channels.
pub fn system_text(system: &SystemContent, has_function_tools: bool) -> String {
    let mut sections = Vec::new();
    let identity: Vec<String> = [
        system.model_identity.clone(),
        system.knowledge_cutoff.as_ref().map(|cutoff| format!("Knowledge cutoff: {cutoff}")),
        system.conversation_start_date.as_ref().map(|date| format!("Current date: {date}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !identity.is_empty() {
        sections.push(identity.join("\n"));
    }
    if let Some(effort) = system.reasoning_effort {
        sections.push(format!("Reasoning: {}", effort.as_str()));
    }
    if let Some(tools) = system.tools.as_ref().filter(|tools| !tools.is_empty()) {
        sections.push(tools_section(tools));
    }
    if let Some(channels) = system.channel_config.as_ref().filter(|c| !c.valid_channels.is_empty()) {
        let mut header = format!("# Valid channels: {}.", channels.valid_channels.join(", "));
        if channels.channel_required {
            header.push_str(" Channel must be included for every message.");
        }
        if has_function_tools {
            header.push_str("\nCalls to these tools must go to the commentary channel: 'functions'.");
        }
        sections.push(header);
    }
    sections.join("\n\n")
}

/// The developer message's text: instructions, tools, response formats.
pub fn developer_text(developer: &DeveloperContent) -> String {
    let mut sections = Vec::new();
    if let Some(instructions) = &developer.instructions {
        sections.push("# Instructions".to_string());
        sections.push(instructions.clone());
    }
    if let Some(tools) = developer.tools.as_ref().filter(|tools| !tools.is_empty()) {
        sections.push(tools_section(tools));
    }
    if !developer.response_formats.is_empty() {
        // harmony's docs/format.md ("Structured output"); openai-harmony 0.0.8 has no renderer for it.
        let formats: Vec<String> = developer
            .response_formats
            .iter()
            .map(|format| {
                let description = format.description.as_ref().map(|d| format!("// {d}\n")).unwrap_or_default();
                format!("## {}\n\n{description}{}", format.name, format.schema)
            })
            .collect();
        sections.push(format!("# Response Formats\n\n{}", formats.join("\n\n")));
    }
    sections.join("\n\n")
}

/// `# Tools`, then each namespace (in name order): its description, and its tools as TypeScript declarations.
fn tools_section(tools: &BTreeMap<String, ToolNamespace>) -> String {
    let mut sections = vec!["# Tools".to_string()];
    for namespace in tools.values() {
        let mut lines = vec![format!("## {}\n", namespace.name)];
        if let Some(description) = &namespace.description {
            // A namespace without tools (such as `python`) describes itself in prose, not comments.
            let prefix = if namespace.tools.is_empty() { "" } else { "// " };
            lines.extend(description.lines().map(|line| format!("{prefix}{line}")));
        }
        if !namespace.tools.is_empty() {
            lines.push(format!("namespace {} {{\n", namespace.name));
            for tool in &namespace.tools {
                lines.extend(tool.description.lines().map(|line| format!("// {line}")));
                lines.push(match &tool.parameters {
                    Some(parameters) => {
                        format!("type {} = (_: {}) => any;\n", tool.name, schema::typescript(parameters, ""))
                    }
                    None => format!("type {} = () => any;\n", tool.name),
                });
            }
            lines.push(format!("}} // namespace {}", namespace.name));
        }
        sections.push(lines.join("\n"));
    }
    sections.join("\n\n")
}
