//! A harmony conversation as data: messages with an author, optional channel, recipient and content type, and
//! text, system or developer content.
//!
//! The types and their JSON form mirror openai-harmony's (`chat.rs`), so that a conversation serialized by
//! openai-harmony (Rust or Python, `Conversation.to_json()`) deserializes here unchanged; the render goldens rely
//! on it. One addition: [`DeveloperContent::response_formats`], which harmony's docs describe but its renderer
//! (0.0.8) cannot render.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
    System,
    Developer,
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::System => "system",
            Role::Developer => "developer",
            Role::Tool => "tool",
        }
    }

    /// The role a header word names, if any.
    pub fn from_word(word: &str) -> Option<Role> {
        [Role::User, Role::Assistant, Role::System, Role::Developer, Role::Tool]
            .into_iter()
            .find(|role| role.as_str() == word)
    }
}

/// A message's author: a role and, for users and assistants optionally and for tools always, a name (a tool's
/// name is its full recipient name, such as `functions.get_weather`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl From<Role> for Author {
    fn from(role: Role) -> Self {
        Author { role, name: None }
    }
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    #[serde(flatten)]
    pub author: Author,
    /// Who the message is for: a tool's name for a tool call (`functions.get_weather`), `assistant` for a tool's
    /// result. `None` (or `all`) is everyone and is not rendered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(deserialize_with = "string_or_contents")]
    pub content: Vec<Content>,
    /// `analysis`, `commentary` or `final` for the assistant's messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The format of a tool call's arguments: `<|constrain|>json` (the marker is rendered as its special token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

impl Message {
    /// A message of one text content.
    pub fn text(author: impl Into<Author>, text: impl Into<String>) -> Message {
        Message {
            author: author.into(),
            recipient: None,
            content: vec![Content::Text { text: text.into() }],
            channel: None,
            content_type: None,
        }
    }

    /// The system message.
    pub fn system(content: SystemContent) -> Message {
        Message { content: vec![Content::SystemContent(content)], ..Message::text(Role::System, "") }
    }

    /// The developer message.
    pub fn developer(content: DeveloperContent) -> Message {
        Message { content: vec![Content::DeveloperContent(content)], ..Message::text(Role::Developer, "") }
    }

    pub fn with_channel(mut self, channel: impl Into<String>) -> Message {
        self.channel = Some(channel.into());
        self
    }

    pub fn with_recipient(mut self, recipient: impl Into<String>) -> Message {
        self.recipient = Some(recipient.into());
        self
    }

    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Message {
        self.content_type = Some(content_type.into());
        self
    }
}

/// A message's content, tagged by `type` in JSON as harmony does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Text { text: String },
    SystemContent(SystemContent),
    DeveloperContent(DeveloperContent),
}

/// Harmony writes a message of one text content as a plain string.
fn string_or_contents<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Content>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        Text(String),
        Contents(Vec<Content>),
    }
    Ok(match Form::deserialize(deserializer)? {
        Form::Text(text) => vec![Content::Text { text }],
        Form::Contents(contents) => contents,
    })
}

/// How much the model reasons before answering: `Reasoning: low|medium|high` in the system message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReasoningEffort {
    Low,
    #[default]
    Medium,
    High,
}

impl ReasoningEffort {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::High => "high",
        }
    }

    /// Parses `low`, `medium` or `high` (as the APIs spell them).
    pub fn parse(text: &str) -> Option<ReasoningEffort> {
        [ReasoningEffort::Low, ReasoningEffort::Medium, ReasoningEffort::High]
            .into_iter()
            .find(|effort| effort.as_str() == text)
    }
}

/// The channels the system message declares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelConfig {
    pub valid_channels: Vec<String>,
    /// Adds "Channel must be included for every message."
    pub channel_required: bool,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            valid_channels: ["analysis", "commentary", "final"].map(String::from).to_vec(),
            channel_required: true,
        }
    }
}

/// The content of the system message. [`Default`] is what gpt-oss was trained with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SystemContent {
    #[serde(default)]
    pub model_identity: Option<String>,
    #[serde(default)]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Built-in tools (`browser`, `python`), by namespace name.
    #[serde(default)]
    pub tools: Option<BTreeMap<String, ToolNamespace>>,
    /// `Current date:` line, e.g. `2025-06-28`.
    #[serde(default)]
    pub conversation_start_date: Option<String>,
    #[serde(default)]
    pub knowledge_cutoff: Option<String>,
    #[serde(default)]
    pub channel_config: Option<ChannelConfig>,
}

impl Default for SystemContent {
    fn default() -> Self {
        SystemContent {
            model_identity: Some("You are ChatGPT, a large language model trained by OpenAI.".into()),
            reasoning_effort: Some(ReasoningEffort::Medium),
            tools: None,
            conversation_start_date: None,
            knowledge_cutoff: Some("2024-06".into()),
            channel_config: Some(ChannelConfig::default()),
        }
    }
}

/// The content of the developer message: instructions, function tools and response formats.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeveloperContent {
    #[serde(default)]
    pub instructions: Option<String>,
    /// Tools by namespace name; function tools are the `functions` namespace.
    #[serde(default)]
    pub tools: Option<BTreeMap<String, ToolNamespace>>,
    /// Structured output formats, rendered as `# Response Formats` after the tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_formats: Vec<ResponseFormat>,
}

impl DeveloperContent {
    /// Adds function tools as the `functions` namespace.
    pub fn with_function_tools(mut self, tools: Vec<ToolDescription>) -> DeveloperContent {
        let namespace = ToolNamespace { name: FUNCTIONS.into(), description: None, tools };
        self.tools.get_or_insert_with(BTreeMap::new).insert(FUNCTIONS.into(), namespace);
        self
    }
}

/// The namespace of function tools.
pub const FUNCTIONS: &str = "functions";

/// A namespace of tools, rendered as `## {name}` then `namespace {name} { ... }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolNamespace {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub tools: Vec<ToolDescription>,
}

/// One tool: its parameters are a JSON Schema, rendered as a TypeScript-like type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolDescription {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub parameters: Option<serde_json::Value>,
}

/// A structured output format: a named JSON Schema the final answer should follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseFormat {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub schema: serde_json::Value,
}
