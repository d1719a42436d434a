//! Listing a hub revision and downloading what the cache lacks, with the
//! resume fixes the module documentation describes.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use hf_hub::api::sync::{ApiBuilder, ApiError, ApiRepo};
use hf_hub::{Cache, Repo, RepoType};
use serde::Deserialize;

use super::cache::HubRepo;
use super::progress::FileProgress;
use super::{
    CONFIG, DEFAULT_REVISION, HubError, INDEX, OPTIONAL, RETRIES, ResolvedModel, SINGLE_WEIGHTS, TOKENIZER,
    first_missing, index_shards, io_error, is_file_name,
};

impl HubRepo<'_> {
    /// The model after downloading what the cache lacks.
    pub(super) fn download(&self) -> Result<ResolvedModel, HubError> {
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
