//! Progress bars for long work on the command line.

use gpt_oss_model::Checkpoint;
use indicatif::{ProgressBar, ProgressStyle};

/// Reads every weight of `ckpt` the model reads into memory, showing a progress bar of the bytes read.
///
/// Skipped, with a note on stderr, when the weights exceed the memory available now: reading them all
/// would only evict the first with the last (a synthetic 120b's 65 GB, with 24 GB available, took 43 s so),
/// and the experts are then read from disk as tokens route to them.
pub fn prefetch(ckpt: &Checkpoint) {
    let len = ckpt.prefetch_len();
    if let Some(available) = available_memory()
        && len > available
    {
        eprintln!(
            "not reading the weights ahead: {:.1} GB is more than the {:.1} GB of memory available; \
             experts are read from disk as tokens route to them",
            len as f64 / 1e9,
            available as f64 / 1e9
        );
        return;
    }
    let style = ProgressStyle::with_template(
        "loading weights {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
    );
    let bar = ProgressBar::new(len);
    if let Ok(style) = style {
        bar.set_style(style);
    }
    ckpt.prefetch(|done| bar.set_position(done));
    bar.finish_and_clear();
}

/// Bytes of memory available to new work without swapping (Linux's `MemAvailable`: free memory and the
/// page cache the kernel can reclaim); `None` where the system does not say.
fn available_memory() -> Option<u64> {
    mem_available(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

fn mem_available(meminfo: &str) -> Option<u64> {
    let value = meminfo.lines().find_map(|line| line.strip_prefix("MemAvailable:"))?;
    let kib: u64 = value.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mem_available_from_meminfo() {
        let meminfo = "MemTotal:       24598804 kB\nMemFree:        21000000 kB\nMemAvailable:   23456789 kB\n";
        assert_eq!(mem_available(meminfo), Some(23_456_789 * 1024));
        assert_eq!(mem_available("MemTotal: 1 kB\n"), None);
        assert_eq!(mem_available("MemAvailable: lots\n"), None);
    }
}
