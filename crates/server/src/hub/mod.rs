//! Where a model comes from: a local directory, or a repository on the
//! Hugging Face hub, found in or downloaded into the shared Hugging Face cache.
//!
//! # The `--model` argument
//!
//! [`ModelSource::parse`] reads, in this order:
//!
//! - a path starting with `/`, `.` or `~` (`~` and `~/…` are expanded to the
//!   home directory), or any existing directory: a local model directory;
//! - `owner/name` or `owner/name@revision`: a model repository on the hub,
//!   at the branch, tag or commit `revision` (default `main`). The revision
//!   may contain `/` (`openai/gpt-oss-20b@refs/pr/1`); repo ids never hold
//!   an `@`, so the first `@` splits the two. An existing directory named
//!   like a repo id wins, as in transformers; write `./owner/name` to be
//!   explicit either way.
//!
//! # What a model directory holds
//!
//! `config.json`, `tokenizer.json` and the weights: `model.safetensors`, or
//! `model.safetensors.index.json` and every shard its `weight_map` names
//! (the same rule as `gpt_oss_model::Checkpoint::open`).
//! `generation_config.json` is optional. From the hub only these are fetched,
//! plus `tokenizer_config.json`, `special_tokens_map.json` and
//! `chat_template.jinja` when the repo has them: never the `original/` and
//! `metal/` folders of the gpt-oss repos, nor top-level safetensors that an
//! index does not name.
//!
//! # The cache
//!
//! The layout is the one `huggingface_hub` (transformers, vLLM, `hf download`)
//! writes, so a model any of them downloaded is found without the network:
//! `<cache>/models--owner--name/refs/<revision>` holds a commit sha,
//! `snapshots/<sha>/<file>` are relative symlinks to `blobs/<etag>`, where
//! the etag is the LFS sha256 of a large file or the git blob id of a small
//! one. The cache directory is `HF_HUB_CACHE`, else `HUGGINGFACE_HUB_CACHE`,
//! else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else
//! `~/.cache/huggingface/hub` ([`HubOptions::from_env`]). The token is
//! `HF_TOKEN`, else `HUGGING_FACE_HUB_TOKEN`, else the file at
//! `HF_TOKEN_PATH` or `$HF_HOME/token` that `hf auth login` writes. The
//! endpoint is `HF_ENDPOINT` (default `https://huggingface.co`).
//!
//! # Online and offline
//!
//! Online, [`resolve`] lists the revision's files (`GET
//! /api/models/<repo>/revision/<revision>?blobs=true`, which also gives the
//! commit sha, sizes and etags), downloads every needed file at that commit
//! (so a branch moving mid-download cannot mix two commits) unless the
//! snapshot already has it with the listed size, or links a blob another
//! snapshot already downloaded, and only then points `refs/<revision>` at
//! the commit. Everything cached still costs that one listing request.
//!
//! Offline (`HF_HUB_OFFLINE=1`, or `TRANSFORMERS_OFFLINE=1`, or the caller's
//! `--offline`), nothing touches the network: `refs/<revision>` names the
//! snapshot (a full commit sha is used as is) and every needed file must be
//! in it; the error names the missing file and how to get it. Without
//! network and not offline, the error names the endpoint and, when the
//! model is fully cached, says to set `HF_HUB_OFFLINE=1`.
//!
//! # Interrupted downloads
//!
//! Files come through hf-hub 0.4's blocking client. Read from its source
//! (`src/api/sync.rs`: `download_with_progress`, `download_tempfile`,
//! `download_from`): a file is written to `blobs/<etag>.part`, opened in
//! append mode, under an exclusive `flock` on `blobs/<etag>.lock` (the OS
//! releases it when the process dies; a second process waits 5 s, then
//! fails with [`HubError::Locked`]), and renamed to `blobs/<etag>` only
//! after the body was read to its end; then the snapshot symlink and
//! `refs/` are written. A call finding a `.part` file sends its length as
//! `Range: bytes=N-` and appends the rest: a killed download resumes where
//! it stopped. A body cut short is an error, not a short file (ureq's
//! `Content-Length` reader reports `UnexpectedEof`), and the `.part` file
//! keeps what arrived.
//!
//! hf-hub checks nothing it appends, and its in-place retry loop resumes
//! from the file's stream position, which is 0 on an append-mode file
//! nothing was written to yet (a resume whose first request failed starts
//! again from byte 0 and appends the whole file). So hf-hub's retries are
//! off, and this module:
//!
//! - retries a download that failed on the connection, the body, a 5xx or
//!   a 429 itself, [`RETRIES`] times with a short backoff, each time calling
//!   hf-hub again, which takes the `.part` file's length;
//! - deletes a `.part` file already as long as the file (killed between the
//!   last byte and the rename: hf-hub would be answered 416 forever) or
//!   longer (hf-hub fails with "Invalid part file" forever);
//! - checks each downloaded file's size against the listing's, and deletes
//!   a wrong file and downloads it once more from the start: a server or
//!   proxy that ignores `Range` answers 200 with the whole file, which
//!   hf-hub appends to the part (the bug huggingface_hub fixed in its PR
//!   #3778);
//! - removes a snapshot entry of the wrong size or a dangling one before
//!   downloading, as hf-hub keeps any existing entry.
//!
//! `refs/<revision>` is written last, so an interrupted download never
//! looks complete offline. Contents are not hashed: sizes catch truncation
//! and concatenation, and TLS guards the bytes in transit.

mod cache;
mod download;
#[cfg(test)]
mod download_tests;
#[cfg(test)]
mod fake_hub;
mod options;
mod progress;
mod source;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use cache::HubRepo;
use source::{check_repo_id, check_revision};

/// The model served when none is named.
pub const DEFAULT_MODEL: &str = "openai/gpt-oss-20b";
/// The hub when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// The revision of `owner/name` without `@revision`.
pub const DEFAULT_REVISION: &str = "main";
/// How many times a failed download is resumed within one run.
pub const RETRIES: usize = 3;

const CONFIG: &str = "config.json";
const TOKENIZER: &str = "tokenizer.json";
const SINGLE_WEIGHTS: &str = "model.safetensors";
const INDEX: &str = "model.safetensors.index.json";
/// Fetched when the repo has them; a model directory may lack them.
const OPTIONAL: [&str; 4] =
    ["generation_config.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"];

/// Where the model named by `--model` lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A local directory holding the model files.
    Local(PathBuf),
    /// A model repository on the hub, at a branch, tag or commit.
    Hub { repo: String, revision: String },
}

/// A model found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedModel {
    /// The directory holding config.json, tokenizer.json and the weights.
    pub dir: PathBuf,
    /// The name to serve the model under: the repo id, or the directory's name.
    pub id: String,
    /// The commit of a hub model.
    pub commit: Option<String>,
}

/// How to reach the hub and where its cache is.
#[derive(Debug, Clone)]
pub struct HubOptions {
    /// Use the cache only (`HF_HUB_OFFLINE=1`, or `--offline`).
    pub offline: bool,
    /// The hub cache (`…/huggingface/hub`); `None` when no home directory
    /// is known and no variable names one.
    pub cache_dir: Option<PathBuf>,
    /// Access token for gated and private repos.
    pub token: Option<String>,
    /// The hub's base URL, without a trailing `/`.
    pub endpoint: String,
    /// Draw progress bars (when stderr is a terminal; otherwise log lines).
    pub progress: bool,
}

impl Default for HubOptions {
    fn default() -> Self {
        HubOptions { offline: false, cache_dir: None, token: None, endpoint: DEFAULT_ENDPOINT.into(), progress: true }
    }
}

/// Everything that can keep a model from being found.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("--model {arg}: {reason}")]
    InvalidModel { arg: String, reason: String },
    #[error("model directory {} does not exist", path.display())]
    NoSuchDirectory { path: PathBuf },
    #[error(
        "{} is not a directory: --model takes the directory holding config.json, tokenizer.json and the weights",
        path.display()
    )]
    NotADirectory { path: PathBuf },
    #[error("{} has no {file}: {fix}", dir.display())]
    MissingFile { dir: PathBuf, file: String, fix: String },
    #[error("{}: {reason}", path.display())]
    BadIndex { path: PathBuf, reason: String },
    #[error("{repo}@{revision} is not in the Hugging Face cache at {}: {fix}", cache_dir.display())]
    NotCached { repo: String, revision: String, cache_dir: PathBuf, fix: String },
    #[error("cannot reach {endpoint} ({reason}). {hint}")]
    Network { endpoint: String, reason: String, hint: String },
    #[error("{endpoint} refused access to {repo} (HTTP {status}): {hint}")]
    AccessDenied { endpoint: String, repo: String, status: u16, hint: String },
    #[error("{endpoint} has no model repo {repo}{hint}")]
    RepoNotFound { endpoint: String, repo: String, hint: String },
    #[error("{repo} on {endpoint} has no branch, tag or commit `{revision}`")]
    RevisionNotFound { endpoint: String, repo: String, revision: String },
    #[error("{repo}@{revision} has no {file}, which a gpt-oss model directory needs")]
    IncompleteRepo { repo: String, revision: String, file: String },
    #[error("unexpected answer from {endpoint}: {reason}")]
    BadAnswer { endpoint: String, reason: String },
    #[error("{url}: HTTP {status}{message}")]
    Http { url: String, status: u16, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("downloading {file} of {repo}: {reason}")]
    Download { repo: String, file: String, reason: String },
    #[error("another process holds {}: wait for its download to finish, or stop it", path.display())]
    Locked { path: PathBuf },
    #[error("no Hugging Face cache directory: no home directory is known; set HF_HOME or HF_HUB_CACHE")]
    NoCacheDir,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> HubError + '_ {
    move |source| HubError::Io { path: path.to_path_buf(), source }
}

/// Finds the model `source` names on disk, downloading it first when it is a
/// hub repo that is not cached and `options` allow the network. Blocking:
/// call it before starting an async runtime, or from a blocking task.
pub fn resolve(source: &ModelSource, options: &HubOptions) -> Result<ResolvedModel, HubError> {
    match source {
        ModelSource::Local(path) => resolve_local(path),
        ModelSource::Hub { repo, revision } => {
            check_repo_id(repo).map_err(|reason| HubError::InvalidModel { arg: repo.clone(), reason })?;
            check_revision(revision).map_err(|reason| HubError::InvalidModel { arg: revision.clone(), reason })?;
            let cache_dir = options.cache_dir.as_deref().ok_or(HubError::NoCacheDir)?;
            let hub = HubRepo { repo, revision, cache_dir, options };
            if options.offline { hub.cached() } else { hub.download() }
        }
    }
}

fn resolve_local(path: &Path) -> Result<ResolvedModel, HubError> {
    if !path.exists() {
        return Err(HubError::NoSuchDirectory { path: path.to_path_buf() });
    }
    if !path.is_dir() {
        return Err(HubError::NotADirectory { path: path.to_path_buf() });
    }
    if let Some(file) = first_missing(path)? {
        let fix = format!(
            "a model directory holds {CONFIG}, {TOKENIZER} and {SINGLE_WEIGHTS} (or {INDEX} and the shards it \
             names), as published at https://huggingface.co/{DEFAULT_MODEL}; or pass a repo id such as \
             {DEFAULT_MODEL} to download one"
        );
        return Err(HubError::MissingFile { dir: path.to_path_buf(), file, fix });
    }
    let dir = std::fs::canonicalize(path).map_err(io_error(path))?;
    let id = dir.file_name().map_or_else(|| dir.display().to_string(), |name| name.to_string_lossy().into_owned());
    Ok(ResolvedModel { dir, id, commit: None })
}

/// The first file a model directory needs that `dir` lacks (a dangling
/// symlink counts as missing), or `None` when it is complete.
pub fn first_missing(dir: &Path) -> Result<Option<String>, HubError> {
    for file in [CONFIG, TOKENIZER] {
        if !dir.join(file).is_file() {
            return Ok(Some(file.into()));
        }
    }
    let index = dir.join(INDEX);
    if index.is_file() {
        for shard in index_shards(&index)? {
            if !dir.join(&shard).is_file() {
                return Ok(Some(shard));
            }
        }
        Ok(None)
    } else if index.symlink_metadata().is_ok() {
        Ok(Some(INDEX.into()))
    } else if dir.join(SINGLE_WEIGHTS).is_file() {
        Ok(None)
    } else {
        Ok(Some(format!("{SINGLE_WEIGHTS} (nor {INDEX})")))
    }
}

/// The shard files a safetensors index names; each must be a plain file name.
fn index_shards(index: &Path) -> Result<BTreeSet<String>, HubError> {
    #[derive(Deserialize)]
    struct Index {
        weight_map: HashMap<String, String>,
    }
    let bad = |reason: String| HubError::BadIndex { path: index.to_path_buf(), reason };
    let text = std::fs::read_to_string(index).map_err(io_error(index))?;
    let parsed: Index = serde_json::from_str(&text).map_err(|e| bad(format!("not a safetensors index ({e})")))?;
    let shards: BTreeSet<String> = parsed.weight_map.into_values().collect();
    if shards.is_empty() {
        return Err(bad("the index names no shard".into()));
    }
    if let Some(shard) = shards.iter().find(|shard| !is_file_name(shard)) {
        return Err(bad(format!("shard `{shard}` is not a file name in this directory")));
    }
    Ok(shards)
}

/// One path component, not `.` or `..`: safe to join onto a directory.
fn is_file_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!((parts.next(), parts.next()), (Some(Component::Normal(_)), None)) && !name.contains(['/', '\\'])
}
