//! gpt-oss's tokenizer, o200k_harmony: the o200k_base byte-level BPE plus the harmony special tokens, read
//! from the model's `tokenizer.json` through Hugging Face's `tokenizers` crate.
//!
//! **Encoding.** [`Tokenizer::encode`] turns special-token text such as `<|start|>` into its id only when
//! asked to (`allow_special`): prompts that the server renders itself allow them, user-supplied text must not,
//! so that a user cannot forge message boundaries. Disallowed special-token text is encoded as the ordinary text
//! it is (`<|start|>` becomes `<`, `|`, `start`, `|`, `>`), like tiktoken's `encode_ordinary`.
//!
//! **Decoding.** Every id the file knows decodes to the bytes of its token (special tokens to their text, such
//! as `<|end|>`), exactly as the `tokenizers` crate's byte-level decoder does. Ids the file does not know are
//! **skipped**: they contribute nothing to the text, and nothing panics or fails. Such ids do occur: the model's
//! embedding has 201088 rows (`config.vocab_size`) while the tokenizer knows ids 0..200019 (see
//! [`Tokenizer::vocab_size`]); a real model occasionally samples one of the padding ids in between. Skipping
//! matches `tokenizers`' `decode`; tiktoken's o200k_harmony would instead render them as `<|reserved_N|>`,
//! which a user should not see either. Use [`Tokenizer::token_bytes`] to tell such ids apart.
//!
//! Bytes that are not valid UTF-8 once all ids are joined (a multi-byte character cut off by the end of the
//! ids, or a stray continuation byte) become U+FFFD, as in `String::from_utf8_lossy`.
//!
//! **Streaming.** [`DecodeStream::decode_step`] yields text as soon as the bytes so far form complete UTF-8
//! characters, holding back at most the first 1 to 3 bytes of a character that later tokens complete. The
//! concatenation of everything it yields, followed by [`DecodeStream::finish`], is exactly
//! [`Tokenizer::decode`] of the same ids.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{ModelError, Result};

/// Ids of the special tokens gpt-oss uses, as in o200k_harmony.
pub mod special {
    /// `<|startoftext|>`
    pub const STARTOFTEXT: u32 = 199_998;
    /// `<|endoftext|>`: one of the stop tokens of generation_config.json.
    pub const ENDOFTEXT: u32 = 199_999;
    /// `<|return|>`: the end of the final answer; stops generation.
    pub const RETURN: u32 = 200_002;
    /// `<|constrain|>`: introduces the format of a tool call's arguments (`<|constrain|>json`).
    pub const CONSTRAIN: u32 = 200_003;
    /// `<|channel|>`: introduces a message's channel (`analysis`, `commentary`, `final`).
    pub const CHANNEL: u32 = 200_005;
    /// `<|start|>`: the start of a message, before its role.
    pub const START: u32 = 200_006;
    /// `<|end|>`: the end of a message.
    pub const END: u32 = 200_007;
    /// `<|message|>`: between a message's header and its content.
    pub const MESSAGE: u32 = 200_008;
    /// `<|call|>`: the end of a tool call; stops generation.
    pub const CALL: u32 = 200_012;

    /// Every constant above with its text; [`Tokenizer::from_file`](super::Tokenizer::from_file) refuses a file
    /// that disagrees with any of them.
    pub const ALL: [(&str, u32); 9] = [
        ("<|startoftext|>", STARTOFTEXT),
        ("<|endoftext|>", ENDOFTEXT),
        ("<|return|>", RETURN),
        ("<|constrain|>", CONSTRAIN),
        ("<|channel|>", CHANNEL),
        ("<|start|>", START),
        ("<|end|>", END),
        ("<|message|>", MESSAGE),
        ("<|call|>", CALL),
    ];
}

/// The o200k_harmony tokenizer. Cheap to clone (the tables are shared) and `Send + Sync`.
#[derive(Clone)]
pub struct Tokenizer {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// Set to encode special-token text as ordinary text: [`Tokenizer::encode`] finds special tokens itself.
    hf: tokenizers::Tokenizer,
    /// The bytes of token `id` are `bytes[offsets[id]..offsets[id + 1]]`.
    bytes: Vec<u8>,
    offsets: Vec<u32>,
    /// Every special token of the file with its id, longest text first.
    specials: Vec<(String, u32)>,
    /// First bytes of the special tokens' texts: only there can a special token start.
    special_starts: [bool; 256],
    /// The token of each single byte, for the encoding fallback.
    byte_ids: [u32; 256],
}

impl Tokenizer {
    /// Loads a `tokenizer.json` and checks that it is o200k_harmony's: a byte-level BPE whose special tokens
    /// have the ids of [`special`]. Errors name the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Tokenizer> {
        let path = path.as_ref();
        let json = std::fs::read(path).map_err(|source| ModelError::Io { path: path.to_path_buf(), source })?;
        Self::from_bytes(path, &json)
    }

    fn from_bytes(path: &Path, json: &[u8]) -> Result<Tokenizer> {
        let invalid = |reason: String| ModelError::Tokenizer { path: path.to_path_buf(), reason };
        let mut hf = tokenizers::Tokenizer::from_bytes(json)
            .map_err(|e| invalid(format!("cannot read it as a Hugging Face tokenizer.json ({e})")))?;

        for (text, id) in special::ALL {
            match hf.token_to_id(text) {
                Some(found) if found == id => {}
                Some(found) => {
                    return Err(invalid(format!("`{text}` has id {found}, o200k_harmony's is {id}")));
                }
                None => return Err(invalid(format!("it has no `{text}` token (o200k_harmony's id {id})"))),
            }
        }

        let mut specials = Vec::new();
        let mut special_starts = [false; 256];
        for (id, token) in hf.get_added_tokens_decoder() {
            if !token.special {
                return Err(invalid(format!("added token `{}` (id {id}) is not marked special", token.content)));
            }
            let Some(&first) = token.content.as_bytes().first() else {
                return Err(invalid(format!("added token {id} is empty")));
            };
            special_starts[usize::from(first)] = true;
            specials.push((token.content, id));
        }
        specials.sort_by(|(a, a_id), (b, b_id)| b.len().cmp(&a.len()).then(a_id.cmp(b_id)));

        let vocab_size = hf.get_vocab(true).into_values().max().map_or(0, |max| max as usize + 1);
        let mut bytes = Vec::new();
        let mut offsets = Vec::with_capacity(vocab_size + 1);
        offsets.push(0);
        for id in 0..vocab_size as u32 {
            let Some(token) = hf.id_to_token(id) else {
                return Err(invalid(format!("no token has id {id}, yet ids run up to {}", vocab_size - 1)));
            };
            push_token_bytes(&token, &mut bytes);
            let end = u32::try_from(bytes.len()).map_err(|_| invalid("the vocabulary is over 4 GiB".into()))?;
            offsets.push(end);
        }

        let mut byte_ids = [0; 256];
        for (byte, slot) in byte_ids.iter_mut().enumerate() {
            let token = BYTE_CHAR[byte].to_string();
            *slot = hf
                .token_to_id(&token)
                .ok_or_else(|| invalid(format!("not a byte-level BPE: byte 0x{byte:02x} (`{token}`) has no token")))?;
        }

        hf.set_encode_special_tokens(true);
        let inner = Inner { path: path.to_path_buf(), hf, bytes, offsets, specials, special_starts, byte_ids };
        Ok(Tokenizer { inner: Arc::new(inner) })
    }

    /// The file this tokenizer was read from.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How many ids the tokenizer knows: ids `0..vocab_size()` all decode (200019 for o200k_harmony, the last
    /// being `<|endofprompt|>`). The model's vocabulary (`config.vocab_size`, 201088) is larger: the ids in
    /// between are padding, which [`decode`](Self::decode) skips.
    pub fn vocab_size(&self) -> usize {
        self.inner.offsets.len() - 1
    }

    /// Encodes `text`. With `allow_special`, the text of any special token of the file (`<|start|>`,
    /// `<|reserved_200000|>`, ...) becomes that token's id; without, it is encoded as ordinary text. Never fails.
    pub fn encode(&self, text: &str, allow_special: bool) -> Vec<u32> {
        let mut ids = Vec::new();
        let mut rest = text;
        if allow_special {
            while let Some((start, len, id)) = self.find_special(rest) {
                self.encode_ordinary(&rest[..start], &mut ids);
                ids.push(id);
                rest = &rest[start + len..];
            }
        }
        self.encode_ordinary(rest, &mut ids);
        ids
    }

    /// The earliest special token in `text`, the longest at that position: (byte offset, byte length, id).
    fn find_special(&self, text: &str) -> Option<(usize, usize, u32)> {
        let bytes = text.as_bytes();
        // A special token's text starts with a UTF-8 leading byte, so a match starts and ends on char boundaries.
        bytes.iter().enumerate().filter(|&(_, &b)| self.inner.special_starts[usize::from(b)]).find_map(|(start, _)| {
            self.inner
                .specials
                .iter()
                .find(|(special, _)| bytes[start..].starts_with(special.as_bytes()))
                .map(|(special, id)| (start, special.len(), *id))
        })
    }

    /// Appends the BPE encoding of `text`, in which no special token is recognised.
    fn encode_ordinary(&self, text: &str, ids: &mut Vec<u32>) {
        if text.is_empty() {
            return;
        }
        match self.inner.hf.encode_fast(text, false) {
            Ok(encoding) => ids.extend_from_slice(encoding.get_ids()),
            // Not expected with a byte-level BPE, whose tokens cover every byte. Should the library fail anyway,
            // one token per byte is a valid (if long) encoding that decodes back to `text`.
            Err(_) => ids.extend(text.bytes().map(|b| self.inner.byte_ids[usize::from(b)])),
        }
    }

    /// Decodes `ids` to text. Ids this tokenizer does not know (the model's padding ids
    /// `vocab_size()..201088`, or any larger value) are skipped; invalid UTF-8 becomes U+FFFD. Never fails.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::new();
        for &id in ids {
            bytes.extend_from_slice(self.token_bytes(id).unwrap_or_default());
        }
        match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    /// The bytes token `id` stands for (not necessarily valid UTF-8 on their own: a character can span tokens),
    /// or `None` for an id the tokenizer does not know.
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        let id = usize::try_from(id).ok()?;
        let start = *self.inner.offsets.get(id)? as usize;
        let end = *self.inner.offsets.get(id + 1)? as usize;
        Some(&self.inner.bytes[start..end])
    }

    /// The id of the single token whose text is `text`: `token_id("<|start|>")` is `Some(special::START)`,
    /// `token_id(" world")` is `Some(2375)`; `None` when no one token is exactly that text.
    pub fn token_id(&self, text: &str) -> Option<u32> {
        if let Some((_, id)) = self.inner.specials.iter().find(|(special, _)| special == text) {
            return Some(*id);
        }
        // The vocabulary stores tokens byte-level encoded: every byte as one printable character.
        let token: String = text.bytes().map(|b| BYTE_CHAR[usize::from(b)]).collect();
        self.inner.hf.token_to_id(&token)
    }

    /// Whether `id` is a special token of the file (the ones of [`special`], `<|reserved_200000|>`, ...).
    pub fn is_special(&self, id: u32) -> bool {
        self.inner.specials.iter().any(|&(_, special)| special == id)
    }

    /// A streaming decoder: feed it ids one at a time, get text as soon as it is complete.
    pub fn decode_stream(&self) -> DecodeStream {
        DecodeStream { tokenizer: self.clone(), pending: Vec::new() }
    }
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer").field("path", &self.inner.path).field("vocab_size", &self.vocab_size()).finish()
    }
}

/// Decodes ids one at a time into text that never cuts a UTF-8 character: see [`Tokenizer::decode_stream`].
#[derive(Clone, Debug)]
pub struct DecodeStream {
    tokenizer: Tokenizer,
    /// The start of a character whose remaining bytes have not arrived yet (at most 3 bytes).
    pending: Vec<u8>,
}

impl DecodeStream {
    /// Adds token `id` and returns the text that became complete, or `None` when there is none yet (the token
    /// ends inside a character, has no text, or is an id the tokenizer does not know, which is skipped).
    pub fn decode_step(&mut self, id: u32) -> Option<String> {
        let Self { tokenizer, pending } = self;
        pending.extend_from_slice(tokenizer.token_bytes(id)?);
        self.complete_text()
    }

    /// Adds raw bytes (text already taken out of tokens) and returns the text that became complete, as
    /// [`decode_step`](Self::decode_step) does.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Option<String> {
        self.pending.extend_from_slice(bytes);
        self.complete_text()
    }

    /// Takes the complete characters out of `pending`, replacing invalid bytes with U+FFFD.
    fn complete_text(&mut self) -> Option<String> {
        let mut text = String::new();
        let mut done = 0;
        loop {
            match std::str::from_utf8(&self.pending[done..]) {
                Ok(valid) => {
                    text.push_str(valid);
                    done = self.pending.len();
                    break;
                }
                Err(e) => {
                    let valid = done + e.valid_up_to();
                    text.push_str(&String::from_utf8_lossy(&self.pending[done..valid]));
                    done = valid;
                    match e.error_len() {
                        // Invalid whatever follows: replaced, as `String::from_utf8_lossy` does.
                        Some(len) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            done += len;
                        }
                        // A character that the next tokens may complete.
                        None => break,
                    }
                }
            }
        }
        self.pending.drain(..done);
        (!text.is_empty()).then_some(text)
    }

    /// Ends the stream: the bytes of a character left incomplete become U+FFFD (`None` when there are none).
    /// The stream is then empty and can be reused.
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        Some(text)
    }

    /// Whether bytes of an incomplete character are held back.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

/// GPT-2's byte-level alphabet, which o200k's `tokenizer.json` uses: every byte is one printable character,
/// itself for the printable bytes of Latin-1, U+0100 onwards in byte order for the others.
const BYTE_CHAR: [char; 256] = {
    let mut table = ['\0'; 256];
    let mut next = 0x100;
    let mut byte = 0;
    while byte < 256 {
        table[byte] = if is_printable(byte) {
            byte as u8 as char
        } else {
            next += 1;
            char::from_u32(next - 1).unwrap()
        };
        byte += 1;
    }
    table
};

/// [`BYTE_CHAR`] inverted, indexed by character (all are below U+0200).
const CHAR_BYTE: [Option<u8>; 0x200] = {
    let mut table = [None; 0x200];
    let mut byte = 0;
    while byte < 256 {
        table[BYTE_CHAR[byte] as usize] = Some(byte as u8);
        byte += 1;
    }
    table
};

const fn is_printable(byte: usize) -> bool {
    matches!(byte, 0x21..=0x7e | 0xa1..=0xac | 0xae..=0xff)
}

/// Appends the bytes of one vocabulary token, as `tokenizers`' byte-level decoder computes them: a token all of
/// whose characters are in the byte-level alphabet stands for those bytes, any other for its own UTF-8 text.
fn push_token_bytes(token: &str, bytes: &mut Vec<u8>) {
    let start = bytes.len();
    for c in token.chars() {
        match CHAR_BYTE.get(c as usize).copied().flatten() {
            Some(byte) => bytes.push(byte),
            None => {
                bytes.truncate(start);
                bytes.extend_from_slice(token.as_bytes());
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_and_stream_cross_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<Tokenizer>();
        send_sync::<DecodeStream>();
    }

    #[test]
    fn byte_level_alphabet_is_gpt2s() {
        assert_eq!(BYTE_CHAR[b'!' as usize], '!');
        assert_eq!(BYTE_CHAR[b' ' as usize], 'Ġ');
        assert_eq!(BYTE_CHAR[b'\n' as usize], 'Ċ');
        assert_eq!(BYTE_CHAR[0], 'Ā');
        assert_eq!(BYTE_CHAR[0xad], 'Ń');
        for byte in 0..=255u8 {
            assert_eq!(CHAR_BYTE[BYTE_CHAR[usize::from(byte)] as usize], Some(byte));
        }
        assert_eq!(CHAR_BYTE.iter().flatten().count(), 256);
    }

    #[test]
    fn token_bytes_follow_the_byte_level_decoder() {
        let mut bytes = Vec::new();
        push_token_bytes("Ġworld", &mut bytes);
        assert_eq!(bytes, b" world");
        bytes.clear();
        push_token_bytes("ðŁİī", &mut bytes);
        assert_eq!(bytes, "🎉".as_bytes());
        bytes.clear();
        // Not in the alphabet: the token's own text.
        push_token_bytes("a€b", &mut bytes);
        assert_eq!(bytes, "a€b".as_bytes());
    }
}
