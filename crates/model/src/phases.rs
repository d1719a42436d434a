//! Where forward passes spend their wall-clock time, by part of the model,
//! summed over calls: what to compare with the bytes each part reads to see
//! which of them the memory bandwidth limits and which the arithmetic.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A part of the forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The attention blocks: q, k and v projections, RoPE, the KV cache,
    /// the softmax over it and the output projection.
    Attention,
    /// The MoE blocks: the router and the experts.
    Experts,
    /// The unembedding, or the argmax head in its place.
    Unembedding,
    /// The rest: embedding lookup, norms, residual adds, input checks.
    Other,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Attention, Phase::Experts, Phase::Unembedding, Phase::Other];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Attention => "attention",
            Phase::Experts => "experts",
            Phase::Unembedding => "unembedding",
            Phase::Other => "other",
        }
    }
}

/// Seconds spent in each [`Phase`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PhaseTimes([f64; 4]);

impl PhaseTimes {
    pub fn seconds(&self, phase: Phase) -> f64 {
        self.0[phase as usize]
    }

    pub fn total(&self) -> f64 {
        self.0.iter().sum()
    }

    /// The time spent since `earlier`, a reading of the same clock.
    pub fn since(&self, earlier: &PhaseTimes) -> PhaseTimes {
        PhaseTimes(std::array::from_fn(|i| (self.0[i] - earlier.0[i]).max(0.0)))
    }
}

/// Running totals of [`PhaseTimes`], which forward calls add to.
#[derive(Default)]
pub(crate) struct PhaseClock {
    nanos: [AtomicU64; 4],
}

impl PhaseClock {
    /// Runs `f`, counting its time to `phase`.
    pub fn time<T>(&self, phase: Phase, f: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let result = f();
        self.add(phase, started.elapsed());
        result
    }

    /// Runs a whole forward pass `f`, counting to [`Phase::Other`] its time
    /// outside the phases it timed itself. Calls that overlap (from several
    /// threads) still add up their own time, but may attribute it to each
    /// other's phases.
    pub fn time_forward<T>(&self, f: impl FnOnce() -> T) -> T {
        let (started, before) = (Instant::now(), self.times());
        let result = f();
        let timed = Duration::from_secs_f64(self.times().since(&before).total());
        self.add(Phase::Other, started.elapsed().saturating_sub(timed));
        result
    }

    pub fn times(&self) -> PhaseTimes {
        PhaseTimes(std::array::from_fn(|i| self.nanos[i].load(Ordering::Relaxed) as f64 * 1e-9))
    }

    fn add(&self, phase: Phase, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.nanos[phase as usize].fetch_add(nanos, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleep_ms(ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    #[test]
    fn a_forward_pass_splits_into_its_timed_phases_and_the_rest() {
        let clock = PhaseClock::default();
        let started = Instant::now();
        let value = clock.time_forward(|| {
            clock.time(Phase::Attention, || sleep_ms(20));
            sleep_ms(10);
            clock.time(Phase::Experts, || sleep_ms(30));
            7
        });
        let wall = started.elapsed().as_secs_f64();
        assert_eq!(value, 7);
        let t = clock.times();
        let (attention, experts) = (t.seconds(Phase::Attention), t.seconds(Phase::Experts));
        assert!(attention >= 0.020 && experts >= 0.030, "{t:?}");
        assert_eq!(t.seconds(Phase::Unembedding), 0.0);
        // The untimed 10 ms, not the whole pass: at most what the timed phases left of it.
        let other = t.seconds(Phase::Other);
        assert!(other >= 0.010 && other <= wall - attention - experts + 1e-6, "{t:?} in {wall} s");
        clock.time(Phase::Unembedding, || sleep_ms(5));
        let delta = clock.times().since(&t);
        assert!(delta.seconds(Phase::Unembedding) >= 0.005 && delta.seconds(Phase::Attention) == 0.0, "{delta:?}");
    }
}
