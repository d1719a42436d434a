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

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io::IsTerminal;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use hf_hub::api::Progress;
use hf_hub::api::sync::{ApiBuilder, ApiError, ApiRepo};
use hf_hub::{Cache, Repo, RepoType};
use indicatif::{HumanBytes, HumanDuration, ProgressBar, ProgressStyle};
use serde::Deserialize;

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
/// Without a terminal, a download in progress is logged this often.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Where the model named by `--model` lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A local directory holding the model files.
    Local(PathBuf),
    /// A model repository on the hub, at a branch, tag or commit.
    Hub { repo: String, revision: String },
}

impl ModelSource {
    /// Reads a `--model` argument: see the module documentation.
    pub fn parse(arg: &str) -> Result<ModelSource, HubError> {
        Self::parse_with_home(arg, std::env::home_dir().as_deref())
    }

    fn parse_with_home(arg: &str, home: Option<&Path>) -> Result<ModelSource, HubError> {
        let invalid = |reason: &str| HubError::InvalidModel { arg: arg.to_owned(), reason: reason.to_owned() };
        if arg.trim().is_empty() {
            return Err(invalid("empty model name"));
        }
        if let Some(rest) = arg.strip_prefix('~') {
            let rest = match rest.strip_prefix(['/', std::path::MAIN_SEPARATOR]) {
                Some(rest) => rest,
                None if rest.is_empty() => rest,
                None => return Err(invalid("only `~` and `~/…` are expanded; write the full path")),
            };
            let home = home.ok_or_else(|| invalid("cannot expand `~`: no home directory is known"))?;
            return Ok(ModelSource::Local(home.join(rest)));
        }
        let path = Path::new(arg);
        if arg.starts_with(['/', '.']) || path.is_absolute() || path.is_dir() {
            return Ok(ModelSource::Local(path.to_path_buf()));
        }
        let (repo, revision) = match arg.split_once('@') {
            Some((repo, revision)) => (repo, revision),
            None => (arg, DEFAULT_REVISION),
        };
        if let Err(reason) = check_repo_id(repo) {
            let guess = if repo.starts_with("gpt-oss") && !repo.contains('/') {
                format!("; did you mean openai/{arg}?")
            } else {
                String::new()
            };
            return Err(invalid(&format!(
                "not an existing directory, and not a Hugging Face repo id `owner/name[@revision]` ({reason}){guess}"
            )));
        }
        check_revision(revision).map_err(|reason| invalid(&reason))?;
        Ok(ModelSource::Hub { repo: repo.to_owned(), revision: revision.to_owned() })
    }
}

impl fmt::Display for ModelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelSource::Local(path) => write!(f, "{}", path.display()),
            ModelSource::Hub { repo, revision } if revision == DEFAULT_REVISION => f.write_str(repo),
            ModelSource::Hub { repo, revision } => write!(f, "{repo}@{revision}"),
        }
    }
}

/// Checks a repo id as the hub does: `owner/name`, each part made of ASCII
/// letters, digits, `-`, `_` and `.`, not starting or ending with `-` or
/// `.`, without `--` or `..`, 96 characters at most.
fn check_repo_id(repo: &str) -> Result<(), String> {
    let Some((owner, name)) = repo.split_once('/') else {
        return Err("no `/` between owner and name".into());
    };
    if repo.len() > 96 {
        return Err("longer than 96 characters".into());
    }
    for part in [owner, name] {
        if part.is_empty() {
            return Err("empty owner or name".into());
        }
        if let Some(c) = part.chars().find(|&c| !(c.is_ascii_alphanumeric() || "-_.".contains(c))) {
            return Err(format!("`{c}` is not allowed"));
        }
        if part.starts_with(['-', '.']) || part.ends_with(['-', '.']) || part.contains("--") || part.contains("..") {
            return Err(format!("`{part}` starts or ends with `-` or `.`, or holds `--` or `..`"));
        }
    }
    Ok(())
}

/// A revision becomes a path under `refs/`: no empty, `.` or `..` parts.
fn check_revision(revision: &str) -> Result<(), String> {
    if revision.is_empty() {
        return Err("empty revision after `@`".into());
    }
    let plain = revision.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
    if !plain || revision.contains(['\\', ' ', '\t', '\n', ':']) {
        return Err(format!("`{revision}` is not a branch, tag or commit name"));
    }
    Ok(())
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

impl HubOptions {
    /// The options the `HF_*` environment variables ask for, as
    /// `huggingface_hub` reads them: see the module documentation.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok(), std::env::home_dir().as_deref())
    }

    /// [`HubOptions::from_env`] over given variables and home directory.
    fn from_vars(var: impl Fn(&str) -> Option<String>, home: Option<&Path>) -> Self {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let path = |name: &str| var(name).map(|value| expand_home(&value, home));
        let hf_home = path("HF_HOME").or_else(|| Some(path("XDG_CACHE_HOME")?.join("huggingface"))).or_else(|| {
            let home = home?;
            Some(home.join(".cache").join("huggingface"))
        });
        let cache_dir = path("HF_HUB_CACHE")
            .or_else(|| path("HUGGINGFACE_HUB_CACHE"))
            .or_else(|| Some(hf_home.as_ref()?.join("hub")));
        let token_file = path("HF_TOKEN_PATH").or_else(|| Some(hf_home.as_ref()?.join("token")));
        let token = var("HF_TOKEN").or_else(|| var("HUGGING_FACE_HUB_TOKEN")).or_else(|| {
            let token = std::fs::read_to_string(token_file?).ok()?;
            Some(token.trim().to_owned()).filter(|token| !token.is_empty())
        });
        let is_true = |name: &str| {
            var(name).is_some_and(|v| ["1", "on", "yes", "true"].contains(&v.trim().to_ascii_lowercase().as_str()))
        };
        HubOptions {
            offline: is_true("HF_HUB_OFFLINE") || is_true("TRANSFORMERS_OFFLINE"),
            cache_dir,
            token: token.map(|token| token.trim().to_owned()),
            endpoint: var("HF_ENDPOINT").map_or_else(|| DEFAULT_ENDPOINT.into(), |e| e.trim_end_matches('/').into()),
            progress: true,
        }
    }
}

fn expand_home(value: &str, home: Option<&Path>) -> PathBuf {
    match (value.strip_prefix('~'), home) {
        (Some(""), Some(home)) => home.to_path_buf(),
        (Some(rest), Some(home)) if rest.starts_with(['/', std::path::MAIN_SEPARATOR]) => home.join(&rest[1..]),
        _ => PathBuf::from(value),
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

/// `models--owner--name`, the repo's folder in the cache.
fn repo_folder(repo: &str) -> String {
    format!("models--{}", repo.replace('/', "--"))
}

fn is_commit(name: &str) -> bool {
    name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A hub repo at a revision, with the options to reach it.
struct HubRepo<'a> {
    repo: &'a str,
    revision: &'a str,
    cache_dir: &'a Path,
    options: &'a HubOptions,
}

impl HubRepo<'_> {
    fn repo_dir(&self) -> PathBuf {
        self.cache_dir.join(repo_folder(self.repo))
    }

    fn hf_download_command(&self) -> String {
        let revision =
            if self.revision == DEFAULT_REVISION { String::new() } else { format!(" --revision {}", self.revision) };
        format!("hf download {}{revision} --exclude 'original/*' --exclude 'metal/*'", self.repo)
    }

    fn offline_fix(&self) -> String {
        format!(
            "downloads are off (offline mode); unset HF_HUB_OFFLINE (and drop --offline) to download it, or download \
             it with `{}`, or pass a local model directory to --model",
            self.hf_download_command()
        )
    }

    /// The model from the cache alone.
    fn cached(&self) -> Result<ResolvedModel, HubError> {
        let not_cached = || HubError::NotCached {
            repo: self.repo.into(),
            revision: self.revision.into(),
            cache_dir: self.cache_dir.into(),
            fix: self.offline_fix(),
        };
        let repo_dir = self.repo_dir();
        let snapshots = repo_dir.join("snapshots");
        let commit = if is_commit(self.revision) && snapshots.join(self.revision).is_dir() {
            self.revision.to_owned()
        } else {
            let refs = repo_dir.join("refs").join(self.revision);
            let commit = std::fs::read_to_string(&refs).map_err(|_| not_cached())?.trim().to_owned();
            if commit.is_empty() || !commit.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(HubError::Io {
                    path: refs,
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, "does not hold a commit sha"),
                });
            }
            commit
        };
        let dir = snapshots.join(&commit);
        if !dir.is_dir() {
            return Err(not_cached());
        }
        if let Some(file) = first_missing(&dir)? {
            return Err(HubError::MissingFile { dir, file, fix: self.offline_fix() });
        }
        Ok(ResolvedModel { dir, id: self.repo.into(), commit: Some(commit) })
    }

    /// The model after downloading what the cache lacks.
    fn download(&self) -> Result<ResolvedModel, HubError> {
        let api = ApiBuilder::from_cache(Cache::new(self.cache_dir.to_path_buf()))
            .with_endpoint(self.options.endpoint.clone())
            .with_token(self.options.token.clone())
            .with_progress(false)
            // Retried here instead: see the module documentation.
            .with_retries(0)
            .with_user_agent("gpt-oss", env!("CARGO_PKG_VERSION"))
            .build()
            .map_err(|e| self.api_error(e, "the file listing", 0))?;
        let listing = self.list(&api)?;
        let commit = listing.sha.clone();
        if !commit.bytes().all(|b| b.is_ascii_alphanumeric()) || commit.is_empty() {
            return Err(self.bad_answer(format!("commit `{commit}` in the file listing is not a sha")));
        }
        let top: HashMap<&str, &Sibling> =
            listing.siblings.iter().filter(|s| is_file_name(&s.rfilename)).map(|s| (s.rfilename.as_str(), s)).collect();
        let need = |file: &str| {
            top.get(file).copied().ok_or_else(|| HubError::IncompleteRepo {
                repo: self.repo.into(),
                revision: self.revision.into(),
                file: file.into(),
            })
        };
        let mut first = vec![need(CONFIG)?, need(TOKENIZER)?];
        first.extend(OPTIONAL.iter().filter_map(|file| top.get(file).copied()));
        let index = top.get(INDEX).copied();
        match index {
            Some(index) => first.push(index),
            None => first.push(need(SINGLE_WEIGHTS).map_err(|_| HubError::IncompleteRepo {
                repo: self.repo.into(),
                revision: self.revision.into(),
                file: format!("{SINGLE_WEIGHTS} (nor {INDEX})"),
            })?),
        }

        let api_repo = api.repo(Repo::with_revision(self.repo.into(), RepoType::Model, commit.clone()));
        let repo_dir = self.repo_dir();
        let snapshot = repo_dir.join("snapshots").join(&commit);
        for file in first {
            self.fetch(&api_repo, file, &repo_dir, &snapshot)?;
        }
        if index.is_some() {
            let shards = index_shards(&snapshot.join(INDEX))?;
            let shards = shards.iter().map(|shard| need(shard)).collect::<Result<Vec<_>, _>>()?;
            for shard in shards {
                self.fetch(&api_repo, shard, &repo_dir, &snapshot)?;
            }
        }

        // hf-hub wrote refs/<commit> (it downloaded at the commit);
        // huggingface_hub writes refs only for branch and tag names.
        let refs = repo_dir.join("refs");
        let _ = std::fs::remove_file(refs.join(&commit));
        if self.revision != commit {
            let path = refs.join(self.revision);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io_error(parent))?;
            }
            std::fs::write(&path, &commit).map_err(io_error(&path))?;
        }
        if let Some(file) = first_missing(&snapshot)? {
            return Err(HubError::MissingFile { dir: snapshot, file, fix: "download it again".into() });
        }
        Ok(ResolvedModel { dir: snapshot, id: self.repo.into(), commit: Some(commit) })
    }

    fn list(&self, api: &hf_hub::api::sync::Api) -> Result<Listing, HubError> {
        let request = api
            .repo(Repo::with_revision(self.repo.into(), RepoType::Model, self.revision.into()))
            .info_request()
            .query("blobs", "true");
        let response = request.call().map_err(|e| self.request_error(e, None))?;
        response.into_json().map_err(|e| self.bad_answer(format!("unreadable file listing ({e})")))
    }

    /// Makes `snapshot/<file>` hold `file` as the listing describes it.
    fn fetch(&self, api: &ApiRepo, file: &Sibling, repo_dir: &Path, snapshot: &Path) -> Result<(), HubError> {
        let name = file.rfilename.as_str();
        let size = file.size();
        let pointer = snapshot.join(name);
        if has_size(&pointer, size) {
            tracing::info!("{name}: in the cache");
            return Ok(());
        }
        if pointer.symlink_metadata().is_ok() {
            tracing::warn!("{}: wrong size or dangling link, downloading it again", pointer.display());
            std::fs::remove_file(&pointer).map_err(io_error(&pointer))?;
        }
        let part = file
            .etag()
            .filter(|etag| is_file_name(etag))
            .map(|etag| (repo_dir.join("blobs").join(etag), repo_dir.join("blobs").join(format!("{etag}.part"))));
        if let Some((blob, _)) = &part
            && has_size(blob, size)
            && link_blob(blob, &pointer).is_ok()
        {
            tracing::info!("{name}: in the cache (from another snapshot)");
            return Ok(());
        }
        let (mut retries, mut restarted) = (0, false);
        loop {
            // hf-hub asks for `bytes=<len>-`: from a part as long as the file
            // that is a 416 every time, from a longer one an error.
            if let (Some((_, part)), Some(size)) = (&part, size)
                && let Ok(meta) = part.metadata()
                && meta.len() >= size
            {
                tracing::warn!("{}: {} bytes of {size}, starting over", part.display(), meta.len());
                std::fs::remove_file(part).map_err(io_error(part))?;
            }
            let progress = FileProgress::new(name, self.options.progress);
            let path = match api.download_with_progress(name, progress) {
                Ok(path) => path,
                Err(error) if retries < RETRIES && is_transient(&error) => {
                    retries += 1;
                    let wait = Duration::from_millis(250 << retries);
                    tracing::warn!("{name}: {error}; resuming in {wait:?} ({retries}/{RETRIES})");
                    std::thread::sleep(wait);
                    continue;
                }
                Err(error) => return Err(self.api_error(error, name, retries)),
            };
            let Some(size) = size else { return Ok(()) };
            let got = std::fs::metadata(&path).map_err(io_error(&path))?.len();
            if got == size {
                return Ok(());
            }
            // A server that ignored `Range` appended a whole file to a part.
            // (Where hf-hub cannot symlink, it moved the blob to `path`.)
            let blob = std::fs::canonicalize(&path).map_err(io_error(&path))?;
            for path in [blob, path] {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_error(&path)(e)),
                    _ => {}
                }
            }
            if std::mem::replace(&mut restarted, true) {
                return Err(HubError::Download {
                    repo: self.repo.into(),
                    file: name.into(),
                    reason: format!("{got} bytes arrived twice where the listing says {size}"),
                });
            }
            tracing::warn!("{name}: {got} bytes downloaded, {size} expected; downloading it again from the start");
        }
    }

    fn bad_answer(&self, reason: String) -> HubError {
        HubError::BadAnswer { endpoint: self.options.endpoint.clone(), reason }
    }

    /// The error for a failed request; `file` is `None` for the listing.
    fn request_error(&self, error: ureq::Error, file: Option<&str>) -> HubError {
        let endpoint = self.options.endpoint.clone();
        let repo = self.repo.to_owned();
        let response = match error {
            ureq::Error::Status(_, response) => response,
            ureq::Error::Transport(transport) => {
                let hint = match self.cached() {
                    Ok(model) => format!(
                        "{repo} is in the cache ({}): set HF_HUB_OFFLINE=1 (or pass --offline) to use it \
                         without the network",
                        model.dir.display()
                    ),
                    Err(_) => "Check the connection and any HTTPS_PROXY, set HF_ENDPOINT to a reachable mirror, \
                               or pass a local model directory to --model"
                        .to_owned(),
                };
                return HubError::Network { endpoint, reason: transport.to_string(), hint };
            }
        };
        let status = response.status();
        let code = response.header("x-error-code").unwrap_or_default().to_owned();
        let message = response.header("x-error-message").map(|m| format!(": {m}")).unwrap_or_default();
        let url = response.get_url().to_owned();
        let token = self.options.token.is_some();
        match (code.as_str(), status) {
            ("GatedRepo", _) | ("", 401 | 403) => {
                let page = format!("{endpoint}/{repo}");
                let hint = if token {
                    format!(
                        "the token (HF_TOKEN) does not grant access; accept the repo's terms at {page}, or use a token with read access to it"
                    )
                } else {
                    format!(
                        "the repo is gated or private; accept its terms at {page} if it asks, then set HF_TOKEN to an access token ({endpoint}/settings/tokens)"
                    )
                };
                HubError::AccessDenied { endpoint, repo, status, hint }
            }
            ("RepoNotFound", _) | ("", 404) if file.is_none() => {
                let revision = if code.is_empty() && self.revision != DEFAULT_REVISION {
                    format!(" with a revision `{}`", self.revision)
                } else {
                    String::new()
                };
                let private = if token { "" } else { " (or it is private: set HF_TOKEN)" };
                let hint = format!(
                    "{revision}{private}; if `{repo}` is a local directory, it does not exist (write ./{repo} to say so)"
                );
                HubError::RepoNotFound { endpoint, repo, hint }
            }
            ("RevisionNotFound", _) => HubError::RevisionNotFound { endpoint, repo, revision: self.revision.into() },
            _ => HubError::Http { url, status, message },
        }
    }

    fn api_error(&self, error: ApiError, file: &str, retries: usize) -> HubError {
        let download = |reason: String| HubError::Download { repo: self.repo.into(), file: file.into(), reason };
        let after = if retries > 0 { format!(" (after {retries} retries)") } else { String::new() };
        match error {
            ApiError::RequestError(error) => match self.request_error(*error, Some(file)) {
                HubError::Network { endpoint, reason, hint } => {
                    HubError::Network { endpoint, reason: format!("{reason}{after}"), hint }
                }
                other => other,
            },
            ApiError::LockAcquisition(path) => HubError::Locked { path },
            ApiError::IoError(error) => {
                download(format!("{error}{after}; what arrived is kept and the next run resumes from there"))
            }
            other => download(other.to_string()),
        }
    }
}

/// A failure worth resuming after: the connection, the body, or the server.
fn is_transient(error: &ApiError) -> bool {
    match error {
        ApiError::IoError(_) => true,
        ApiError::RequestError(error) => match error.as_ref() {
            ureq::Error::Transport(_) => true,
            ureq::Error::Status(status, _) => *status >= 500 || *status == 429,
        },
        _ => false,
    }
}

/// `path` is a file (after links) of `size` bytes, when the size is known.
fn has_size(path: &Path, size: Option<u64>) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && size.is_none_or(|size| meta.len() == size))
}

/// Points `pointer` (`snapshots/<sha>/<file>`) at `blob` (`blobs/<etag>`)
/// with a relative symlink, as huggingface_hub does.
#[cfg(unix)]
fn link_blob(blob: &Path, pointer: &Path) -> std::io::Result<()> {
    let etag = blob.file_name().ok_or(std::io::ErrorKind::InvalidInput)?;
    if let Some(parent) = pointer.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::os::unix::fs::symlink(Path::new("../../blobs").join(etag), pointer)
}

#[cfg(not(unix))]
fn link_blob(_blob: &Path, _pointer: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// The answer of `GET /api/models/<repo>/revision/<revision>?blobs=true`.
#[derive(Deserialize)]
struct Listing {
    sha: String,
    #[serde(default)]
    siblings: Vec<Sibling>,
}

#[derive(Deserialize)]
struct Sibling {
    rfilename: String,
    #[serde(rename = "blobId")]
    blob_id: Option<String>,
    size: Option<u64>,
    lfs: Option<Lfs>,
}

#[derive(Deserialize)]
struct Lfs {
    sha256: String,
    size: u64,
}

impl Sibling {
    fn size(&self) -> Option<u64> {
        self.lfs.as_ref().map(|lfs| lfs.size).or(self.size)
    }

    /// The blob name hf-hub stores the file under: the `X-Linked-Etag` (LFS
    /// sha256) or `ETag` (git blob id) the hub answers with.
    fn etag(&self) -> Option<&str> {
        self.lfs.as_ref().map(|lfs| lfs.sha256.as_str()).or(self.blob_id.as_deref())
    }
}

/// One file's download progress: a bar on a terminal, log lines elsewhere.
struct FileProgress {
    file: String,
    bar: Option<ProgressBar>,
    total: u64,
    done: u64,
    /// hf-hub calls `update(offset)` right after `init` when it resumes.
    fresh: bool,
    started: Instant,
    logged: Option<Instant>,
}

impl FileProgress {
    fn new(file: &str, progress: bool) -> Self {
        let bar = (progress && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0).with_message(file.to_owned());
            if let Ok(style) = ProgressStyle::with_template(
                "{msg:28} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        FileProgress { file: file.into(), bar, total: 0, done: 0, fresh: true, started: Instant::now(), logged: None }
    }
}

impl Progress for FileProgress {
    fn init(&mut self, size: usize, _filename: &str) {
        self.total = size as u64;
        self.done = 0;
        self.fresh = true;
        if let Some(bar) = &self.bar {
            bar.set_length(self.total);
            bar.set_position(0);
        } else if self.logged.is_none() {
            tracing::info!("downloading {} ({})", self.file, HumanBytes(self.total));
            self.logged = Some(Instant::now());
        }
    }

    fn update(&mut self, size: usize) {
        self.done += size as u64;
        if std::mem::take(&mut self.fresh) && size > 0 {
            tracing::info!("{}: resuming at {} of {}", self.file, HumanBytes(self.done), HumanBytes(self.total));
            if let Some(bar) = &self.bar {
                bar.set_position(self.done);
                bar.reset_eta();
            }
            return;
        }
        match &self.bar {
            Some(bar) => bar.inc(size as u64),
            None if self.logged.is_some_and(|at| at.elapsed() >= LOG_EVERY) => {
                let percent = self.done as f64 * 100.0 / self.total.max(1) as f64;
                tracing::info!(
                    "{}: {} of {} ({percent:.0}%)",
                    self.file,
                    HumanBytes(self.done),
                    HumanBytes(self.total)
                );
                self.logged = Some(Instant::now());
            }
            None => {}
        }
    }

    fn finish(&mut self) {
        match &self.bar {
            Some(bar) => bar.finish(),
            None => tracing::info!("downloaded {} in {}", self.file, HumanDuration(self.started.elapsed())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(repo: &str, revision: &str) -> ModelSource {
        ModelSource::Hub { repo: repo.into(), revision: revision.into() }
    }

    fn parse(arg: &str) -> Result<ModelSource, HubError> {
        ModelSource::parse_with_home(arg, Some(Path::new("/home/me")))
    }

    #[test]
    fn parse_repo_ids_and_revisions() {
        assert_eq!(parse("openai/gpt-oss-20b").ok(), Some(hub("openai/gpt-oss-20b", "main")));
        assert_eq!(parse("openai/gpt-oss-120b@v1.0").ok(), Some(hub("openai/gpt-oss-120b", "v1.0")));
        assert_eq!(parse("openai/gpt-oss-20b@refs/pr/3").ok(), Some(hub("openai/gpt-oss-20b", "refs/pr/3")));
        let sha = "d666cf3b67006cf8227666739edf25164aaffdeb";
        assert_eq!(parse(&format!("openai/gpt-oss-20b@{sha}")).ok(), Some(hub("openai/gpt-oss-20b", sha)));
        assert_eq!(parse(DEFAULT_MODEL).ok(), Some(hub(DEFAULT_MODEL, DEFAULT_REVISION)));
    }

    #[test]
    fn parse_paths() {
        let local = |p: &str| Some(ModelSource::Local(PathBuf::from(p)));
        assert_eq!(parse("/models/gpt-oss-20b").ok(), local("/models/gpt-oss-20b"));
        assert_eq!(parse("./openai/gpt-oss-20b").ok(), local("./openai/gpt-oss-20b"));
        assert_eq!(parse("../gpt-oss").ok(), local("../gpt-oss"));
        assert_eq!(parse(".").ok(), local("."));
        assert_eq!(parse("~/models/gpt-oss-20b").ok(), local("/home/me/models/gpt-oss-20b"));
        assert_eq!(parse("~").ok(), local("/home/me"));
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_str().unwrap();
        assert_eq!(parse(dir).ok(), local(dir));
        // An existing relative directory shaped like a repo id is a directory.
        assert_eq!(parse("src").ok(), local("src"));
    }

    #[test]
    fn parse_rejects() {
        for arg in [
            "",
            "  ",
            "gpt-oss-20b",
            "openai/gpt-oss/20b",
            "openai/",
            "openai/gpt oss",
            "openai/gpt-oss-20b@",
            "openai/gpt-oss-20b@../../x",
            "openai/-gpt",
            "open--ai/gpt",
            "~other/models",
        ] {
            match parse(arg) {
                Err(HubError::InvalidModel { .. }) => {}
                other => panic!("{arg:?} gave {other:?}"),
            }
        }
        let message = parse("gpt-oss-20b").unwrap_err().to_string();
        assert!(message.contains("owner/name") && message.contains("openai/gpt-oss-20b?"), "{message}");
        assert!(ModelSource::parse_with_home("~/x", None).is_err());
    }

    #[test]
    fn display_round_trips() {
        for arg in ["openai/gpt-oss-20b", "openai/gpt-oss-20b@refs/pr/1", "/models/x"] {
            assert_eq!(parse(arg).unwrap().to_string(), arg);
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    fn options(pairs: &[(&str, &str)]) -> HubOptions {
        HubOptions::from_vars(vars(pairs), Some(Path::new("/home/me")))
    }

    #[test]
    fn cache_dir_precedence() {
        let dir = |pairs: &[(&str, &str)]| options(pairs).cache_dir;
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(dir(&[]), p("/home/me/.cache/huggingface/hub"));
        assert_eq!(dir(&[("XDG_CACHE_HOME", "/xdg")]), p("/xdg/huggingface/hub"));
        assert_eq!(dir(&[("XDG_CACHE_HOME", "/xdg"), ("HF_HOME", "/hf")]), p("/hf/hub"));
        assert_eq!(dir(&[("HF_HOME", "~/hf")]), p("/home/me/hf/hub"));
        assert_eq!(dir(&[("HF_HOME", "/hf"), ("HUGGINGFACE_HUB_CACHE", "/old")]), p("/old"));
        assert_eq!(dir(&[("HF_HOME", "/hf"), ("HUGGINGFACE_HUB_CACHE", "/old"), ("HF_HUB_CACHE", "/new")]), p("/new"));
        // Empty values count as unset, as in huggingface_hub.
        assert_eq!(dir(&[("HF_HOME", ""), ("HF_HUB_CACHE", "")]), p("/home/me/.cache/huggingface/hub"));
        assert_eq!(HubOptions::from_vars(vars(&[]), None).cache_dir, None);
        assert_eq!(HubOptions::from_vars(vars(&[("HF_HOME", "/hf")]), None).cache_dir, p("/hf/hub"));
    }

    #[test]
    fn offline_endpoint_and_token() {
        assert!(!options(&[]).offline);
        for value in ["1", "ON", "yes", "True"] {
            assert!(options(&[("HF_HUB_OFFLINE", value)]).offline, "{value}");
        }
        assert!(options(&[("TRANSFORMERS_OFFLINE", "1")]).offline);
        assert!(!options(&[("HF_HUB_OFFLINE", "0")]).offline);
        assert_eq!(options(&[]).endpoint, DEFAULT_ENDPOINT);
        assert_eq!(options(&[("HF_ENDPOINT", "https://hf-mirror.com/")]).endpoint, "https://hf-mirror.com");

        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().to_str().unwrap();
        std::fs::write(tmp.path().join("token"), "hf_file\n").unwrap();
        assert_eq!(options(&[("HF_HOME", home)]).token.as_deref(), Some("hf_file"));
        assert_eq!(options(&[("HF_HOME", home), ("HF_TOKEN", "hf_env")]).token.as_deref(), Some("hf_env"));
        let path = tmp.path().join("elsewhere");
        std::fs::write(&path, "hf_path").unwrap();
        let path = path.to_str().unwrap();
        assert_eq!(options(&[("HF_HOME", home), ("HF_TOKEN_PATH", path)]).token.as_deref(), Some("hf_path"));
        assert_eq!(options(&[("HF_HOME", "/nonexistent")]).token, None);
    }

    const SHARDS: [&str; 2] = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];

    fn write_index(dir: &Path) {
        let index = serde_json::json!({
            "metadata": {},
            "weight_map": {"a": SHARDS[0], "b": SHARDS[1], "c": SHARDS[1]}
        });
        std::fs::write(dir.join(INDEX), index.to_string()).unwrap();
    }

    fn model_dir(files: &[&str]) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        for file in files {
            std::fs::write(tmp.path().join(file), "{}").unwrap();
        }
        tmp
    }

    fn missing_file(result: Result<ResolvedModel, HubError>) -> String {
        match result {
            Err(HubError::MissingFile { file, .. }) => file,
            other => panic!("expected a missing file, got {other:?}"),
        }
    }

    #[test]
    fn local_directories() {
        let tmp = model_dir(&[CONFIG, TOKENIZER, SINGLE_WEIGHTS]);
        let model = resolve(&ModelSource::Local(tmp.path().into()), &HubOptions::default()).unwrap();
        assert_eq!(model.dir, std::fs::canonicalize(tmp.path()).unwrap());
        assert_eq!(Some(model.id.as_str()), tmp.path().file_name().and_then(|n| n.to_str()));
        assert_eq!(model.commit, None);

        let local = |tmp: &tempfile::TempDir| resolve(&ModelSource::Local(tmp.path().into()), &HubOptions::default());
        assert_eq!(missing_file(local(&model_dir(&[CONFIG, SINGLE_WEIGHTS]))), TOKENIZER);
        assert_eq!(missing_file(local(&model_dir(&[TOKENIZER, SINGLE_WEIGHTS]))), CONFIG);
        let no_weights = missing_file(local(&model_dir(&[CONFIG, TOKENIZER])));
        assert!(no_weights.contains(SINGLE_WEIGHTS), "{no_weights}");
        let message = local(&model_dir(&[CONFIG, SINGLE_WEIGHTS])).unwrap_err().to_string();
        assert!(message.contains("has no tokenizer.json"), "{message}");

        let sharded = model_dir(&[CONFIG, TOKENIZER, SHARDS[0]]);
        write_index(sharded.path());
        assert_eq!(missing_file(local(&sharded)), SHARDS[1]);
        std::fs::write(sharded.path().join(SHARDS[1]), "").unwrap();
        assert!(local(&sharded).is_ok());

        let bad = model_dir(&[CONFIG, TOKENIZER]);
        std::fs::write(bad.path().join(INDEX), r#"{"weight_map": {"a": "../escape.safetensors"}}"#).unwrap();
        assert!(matches!(local(&bad), Err(HubError::BadIndex { .. })));
        std::fs::write(bad.path().join(INDEX), "not json").unwrap();
        assert!(matches!(local(&bad), Err(HubError::BadIndex { .. })));

        let gone = tmp.path().join("nope");
        assert!(matches!(
            resolve(&ModelSource::Local(gone), &HubOptions::default()),
            Err(HubError::NoSuchDirectory { .. })
        ));
        let file = tmp.path().join(CONFIG);
        assert!(matches!(
            resolve(&ModelSource::Local(file), &HubOptions::default()),
            Err(HubError::NotADirectory { .. })
        ));
    }

    const SHA: &str = "d666cf3b67006cf8227666739edf25164aaffdeb";

    /// A cache laid out as huggingface_hub lays it out: refs/main, blobs,
    /// and snapshot entries that are relative symlinks (files elsewhere).
    fn fake_cache(files: &[&str]) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("models--openai--gpt-oss-20b");
        let snapshot = repo.join("snapshots").join(SHA);
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::create_dir_all(repo.join("blobs")).unwrap();
        std::fs::create_dir_all(&snapshot).unwrap();
        std::fs::write(repo.join("refs").join("main"), SHA).unwrap();
        for (i, file) in files.iter().enumerate() {
            let etag = format!("{i:064x}");
            let contents = if *file == INDEX {
                serde_json::json!({"weight_map": {"a": SHARDS[0], "b": SHARDS[1]}}).to_string()
            } else {
                "{}".into()
            };
            std::fs::write(repo.join("blobs").join(&etag), contents).unwrap();
            #[cfg(unix)]
            std::os::unix::fs::symlink(Path::new("../../blobs").join(&etag), snapshot.join(file)).unwrap();
            #[cfg(not(unix))]
            std::fs::copy(repo.join("blobs").join(&etag), snapshot.join(file)).unwrap();
        }
        (tmp, snapshot)
    }

    fn offline(cache: &Path) -> HubOptions {
        HubOptions {
            offline: true,
            cache_dir: Some(cache.into()),
            // Unreachable: offline resolution must not try it.
            endpoint: "http://127.0.0.1:9".into(),
            ..HubOptions::default()
        }
    }

    #[test]
    fn offline_from_the_cache() {
        let files = [CONFIG, "generation_config.json", TOKENIZER, INDEX, SHARDS[0], SHARDS[1]];
        let (cache, snapshot) = fake_cache(&files);
        let model = resolve(&hub(DEFAULT_MODEL, "main"), &offline(cache.path())).unwrap();
        assert_eq!(model, ResolvedModel { dir: snapshot.clone(), id: DEFAULT_MODEL.into(), commit: Some(SHA.into()) });
        // A full commit sha names the snapshot without a ref.
        let by_sha = resolve(&hub(DEFAULT_MODEL, SHA), &offline(cache.path())).unwrap();
        assert_eq!(by_sha.dir, snapshot);
        // refs written with a trailing newline still work.
        let refs = cache.path().join("models--openai--gpt-oss-20b/refs/main");
        std::fs::write(&refs, format!("{SHA}\n")).unwrap();
        assert!(resolve(&hub(DEFAULT_MODEL, "main"), &offline(cache.path())).is_ok());
    }

    #[test]
    fn offline_missing_pieces() {
        let (cache, _) = fake_cache(&[CONFIG, TOKENIZER, INDEX, SHARDS[0]]);
        let error = resolve(&hub(DEFAULT_MODEL, "main"), &offline(cache.path())).unwrap_err();
        let message = error.to_string();
        assert!(matches!(&error, HubError::MissingFile { file, .. } if file == SHARDS[1]), "{message}");
        for hint in ["HF_HUB_OFFLINE", "hf download openai/gpt-oss-20b --exclude 'original/*'", "local model directory"]
        {
            assert!(message.contains(hint), "{message}");
        }

        // Not cached at all, or at another revision.
        let error = resolve(&hub("openai/gpt-oss-120b", "main"), &offline(cache.path())).unwrap_err();
        assert!(matches!(error, HubError::NotCached { .. }), "{error}");
        assert!(error.to_string().contains("hf download openai/gpt-oss-120b --exclude"), "{error}");
        let error = resolve(&hub(DEFAULT_MODEL, "v2"), &offline(cache.path())).unwrap_err();
        assert!(error.to_string().contains("--revision v2"), "{error}");

        // A dangling snapshot link is a missing file.
        #[cfg(unix)]
        {
            let (cache, _) = fake_cache(&[CONFIG, TOKENIZER, SINGLE_WEIGHTS]);
            let blobs = cache.path().join("models--openai--gpt-oss-20b/blobs");
            std::fs::remove_file(blobs.join(format!("{:064x}", 1))).unwrap();
            assert_eq!(missing_file(resolve(&hub(DEFAULT_MODEL, "main"), &offline(cache.path()))), TOKENIZER);
        }
    }

    #[test]
    fn no_cache_dir() {
        let options = HubOptions { offline: true, ..HubOptions::default() };
        assert!(matches!(resolve(&hub(DEFAULT_MODEL, "main"), &options), Err(HubError::NoCacheDir)));
    }

    #[test]
    fn file_names() {
        assert!(is_file_name("model-00001-of-00002.safetensors"));
        for name in ["", ".", "..", "a/b", "/a", "..\\a", "original/model.safetensors"] {
            assert!(!is_file_name(name), "{name}");
        }
    }
}

/// Downloads from a fake hub: a thread serving the listing API and file
/// `GET`s (with `Range`) over a local socket, with faults to inject.
#[cfg(test)]
mod download_tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};

    use super::*;

    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
    const SHARDS: [&str; 2] = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
    const WANTED: [&str; 9] = [
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
    const UNWANTED: [&str; 6] = [
        "model-99999-of-99999.safetensors",
        "original/model.safetensors",
        "metal/model.bin",
        "README.md",
        "LICENSE",
        ".gitattributes",
    ];

    struct RepoFile {
        name: String,
        data: Vec<u8>,
        lfs: bool,
        etag: String,
    }

    fn bytes(n: usize, seed: usize) -> Vec<u8> {
        (0..n).map(|i| (i.wrapping_mul(31) ^ (i >> 9) ^ seed) as u8).collect()
    }

    /// gpt-oss-20b's top level, in miniature, plus folders never to fetch.
    fn repo_files() -> Vec<RepoFile> {
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
    struct Faults {
        /// Cut the body of the next `.2` downloads of file `.0` after `.1` bytes.
        cut: Option<(String, usize, usize)>,
        /// Answer the next resumed download of this file with all of it (200).
        ignore_range: Option<String>,
        /// Answer the listing with this status and `X-Error-Code`.
        listing: Option<(u16, &'static str)>,
        /// Answer the next download of file `.0` with status `.1`.
        fail: Option<(String, u16)>,
    }

    #[derive(Debug, Clone)]
    struct Request {
        path: String,
        range: String,
        auth: String,
    }

    struct FakeHub {
        endpoint: String,
        requests: Arc<Mutex<Vec<Request>>>,
        faults: Arc<Mutex<Faults>>,
    }

    impl FakeHub {
        fn start(commit: &'static str, files: Vec<RepoFile>) -> FakeHub {
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

        fn requests(&self) -> Vec<Request> {
            self.requests.lock().unwrap().clone()
        }

        /// The `Range` headers of the downloads of `file`, probes left out.
        fn ranges(&self, file: &str) -> Vec<String> {
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

    /// ureq reads proxies from the environment and ignores NO_PROXY: with
    /// one set, requests to the fake hub would go to the proxy.
    fn proxied() -> bool {
        let set = ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
            .iter()
            .any(|name| std::env::var_os(name).is_some());
        if set {
            eprintln!("skipped: a proxy variable is set, and the fake hub is local");
        }
        set
    }

    fn online(cache: &Path, hub: &FakeHub) -> HubOptions {
        HubOptions {
            offline: false,
            cache_dir: Some(cache.into()),
            token: None,
            endpoint: hub.endpoint.clone(),
            progress: false,
        }
    }

    fn gpt_oss() -> ModelSource {
        ModelSource::Hub { repo: DEFAULT_MODEL.into(), revision: DEFAULT_REVISION.into() }
    }

    fn repo_dir(cache: &Path) -> PathBuf {
        cache.join("models--openai--gpt-oss-20b")
    }

    fn shard(files: &[RepoFile], i: usize) -> &RepoFile {
        files.iter().find(|f| f.name == SHARDS[i]).unwrap()
    }

    /// Leaves the cache as a run killed `len` bytes into shard 0 leaves it.
    fn kill_shard_download(cache: &Path, files: &[RepoFile], len: usize) -> PathBuf {
        let file = shard(files, 0);
        let blobs = repo_dir(cache).join("blobs");
        std::fs::remove_file(blobs.join(&file.etag)).unwrap();
        std::fs::remove_file(repo_dir(cache).join("snapshots").join(COMMIT).join(SHARDS[0])).unwrap();
        let part = blobs.join(format!("{}.part", file.etag));
        std::fs::write(&part, &file.data[..len]).unwrap();
        part
    }

    fn assert_complete(dir: &Path, files: &[RepoFile]) {
        for file in files.iter().filter(|f| WANTED.contains(&f.name.as_str())) {
            let got = std::fs::read(dir.join(&file.name)).unwrap();
            assert!(got == file.data, "{} differs: {} bytes, {} expected", file.name, got.len(), file.data.len());
        }
    }

    #[test]
    fn downloads_only_what_the_model_needs() {
        if proxied() {
            return;
        }
        let hub = FakeHub::start(COMMIT, repo_files());
        let cache = tempfile::tempdir().unwrap();
        let model = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
        let snapshot = repo_dir(cache.path()).join("snapshots").join(COMMIT);
        assert_eq!(
            model,
            ResolvedModel { dir: snapshot.clone(), id: DEFAULT_MODEL.into(), commit: Some(COMMIT.into()) }
        );
        let files = repo_files();
        assert_complete(&snapshot, &files);
        for name in UNWANTED {
            assert!(!snapshot.join(name).exists(), "{name} was downloaded");
            assert!(hub.requests().iter().all(|r| !r.path.ends_with(name)), "{name} was requested");
        }
        // Downloads are at the listed commit; refs as huggingface_hub writes them.
        assert!(hub.requests().iter().skip(1).all(|r| r.path.contains(&format!("/resolve/{COMMIT}/"))));
        let refs = repo_dir(cache.path()).join("refs");
        assert_eq!(std::fs::read_to_string(refs.join("main")).unwrap(), COMMIT);
        assert!(!refs.join(COMMIT).exists());
        #[cfg(unix)]
        {
            let link = std::fs::read_link(snapshot.join(SHARDS[0])).unwrap();
            assert_eq!(link, Path::new("../../blobs").join(&shard(&files, 0).etag));
        }
        assert_eq!(first_missing(&snapshot).unwrap(), None);

        // Found offline, and online with one listing request and no download.
        let options = online(cache.path(), &hub);
        assert_eq!(resolve(&gpt_oss(), &HubOptions { offline: true, ..options.clone() }).unwrap(), model);
        let before = hub.requests().len();
        assert_eq!(resolve(&gpt_oss(), &options).unwrap(), model);
        let after = hub.requests();
        assert_eq!(after.len(), before + 1);
        assert!(after[before].path.starts_with("/api/models/"));
    }

    #[test]
    fn resumes_a_killed_download() {
        if proxied() {
            return;
        }
        let hub = FakeHub::start(COMMIT, repo_files());
        let cache = tempfile::tempdir().unwrap();
        let files = repo_files();
        resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
        let part = kill_shard_download(cache.path(), &files, 123_457);
        let model = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
        assert_eq!(hub.ranges(SHARDS[0]), ["bytes=0-", "bytes=123457-"]);
        assert_complete(&model.dir, &files);
        assert!(!part.exists());
    }

    #[test]
    fn resumes_a_cut_connection_in_place_and_across_runs() {
        if proxied() {
            return;
        }
        let hub = FakeHub::start(COMMIT, repo_files());
        let cache = tempfile::tempdir().unwrap();
        let files = repo_files();
        // Every response for shard 0 stops after 40 000 bytes: hf-hub resumes
        // it in place, then gives up, keeping what arrived.
        hub.faults.lock().unwrap().cut = Some((SHARDS[0].into(), 40_000, usize::MAX));
        let error = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap_err();
        assert!(matches!(error, HubError::Download { ref file, .. } if file == SHARDS[0]), "{error}");
        assert!(error.to_string().contains("resumes"), "{error}");
        let ranges = hub.ranges(SHARDS[0]);
        assert!(ranges.len() > RETRIES, "{ranges:?}");
        for (i, range) in ranges.iter().enumerate() {
            assert_eq!(range, &format!("bytes={}-", i * 40_000));
        }
        let part = repo_dir(cache.path()).join("blobs").join(format!("{}.part", shard(&files, 0).etag));
        let kept = std::fs::metadata(&part).unwrap().len();
        assert_eq!(kept as usize, ranges.len() * 40_000);
        // refs/main is written only once the snapshot is complete.
        assert!(!repo_dir(cache.path()).join("refs").join("main").exists());

        hub.faults.lock().unwrap().cut = None;
        let model = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
        assert_eq!(hub.ranges(SHARDS[0]).last(), Some(&format!("bytes={kept}-")));
        assert_complete(&model.dir, &files);
    }

    #[test]
    fn a_failed_resume_request_resumes_again() {
        if proxied() {
            return;
        }
        let hub = FakeHub::start(COMMIT, repo_files());
        let cache = tempfile::tempdir().unwrap();
        let files = repo_files();
        resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
        kill_shard_download(cache.path(), &files, 100_000);
        hub.faults.lock().unwrap().fail = Some((SHARDS[0].into(), 503));
        let model = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
        // hf-hub's own retry would have asked for bytes=0- and appended.
        assert_eq!(hub.ranges(SHARDS[0]), ["bytes=0-", "bytes=100000-", "bytes=100000-"]);
        assert_complete(&model.dir, &files);

        // A client error is not retried.
        kill_shard_download(cache.path(), &files, 100_000);
        hub.faults.lock().unwrap().fail = Some((SHARDS[0].into(), 403));
        let error = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap_err();
        assert!(matches!(error, HubError::AccessDenied { status: 403, .. }), "{error}");
        assert_eq!(hub.ranges(SHARDS[0]).len(), 4);
    }

    #[test]
    fn a_server_ignoring_range_does_not_corrupt_the_file() {
        if proxied() {
            return;
        }
        let hub = FakeHub::start(COMMIT, repo_files());
        let cache = tempfile::tempdir().unwrap();
        let files = repo_files();
        resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
        kill_shard_download(cache.path(), &files, 100_000);
        hub.faults.lock().unwrap().ignore_range = Some(SHARDS[0].into());
        let model = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
        // hf-hub appended the whole file to the part; it was caught and fetched again.
        assert_eq!(hub.ranges(SHARDS[0]), ["bytes=0-", "bytes=100000-", "bytes=0-"]);
        assert_complete(&model.dir, &files);
    }

    #[test]
    fn a_complete_or_overlong_part_file_starts_over() {
        if proxied() {
            return;
        }
        let hub = FakeHub::start(COMMIT, repo_files());
        let cache = tempfile::tempdir().unwrap();
        let files = repo_files();
        resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
        let size = shard(&files, 0).data.len();
        for extra in [0, 10] {
            let part = kill_shard_download(cache.path(), &files, size);
            let mut data = std::fs::read(&part).unwrap();
            data.extend(std::iter::repeat_n(7, extra));
            std::fs::write(&part, data).unwrap();
            let model = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
            assert_eq!(hub.ranges(SHARDS[0]).last().map(String::as_str), Some("bytes=0-"));
            assert_complete(&model.dir, &files);
        }
    }

    #[test]
    fn a_new_commit_reuses_unchanged_blobs() {
        if proxied() {
            return;
        }
        let cache = tempfile::tempdir().unwrap();
        let files = repo_files();
        let old = FakeHub::start(COMMIT, repo_files());
        resolve(&gpt_oss(), &online(cache.path(), &old)).unwrap();
        let new_commit = "fedcba9876543210fedcba9876543210fedcba98";
        let new = FakeHub::start(new_commit, repo_files());
        let model = resolve(&gpt_oss(), &online(cache.path(), &new)).unwrap();
        assert_eq!(model.commit.as_deref(), Some(new_commit));
        assert!(new.requests().iter().all(|r| !r.path.contains("safetensors")), "weights downloaded again");
        assert_complete(&model.dir, &files);
        let refs = repo_dir(cache.path()).join("refs").join("main");
        assert_eq!(std::fs::read_to_string(refs).unwrap(), new_commit);
    }

    #[test]
    fn incomplete_repos_fail_before_downloading_weights() {
        if proxied() {
            return;
        }
        let cache = tempfile::tempdir().unwrap();
        let no_tokenizer: Vec<_> = repo_files().into_iter().filter(|f| f.name != TOKENIZER).collect();
        let hub = FakeHub::start(COMMIT, no_tokenizer);
        let error = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap_err();
        assert!(matches!(error, HubError::IncompleteRepo { ref file, .. } if file == TOKENIZER), "{error}");
        assert_eq!(hub.requests().len(), 1);

        let no_shard: Vec<_> = repo_files().into_iter().filter(|f| f.name != SHARDS[1]).collect();
        let hub = FakeHub::start(COMMIT, no_shard);
        let error = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap_err();
        assert!(matches!(error, HubError::IncompleteRepo { ref file, .. } if file == SHARDS[1]), "{error}");
        assert!(hub.ranges(SHARDS[0]).is_empty());
    }

    #[test]
    fn hub_errors_say_what_to_do() {
        if proxied() {
            return;
        }
        let cache = tempfile::tempdir().unwrap();
        let hub = FakeHub::start(COMMIT, repo_files());
        let mut options = online(cache.path(), &hub);
        options.token = Some("hf_secret".into());
        hub.faults.lock().unwrap().listing = Some((401, "GatedRepo"));
        let error = resolve(&gpt_oss(), &options).unwrap_err();
        assert!(matches!(error, HubError::AccessDenied { status: 401, .. }), "{error}");
        assert!(error.to_string().contains("HF_TOKEN"), "{error}");
        assert_eq!(hub.requests()[0].auth, "Bearer hf_secret");

        options.token = None;
        hub.faults.lock().unwrap().listing = Some((403, ""));
        let error = resolve(&gpt_oss(), &options).unwrap_err().to_string();
        assert!(error.contains("gated or private") && error.contains("set HF_TOKEN"), "{error}");

        hub.faults.lock().unwrap().listing = Some((401, "RepoNotFound"));
        let error = resolve(&gpt_oss(), &options).unwrap_err();
        assert!(matches!(error, HubError::RepoNotFound { .. }), "{error}");
        assert!(error.to_string().contains("./openai/gpt-oss-20b"), "{error}");

        hub.faults.lock().unwrap().listing = Some((404, "RevisionNotFound"));
        let v9 = ModelSource::Hub { repo: DEFAULT_MODEL.into(), revision: "v9".into() };
        let error = resolve(&v9, &options).unwrap_err();
        assert!(matches!(error, HubError::RevisionNotFound { ref revision, .. } if revision == "v9"), "{error}");
    }

    #[test]
    fn no_network_names_the_endpoint_and_the_cache() {
        if proxied() {
            return;
        }
        let dead = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", dead.local_addr().unwrap());
        drop(dead);
        let cache = tempfile::tempdir().unwrap();
        let options =
            HubOptions { cache_dir: Some(cache.path().into()), endpoint: endpoint.clone(), ..HubOptions::default() };
        let error = resolve(&gpt_oss(), &options).unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, HubError::Network { .. }), "{message}");
        assert!(message.contains(&endpoint) && !message.contains("HF_HUB_OFFLINE"), "{message}");

        let hub = FakeHub::start(COMMIT, repo_files());
        resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
        let message = resolve(&gpt_oss(), &options).unwrap_err().to_string();
        assert!(message.contains("HF_HUB_OFFLINE=1"), "{message}");
    }
}
