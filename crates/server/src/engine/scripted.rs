//! A backend that answers every request with the next of a list of scripted token streams: the HTTP layer's
//! tests drive tool calls, reasoning and malformed output through it, which a random tiny model never makes.

use std::collections::VecDeque;
use std::sync::Mutex;

use gpt_oss_model::Tokenizer;
use tokio::sync::mpsc;

use super::{
    Backend, FinishReason, GenerateRequest, GeneratedToken, Generation, Load, ModelInfo, SubmitError, TokenEvent, Usage,
};

/// Replays scripts in order (the last one repeats). Each script is a token sequence; the generation ends at
/// the first of the request's stop tokens, at `max_tokens`, or at the end of the script (reported as
/// `Length`, as a model cut short). Every accepted request is kept, so that tests can read the prompt the
/// server rendered ([`requests`](ScriptedBackend::requests)).
pub struct ScriptedBackend {
    info: ModelInfo,
    tokenizer: Tokenizer,
    scripts: Mutex<VecDeque<Vec<u32>>>,
    requests: Mutex<Vec<GenerateRequest>>,
}

impl ScriptedBackend {
    pub fn new(info: ModelInfo, tokenizer: Tokenizer, scripts: Vec<Vec<u32>>) -> ScriptedBackend {
        ScriptedBackend { info, tokenizer, scripts: Mutex::new(scripts.into()), requests: Mutex::new(Vec::new()) }
    }

    /// The requests accepted so far, in the order they were submitted.
    pub fn requests(&self) -> Vec<GenerateRequest> {
        self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// A script written as harmony text, special tokens included (`<|channel|>final<|message|>Hi<|return|>`).
    pub fn script(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text, true)
    }

    fn next_script(&self) -> Vec<u32> {
        let mut scripts = self.scripts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if scripts.len() > 1 {
            scripts.pop_front().unwrap_or_default()
        } else {
            scripts.front().cloned().unwrap_or_default()
        }
    }
}

impl Backend for ScriptedBackend {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    fn submit(&self, request: GenerateRequest) -> Result<Generation, SubmitError> {
        request.check(&self.info, self.tokenizer.vocab_size())?;
        let (tx, events) = mpsc::unbounded_channel();
        let script = self.next_script();
        let mut reason = FinishReason::Length;
        let mut completion_tokens = 0;
        for &id in script.iter().take(request.max_tokens) {
            let logprob = -0.5;
            let top_logprobs = vec![(id, logprob)].into_iter().take(request.sampling.top_logprobs).collect();
            // A closed receiver only means the client left: nothing to do.
            let _ = tx.send(TokenEvent::Token(GeneratedToken { id, logprob, top_logprobs }));
            completion_tokens += 1;
            if request.stop_tokens.contains(&id) {
                reason = FinishReason::StopToken(id);
                break;
            }
        }
        let usage = Usage { prompt_tokens: request.prompt.len(), completion_tokens, cached_tokens: 0 };
        let _ = tx.send(TokenEvent::Finished { reason, usage });
        self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(request);
        Ok(Generation { events })
    }

    fn load(&self) -> Load {
        Load::default()
    }
}
