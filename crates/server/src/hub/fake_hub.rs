//! A fake hub for the download tests: a thread serving the listing API and
//! file `GET`s (with `Range`) over a local socket, with faults to inject.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use super::*;

pub(super) const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
pub(super) const SHARDS: [&str; 2] = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
pub(super) const WANTED: [&str; 9] = [
    CONFIG,
    "generation_config.json",
    TOKENIZER,
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    INDEX,
    SHARDS[0],
    SHARDS[1],
];
pub(super) const UNWANTED: [&str; 6] = [
    "model-99999-of-99999.safetensors",
    "original/model.safetensors",
    "metal/model.bin",
    "README.md",
    "LICENSE",
    ".gitattributes",
];

pub(super) struct RepoFile {
    pub(super) name: String,
    pub(super) data: Vec<u8>,
    lfs: bool,
    pub(super) etag: String,
}

fn bytes(n: usize, seed: usize) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(31) ^ (i >> 9) ^ seed) as u8).collect()
}

/// gpt-oss-20b's top level, in miniature, plus folders never to fetch.
pub(super) fn repo_files() -> Vec<RepoFile> {
    let index = serde_json::json!({
        "metadata": {"total_size": 500_000},
        "weight_map": {"a": SHARDS[0], "b": SHARDS[1], "c": SHARDS[0]}
    });
    let mut files = Vec::new();
    for (i, name) in WANTED.iter().chain(UNWANTED.iter()).enumerate() {
        let (data, lfs) = match *name {
            INDEX => (index.to_string().into_bytes(), false),
            n if n == SHARDS[0] => (bytes(300_000, i), true),
            n if n == SHARDS[1] => (bytes(200_000, i), true),
            n if n.contains("safetensors") || n.ends_with(".bin") => (bytes(50_000, i), true),
            _ => (format!("{{\"file\": \"{name}\"}}").into_bytes(), false),
        };
        let etag = if lfs { format!("{:064x}", i + 1) } else { format!("{:040x}", i + 1) };
        files.push(RepoFile { name: name.to_string(), data, lfs, etag });
    }
    files
}

#[derive(Default)]
pub(super) struct Faults {
    /// Cut the body of the next `.2` downloads of file `.0` after `.1` bytes.
    pub(super) cut: Option<(String, usize, usize)>,
    /// Answer the next resumed download of this file with all of it (200).
    pub(super) ignore_range: Option<String>,
    /// Answer the listing with this status and `X-Error-Code`.
    pub(super) listing: Option<(u16, &'static str)>,
    /// Answer the next download of file `.0` with status `.1`.
    pub(super) fail: Option<(String, u16)>,
}

#[derive(Debug, Clone)]
pub(super) struct Request {
    pub(super) path: String,
    pub(super) range: String,
    pub(super) auth: String,
}

pub(super) struct FakeHub {
    pub(super) endpoint: String,
    requests: Arc<Mutex<Vec<Request>>>,
    pub(super) faults: Arc<Mutex<Faults>>,
}

impl FakeHub {
    pub(super) fn start(commit: &'static str, files: Vec<RepoFile>) -> FakeHub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let faults = Arc::new(Mutex::new(Faults::default()));
        let (log, injected) = (requests.clone(), faults.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve(stream, commit, &files, &log, &injected);
            }
        });
        FakeHub { endpoint, requests, faults }
    }

    pub(super) fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The `Range` headers of the downloads of `file`, probes left out.
    pub(super) fn ranges(&self, file: &str) -> Vec<String> {
        let suffix = format!("/{file}");
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with(&suffix) && r.range != "bytes=0-0")
            .map(|r| r.range)
            .collect()
    }
}

fn serve(stream: TcpStream, commit: &str, files: &[RepoFile], log: &Mutex<Vec<Request>>, faults: &Mutex<Faults>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or_default().to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let header = |name: &str| headers.get(name).cloned().unwrap_or_default();
    let range = header("range");
    log.lock().unwrap().push(Request { path: path.clone(), range: range.clone(), auth: header("authorization") });
    let mut faults = faults.lock().unwrap();

    if path.starts_with(&format!("/api/models/{DEFAULT_MODEL}/revision/")) {
        if let Some((status, code)) = faults.listing {
            return respond(stream, status, &[("X-Error-Code", code.into())], b"{}", None);
        }
        let siblings: Vec<_> = files
            .iter()
            .map(|f| match f.lfs {
                true => serde_json::json!({
                    "rfilename": f.name, "blobId": "b".repeat(40), "size": f.data.len(),
                    "lfs": {"sha256": f.etag, "size": f.data.len(), "pointerSize": 134}
                }),
                false => serde_json::json!({"rfilename": f.name, "blobId": f.etag, "size": f.data.len()}),
            })
            .collect();
        let body = serde_json::json!({"id": DEFAULT_MODEL, "sha": commit, "siblings": siblings});
        return respond(stream, 200, &[], body.to_string().as_bytes(), None);
    }
    let Some(name) = path
        .strip_prefix(&format!("/{DEFAULT_MODEL}/resolve/"))
        .and_then(|rest| rest.split_once('/'))
        .map(|(_revision, name)| name)
    else {
        return respond(stream, 404, &[], b"", None);
    };
    let Some(file) = files.iter().find(|f| f.name == name) else {
        return respond(stream, 404, &[("X-Error-Code", "EntryNotFound".into())], b"", None);
    };
    let size = file.data.len();
    let (start, end) = range
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .map(|(a, b)| (a.parse().unwrap_or(0), b.parse().unwrap_or(size - 1)))
        .unwrap_or((0, size - 1));
    let mut headers = vec![("X-Repo-Commit", commit.to_owned())];
    if file.lfs {
        headers.push(("ETag", "\"pointer\"".into()));
        headers.push(("X-Linked-Etag", format!("\"{}\"", file.etag)));
    } else {
        headers.push(("ETag", format!("\"{}\"", file.etag)));
    }
    if start >= size {
        headers.push(("Content-Range", format!("bytes */{size}")));
        return respond(stream, 416, &headers, b"", None);
    }
    let probe = range == "bytes=0-0";
    if !probe && start > 0 && faults.ignore_range.as_deref() == Some(name) {
        faults.ignore_range = None;
        return respond(stream, 200, &headers, &file.data, None);
    }
    if !probe && faults.fail.as_ref().is_some_and(|(file, _)| file == name) {
        let status = faults.fail.take().map_or(500, |(_, status)| status);
        return respond(stream, status, &[], b"", None);
    }
    let mut cut = None;
    if let Some((cut_file, after, times)) = &mut faults.cut
        && !probe
        && cut_file == name
        && *times > 0
    {
        *times -= 1;
        cut = Some(*after);
    }
    headers.push(("Content-Range", format!("bytes {start}-{end}/{size}")));
    respond(stream, 206, &headers, &file.data[start..=end], cut)
}

/// Writes a response announcing all of `body`, of which only `cut`
/// bytes when given, then closes the connection.
fn respond(mut stream: TcpStream, status: u16, headers: &[(&str, String)], body: &[u8], cut: Option<usize>) {
    let mut head = format!("HTTP/1.1 {status} Status\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let body = &body[..cut.unwrap_or(body.len()).min(body.len())];
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body));
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
