//! Full-size random checkpoints with the real gpt-oss shapes and on-disk
//! layout (config files, tensor names, dtypes, hub-style shards), for speed
//! and memory work where the real weights cannot be downloaded. Never
//! committed: tens of gigabytes, and meaningless as a model.
//!
//! Shards are written tensor by tensor, so memory use stays at one tensor
//! however large the checkpoint.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rayon::prelude::*;
use serde_json::{Value, json};

use crate::error::{ModelError, Result};

/// A published gpt-oss size, or `Tiny`: the real vocabulary, tokenizer ids and file layout around a few
/// small layers, for end-to-end tests of the server (about 52 MB, nearly all of it embedding and unembedding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    Gpt20b,
    Gpt120b,
    Tiny,
}

/// The shapes a preset sets.
struct Dims {
    layers: usize,
    experts: usize,
    shards: usize,
    hidden: usize,
    intermediate: usize,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    experts_per_token: usize,
}

const VOCAB: usize = 201_088;

impl Preset {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "20b" | "gpt-oss-20b" => Some(Preset::Gpt20b),
            "120b" | "gpt-oss-120b" => Some(Preset::Gpt120b),
            "tiny" => Some(Preset::Tiny),
            _ => None,
        }
    }

    fn dims(self) -> Dims {
        let full = Dims {
            layers: 24,
            experts: 32,
            shards: 3,
            hidden: 2880,
            intermediate: 2880,
            heads: 64,
            kv_heads: 8,
            head_dim: 64,
            experts_per_token: 4,
        };
        match self {
            Preset::Gpt20b => full,
            Preset::Gpt120b => Dims { layers: 36, experts: 128, shards: 15, ..full },
            Preset::Tiny => Dims {
                layers: 2,
                experts: 4,
                shards: 1,
                hidden: 64,
                intermediate: 64,
                heads: 4,
                kv_heads: 2,
                head_dim: 16,
                experts_per_token: 2,
            },
        }
    }

    /// `config.json` as published for this size.
    pub fn config_json(self) -> Value {
        let d = self.dims();
        let layer_types: Vec<&str> =
            (0..d.layers).map(|l| if l % 2 == 0 { "sliding_attention" } else { "full_attention" }).collect();
        json!({
            "architectures": ["GptOssForCausalLM"], "attention_bias": true, "attention_dropout": 0.0,
            "eos_token_id": 200002, "experts_per_token": d.experts_per_token, "head_dim": d.head_dim,
            "hidden_act": "silu", "hidden_size": d.hidden, "initial_context_length": 4096,
            "initializer_range": 0.02, "intermediate_size": d.intermediate, "layer_types": layer_types,
            "max_position_embeddings": 131072, "model_type": "gpt_oss", "num_attention_heads": d.heads,
            "num_experts_per_tok": d.experts_per_token, "num_hidden_layers": d.layers,
            "num_key_value_heads": d.kv_heads, "num_local_experts": d.experts,
            "output_router_logits": false, "pad_token_id": 199999,
            "quantization_config": {
                "modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"],
                "quant_method": "mxfp4"
            },
            "rms_norm_eps": 1e-05,
            "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 32.0,
                "original_max_position_embeddings": 4096, "rope_type": "yarn", "truncate": false},
            "rope_theta": 150000, "router_aux_loss_coef": 0.9, "sliding_window": 128, "swiglu_limit": 7.0,
            "tie_word_embeddings": false, "transformers_version": "4.55.0.dev0", "use_cache": true,
            "vocab_size": VOCAB
        })
    }

    pub fn generation_config_json(self) -> Value {
        json!({"bos_token_id": 199998, "do_sample": true, "eos_token_id": [200002, 199999, 200012],
               "pad_token_id": 199999, "transformers_version": "4.55.0.dev0"})
    }

    /// Every tensor: name, dtype, shape, and what to fill it with.
    fn tensors(self) -> Vec<Spec> {
        let d = self.dims();
        let (layers, e) = (d.layers, d.experts);
        let (h, i, v, q, kv) = (d.hidden, d.intermediate, VOCAB, d.heads * d.head_dim, d.kv_heads * d.head_dim);
        let mut out = vec![Spec::bf16("model.embed_tokens.weight", &[v, h], Fill::Weight)];
        for l in 0..layers {
            let p = format!("model.layers.{l}");
            out.push(Spec::bf16(&format!("{p}.input_layernorm.weight"), &[h], Fill::Norm));
            out.push(Spec::bf16(&format!("{p}.post_attention_layernorm.weight"), &[h], Fill::Norm));
            for (name, rows, cols) in [("q_proj", q, h), ("k_proj", kv, h), ("v_proj", kv, h), ("o_proj", h, q)] {
                out.push(Spec::bf16(&format!("{p}.self_attn.{name}.weight"), &[rows, cols], Fill::Weight));
                out.push(Spec::bf16(&format!("{p}.self_attn.{name}.bias"), &[rows], Fill::Bias));
            }
            out.push(Spec::bf16(&format!("{p}.self_attn.sinks"), &[d.heads], Fill::Bias));
            out.push(Spec::bf16(&format!("{p}.mlp.router.weight"), &[e, h], Fill::Weight));
            out.push(Spec::bf16(&format!("{p}.mlp.router.bias"), &[e], Fill::Bias));
            for (name, rows, cols) in [("gate_up_proj", 2 * i, h), ("down_proj", h, i)] {
                let base = format!("{p}.mlp.experts.{name}");
                out.push(Spec::u8(&format!("{base}_blocks"), &[e, rows, cols / 32, 16], Fill::Codes));
                out.push(Spec::u8(&format!("{base}_scales"), &[e, rows, cols / 32], Fill::Scales));
                out.push(Spec::bf16(&format!("{base}_bias"), &[e, rows], Fill::Bias));
            }
        }
        out.push(Spec::bf16("model.norm.weight", &[h], Fill::Norm));
        out.push(Spec::bf16("lm_head.weight", &[v, h], Fill::Weight));
        out
    }
}

#[derive(Clone, Copy)]
enum Fill {
    /// bf16 weights, uniform in about ±0.03.
    Weight,
    /// bf16 about 1.
    Norm,
    /// bf16 about ±0.01.
    Bias,
    /// Random E2M1 code bytes.
    Codes,
    /// E8M0 scales 2^-8 .. 2^-5.
    Scales,
}

struct Spec {
    name: String,
    dtype: &'static str,
    shape: Vec<usize>,
    fill: Fill,
}

impl Spec {
    fn bf16(name: &str, shape: &[usize], fill: Fill) -> Self {
        Self { name: name.into(), dtype: "BF16", shape: shape.to_vec(), fill }
    }
    fn u8(name: &str, shape: &[usize], fill: Fill) -> Self {
        Self { name: name.into(), dtype: "U8", shape: shape.to_vec(), fill }
    }
    fn bytes(&self) -> usize {
        self.shape.iter().product::<usize>() * if self.dtype == "BF16" { 2 } else { 1 }
    }
}

/// Writes the checkpoint of `preset` into `dir` (created if missing):
/// config files, shards named as on the hub and their index. `progress`
/// is called with bytes written so far and the total.
pub fn write_checkpoint(preset: Preset, dir: &Path, seed: u64, mut progress: impl FnMut(u64, u64)) -> Result<()> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ModelError::Io { path: path.clone(), source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for (name, value) in
        [("config.json", preset.config_json()), ("generation_config.json", preset.generation_config_json())]
    {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_string_pretty(&value).expect("static JSON")).map_err(io(&path))?;
    }
    let tensors = preset.tensors();
    let total: usize = tensors.iter().map(Spec::bytes).sum();
    let shards = preset.dims().shards;
    // Consecutive tensors fill shards of about equal size, as the hub's do.
    let per_shard = total.div_ceil(shards);
    let mut groups: Vec<Vec<&Spec>> = vec![Vec::new(); shards];
    let mut acc = 0;
    for t in &tensors {
        groups[(acc / per_shard).min(shards - 1)].push(t);
        acc += t.bytes();
    }
    let mut weight_map = serde_json::Map::new();
    let mut written = 0u64;
    for (s, group) in groups.iter().enumerate() {
        let file = format!("model-{s:05}-of-{:05}.safetensors", shards - 1);
        let path = dir.join(&file);
        let mut header = serde_json::Map::new();
        header.insert("__metadata__".into(), json!({"format": "pt"}));
        let mut offset = 0;
        for t in group {
            header.insert(
                t.name.clone(),
                json!({"dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + t.bytes()]}),
            );
            weight_map.insert(t.name.clone(), file.clone().into());
            offset += t.bytes();
        }
        let mut header = serde_json::to_vec(&header).expect("static JSON");
        header.resize(header.len().next_multiple_of(8), b' ');
        let mut out = BufWriter::with_capacity(1 << 22, File::create(&path).map_err(io(&path))?);
        out.write_all(&(header.len() as u64).to_le_bytes()).map_err(io(&path))?;
        out.write_all(&header).map_err(io(&path))?;
        for (k, t) in group.iter().enumerate() {
            let data = fill(t, seed ^ ((s as u64) << 32) ^ k as u64);
            out.write_all(&data).map_err(io(&path))?;
            written += data.len() as u64;
            progress(written, total as u64);
        }
        out.flush().map_err(io(&path))?;
    }
    let index = json!({"metadata": {"total_size": total}, "weight_map": weight_map});
    let path = dir.join(crate::weights::INDEX_FILE);
    std::fs::write(&path, serde_json::to_string_pretty(&index).expect("static JSON")).map_err(io(&path))?;
    Ok(())
}

/// A tensor's bytes, generated in parallel chunks from a seeded xorshift.
fn fill(t: &Spec, seed: u64) -> Vec<u8> {
    const CHUNK: usize = 1 << 20;
    let mut data = vec![0u8; t.bytes()];
    data.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
        let mut state = (seed ^ 0x9E37_79B9_7F4A_7C15).wrapping_mul(c as u64 + 1) | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        match t.fill {
            Fill::Codes => chunk.iter_mut().for_each(|b| *b = next() as u8),
            Fill::Scales => chunk.iter_mut().for_each(|b| *b = 119 + (next() % 4) as u8),
            Fill::Weight | Fill::Norm | Fill::Bias => {
                let (center, spread) = match t.fill {
                    Fill::Weight => (0.0, 0.03),
                    Fill::Norm => (1.0, 0.1),
                    _ => (0.0, 0.01),
                };
                for pair in chunk.chunks_exact_mut(2) {
                    let unit = (next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
                    pair.copy_from_slice(&half::bf16::from_f32(center + spread * unit).to_le_bytes());
                }
            }
        }
    });
    data
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::Preset;
    use crate::weights::Checkpoint;

    #[test]
    fn sizes_match_the_published_checkpoints() {
        for (preset, published) in [(Preset::Gpt20b, 13.76e9), (Preset::Gpt120b, 65.25e9)] {
            let total: usize = preset.tensors().iter().map(|t| t.bytes()).sum();
            let ratio = total as f64 / published;
            assert!((0.99..1.01).contains(&ratio), "{preset:?}: {total} bytes, published {published}");
        }
    }

    #[test]
    fn names_match_the_layout_transformers_loads() {
        // tiny-a was loaded by transformers with no missing or unexpected
        // keys; its first 3 layers and the global tensors must be named as
        // the synthetic 20b's are.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-a");
        let tiny: BTreeSet<String> = Checkpoint::open(&dir).unwrap().names().map(String::from).collect();
        let synthetic: BTreeSet<String> = Preset::Gpt20b
            .tensors()
            .into_iter()
            .map(|t| t.name)
            .filter(|n| !n.starts_with("model.layers.") || ["0", "1", "2"].contains(&n.split('.').nth(2).unwrap()))
            .collect();
        assert_eq!(synthetic, tiny);
    }
}
