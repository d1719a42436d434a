//! The engine: the model on a thread of its own, batching concurrent requests continuously.
//!
//! Each step runs one forward pass over every running sequence: one token for each sequence that is
//! generating, then prompt chunks of the sequences still prefilling, within a token budget, so that a long
//! prompt is fed over several steps while the running streams keep flowing. New requests join between steps;
//! finished and cancelled sequences leave at once, and their KV caches are freed with them.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self as std_mpsc, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use gpt_oss_model::{Checkpoint, DenseFormat, GptOss, Head, ModelError, Next, SequenceInput, Tokenizer};
use rayon::prelude::*;
use tokio::sync::mpsc;

use super::sequence::Sequence;
use super::{Backend, FinishReason, GenerateRequest, Generation, Load, ModelInfo, SubmitError, TokenEvent};
use crate::metrics::Metrics;

/// How the engine schedules.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// The name the model is served under.
    pub model_id: String,
    /// Most sequences generating at once.
    pub max_num_seqs: usize,
    /// Most requests waiting for a slot; more are refused.
    pub max_queue: usize,
    /// Most tokens per forward step: prompt chunks fill what decoding sequences leave.
    pub max_batch_tokens: usize,
    /// Caps the context below the model's own (`max_position_embeddings`).
    pub max_context: Option<usize>,
    /// Read every weight into memory before serving, with a progress bar.
    pub prefetch: bool,
    /// How the dense projections are held (see [`DenseFormat`]).
    pub dense: DenseFormat,
    /// Find greedy requests' tokens, and those of requests that sample at a temperature alone (by the
    /// Gumbel-max race), through an 8-bit view of the unembedding (see [`GptOss::add_argmax_head`]).
    pub argmax_head: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            model_id: "gpt-oss".into(),
            max_num_seqs: 32,
            max_queue: 256,
            max_batch_tokens: 512,
            max_context: None,
            prefetch: true,
            dense: DenseFormat::Bf16,
            argmax_head: false,
        }
    }
}

/// The model as `options` ask for it.
fn load_model<'c>(dir: &Path, ckpt: &'c Checkpoint, options: &EngineOptions) -> Result<GptOss<'c>, ModelError> {
    let mut model = GptOss::load_with(dir, ckpt, options.dense)?;
    if options.argmax_head {
        add_argmax_head(&mut model)?;
    }
    Ok(model)
}

/// [`GptOss::add_argmax_head`], logged; an error where the unembedding is 8-bit.
pub fn add_argmax_head(model: &mut GptOss<'_>) -> Result<(), ModelError> {
    match model.add_argmax_head()? {
        Some(bytes) => {
            tracing::info!("argmax head: {:.2} GB beyond the unembedding", bytes as f64 / 1e9);
            Ok(())
        }
        None => Err(ModelError::Input(
            "the argmax head needs finer values than its 8-bit view: use it with --dense-weights bf16 or q12".into(),
        )),
    }
}

struct Job {
    request: GenerateRequest,
    tx: mpsc::UnboundedSender<TokenEvent>,
    queued_at: Instant,
}

/// Counters the engine thread updates and the HTTP side reads.
#[derive(Default)]
struct Shared {
    /// Set once the server's drain deadline has passed: every sequence ends at the next step.
    abort: AtomicBool,
    waiting: AtomicUsize,
    running: AtomicUsize,
    kv_bytes: AtomicUsize,
}

/// The model behind the [`Backend`] trait.
pub struct Engine {
    info: ModelInfo,
    tokenizer: Tokenizer,
    vocab_size: usize,
    jobs: Mutex<Option<SyncSender<Job>>>,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Engine {
    /// Loads the model directory on the engine thread and returns once it is ready to serve.
    pub fn start(dir: &Path, options: EngineOptions, metrics: Arc<Metrics>) -> Result<Engine, ModelError> {
        let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))?;
        let (ready_tx, ready_rx) = std_mpsc::channel();
        let (jobs_tx, jobs_rx) = std_mpsc::sync_channel(options.max_queue);
        let shared = Arc::new(Shared::default());
        let thread = {
            let (dir, options, shared) = (dir.to_path_buf(), options.clone(), shared.clone());
            std::thread::Builder::new()
                .name("engine".into())
                .spawn(move || {
                    let fail = |e| {
                        let _ = ready_tx.send(Err(e));
                    };
                    let ckpt = match Checkpoint::open(&dir) {
                        Ok(ckpt) => ckpt,
                        Err(e) => return fail(e),
                    };
                    // The model borrows the checkpoint: both live on this thread.
                    let model = match load_model(&dir, &ckpt, &options) {
                        Ok(model) => model,
                        Err(e) => return fail(e),
                    };
                    if options.prefetch {
                        crate::progress::prefetch(&ckpt);
                    }
                    let config = model.config();
                    let context = options
                        .max_context
                        .map_or(config.max_position_embeddings, |max| max.min(config.max_position_embeddings));
                    let _ = ready_tx.send(Ok((context, config.vocab_size)));
                    Scheduler { model: &model, jobs: jobs_rx, shared, metrics, options }.run();
                })
                .map_err(|e| ModelError::Input(format!("cannot start the engine thread: {e}")))?
        };
        let (context_length, vocab_size) = match ready_rx.recv() {
            Ok(Ok(ready)) => ready,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(ModelError::Input("the engine thread stopped while loading the model".into())),
        };
        let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Ok(Engine {
            info: ModelInfo { id: options.model_id, context_length, created },
            tokenizer,
            vocab_size,
            jobs: Mutex::new(Some(jobs_tx)),
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Ends every running and queued generation at the engine's next step, with an error that says the server
    /// is shutting down: their clients get a clean end rather than a cut connection.
    pub fn abort(&self) {
        self.shared.abort.store(true, Ordering::SeqCst);
    }

    /// Stops accepting requests and waits until the running and queued ones have finished.
    pub fn shutdown(&self) {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

impl Backend for Engine {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    fn submit(&self, request: GenerateRequest) -> Result<Generation, SubmitError> {
        request.check(&self.info, self.vocab_size)?;
        let (tx, events) = mpsc::unbounded_channel();
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        let jobs = jobs.as_ref().ok_or(SubmitError::ShuttingDown)?;
        self.shared.waiting.fetch_add(1, Ordering::SeqCst);
        match jobs.try_send(Job { request, tx, queued_at: Instant::now() }) {
            Ok(()) => Ok(Generation { events }),
            Err(e) => {
                let waiting = self.shared.waiting.fetch_sub(1, Ordering::SeqCst) - 1;
                Err(match e {
                    TrySendError::Full(_) => SubmitError::QueueFull { waiting },
                    TrySendError::Disconnected(_) => SubmitError::ShuttingDown,
                })
            }
        }
    }

    fn load(&self) -> Load {
        Load {
            running: self.shared.running.load(Ordering::SeqCst),
            waiting: self.shared.waiting.load(Ordering::SeqCst),
            kv_bytes: self.shared.kv_bytes.load(Ordering::SeqCst),
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Scheduler<'m> {
    model: &'m GptOss<'m>,
    jobs: Receiver<Job>,
    shared: Arc<Shared>,
    metrics: Arc<Metrics>,
    options: EngineOptions,
}

impl Scheduler<'_> {
    fn run(self) {
        let mut running: Vec<Sequence> = Vec::new();
        let mut open = true;
        loop {
            if running.is_empty() {
                // Idle: sleep until a request comes, or stop once the server has shut the queue.
                match self.jobs.recv() {
                    Ok(job) => self.admit(job, &mut running),
                    Err(_) => return,
                }
            }
            while open && running.len() < self.options.max_num_seqs.max(1) {
                match self.jobs.try_recv() {
                    Ok(job) => self.admit(job, &mut running),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => open = false,
                }
            }
            if self.shared.abort.load(Ordering::SeqCst) {
                while let Ok(job) = self.jobs.try_recv() {
                    self.admit(job, &mut running);
                }
                for sequence in running.iter_mut().filter(|s| !s.is_finished()) {
                    sequence.finish(FinishReason::Error("the server is shutting down".into()));
                }
            }
            running.retain(|s| !s.is_cancelled() && !s.is_finished());
            if !running.is_empty() {
                self.step(&mut running);
                running.retain(|s| !s.is_cancelled() && !s.is_finished());
            }
            self.publish(&running);
        }
    }

    fn admit(&self, job: Job, running: &mut Vec<Sequence>) {
        self.shared.waiting.fetch_sub(1, Ordering::SeqCst);
        let no_tokens = job.request.max_tokens == 0;
        let races = self.options.argmax_head;
        let mut sequence = Sequence::new(job.request, self.model.new_cache(), job.tx, job.queued_at, races);
        if no_tokens {
            sequence.finish(FinishReason::Length);
        }
        running.push(sequence);
    }

    /// One forward pass: decode tokens first, then prompt chunks within the token budget.
    fn step(&self, running: &mut [Sequence]) {
        let mut budget = self.options.max_batch_tokens.max(1);
        let mut inputs: Vec<Vec<u32>> = vec![Vec::new(); running.len()];
        for (input, sequence) in inputs.iter_mut().zip(running.iter()).filter(|(_, s)| s.is_decoding()) {
            *input = sequence.next_input(1);
            budget = budget.saturating_sub(1);
        }
        for (input, sequence) in inputs.iter_mut().zip(running.iter()).filter(|(_, s)| !s.is_decoding()) {
            if budget == 0 {
                break;
            }
            *input = sequence.next_input(budget);
            budget -= input.len();
        }
        let fed: Vec<usize> = inputs.iter().map(Vec::len).collect();
        let heads: Vec<Head> =
            running.iter().zip(&fed).filter(|(_, fed)| **fed > 0).map(|(sequence, &fed)| sequence.head(fed)).collect();
        let mut batch: Vec<SequenceInput<'_>> = running
            .iter_mut()
            .zip(inputs)
            .filter(|(_, tokens)| !tokens.is_empty())
            .map(|(sequence, tokens)| SequenceInput { tokens, cache: &mut sequence.cache })
            .collect();
        self.metrics.batch_size.observe(batch.len() as f64);
        self.metrics.batch_tokens.observe(fed.iter().sum::<usize>() as f64);
        let before = self.model.phase_times();
        let result = self.model.forward_heads(&mut batch, &heads);
        self.metrics.add_forward_time(&self.model.phase_times().since(&before));
        drop(batch);
        let stepped = running.iter_mut().zip(&fed).filter(|(_, fed)| **fed > 0);
        match result {
            Ok(next) => {
                let metrics = &self.metrics;
                let advance = |((sequence, &fed), next): ((&mut Sequence, &usize), Next)| {
                    sequence.advance(fed, next, metrics);
                };
                // Each sampling reads a vocabulary's worth of logits (about a millisecond): several
                // sequences sample side by side, one alone on this thread.
                let stepped: Vec<_> = stepped.zip(next).collect();
                if stepped.len() > 1 {
                    stepped.into_par_iter().for_each(advance);
                } else {
                    stepped.into_iter().for_each(advance);
                }
            }
            Err(e) => {
                tracing::error!("forward pass failed: {e}");
                for (sequence, _) in stepped {
                    sequence.finish(FinishReason::Error(e.to_string()));
                }
            }
        }
    }

    fn publish(&self, running: &[Sequence]) {
        let kv_bytes: usize = running.iter().map(|s| s.cache.floats() * size_of::<f32>()).sum();
        self.shared.running.store(running.len(), Ordering::SeqCst);
        self.shared.kv_bytes.store(kv_bytes, Ordering::SeqCst);
        self.metrics.running.set(running.len() as i64);
        self.metrics.waiting.set(self.shared.waiting.load(Ordering::SeqCst) as i64);
        self.metrics.kv_cache_bytes.set(kv_bytes as i64);
    }
}
