//! The o200k_harmony tokenizer against the real `tokenizer.json`, which `scripts/fetch-tokenizer.sh` fetches
//! (CI exports its path as `GPT_OSS_TEST_TOKENIZER`). Without the file these tests fail, never pass.
//!
//! Pinned encodings come from tiktoken 0.14's own o200k_harmony definition (its regex and special tokens),
//! built on the ranks of this `tokenizer.json`; those ranks, written in tiktoken's format, have the sha256
//! tiktoken pins for `o200k_base.tiktoken` (446a9538...1a2d), so they are o200k_base's.

use gpt_oss_model::ModelError;
use gpt_oss_model::tokenizer::{Tokenizer, special};

mod common;
use common::{MODEL_VOCAB, fixture_path, tokenizer};

/// Concatenation of a stream's outputs over `ids`, then its `finish`.
fn stream_all(tok: &Tokenizer, ids: &[u32]) -> (String, Vec<Option<String>>) {
    let mut stream = tok.decode_stream();
    let steps: Vec<Option<String>> = ids.iter().map(|&id| stream.decode_step(id)).collect();
    let mut text: String = steps.iter().flatten().map(String::as_str).collect();
    text.extend(stream.finish());
    assert!(!stream.has_pending());
    (text, steps)
}

#[test]
fn special_ids_are_o200k_harmonys() {
    let tok = tokenizer();
    let expected = [
        ("<|startoftext|>", 199_998),
        ("<|endoftext|>", 199_999),
        ("<|return|>", 200_002),
        ("<|constrain|>", 200_003),
        ("<|channel|>", 200_005),
        ("<|start|>", 200_006),
        ("<|end|>", 200_007),
        ("<|message|>", 200_008),
        ("<|call|>", 200_012),
    ];
    assert_eq!(special::ALL, expected);
    assert_eq!(
        [special::START, special::END, special::MESSAGE, special::CHANNEL, special::CONSTRAIN],
        [200_006, 200_007, 200_008, 200_005, 200_003]
    );
    assert_eq!(
        [special::RETURN, special::CALL, special::STARTOFTEXT, special::ENDOFTEXT],
        [200_002, 200_012, 199_998, 199_999]
    );
    for (text, id) in expected {
        assert_eq!(tok.token_id(text), Some(id), "{text}");
        assert_eq!(tok.decode(&[id]), text);
        assert_eq!(tok.encode(text, true), [id], "{text}");
        assert!(tok.is_special(id), "{text}");
    }
    assert_eq!(tok.token_id("<|endofprompt|>"), Some(200_018));
    assert_eq!(tok.token_id("<|reserved_200000|>"), Some(200_000));
    assert!(!tok.is_special(13_225));
}

#[test]
fn vocabulary_size_and_ordinary_token_ids() {
    let tok = tokenizer();
    assert_eq!(tok.vocab_size(), 200_019);
    assert_eq!(tok.token_id("Hello"), Some(13_225));
    assert_eq!(tok.token_id(" world"), Some(2_375));
    assert_eq!(tok.token_id("\n"), Some(198));
    assert_eq!(tok.token_id("!"), Some(0));
    assert_eq!(tok.token_id("Hello world, this is not one token"), None);
    assert_eq!(tok.token_id(""), None);
    assert_eq!(tok.token_bytes(2_375), Some(&b" world"[..]));
    for id in 0..tok.vocab_size() as u32 {
        assert!(tok.token_bytes(id).is_some_and(|bytes| !bytes.is_empty()), "token {id} has no bytes");
    }
}

#[test]
fn harmony_text_encodes_specials_only_when_allowed() {
    let tok = tokenizer();
    let text = "<|start|>user<|message|>Hello<|end|>";
    // tiktoken: enc.encode(text, allowed_special="all")
    assert_eq!(tok.encode(text, true), [200_006, 1_428, 200_008, 13_225, 200_007]);
    // tiktoken: enc.encode(text, disallowed_special=())
    let ordinary = tok.encode(text, false);
    assert_eq!(ordinary, [27, 91, 5_236, 91, 29, 1_428, 27, 91, 3_938, 91, 29, 13_225, 27, 91, 419, 91, 29]);
    assert_eq!(tok.decode(&ordinary), text);

    let all_specials: String = (199_998..tok.vocab_size() as u32).map(|id| tok.decode(&[id])).collect();
    assert_eq!(tok.encode(&all_specials, true), (199_998..200_019).collect::<Vec<_>>());
    let ordinary = tok.encode(&all_specials, false);
    assert!(ordinary.iter().all(|&id| id < 199_998), "a special id from ordinary text: {ordinary:?}");
    assert_eq!(tok.decode(&ordinary), all_specials);

    // Fragments and near misses of special tokens are text.
    for text in ["<|start", "start|>", "<|START|>", "<| start |>", "<<|end|>>", "<|reserved_200500|>"] {
        let ids = tok.encode(text, true);
        assert_eq!(tok.decode(&ids), text);
        assert_eq!(ids.iter().filter(|&&id| tok.is_special(id)).count(), usize::from(text == "<<|end|>>"), "{text}");
    }
}

#[test]
fn known_encodings_match_tiktoken() {
    let tok = tokenizer();
    // tiktoken 0.14, o200k_harmony over this file's ranks (see the module's documentation).
    let cases: [(&str, &[u32]); 9] = [
        ("Hello world", &[13_225, 2_375]),
        ("Hello, world!", &[13_225, 11, 2_375, 0]),
        ("日本語のテキスト", &[9_048, 40_909, 3_385, 16_056, 18_368, 38_236]),
        ("naïve café 🎉👍🏽 e\u{301}", &[1_503, 9_954, 737, 30_469, 139_786, 231, 82_514, 52_622, 121, 319, 13_430]),
        ("  leading and trailing  \n\n\tx", &[220, 8_117, 326, 57_985, 11_691, 21_395]),
        (
            "The quick brown fox jumps over the lazy dog. 12345678",
            &[976, 4_853, 19_705, 68_347, 65_613, 1_072, 290, 29_082, 6_446, 13, 220, 7_633, 19_354, 4_388],
        ),
        ("I'm here, they'll go; WE'RE DONE.", &[15_390, 2_105, 11, 57_956, 810, 26, 26_919, 6, 1_099, 113_799, 13]),
        (
            "def f(x):\n    return x**2  # comment\n",
            &[1_314, 285, 4_061, 1_883, 271, 622, 1_215, 410, 17, 220, 1_069, 5_375, 198],
        ),
        ("", &[]),
    ];
    for (text, ids) in cases {
        assert_eq!(tok.encode(text, false), ids, "{text:?}");
        assert_eq!(tok.encode(text, true), ids, "{text:?}");
        assert_eq!(tok.decode(ids), text);
    }
}

#[test]
fn text_round_trips() {
    let tok = tokenizer();
    let texts = [
        "The quick brown fox jumps over the lazy dog.",
        "ASCII with punctuation: ~!@#$%^&*()_+`-=[]{}|;':\",./<>? and\ttabs\r\nand CRLF",
        "日本語のテキストと中文的文本，还有한국어 텍스트。",
        "Emoji: 🎉 👍🏽 👨‍👩‍👧‍👦 🇫🇷 🏳️‍🌈 🧑‍💻 ❤️",
        "Combining marks: e\u{301} a\u{308} n\u{303} \u{915}\u{94d}\u{937} Z\u{351}\u{34b}\u{34f}a\u{308}\u{32b}l\u{344}g\u{35b}o",
        "Right to left: العربية עברית, mixed with 123 numbers",
        "Controls and odd spaces: \u{0}\u{1}\u{7f}\u{a0}\u{3000}\u{200b}\u{feff}\u{2028}",
        "Astral: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈 𠜎 \u{10ffff}",
        "   \n\n   \t  ",
        "<|start|>assistant<|channel|>final<|message|>¿Qué tal? 👋<|return|>",
    ];
    for text in texts {
        for allow_special in [false, true] {
            let ids = tok.encode(text, allow_special);
            assert_eq!(tok.decode(&ids), text, "allow_special: {allow_special}");
            assert_eq!(stream_all(tok, &ids).0, text, "streamed, allow_special: {allow_special}");
        }
    }
    let long = "Lorem ipsum dolor sit amet, 🎉 consectetur 日本語 ".repeat(2_000);
    assert_eq!(tok.decode(&tok.encode(&long, false)), long);
}

#[test]
fn streaming_never_splits_a_character() {
    let tok = tokenizer();
    let text = "party 🎉 time";
    let ids = tok.encode(text, false);
    // The emoji's four bytes span two tokens (tiktoken gives the same ids), so a naive decoder emits garbage.
    assert_eq!(ids, [59_224, 139_786, 231, 1_058]);
    assert_eq!(tok.token_bytes(139_786), Some(&[b' ', 0xf0, 0x9f, 0x8e][..]));
    assert_eq!(tok.token_bytes(231), Some(&[0x89][..]));

    let (streamed, steps) = stream_all(tok, &ids);
    assert_eq!(streamed, text);
    assert_eq!(steps, [Some("party".into()), Some(" ".into()), Some("🎉".into()), Some(" time".into())]);

    // A character cut by the end of the ids becomes U+FFFD when the stream finishes, as in `decode`.
    let mut stream = tok.decode_stream();
    assert_eq!(stream.decode_step(139_786), Some(" ".into()));
    assert!(stream.has_pending());
    assert_eq!(stream.finish(), Some("\u{fffd}".into()));
    assert_eq!(stream.finish(), None);
    assert_eq!(tok.decode(&[139_786]), " \u{fffd}");

    // A multi-byte character split over single-byte tokens: nothing until the last byte.
    let bytes = "👍🏽".as_bytes();
    let byte_ids: Vec<u32> = bytes.iter().map(|&b| byte_token(tok, b)).collect();
    let (streamed, steps) = stream_all(tok, &byte_ids);
    assert_eq!(streamed, "👍🏽");
    assert_eq!(steps.iter().filter(|step| step.is_some()).count(), 2);
    assert_eq!(steps[3].as_deref(), Some("👍"));
    assert_eq!(steps[7].as_deref(), Some("🏽"));
}

/// The token of a single byte.
fn byte_token(tok: &Tokenizer, byte: u8) -> u32 {
    (0..256).find(|&id| tok.token_bytes(id) == Some(&[byte][..])).unwrap_or_else(|| panic!("no token for {byte:#x}"))
}

#[test]
fn streaming_equals_decode_on_any_ids() {
    let tok = tokenizer();
    // Deterministic pseudo-random ids, biased to single bytes (mostly invalid UTF-8 sequences), specials,
    // padding and out-of-range ids.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..500 {
        let ids: Vec<u32> = (0..next() % 40)
            .map(|_| match next() % 8 {
                0..=2 => (next() % 256) as u32,
                3 => 199_998 + (next() % 21) as u32,
                4 => 200_019 + (next() % 1_100) as u32,
                5 => next() as u32,
                _ => (next() % 200_019) as u32,
            })
            .collect();
        let (streamed, steps) = stream_all(tok, &ids);
        assert_eq!(streamed, tok.decode(&ids), "{ids:?}");
        assert!(steps.iter().flatten().all(|step| !step.is_empty()));
    }
}

#[test]
fn unknown_ids_are_skipped_without_panicking() {
    let tok = tokenizer();
    let padding: Vec<u32> = (tok.vocab_size() as u32..MODEL_VOCAB).collect();
    assert_eq!(padding.len(), 1_069);
    let beyond = [MODEL_VOCAB, MODEL_VOCAB + 1, 1 << 24, i32::MAX as u32, u32::MAX - 1, u32::MAX];
    for &id in padding.iter().chain(&beyond) {
        assert_eq!(tok.token_bytes(id), None, "{id}");
        assert!(!tok.is_special(id), "{id}");
    }
    assert_eq!(tok.decode(&padding), "");
    assert_eq!(tok.decode(&beyond), "");
    assert_eq!(tok.decode(&[13_225, 200_019, 201_087, u32::MAX, 2_375]), "Hello world");

    let mut stream = tok.decode_stream();
    for &id in padding.iter().chain(&beyond) {
        assert_eq!(stream.decode_step(id), None, "{id}");
    }
    assert_eq!(stream.finish(), None);
    // An unknown id inside a split character is skipped too: the character still forms.
    assert_eq!(stream.decode_step(139_786), Some(" ".into()));
    assert_eq!(stream.decode_step(200_500), None);
    assert_eq!(stream.decode_step(231), Some("🎉".into()));
    assert_eq!(tok.decode(&[139_786, 200_500, 231]), " 🎉");
}

#[test]
fn decode_matches_huggingface_tokenizers() {
    let tok = tokenizer();
    let hf = tokenizers::Tokenizer::from_file(fixture_path()).expect("tokenizers reads the fixture");
    for id in 0..tok.vocab_size() as u32 {
        let bytes = tok.token_bytes(id).expect("a known id");
        assert_eq!(hf.decode(&[id], false).expect("decodes"), String::from_utf8_lossy(bytes), "token {id}");
    }
    let ids: Vec<u32> = (0..tok.vocab_size() as u32).step_by(7).collect();
    assert_eq!(tok.decode(&ids), hf.decode(&ids, false).expect("decodes"));
}

#[test]
fn unusable_files_are_errors_naming_the_file() {
    let missing = std::path::Path::new("/nonexistent/gpt-oss/tokenizer.json");
    let err = Tokenizer::from_file(missing).expect_err("a missing file");
    assert!(matches!(err, ModelError::Io { .. }), "{err:?}");
    assert!(err.to_string().starts_with("/nonexistent/gpt-oss/tokenizer.json: "), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("tokenizer.json");
    std::fs::write(&garbage, "{\"model\": 42}").unwrap();
    let err = Tokenizer::from_file(&garbage).expect_err("not a tokenizer");
    assert!(matches!(err, ModelError::Tokenizer { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.starts_with(&format!("{}: not a usable gpt-oss tokenizer: ", garbage.display())), "{message}");

    // A valid byte-level BPE, but not o200k_harmony: its special tokens have other ids.
    let other = dir.path().join("other.json");
    std::fs::write(&other, byte_level_tokenizer_json()).unwrap();
    let message = Tokenizer::from_file(&other).expect_err("not o200k_harmony").to_string();
    assert_eq!(
        message,
        format!(
            "{}: not a usable gpt-oss tokenizer: `<|startoftext|>` has id 256, o200k_harmony's is 199998",
            other.display()
        )
    );
}

/// A minimal byte-level BPE `tokenizer.json`: the 256 bytes, then the named special tokens at ids 256 onwards.
fn byte_level_tokenizer_json() -> String {
    let printable = |b: u32| matches!(b, 0x21..=0x7e | 0xa1..=0xac | 0xae..=0xff);
    let mut next = 0x100;
    let vocab: serde_json::Map<String, serde_json::Value> = (0..256u32)
        .map(|b| {
            let c = if printable(b) {
                b
            } else {
                next += 1;
                next - 1
            };
            (char::from_u32(c).unwrap().to_string(), b.into())
        })
        .collect();
    let added: Vec<serde_json::Value> = special::ALL
        .iter()
        .enumerate()
        .map(|(i, (text, _))| {
            serde_json::json!({"id": 256 + i, "content": text, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let byte_level = serde_json::json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
        "use_regex": true});
    serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": added, "normalizer": null,
        "pre_tokenizer": byte_level, "post_processor": null, "decoder": byte_level,
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
            "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab, "merges": []}
    })
    .to_string()
}
