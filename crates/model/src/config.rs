//! `config.json` and `generation_config.json` of a gpt-oss checkpoint, read
//! with the defaults transformers' `GptOssConfig` applies.

use std::path::Path;

use serde::Deserialize;

use crate::error::{ModelError, Result};

/// Attention span of a layer (`layer_types` in config.json).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerType {
    /// Sees the last `sliding_window` positions, itself included.
    SlidingAttention,
    /// Sees every earlier position.
    FullAttention,
}

/// YaRN rotary scaling (`rope_scaling`, or `rope_parameters` in newer files).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RopeScaling {
    #[serde(default = "default_rope_type", alias = "type")]
    pub rope_type: String,
    pub factor: f64,
    #[serde(default = "default_beta_fast")]
    pub beta_fast: f64,
    #[serde(default = "default_beta_slow")]
    pub beta_slow: f64,
    pub original_max_position_embeddings: Option<usize>,
    /// Round the ramp bounds to integers. transformers reads a missing key
    /// as `true`; the published gpt-oss configs say `false`.
    #[serde(default = "default_true")]
    pub truncate: bool,
    pub attention_factor: Option<f64>,
    pub mscale: Option<f64>,
    pub mscale_all_dim: Option<f64>,
    /// transformers 5 moves `rope_theta` in here.
    pub rope_theta: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct QuantizationConfig {
    pub quant_method: String,
    #[serde(default)]
    pub modules_to_not_convert: Vec<String>,
}

/// One value or a list, as `eos_token_id` appears in config files.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum TokenIds {
    One(u32),
    Many(Vec<u32>),
}

impl TokenIds {
    pub fn to_vec(&self) -> Vec<u32> {
        match self {
            TokenIds::One(id) => vec![*id],
            TokenIds::Many(ids) => ids.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    head_dim: Option<usize>,
    pub num_local_experts: usize,
    /// transformers' name; the published configs also carry the reference
    /// implementation's `experts_per_token`, with the same value.
    num_experts_per_tok: Option<usize>,
    experts_per_token: Option<usize>,
    #[serde(default = "default_sliding_window")]
    pub sliding_window: usize,
    #[serde(default)]
    layer_types: Option<Vec<LayerType>>,
    #[serde(default = "default_rms_norm_eps")]
    pub rms_norm_eps: f64,
    #[serde(default = "default_rope_theta")]
    rope_theta: f64,
    rope_scaling: Option<RopeScaling>,
    /// transformers 5's name for `rope_scaling`.
    rope_parameters: Option<RopeScaling>,
    #[serde(default = "default_max_position_embeddings")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_swiglu_limit")]
    pub swiglu_limit: f64,
    #[serde(default = "default_swiglu_alpha")]
    pub swiglu_alpha: f64,
    #[serde(default = "default_true")]
    pub attention_bias: bool,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    pub quantization_config: Option<QuantizationConfig>,
    pub eos_token_id: Option<TokenIds>,
    pub pad_token_id: Option<u32>,
}

/// The parts of `generation_config.json` the engine uses.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct GenerationConfig {
    pub eos_token_id: Option<TokenIds>,
    pub pad_token_id: Option<u32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
}

fn default_rope_type() -> String {
    "default".into()
}
fn default_beta_fast() -> f64 {
    32.0
}
fn default_beta_slow() -> f64 {
    1.0
}
fn default_true() -> bool {
    true
}
fn default_sliding_window() -> usize {
    128
}
fn default_rms_norm_eps() -> f64 {
    1e-5
}
fn default_rope_theta() -> f64 {
    150_000.0
}
fn default_max_position_embeddings() -> usize {
    131_072
}
fn default_swiglu_limit() -> f64 {
    7.0
}
fn default_swiglu_alpha() -> f64 {
    1.702
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io { path: path.into(), source })?;
    serde_json::from_str(&text).map_err(|source| ModelError::Json { path: path.into(), source })
}

impl Config {
    /// Reads and checks `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let config: Config = read_json(path)?;
        config.validate().map_err(|reason| ModelError::Config { path: path.into(), reason })?;
        Ok(config)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("num_key_value_heads", self.num_key_value_heads),
            ("num_local_experts", self.num_local_experts),
            ("head_dim", self.head_dim()),
            ("sliding_window", self.sliding_window),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("`{name}` must be positive"));
        }
        if !self.num_attention_heads.is_multiple_of(self.num_key_value_heads) {
            return Err(format!(
                "num_attention_heads ({}) must be a multiple of num_key_value_heads ({})",
                self.num_attention_heads, self.num_key_value_heads
            ));
        }
        if !self.head_dim().is_multiple_of(2) {
            return Err(format!("head_dim ({}) must be even for rotary embeddings", self.head_dim()));
        }
        let top_k = match (self.num_experts_per_tok, self.experts_per_token) {
            (Some(a), Some(b)) if a != b => {
                return Err(format!("num_experts_per_tok ({a}) and experts_per_token ({b}) disagree"));
            }
            (Some(k), _) | (None, Some(k)) => k,
            (None, None) => return Err("missing `num_experts_per_tok`".into()),
        };
        if top_k == 0 || top_k > self.num_local_experts {
            return Err(format!(
                "num_experts_per_tok ({top_k}) must be between 1 and num_local_experts ({})",
                self.num_local_experts
            ));
        }
        if let Some(types) = &self.layer_types
            && types.len() != self.num_hidden_layers
        {
            return Err(format!("layer_types has {} entries for {} layers", types.len(), self.num_hidden_layers));
        }
        match &self.quantization_config {
            Some(q) if q.quant_method == "mxfp4" => {}
            Some(q) => return Err(format!("quantization method `{}` is not supported (only mxfp4)", q.quant_method)),
            None => return Err("no quantization_config: only checkpoints with MXFP4 experts are supported".into()),
        }
        if let Some(rope) = self.rope_scaling()
            && !matches!(rope.rope_type.as_str(), "yarn" | "default")
        {
            return Err(format!("rope type `{}` is not supported (yarn or default)", rope.rope_type));
        }
        Ok(())
    }

    /// Experts each token is routed to.
    pub fn experts_per_token(&self) -> usize {
        self.num_experts_per_tok.or(self.experts_per_token).expect("validated when read")
    }

    pub fn rope_scaling(&self) -> Option<&RopeScaling> {
        self.rope_scaling.as_ref().or(self.rope_parameters.as_ref())
    }

    pub fn head_dim(&self) -> usize {
        self.head_dim.unwrap_or(self.hidden_size / self.num_attention_heads)
    }

    /// Each layer's attention span; transformers' default alternates
    /// sliding (even layers) and full (odd layers).
    pub fn layer_type(&self, layer: usize) -> LayerType {
        match &self.layer_types {
            Some(types) => types[layer],
            None if layer.is_multiple_of(2) => LayerType::SlidingAttention,
            None => LayerType::FullAttention,
        }
    }

    pub fn rope_theta(&self) -> f64 {
        self.rope_scaling().and_then(|r| r.rope_theta).unwrap_or(self.rope_theta)
    }
}

impl GenerationConfig {
    /// Reads `generation_config.json`; a missing file is an empty config.
    pub fn from_file(path: &Path) -> Result<Self> {
        if path.exists() { read_json(path) } else { Ok(Self::default()) }
    }
}

/// Tokens that end generation: the union of both files' `eos_token_id`
/// (generation_config lists `<|return|>`, `<|endoftext|>` and `<|call|>`;
/// config.json only `<|return|>`).
pub fn eos_token_ids(config: &Config, generation: &GenerationConfig) -> Vec<u32> {
    let mut ids: Vec<u32> =
        generation.eos_token_id.iter().chain(&config.eos_token_id).flat_map(|t| t.to_vec()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}
