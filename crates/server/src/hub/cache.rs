//! The Hugging Face cache layout, and finding a model in it offline.

use std::path::{Path, PathBuf};

use super::{DEFAULT_REVISION, HubError, HubOptions, ResolvedModel, first_missing};

/// `models--owner--name`, the repo's folder in the cache.
fn repo_folder(repo: &str) -> String {
    format!("models--{}", repo.replace('/', "--"))
}

fn is_commit(name: &str) -> bool {
    name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A hub repo at a revision, with the options to reach it.
pub(super) struct HubRepo<'a> {
    pub(super) repo: &'a str,
    pub(super) revision: &'a str,
    pub(super) cache_dir: &'a Path,
    pub(super) options: &'a HubOptions,
}

impl HubRepo<'_> {
    pub(super) fn repo_dir(&self) -> PathBuf {
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
    pub(super) fn cached(&self) -> Result<ResolvedModel, HubError> {
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
}
