//! Stored responses, in memory: what `GET /v1/responses/{id}` returns and `previous_response_id` continues.
//! Bounded three ways: a most-entries count, a most-bytes estimate and an age; the oldest go first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::api::types::responses::{ResponseObject, ValidItem};

/// How much the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    pub max_responses: usize,
    /// An estimate: the text of every stored conversation, plus a fixed cost per item and response.
    pub max_bytes: usize,
    pub max_age: Duration,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits { max_responses: 1024, max_bytes: 512 * 1024 * 1024, max_age: Duration::from_secs(60 * 60) }
    }
}

/// A finished response and the whole conversation up to and including its output.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub response: ResponseObject,
    pub conversation: Vec<ValidItem>,
}

impl StoredResponse {
    /// The bytes it is counted for.
    fn size(&self) -> usize {
        const PER_ITEM: usize = 64;
        const PER_RESPONSE: usize = 1024;
        let conversation: usize = self.conversation.iter().map(|item| item.text_len() + PER_ITEM).sum();
        let output: usize = serde_json::to_vec(&self.response).map_or(0, |json| json.len());
        PER_RESPONSE + conversation + output
    }
}

/// Why a response cannot be returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Never stored, deleted, or dropped for room.
    Unknown,
    /// Stored, and older than the store keeps.
    Expired,
}

struct Entry {
    stored: Arc<StoredResponse>,
    at: Instant,
    size: usize,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Ids in the order they were stored; ids deleted since are skipped when met.
    order: VecDeque<String>,
    bytes: usize,
}

impl Inner {
    fn remove(&mut self, id: &str) -> Option<Entry> {
        let entry = self.entries.remove(id)?;
        self.bytes -= entry.size;
        Some(entry)
    }

    /// Drops the oldest entries while the store has no room for one more of `incoming` bytes, and the expired
    /// ones at the front.
    fn evict(&mut self, now: Instant, limits: &StoreLimits, incoming: usize) {
        while let Some(id) = self.order.front() {
            let expired = match self.entries.get(id) {
                None => {
                    self.order.pop_front();
                    continue;
                }
                Some(entry) => now.duration_since(entry.at) >= limits.max_age,
            };
            let full = self.entries.len() + 1 > limits.max_responses || self.bytes + incoming > limits.max_bytes;
            if !expired && !full {
                break;
            }
            if let Some(id) = self.order.pop_front() {
                self.remove(&id);
            }
        }
    }
}

/// The store; shared by the handlers.
pub struct ResponseStore {
    limits: StoreLimits,
    inner: Mutex<Inner>,
}

impl ResponseStore {
    pub fn new(limits: StoreLimits) -> ResponseStore {
        ResponseStore { limits, inner: Mutex::new(Inner::default()) }
    }

    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stores a response under its id, dropping the oldest ones as needed. One larger than the whole store
    /// is not kept: false.
    pub fn insert(&self, stored: StoredResponse) -> bool {
        self.insert_at(stored, Instant::now())
    }

    fn insert_at(&self, stored: StoredResponse, now: Instant) -> bool {
        let size = stored.size();
        if size > self.limits.max_bytes || self.limits.max_responses == 0 {
            return false;
        }
        let id = stored.response.id.clone();
        let mut inner = self.lock();
        if inner.remove(&id).is_some() {
            inner.order.retain(|stored| stored != &id);
        }
        inner.evict(now, &self.limits, size);
        inner.bytes += size;
        inner.entries.insert(id.clone(), Entry { stored: Arc::new(stored), at: now, size });
        inner.order.push_back(id);
        true
    }

    pub fn get(&self, id: &str) -> Result<Arc<StoredResponse>, Missing> {
        self.get_at(id, Instant::now())
    }

    fn get_at(&self, id: &str, now: Instant) -> Result<Arc<StoredResponse>, Missing> {
        let mut inner = self.lock();
        let entry = inner.entries.get(id).ok_or(Missing::Unknown)?;
        if now.duration_since(entry.at) >= self.limits.max_age {
            inner.remove(id);
            return Err(Missing::Expired);
        }
        Ok(entry.stored.clone())
    }

    /// Deletes a stored response: false when there was none.
    pub fn remove(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }

    /// Stored responses, and the bytes they are counted for.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.entries.len(), inner.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::responses::{ReasoningEcho, ResponseObject, Status, TextEcho};
    use serde_json::{Map, Value};

    fn stored(id: &str, text: &str) -> StoredResponse {
        StoredResponse {
            response: ResponseObject {
                id: id.to_string(),
                object: "response",
                created_at: 0,
                status: Status::Completed,
                completed_at: None,
                error: None,
                incomplete_details: None,
                instructions: None,
                max_output_tokens: None,
                model: "m".into(),
                output: Vec::new(),
                parallel_tool_calls: true,
                previous_response_id: None,
                reasoning: ReasoningEcho { effort: "medium", summary: None },
                store: true,
                temperature: 1.0,
                top_p: 1.0,
                top_logprobs: 0,
                text: TextEcho { format: Value::Null },
                tool_choice: Value::Null,
                tools: Vec::new(),
                truncation: "disabled".into(),
                usage: None,
                user: None,
                metadata: Map::new(),
                background: false,
                service_tier: "default",
            },
            conversation: vec![ValidItem::User(text.to_string())],
        }
    }

    fn limits(max_responses: usize, max_bytes: usize, secs: u64) -> StoreLimits {
        StoreLimits { max_responses, max_bytes, max_age: Duration::from_secs(secs) }
    }

    #[test]
    fn keeps_gets_and_deletes() {
        let store = ResponseStore::new(StoreLimits::default());
        assert!(store.insert(stored("a", "hello")));
        assert_eq!(store.get("a").unwrap().conversation, vec![ValidItem::User("hello".into())]);
        assert_eq!(store.get("b").unwrap_err(), Missing::Unknown);
        assert!(store.remove("a"));
        assert!(!store.remove("a"));
        assert_eq!(store.get("a").unwrap_err(), Missing::Unknown);
        assert_eq!(store.usage(), (0, 0));
    }

    #[test]
    fn drops_the_oldest_beyond_the_count() {
        let store = ResponseStore::new(limits(2, usize::MAX, 3600));
        for id in ["a", "b", "c"] {
            assert!(store.insert(stored(id, "x")));
        }
        assert_eq!(store.get("a").unwrap_err(), Missing::Unknown);
        assert!(store.get("b").is_ok() && store.get("c").is_ok());
        assert_eq!(store.usage().0, 2);
    }

    #[test]
    fn drops_the_oldest_beyond_the_bytes_and_refuses_what_never_fits() {
        let one = stored("a", &"x".repeat(10_000)).size();
        let store = ResponseStore::new(limits(100, one * 2 + one / 2, 3600));
        for id in ["a", "b", "c"] {
            assert!(store.insert(stored(id, &"x".repeat(10_000))));
        }
        assert_eq!(store.get("a").unwrap_err(), Missing::Unknown);
        assert!(store.get("c").is_ok());
        assert!(store.usage().1 <= one * 2 + one / 2);
        assert!(!store.insert(stored("huge", &"x".repeat(one * 3))));
        assert_eq!(store.get("huge").unwrap_err(), Missing::Unknown);
    }

    #[test]
    fn expires_by_age() {
        let store = ResponseStore::new(limits(10, usize::MAX, 60));
        let start = Instant::now();
        assert!(store.insert_at(stored("a", "x"), start));
        assert!(store.get_at("a", start + Duration::from_secs(59)).is_ok());
        assert_eq!(store.get_at("a", start + Duration::from_secs(60)).unwrap_err(), Missing::Expired);
        assert_eq!(store.get_at("a", start + Duration::from_secs(61)).unwrap_err(), Missing::Unknown);
        // Expired entries go when others are stored.
        assert!(store.insert_at(stored("b", "x"), start));
        assert!(store.insert_at(stored("c", "x"), start + Duration::from_secs(120)));
        assert_eq!(store.usage().0, 1);
    }

    #[test]
    fn storing_an_id_again_replaces_it() {
        let store = ResponseStore::new(limits(10, usize::MAX, 60));
        assert!(store.insert(stored("a", "one")));
        assert!(store.insert(stored("a", "two")));
        assert_eq!(store.usage().0, 1);
        assert_eq!(store.get("a").unwrap().conversation, vec![ValidItem::User("two".into())]);
    }
}
