//! Writes the seed corpus, `seeds/`, in the fuzz input format: the completions of
//! `../tests/fixtures/harmony/parse.json` (well-formed output, as openai-harmony renders it: its token ids) and
//! of `malformed.json` (malformed output from bug reports: its text, encoded with special tokens), each also cut
//! short, with padding ids sprinkled in, and without its first header.
//!
//! Run from `crates/model/fuzz`: `cargo run --example make_seeds` (needs `GPT_OSS_TEST_TOKENIZER`, as the target).

use std::path::Path;

use gpt_oss_model::tokenizer::special;
use gpt_oss_model_fuzz::{encode, tokenizer};
use serde_json::Value;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = root.join("../tests/fixtures/harmony");
    let mut cases = Vec::new();
    for case in read_cases(&fixtures.join("parse.json")) {
        let ids = case["tokens"].as_array().expect("tokens").iter().map(|id| id.as_u64().unwrap() as u32).collect();
        cases.push((format!("parse-{}", case["name"].as_str().unwrap()), ids));
    }
    for case in read_cases(&fixtures.join("malformed.json")) {
        let ids = tokenizer().encode(case["completion"].as_str().expect("completion"), true);
        cases.push((format!("malformed-{}", case["name"].as_str().unwrap()), ids));
    }

    let seeds = root.join("seeds");
    std::fs::create_dir_all(&seeds).unwrap();
    let padding = tokenizer().vocab_size() as u32 + 7;
    let mut written = 0;
    for (name, ids) in &cases {
        let truncated = &ids[..ids.len() * 2 / 3];
        let padded: Vec<u32> = ids.iter().flat_map(|&id| [id, padding]).collect();
        let headerless = match ids.iter().position(|&id| id == special::MESSAGE) {
            Some(message) => &ids[message + 1..],
            None => &ids[..],
        };
        let variants = [("", &ids[..]), ("-truncated", truncated), ("-padded", &padded), ("-headerless", headerless)];
        for (suffix, ids) in variants {
            std::fs::write(seeds.join(format!("{name}{suffix}")), encode(ids)).unwrap();
            written += 1;
        }
    }
    println!("wrote {written} seeds to {}", seeds.display());
}

fn read_cases(path: &Path) -> Vec<Value> {
    let json = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    value["cases"].as_array().unwrap_or_else(|| panic!("{}: no cases", path.display())).clone()
}
