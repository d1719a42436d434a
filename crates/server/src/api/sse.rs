//! Server-sent events as OpenAI streams them: `data: {json}` events, `data: [DONE]` last.

use std::convert::Infallible;

use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

/// Where a stream's events are written. Unbounded: events stay in order without waiting, and a stream holds
/// at most its own generation's text. A send fails once the client has gone.
pub type Sender = mpsc::UnboundedSender<Result<Event, Infallible>>;

/// A sender and the response that streams what it sends.
pub fn channel() -> (Sender, impl IntoResponse) {
    let (tx, rx) = mpsc::unbounded_channel();
    (tx, Sse::new(UnboundedReceiverStream::new(rx)).keep_alive(KeepAlive::default()))
}

/// Sends `value` as a JSON event; false when the client has gone.
pub fn send_json(tx: &Sender, value: &impl serde::Serialize) -> bool {
    tx.send(Ok(Event::default().data(serde_json::to_string(value).unwrap_or_default()))).is_ok()
}

/// Sends `value` as a JSON event named `name` (`event: name`), as the Responses API streams.
pub fn send_named(tx: &Sender, name: &'static str, value: &impl serde::Serialize) -> bool {
    tx.send(Ok(Event::default().event(name).data(serde_json::to_string(value).unwrap_or_default()))).is_ok()
}

/// Ends a chat or completions stream as OpenAI does.
pub fn send_done(tx: &Sender) {
    let _ = tx.send(Ok(Event::default().data("[DONE]")));
}
