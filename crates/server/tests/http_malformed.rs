//! Replays the hand-written corpus of malformed and hostile requests in `tests/fixtures/malformed_requests.json`
//! through the router: every answer must be the case's expected status, a 4xx, with OpenAI's error body
//! `{"error": {"message", "type", "param", "code"}}`, and no refused request may reach the backend. All the
//! failures are collected and reported together, so one run shows every case that fails.
//!
//! A case is `{"name", "why", "method", "path", "headers"?, <body>, "expect", "pending"?}`:
//!
//! - `headers`: the request headers. Absent means `content-type: application/json`; present means exactly
//!   those (`{}` sends no content type at all).
//! - the body, at most one of: `json` (any JSON value, sent serialized), `raw` (a string sent as is), `base64`
//!   (bytes, for invalid UTF-8), or `generate` (big or deep bodies, built here so that none is committed):
//!   `{"kind": "repeat", "prefix", "unit", "times", "suffix"}` is `prefix + unit * times + suffix`;
//!   `{"kind": "nest", "prefix", "open", "inner", "close", "times", "suffix"}` is
//!   `prefix + open * times + inner + close * times + suffix`. No body is an empty body.
//! - `pending`: the case is for `/v1/responses`, which is being added. Pending cases are skipped (and
//!   counted) only while a plain valid `POST /v1/responses` answers 404; once it is routed they run as the
//!   others.
//!
//! The answer to a `HEAD` request has no body, so there only the status, the content type and the empty body
//! are checked.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{MODEL, Reply, server};
use serde::Deserialize;
use serde_json::{Value, json};

const CORPUS: &str = include_str!("fixtures/malformed_requests.json");

/// The acceptance floor: this many cases that run whether or not `/v1/responses` is routed.
const MIN_CASES: usize = 200;

/// Cases slower than this are listed (not failed): a hostile request should not be expensive to refuse.
const SLOW: Duration = Duration::from_secs(2);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    why: String,
    method: String,
    path: String,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
    /// `Some` even for a JSON `null` body.
    #[serde(default, deserialize_with = "present")]
    json: Option<Value>,
    #[serde(default)]
    raw: Option<String>,
    #[serde(default)]
    base64: Option<String>,
    #[serde(default)]
    generate: Option<Generate>,
    expect: u16,
    #[serde(default)]
    pending: bool,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum Generate {
    Repeat {
        #[serde(default)]
        prefix: String,
        unit: String,
        times: usize,
        #[serde(default)]
        suffix: String,
    },
    Nest {
        #[serde(default)]
        prefix: String,
        open: String,
        #[serde(default)]
        inner: String,
        close: String,
        times: usize,
        #[serde(default)]
        suffix: String,
    },
}

impl Generate {
    fn build(&self) -> Vec<u8> {
        match self {
            Generate::Repeat { prefix, unit, times, suffix } => {
                let mut out = String::with_capacity(prefix.len() + unit.len() * times + suffix.len());
                out.push_str(prefix);
                for _ in 0..*times {
                    out.push_str(unit);
                }
                out.push_str(suffix);
                out.into_bytes()
            }
            Generate::Nest { prefix, open, inner, close, times, suffix } => {
                format!("{prefix}{}{inner}{}{suffix}", open.repeat(*times), close.repeat(*times)).into_bytes()
            }
        }
    }
}

impl Case {
    fn body(&self) -> Vec<u8> {
        if let Some(json) = &self.json {
            json.to_string().into_bytes()
        } else if let Some(raw) = &self.raw {
            raw.clone().into_bytes()
        } else if let Some(encoded) = &self.base64 {
            decode_base64(encoded).unwrap_or_else(|e| panic!("case {}: {e}", self.name))
        } else if let Some(generate) = &self.generate {
            generate.build()
        } else {
            Vec::new()
        }
    }

    fn headers(&self) -> Vec<(String, String)> {
        match &self.headers {
            None => vec![("content-type".to_string(), "application/json".to_string())],
            Some(headers) => headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        }
    }
}

/// A present `json` key, `null` included, is a body.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// Standard base64 (RFC 4648, `=` padding optional); the crate has no base64 dependency.
fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            other => return Err(format!("invalid base64 character {:?}", other as char)),
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// What is wrong with a reply to a case (empty when nothing is).
fn problems(case: &Case, reply: &Reply) -> Vec<String> {
    let mut found = Vec::new();
    let status = reply.status.as_u16();
    if status != case.expect {
        found.push(format!("status {status}, expected {}", case.expect));
    }
    if !reply.status.is_client_error() {
        found.push(format!("status {status} is not a 4xx"));
    }
    let content_type = reply.content_type();
    if !content_type.starts_with("application/json") {
        found.push(format!("content type {content_type:?}, not application/json"));
    }
    if case.method == "HEAD" {
        // A HEAD answer has the headers of the GET answer and no body.
        if !reply.body.is_empty() {
            found.push("a body in the answer to HEAD".to_string());
        }
        return found;
    }
    match serde_json::from_slice::<Value>(&reply.body) {
        Err(e) => found.push(format!("the body is not JSON: {e}")),
        Ok(body) => found.extend(shape_problems(&body)),
    }
    found
}

/// How `body` departs from `{"error": {"message": non-empty string, "type": string, "param": string|null,
/// "code": string|null}}`.
fn shape_problems(body: &Value) -> Vec<String> {
    let Some(error) = body.get("error").and_then(Value::as_object) else {
        return vec!["no `error` object".to_string()];
    };
    let mut found = Vec::new();
    if error.get("message").and_then(Value::as_str).is_none_or(str::is_empty) {
        found.push("error.message is not a non-empty string".to_string());
    }
    if !error.get("type").is_some_and(Value::is_string) {
        found.push("error.type is not a string".to_string());
    }
    for key in ["param", "code"] {
        if !error.get(key).is_some_and(|v| v.is_string() || v.is_null()) {
            found.push(format!("error.{key} is missing or neither a string nor null"));
        }
    }
    found
}

/// The first `n` characters of a body, lossily decoded.
fn head(body: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(n).collect();
    if text.chars().nth(n).is_some() {
        out.push('…');
    }
    out
}

#[test]
fn decodes_base64() {
    assert_eq!(decode_base64("").unwrap(), b"");
    assert_eq!(decode_base64("Zg==").unwrap(), b"f");
    assert_eq!(decode_base64("Zm8=").unwrap(), b"fo");
    assert_eq!(decode_base64("Zm9v").unwrap(), b"foo");
    assert_eq!(decode_base64("/+7/").unwrap(), [0xff, 0xee, 0xff]);
    assert!(decode_base64("Zm9v!").is_err());
}

/// The corpus, checked: names unique, every case well formed, at least [`MIN_CASES`] not pending.
fn corpus() -> Vec<Case> {
    let cases: Vec<Case> = serde_json::from_str(CORPUS).expect("the corpus is a JSON array of cases");
    let mut names = HashSet::new();
    for case in &cases {
        let name = &case.name;
        assert!(names.insert(name.as_str()), "duplicate case name {name:?}");
        assert!(!case.why.trim().is_empty() && !case.why.contains('\n'), "case {name}: `why` is one line");
        assert!(Method::from_bytes(case.method.as_bytes()).is_ok(), "case {name}: bad method");
        assert!(case.path.starts_with('/'), "case {name}: the path starts with /");
        assert!(StatusCode::from_u16(case.expect).is_ok_and(|s| s.is_client_error()), "case {name}: expect a 4xx");
        let responses = case.path.starts_with("/v1/responses");
        assert!(!case.pending || responses, "case {name}: only /v1/responses cases are pending");
        let bodies = [case.json.is_some(), case.raw.is_some(), case.base64.is_some(), case.generate.is_some()];
        assert!(bodies.iter().filter(|given| **given).count() <= 1, "case {name}: more than one body");
    }
    let ready = cases.iter().filter(|c| !c.pending).count();
    assert!(ready >= MIN_CASES, "the corpus has {ready} non-pending cases; the floor is {MIN_CASES}");
    cases
}

#[test]
fn the_corpus_is_well_formed() {
    for case in corpus() {
        case.body();
    }
}

#[tokio::test]
async fn every_malformed_request_is_a_4xx_in_openai_shape() {
    let cases = corpus();
    let server = server(&["<|channel|>final<|message|>ok<|return|>"]);

    // Whether `POST /v1/responses` is routed yet: a plain valid request answers 404 while it is not.
    let probe = json!({"model": MODEL, "input": "Hi"}).to_string();
    let reply =
        server.send(Method::POST, "/v1/responses", Body::from(probe), &[("content-type", "application/json")]).await;
    let responses_routed = reply.status != StatusCode::NOT_FOUND;

    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let mut slow = Vec::new();
    let mut ran = 0;
    for case in &cases {
        if case.pending && !responses_routed {
            skipped.push(case.name.as_str());
            continue;
        }
        let method = Method::from_bytes(case.method.as_bytes()).expect("a valid method");
        let headers = case.headers();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body = Body::from(case.body());
        let before = server.requests().len();
        let started = Instant::now();
        let reply = server.send(method, &case.path, body, &headers).await;
        let elapsed = started.elapsed();
        if elapsed > SLOW {
            slow.push(format!("{} {:.1} s", case.name, elapsed.as_secs_f64()));
        }
        ran += 1;
        let mut found = problems(case, &reply);
        let reached = server.requests().len() - before;
        if reached > 0 {
            found.push(format!("{reached} generation request(s) reached the backend"));
        }
        if !found.is_empty() {
            failures.push(format!(
                "- {} ({} {}): {}\n    status {}, body: {}",
                case.name,
                case.method,
                case.path,
                found.join("; "),
                reply.status.as_u16(),
                head(&reply.body, 300)
            ));
        }
    }
    let why_skipped = if skipped.is_empty() {
        String::new()
    } else {
        format!(" (POST /v1/responses answers 404: not routed yet): {}", skipped.join(", "))
    };
    eprintln!(
        "malformed corpus: {ran} cases ran, {} failed, {} pending /v1/responses cases skipped{why_skipped}",
        failures.len(),
        skipped.len(),
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} malformed requests were answered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
