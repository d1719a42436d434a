//! The weight options `serve`, `run` and `bench` share.

use gpt_oss_model::DenseFormat;

#[derive(clap::Args, Clone, Copy, Debug)]
pub struct WeightArgs {
    /// How to hold the attention projections and the unembedding (experts stay MXFP4, the router
    /// bf16). `bf16`: the checkpoint's tensors as published, computed from where they are mapped
    /// (exact). `q12`: requantized at load to 12-bit integers per block of 32 (1.5625 bytes per
    /// weight instead of 2; gpt-oss-20b decode reads 3.2 instead of 3.7 GB per token), within the
    /// fidelity bound (log-probabilities within 1e-2 of transformers' on the test goldens, greedy
    /// output unchanged). `q8`: 8-bit integers (1.125 bytes per weight, 2.6 GB per token), past the
    /// bound: log-probabilities up to ~0.11 off on the goldens and greedy output can change. The
    /// requantized formats help where memory bandwidth, not arithmetic, limits decode: one or a
    /// few streams. With many concurrent streams arithmetic limits it, and bf16 computes faster.
    #[arg(long, value_name = "FORMAT", default_value_t = DenseFormat::Bf16)]
    pub dense_weights: DenseFormat,
    /// Find the next token from an 8-bit view of the unembedding: each vocabulary row gets an approximate
    /// logit with a rigorous error bound, and only the rows that could still win get their exact logit. For
    /// greedy requests (temperature 0) the token is exactly the full unembedding's argmax. Requests that sample
    /// at a temperature alone (top_p 1, no top_k, min_p, penalties, log-probabilities or logit bias: gpt-oss's
    /// defaults) draw by the Gumbel-max race, an exact draw from the same distribution whose per-token noise
    /// the bound carries over to; a seed gives the same tokens whether the head or the full logits decide a
    /// step (other tokens than without this flag). With `--dense-weights bf16` the view is an 8-bit copy
    /// (0.65 GB more memory for gpt-oss-20b and -120b) read instead of the 1.16 GB bf16 unembedding; with
    /// `q12` it is the 12-bit values' own high bytes (no more memory), read instead of 0.91 GB. Up to 2
    /// concurrent sequences use it; other requests compute every logit as before. Not with `q8`.
    #[arg(long)]
    pub argmax_head: bool,
}
