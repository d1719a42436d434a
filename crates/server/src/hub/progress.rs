//! Download progress: a bar on a terminal, log lines elsewhere.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use hf_hub::api::Progress;
use indicatif::{HumanBytes, HumanDuration, ProgressBar, ProgressStyle};

/// Without a terminal, a download in progress is logged this often.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// One file's download progress: a bar on a terminal, log lines elsewhere.
pub(super) struct FileProgress {
    file: String,
    bar: Option<ProgressBar>,
    total: u64,
    done: u64,
    /// hf-hub calls `update(offset)` right after `init` when it resumes.
    fresh: bool,
    started: Instant,
    logged: Option<Instant>,
}

impl FileProgress {
    pub(super) fn new(file: &str, progress: bool) -> Self {
        let bar = (progress && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0).with_message(file.to_owned());
            if let Ok(style) = ProgressStyle::with_template(
                "{msg:28} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        FileProgress { file: file.into(), bar, total: 0, done: 0, fresh: true, started: Instant::now(), logged: None }
    }
}

impl Progress for FileProgress {
    fn init(&mut self, size: usize, _filename: &str) {
        self.total = size as u64;
        self.done = 0;
        self.fresh = true;
        if let Some(bar) = &self.bar {
            bar.set_length(self.total);
            bar.set_position(0);
        } else if self.logged.is_none() {
            tracing::info!("downloading {} ({})", self.file, HumanBytes(self.total));
            self.logged = Some(Instant::now());
        }
    }

    fn update(&mut self, size: usize) {
        self.done += size as u64;
        if std::mem::take(&mut self.fresh) && size > 0 {
            tracing::info!("{}: resuming at {} of {}", self.file, HumanBytes(self.done), HumanBytes(self.total));
            if let Some(bar) = &self.bar {
                bar.set_position(self.done);
                bar.reset_eta();
            }
            return;
        }
        match &self.bar {
            Some(bar) => bar.inc(size as u64),
            None if self.logged.is_some_and(|at| at.elapsed() >= LOG_EVERY) => {
                let percent = self.done as f64 * 100.0 / self.total.max(1) as f64;
                tracing::info!(
                    "{}: {} of {} ({percent:.0}%)",
                    self.file,
                    HumanBytes(self.done),
                    HumanBytes(self.total)
                );
                self.logged = Some(Instant::now());
            }
            None => {}
        }
    }

    fn finish(&mut self) {
        match &self.bar {
            Some(bar) => bar.finish(),
            None => tracing::info!("downloaded {} in {}", self.file, HumanDuration(self.started.elapsed())),
        }
    }
}
