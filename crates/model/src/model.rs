//! `GptOss`: the decoder stack over a memory-mapped checkpoint, forward
//! over a batch of sequences that each own a KV cache.
//!
//! Linear layers run on the tokens of all sequences stacked together (the
//! experts' weights are read once per step, whatever the batch); attention
//! runs per sequence against its own cache. Prefill and decode are the same
//! call with different lengths, so a long prompt can be fed in chunks.

use std::path::Path;

use half::bf16;

use crate::config::{Config, GenerationConfig, eos_token_ids};
use crate::error::{ModelError, Result};
use crate::kv_cache::{Cache, LayerCache};
use crate::layers::argmax_head::{ArgmaxHead, Pick};
use crate::layers::attention::Attention;
use crate::layers::linear::{DenseFormat, Linear};
use crate::layers::moe::Moe;
use crate::layers::norm::RmsNorm;
use crate::layers::rope::Rope;
use crate::phases::{Phase, PhaseClock, PhaseTimes};
use crate::weights::Checkpoint;

struct DecoderLayer<'a> {
    input_norm: RmsNorm,
    attention: Attention<'a>,
    post_attention_norm: RmsNorm,
    moe: Moe<'a>,
}

pub struct GptOss<'a> {
    config: Config,
    eos: Vec<u32>,
    embed: &'a [bf16],
    layers: Vec<DecoderLayer<'a>>,
    norm: RmsNorm,
    lm_head: Linear<'a>,
    argmax_head: Option<ArgmaxHead>,
    rope: Rope,
    clock: PhaseClock,
}

/// One sequence's share of a forward call.
pub struct SequenceInput<'c> {
    /// New tokens, at positions `cache.position ..`.
    pub tokens: Vec<u32>,
    pub cache: &'c mut Cache,
}

/// What a forward call computes from a sequence's last new token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Head {
    /// Every logit.
    Logits,
    /// Only the most likely token, which [`GptOss::add_argmax_head`] finds
    /// without computing every logit; the logits come back when it cannot.
    Argmax,
    /// Only the token the Gumbel-max race at `temperature` under `key` picks
    /// ([`crate::gumbel::race`]: an exact draw from the softmax), which the
    /// argmax head finds the same way; the logits come back when it cannot.
    Sample { temperature: f32, key: u64 },
}

impl Head {
    /// How the argmax head picks this head's token; `None` for every logit.
    fn pick(self) -> Option<Pick> {
        match self {
            Head::Logits => None,
            Head::Argmax => Some(Pick::Argmax),
            Head::Sample { temperature, key } => {
                Some(Pick::Race { inverse_temperature: 1.0 / f64::from(temperature), key })
            }
        }
    }
}

/// A sequence's result of a forward call.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    Logits(Vec<f32>),
    /// The token [`Head::Argmax`] or [`Head::Sample`] asked for, exactly as
    /// from [`Next::Logits`]: the id of the largest logit (lowest on ties,
    /// NaN logits never win), or the race's winner.
    Token(u32),
}

/// Most sequences whose next token [`Head::Argmax`] and [`Head::Sample`]
/// find through the argmax head: with more, reading the whole unembedding
/// once for all of them costs less than reading the 8-bit view once for
/// each.
const ARGMAX_HEAD_MAX_SEQUENCES: usize = 2;

impl<'a> GptOss<'a> {
    /// Reads `config.json` and `generation_config.json` from `dir` and
    /// binds every weight of `ckpt` (opened from the same directory), as
    /// published.
    pub fn load(dir: &Path, ckpt: &'a Checkpoint) -> Result<Self> {
        Self::load_with(dir, ckpt, DenseFormat::Bf16)
    }

    /// [`GptOss::load`] with the attention projections and the unembedding
    /// held in `dense`. The router stays bf16: expert choice is exact.
    pub fn load_with(dir: &Path, ckpt: &'a Checkpoint, dense: DenseFormat) -> Result<Self> {
        let config = Config::from_file(&dir.join("config.json"))?;
        let generation = GenerationConfig::from_file(&dir.join("generation_config.json"))?;
        let (h, v) = (config.hidden_size, config.vocab_size);
        let eps = config.rms_norm_eps;
        let layers = (0..config.num_hidden_layers)
            .map(|l| {
                let p = format!("model.layers.{l}");
                Ok(DecoderLayer {
                    input_norm: RmsNorm::load(ckpt, &format!("{p}.input_layernorm.weight"), h, eps)?,
                    attention: Attention::load(ckpt, &config, l, dense)?,
                    post_attention_norm: RmsNorm::load(ckpt, &format!("{p}.post_attention_layernorm.weight"), h, eps)?,
                    moe: Moe::load(ckpt, &config, l)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let lm_head_name = if config.tie_word_embeddings { "model.embed_tokens" } else { "lm_head" };
        Ok(Self {
            eos: eos_token_ids(&config, &generation),
            embed: ckpt.bf16("model.embed_tokens.weight", &[v, h])?,
            layers,
            norm: RmsNorm::load(ckpt, "model.norm.weight", h, eps)?,
            lm_head: Linear::load_dense(ckpt, lm_head_name, v, h, false, dense)?,
            argmax_head: None,
            rope: Rope::new(&config),
            clock: PhaseClock::default(),
            config,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Adds the argmax head ([`ArgmaxHead`]), through which [`Head::Argmax`]
    /// and [`Head::Sample`] find the next token of one or two sequences from
    /// an 8-bit view of the unembedding, with the same result as from every
    /// logit. For a bf16 unembedding the view is a copy (1.125 bytes per
    /// weight: 0.65 GB for gpt-oss), read instead of 2 bytes per weight; a
    /// 12-bit one's own high plane serves, read instead of 1.5625 bytes per
    /// weight. Returns the bytes it holds beyond the unembedding, or `None`
    /// (and adds nothing) for an 8-bit unembedding.
    pub fn add_argmax_head(&mut self) -> Result<Option<usize>> {
        let Some(argmax) = ArgmaxHead::new("unembedding", self.lm_head.weights())? else {
            return Ok(None);
        };
        let bytes = argmax.byte_len();
        self.argmax_head = Some(argmax);
        Ok(Some(bytes))
    }

    /// Tokens that end generation.
    pub fn eos_token_ids(&self) -> &[u32] {
        &self.eos
    }

    /// Time spent in forward calls so far, by part of the model.
    pub fn phase_times(&self) -> PhaseTimes {
        self.clock.times()
    }

    /// An empty cache for one sequence.
    pub fn new_cache(&self) -> Cache {
        Cache::new(self.layers.iter().map(|l| l.attention.window))
    }

    /// Runs the new tokens of every sequence, appends them to their caches,
    /// and returns the logits of each sequence's last new token.
    pub fn forward(&self, batch: &mut [SequenceInput<'_>]) -> Result<Vec<Vec<f32>>> {
        self.clock.time_forward(|| on_pool(|| Ok(self.unembed(&self.last_hidden(batch)?))))
    }

    /// [`GptOss::forward`], computing `heads[s]` for sequence `s`.
    pub fn forward_heads(&self, batch: &mut [SequenceInput<'_>], heads: &[Head]) -> Result<Vec<Next>> {
        if heads.len() != batch.len() {
            return Err(ModelError::Input(format!("{} heads for {} sequences", heads.len(), batch.len())));
        }
        self.clock.time_forward(|| on_pool(|| self.heads(batch, heads)))
    }

    /// [`GptOss::forward_heads`] on the pool: the unembedding, or the argmax
    /// head where every sequence's head can use it.
    fn heads(&self, batch: &mut [SequenceInput<'_>], heads: &[Head]) -> Result<Vec<Next>> {
        let normed = self.last_hidden(batch)?;
        let picks: Option<Vec<Pick>> = heads.iter().map(|h| h.pick()).collect();
        if let (Some(argmax), Some(picks)) = (&self.argmax_head, picks)
            && heads.len() <= ARGMAX_HEAD_MAX_SEQUENCES
        {
            return Ok(self.clock.time(Phase::Unembedding, || {
                let tokens = argmax.choose(self.lm_head.weights(), &normed, &picks);
                let rows = normed.chunks_exact(self.config.hidden_size);
                let by_head = rows.zip(tokens).map(|(x, token)| match token {
                    Some(token) => Next::Token(token),
                    None => Next::Logits(self.lm_head.forward_slice(x, 1)),
                });
                by_head.collect()
            }));
        }
        Ok(self.unembed(&normed).into_iter().map(Next::Logits).collect())
    }

    /// The logits of each row of `normed` (`[sequences, hidden]`).
    fn unembed(&self, normed: &[f32]) -> Vec<Vec<f32>> {
        let rows = normed.len() / self.config.hidden_size;
        let logits = self.clock.time(Phase::Unembedding, || self.lm_head.forward_slice(normed, rows));
        logits.chunks_exact(self.config.vocab_size).map(<[f32]>::to_vec).collect()
    }

    /// Runs the decoder stack and returns each sequence's last new hidden
    /// state, normalized for the unembedding (`[sequences, hidden]`).
    fn last_hidden(&self, batch: &mut [SequenceInput<'_>]) -> Result<Vec<f32>> {
        let (h, vocab) = (self.config.hidden_size, self.config.vocab_size);
        for (s, seq) in batch.iter().enumerate() {
            if seq.tokens.is_empty() {
                return Err(ModelError::Input(format!("sequence {s} has no new tokens")));
            }
            if let Some(&bad) = seq.tokens.iter().find(|&&t| t as usize >= vocab) {
                return Err(ModelError::Input(format!("token id {bad} is outside the vocabulary of {vocab}")));
            }
        }
        let lens: Vec<usize> = batch.iter().map(|s| s.tokens.len()).collect();
        let positions: Vec<usize> = batch.iter().map(|s| s.cache.position).collect();
        let n: usize = lens.iter().sum();
        let mut x: Vec<f32> = Vec::with_capacity(n * h);
        for &t in batch.iter().flat_map(|s| &s.tokens) {
            x.extend(self.embed[t as usize * h..(t as usize + 1) * h].iter().map(|v| v.to_f32()));
        }
        for (l, layer) in self.layers.iter().enumerate() {
            let normed = layer.input_norm.forward_slice(&x, h)?;
            let mut caches: Vec<&mut LayerCache> = batch.iter_mut().map(|s| &mut s.cache.layers[l]).collect();
            let attn = self.clock.time(Phase::Attention, || {
                layer.attention.forward(&normed, &lens, &positions, &mut caches, &self.rope)
            });
            add_assign(&mut x, &attn);
            let normed = layer.post_attention_norm.forward_slice(&x, h)?;
            add_assign(&mut x, &self.clock.time(Phase::Experts, || layer.moe.forward(&normed, n)));
        }
        for seq in batch.iter_mut() {
            seq.cache.position += seq.tokens.len();
        }
        // Only each sequence's last position is unembedded.
        let mut last: Vec<f32> = Vec::with_capacity(batch.len() * h);
        let mut end = 0;
        for &len in &lens {
            end += len;
            last.extend_from_slice(&x[(end - 1) * h..end * h]);
        }
        self.norm.forward_slice(&last, h)
    }
}

/// Runs `f` on a thread of rayon's pool. There, every parallel loop of a
/// forward pass starts from a thread of the pool; from any other thread,
/// each of the hundreds of loops per token would be handed over to the pool
/// and waited for.
fn on_pool<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    rayon::scope(|_| f())
}

fn add_assign(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}
