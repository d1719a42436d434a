//! Progress bars for long work on the command line.

use gpt_oss_model::Checkpoint;
use indicatif::{ProgressBar, ProgressStyle};

/// Reads every weight of `ckpt` the model reads into memory, showing a progress bar of the bytes read.
pub fn prefetch(ckpt: &Checkpoint) {
    let style = ProgressStyle::with_template(
        "loading weights {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
    );
    let bar = ProgressBar::new(ckpt.prefetch_len());
    if let Ok(style) = style {
        bar.set_style(style);
    }
    ckpt.prefetch(|done| bar.set_position(done));
    bar.finish_and_clear();
}
