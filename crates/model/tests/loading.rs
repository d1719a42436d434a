//! Config parsing and checkpoint loading, including every way a checkpoint
//! on disk can be wrong.

use std::collections::HashMap;
use std::path::Path;

use gpt_oss_model::config::eos_token_ids;
use gpt_oss_model::{Checkpoint, Config, GenerationConfig, LayerType, ModelError};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, serialize_to_file};

/// config.json of openai/gpt-oss-20b as published.
const GPT_OSS_20B_CONFIG: &str = r#"{
  "architectures": ["GptOssForCausalLM"], "attention_bias": true, "attention_dropout": 0.0,
  "eos_token_id": 200002, "experts_per_token": 4, "head_dim": 64, "hidden_act": "silu",
  "hidden_size": 2880, "initial_context_length": 4096, "initializer_range": 0.02,
  "intermediate_size": 2880,
  "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention",
    "sliding_attention", "full_attention", "sliding_attention", "full_attention"],
  "max_position_embeddings": 131072, "model_type": "gpt_oss", "num_attention_heads": 64,
  "num_experts_per_tok": 4, "num_hidden_layers": 24, "num_key_value_heads": 8,
  "num_local_experts": 32, "output_router_logits": false, "pad_token_id": 199999,
  "quantization_config": {"modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
    "model.embed_tokens", "lm_head"], "quant_method": "mxfp4"},
  "rms_norm_eps": 1e-05,
  "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 32.0,
    "original_max_position_embeddings": 4096, "rope_type": "yarn", "truncate": false},
  "rope_theta": 150000, "router_aux_loss_coef": 0.9, "sliding_window": 128, "swiglu_limit": 7.0,
  "tie_word_embeddings": false, "transformers_version": "4.55.0.dev0", "use_cache": true,
  "vocab_size": 201088
}"#;

const GPT_OSS_20B_GENERATION: &str = r#"{"bos_token_id": 199998, "do_sample": true, "eos_token_id": [200002, 199999, 200012], "pad_token_id": 199999, "transformers_version": "4.55.0.dev0"}"#;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn reads_the_published_20b_config() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "config.json", GPT_OSS_20B_CONFIG);
    write(dir.path(), "generation_config.json", GPT_OSS_20B_GENERATION);
    let config = Config::from_file(&dir.path().join("config.json")).unwrap();
    let generation = GenerationConfig::from_file(&dir.path().join("generation_config.json")).unwrap();
    assert_eq!(
        (config.hidden_size, config.head_dim(), config.num_local_experts, config.experts_per_token()),
        (2880, 64, 32, 4)
    );
    assert_eq!(config.layer_type(0), LayerType::SlidingAttention);
    assert_eq!(config.layer_type(23), LayerType::FullAttention);
    let rope = config.rope_scaling().unwrap();
    assert!(!rope.truncate, "the published config says truncate: false");
    assert_eq!((rope.factor, rope.original_max_position_embeddings), (32.0, Some(4096)));
    assert_eq!(config.rope_theta(), 150_000.0);
    assert_eq!((config.swiglu_limit, config.swiglu_alpha), (7.0, 1.702));
    assert_eq!(eos_token_ids(&config, &generation), vec![199999, 200002, 200012]);
}

#[test]
fn config_defaults_follow_transformers() {
    let dir = tempfile::tempdir().unwrap();
    let mut json: serde_json::Value = serde_json::from_str(GPT_OSS_20B_CONFIG).unwrap();
    let obj = json.as_object_mut().unwrap();
    for key in ["layer_types", "head_dim", "experts_per_token", "swiglu_limit"] {
        obj.remove(key);
    }
    obj["hidden_size"] = 4096.into();
    obj["rope_scaling"].as_object_mut().unwrap().remove("truncate");
    write(dir.path(), "config.json", &json.to_string());
    let config = Config::from_file(&dir.path().join("config.json")).unwrap();
    assert_eq!(config.head_dim(), 4096 / 64);
    assert_eq!(config.experts_per_token(), 4);
    assert_eq!(config.layer_type(2), LayerType::SlidingAttention);
    assert_eq!(config.layer_type(3), LayerType::FullAttention);
    assert!(config.rope_scaling().unwrap().truncate, "a missing `truncate` reads as true, as in transformers");
    assert_eq!(config.swiglu_limit, 7.0);
}

fn config_error(edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut json: serde_json::Value = serde_json::from_str(GPT_OSS_20B_CONFIG).unwrap();
    edit(json.as_object_mut().unwrap());
    write(dir.path(), "config.json", &json.to_string());
    Config::from_file(&dir.path().join("config.json")).unwrap_err().to_string()
}

#[test]
fn bad_configs_are_refused_with_the_reason() {
    let err = config_error(|c| {
        c["quantization_config"]["quant_method"] = "gptq".into();
    });
    assert!(err.contains("config.json") && err.contains("`gptq` is not supported"), "{err}");
    let err = config_error(|c| {
        c.remove("quantization_config");
    });
    assert!(err.contains("MXFP4"), "{err}");
    let err = config_error(|c| {
        c["num_key_value_heads"] = 7.into();
    });
    assert!(err.contains("multiple of num_key_value_heads"), "{err}");
    let err = config_error(|c| {
        c["layer_types"].as_array_mut().unwrap().pop();
    });
    assert!(err.contains("layer_types has 23 entries for 24 layers"), "{err}");
    let err = config_error(|c| {
        c["hidden_size"] = "wide".into();
    });
    assert!(err.contains("not valid JSON for this file"), "{err}");
    let err = config_error(|c| {
        c["experts_per_token"] = 2.into();
    });
    assert!(err.contains("disagree"), "{err}");
    let err = config_error(|c| {
        c["rope_scaling"]["rope_type"] = "longrope".into();
    });
    assert!(err.contains("`longrope` is not supported"), "{err}");
}

#[test]
fn missing_config_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let err = Config::from_file(&dir.path().join("config.json")).unwrap_err();
    assert!(matches!(&err, ModelError::Io { path, .. } if path.ends_with("config.json")), "{err}");
    // generation_config.json is optional.
    assert_eq!(GenerationConfig::from_file(&dir.path().join("generation_config.json")).unwrap(), Default::default());
}

/// Writes tensors (name, dtype, shape, bytes) to `dir/file`.
fn write_tensors(dir: &Path, file: &str, tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) {
    let views: HashMap<String, TensorView<'_>> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| (name.to_string(), TensorView::new(*dtype, shape.clone(), data).unwrap()))
        .collect();
    serialize_to_file(views, None, &dir.join(file)).unwrap();
}

fn bf16_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| half::bf16::from_f32(*v).to_le_bytes()).collect()
}

fn sample_tensors() -> Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)> {
    vec![
        ("model.norm.weight", Dtype::BF16, vec![4], bf16_bytes(&[1.0, 2.0, 3.0, -4.0])),
        ("lm_head.weight", Dtype::BF16, vec![2, 4], bf16_bytes(&[0.5; 8])),
        ("experts.down_proj_blocks", Dtype::U8, vec![2, 3, 1, 16], vec![0x21; 96]),
        ("experts.down_proj_scales", Dtype::U8, vec![2, 3, 1], vec![127; 6]),
    ]
}

#[test]
fn single_file_tensors_are_typed_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    write_tensors(dir.path(), "model.safetensors", &sample_tensors());
    let ckpt = Checkpoint::open(dir.path()).unwrap();
    assert_eq!(
        ckpt.bf16("model.norm.weight", &[4]).unwrap().iter().map(|v| v.to_f32()).collect::<Vec<_>>(),
        [1.0, 2.0, 3.0, -4.0]
    );
    let head = ckpt.bf16_matrix("lm_head.weight", 2, 4).unwrap();
    assert_eq!((head.rows(), head.cols()), (2, 4));
    let experts = ckpt.mxfp4_experts("experts.down_proj", 2, 3, 32).unwrap();
    assert_eq!(mxfp4::reference::dequantize(&experts.expert(1))[..2], [0.5, 1.0]);

    let err = ckpt.bf16("model.norm.weight", &[5]).unwrap_err().to_string();
    assert!(
        err.contains("`model.norm.weight`") && err.contains("model.safetensors") && err.contains("shape [5]"),
        "{err}"
    );
    let err = ckpt.bf16("experts.down_proj_scales", &[2, 3, 1]).unwrap_err().to_string();
    assert!(err.contains("dtype BF16") && err.contains("U8"), "{err}");
    let err = ckpt.bf16("model.layers.0.self_attn.sinks", &[64]).unwrap_err();
    assert_eq!(err.to_string(), "tensor `model.layers.0.self_attn.sinks` is missing from the checkpoint");
    let err = ckpt.mxfp4_experts("experts.down_proj", 2, 4, 32).unwrap_err().to_string();
    assert!(err.contains("experts.down_proj_blocks") && err.contains("[2, 4, 1, 16]"), "{err}");
}

#[test]
fn truncated_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_tensors(dir.path(), "model.safetensors", &sample_tensors());
    let path = dir.path().join("model.safetensors");
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 10).unwrap();
    let err = Checkpoint::open(dir.path()).err().unwrap();
    assert!(matches!(&err, ModelError::Safetensors { path, .. } if path.ends_with("model.safetensors")), "{err}");
    // A file cut inside its header fails the same way.
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(12).unwrap();
    assert!(matches!(Checkpoint::open(dir.path()), Err(ModelError::Safetensors { .. })));
}

#[test]
fn sharded_checkpoints_load_through_their_index() {
    let dir = tempfile::tempdir().unwrap();
    let tensors = sample_tensors();
    write_tensors(dir.path(), "model-00001-of-00002.safetensors", &tensors[..2]);
    write_tensors(dir.path(), "model-00002-of-00002.safetensors", &tensors[2..]);
    let map: serde_json::Map<String, serde_json::Value> = tensors
        .iter()
        .enumerate()
        .map(|(i, t)| (t.0.to_string(), format!("model-0000{}-of-00002.safetensors", 1 + i / 2).into()))
        .collect();
    let index = serde_json::json!({"metadata": {"total_size": 0}, "weight_map": map});
    write(dir.path(), "model.safetensors.index.json", &index.to_string());
    let ckpt = Checkpoint::open(dir.path()).unwrap();
    assert_eq!(ckpt.names().count(), 4);
    assert!(ckpt.mxfp4_experts("experts.down_proj", 2, 3, 32).is_ok());

    // The index places a tensor in the wrong shard.
    let mut bad = index.clone();
    bad["weight_map"]["lm_head.weight"] = "model-00002-of-00002.safetensors".into();
    write(dir.path(), "model.safetensors.index.json", &bad.to_string());
    let err = Checkpoint::open(dir.path()).err().unwrap().to_string();
    assert!(err.contains("`lm_head.weight`") && err.contains("model-00002-of-00002.safetensors"), "{err}");

    // A shard is missing.
    write(dir.path(), "model.safetensors.index.json", &index.to_string());
    std::fs::remove_file(dir.path().join("model-00002-of-00002.safetensors")).unwrap();
    let err = Checkpoint::open(dir.path()).err().unwrap();
    assert!(matches!(&err, ModelError::Io { path, .. } if path.ends_with("model-00002-of-00002.safetensors")), "{err}");
}

#[test]
fn empty_directory_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let err = Checkpoint::open(dir.path()).err().unwrap().to_string();
    assert!(err.contains("no model.safetensors or model.safetensors.index.json"), "{err}");
    let err = Checkpoint::open(&dir.path().join("absent")).err().unwrap().to_string();
    assert!(err.contains("absent: no such model directory"), "{err}");
}

#[test]
fn converted_dense_weights_are_released_and_not_prefetched() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-a");
    let config = Config::from_file(&dir.join("config.json")).unwrap();
    let ckpt = Checkpoint::open(&dir).unwrap();
    let _model = gpt_oss_model::GptOss::load(&dir, &ckpt).unwrap();
    assert_eq!(ckpt.prefetch_len(), ckpt.byte_len() as u64, "bf16 weights stay where they are mapped");

    let ckpt = Checkpoint::open(&dir).unwrap();
    let _model = gpt_oss_model::GptOss::load_with(&dir, &ckpt, gpt_oss_model::DenseFormat::Q12).unwrap();
    let (h, q, kv) = (
        config.hidden_size,
        config.num_attention_heads * config.head_dim(),
        config.num_key_value_heads * config.head_dim(),
    );
    let per_layer = 2 * (2 * q * h + 2 * kv * h);
    let converted = per_layer * config.num_hidden_layers + 2 * config.vocab_size * h;
    assert_eq!(ckpt.prefetch_len(), (ckpt.byte_len() - converted) as u64, "q/k/v/o and lm_head are skipped");
    let mut last = 0;
    ckpt.prefetch(|done| last = done);
    assert_eq!(last, ckpt.prefetch_len());
}
