//! The hub options the `HF_*` environment variables ask for.

use std::path::{Path, PathBuf};

use super::{DEFAULT_ENDPOINT, HubOptions};

impl HubOptions {
    /// The options the `HF_*` environment variables ask for, as
    /// `huggingface_hub` reads them: see the module documentation.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok(), std::env::home_dir().as_deref())
    }

    /// [`HubOptions::from_env`] over given variables and home directory.
    pub(super) fn from_vars(var: impl Fn(&str) -> Option<String>, home: Option<&Path>) -> Self {
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
