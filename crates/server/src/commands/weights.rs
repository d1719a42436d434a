//! The weight options `serve`, `run` and `bench` share.

use gpt_oss_model::DenseFormat;

#[derive(clap::Args, Clone, Copy, Debug)]
pub struct WeightArgs {
    /// How to hold the attention projections and the unembedding. `bf16`: the checkpoint's
    /// tensors as published, computed from where they are mapped (exact). `q8`: requantized at
    /// load to 8-bit integers per block of 32 (1.125 bytes per weight instead of 2; gpt-oss-20b
    /// decode reads 2.6 instead of 3.7 GB per token, faster where memory bandwidth limits it),
    /// at a cost in fidelity: log-probabilities up to ~0.07 off the bf16 model's on the test
    /// goldens, the order of transformers' own bf16 path. Experts stay MXFP4, the router bf16.
    #[arg(long, value_name = "FORMAT", default_value_t = DenseFormat::Bf16)]
    pub dense_weights: DenseFormat,
}
