//! Reading the `--model` argument.

use std::fmt;
use std::path::Path;

use super::{DEFAULT_REVISION, HubError, ModelSource};

impl ModelSource {
    /// Reads a `--model` argument: see the module documentation.
    pub fn parse(arg: &str) -> Result<ModelSource, HubError> {
        Self::parse_with_home(arg, std::env::home_dir().as_deref())
    }

    pub(super) fn parse_with_home(arg: &str, home: Option<&Path>) -> Result<ModelSource, HubError> {
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
pub(super) fn check_repo_id(repo: &str) -> Result<(), String> {
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
pub(super) fn check_revision(revision: &str) -> Result<(), String> {
    if revision.is_empty() {
        return Err("empty revision after `@`".into());
    }
    let plain = revision.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
    if !plain || revision.contains(['\\', ' ', '\t', '\n', ':']) {
        return Err(format!("`{revision}` is not a branch, tag or commit name"));
    }
    Ok(())
}
