//! `gpt-oss serve`: the OpenAI-compatible HTTP server.

use std::sync::Arc;
use std::time::Duration;

use gpt_oss_server::api::responses::store::StoreLimits;
use gpt_oss_server::api::routes::router;
use gpt_oss_server::api::state::AppState;
use gpt_oss_server::engine::{Backend, Engine, EngineOptions};
use gpt_oss_server::listen;
use gpt_oss_server::metrics::Metrics;

use crate::hub::{self, HubOptions, ModelSource};

#[derive(clap::Args)]
pub struct Args {
    /// The model: a Hugging Face hub id, `owner/name` or `owner/name@revision` (downloaded into the shared
    /// Hugging Face cache when missing), or a local directory with config.json, tokenizer.json and the
    /// safetensors weights.
    #[arg(long, default_value = hub::DEFAULT_MODEL)]
    model: String,
    /// The name clients use in `model` (default: the hub id, or the directory's name).
    #[arg(long)]
    served_model_name: Option<String>,
    /// Address to listen on. The default accepts connections from this machine only; use 0.0.0.0 to serve
    /// the network (then set an API key).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Require `Authorization: Bearer <key>` on every endpoint but /health.
    #[arg(long, env = "GPT_OSS_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Most sequences generated at once (continuous batching).
    #[arg(long, default_value_t = 32)]
    max_num_seqs: usize,
    /// Most requests waiting for a slot; beyond it requests get 503.
    #[arg(long, default_value_t = 256)]
    max_queue: usize,
    /// Most tokens per forward step: long prompts are prefilled in chunks of what decoding leaves.
    #[arg(long, default_value_t = 512)]
    max_batch_tokens: usize,
    /// Context length, prompt and output together (default: the model's, 131072 for gpt-oss).
    #[arg(long)]
    max_model_len: Option<usize>,
    /// Use the Hugging Face cache only, never the network (also HF_HUB_OFFLINE=1).
    #[arg(long)]
    offline: bool,
    /// Start without reading every weight into memory first (the first requests are then slower). Weights
    /// larger than the memory available are never read ahead.
    #[arg(long)]
    no_prefetch: bool,
    /// Most responses kept for `GET /v1/responses/{id}` and `previous_response_id` (oldest dropped first).
    #[arg(long, default_value_t = 1024)]
    store_max_responses: usize,
    /// Minutes a stored response is kept; `previous_response_id` of an older one is refused.
    #[arg(long, default_value_t = 60)]
    store_ttl_minutes: u64,
    /// Most memory, in MiB, the stored responses and their conversations may take (estimated).
    #[arg(long, default_value_t = 512)]
    store_max_mib: usize,
    /// Seconds to let running requests finish after SIGTERM or Ctrl-C.
    #[arg(long, default_value_t = 30)]
    shutdown_timeout: u64,
    #[command(flatten)]
    weights: super::weights::WeightArgs,
}

/// How long ended requests have to send their last event before the process exits.
const ABORT_GRACE: Duration = Duration::from_secs(5);

pub fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    for (flag, value) in [("--max-num-seqs", args.max_num_seqs), ("--max-batch-tokens", args.max_batch_tokens)] {
        if value == 0 {
            return Err(format!("{flag} must be at least 1").into());
        }
    }
    let mut options = HubOptions::from_env();
    options.offline |= args.offline;
    let resolved = hub::resolve(&ModelSource::parse(&args.model)?, &options)?;
    let model_id = args.served_model_name.unwrap_or(resolved.id);
    tracing::info!("loading {model_id} from {}", resolved.dir.display());
    let metrics = Arc::new(Metrics::new());
    let engine_options = EngineOptions {
        model_id,
        max_num_seqs: args.max_num_seqs,
        max_queue: args.max_queue,
        max_batch_tokens: args.max_batch_tokens,
        max_context: args.max_model_len,
        prefetch: !args.no_prefetch,
        dense: args.weights.dense_weights,
        argmax_head: args.weights.argmax_head,
    };
    let engine = Arc::new(Engine::start(&resolved.dir, engine_options, metrics.clone())?);
    let store = StoreLimits {
        max_responses: args.store_max_responses,
        max_bytes: args.store_max_mib.saturating_mul(1024 * 1024),
        max_age: Duration::from_secs(args.store_ttl_minutes.saturating_mul(60)),
    };
    let state = AppState::new(engine.clone(), metrics, args.api_key).with_store(store);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .map_err(|e| format!("cannot listen on {}:{}: {e}", args.host, args.port))?;
        let addr = listener.local_addr()?;
        let info = engine.info();
        tracing::info!("serving {} (context {} tokens) on http://{addr}/v1", info.id, info.context_length);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(listen::serve(listener, router(state), async {
            let _ = stop_rx.await;
        }));
        shutdown_signal().await;
        tracing::info!("shutting down: finishing running requests (at most {} s)", args.shutdown_timeout);
        let _ = stop_tx.send(());
        let deadline = Duration::from_secs(args.shutdown_timeout);
        let mut server = server;
        if tokio::time::timeout(deadline, &mut server).await.is_err() {
            tracing::warn!("requests still running after {} s: ending them", args.shutdown_timeout);
            // Each ends with an error event its client can read; the streams then close.
            engine.abort();
            if tokio::time::timeout(ABORT_GRACE, server).await.is_err() {
                tracing::warn!("connections still open {} s after ending the requests", ABORT_GRACE.as_secs());
            }
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    // Running generations were given their time; whatever is left ends with the process.
    std::process::exit(0)
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Logs to stderr; `RUST_LOG` filters (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
