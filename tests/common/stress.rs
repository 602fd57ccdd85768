//! The stress tests' shared pieces (`tests/stress.rs`, `tests/stress_kinds.rs`): thread count,
//! run length from `SYNCLAB_STRESS_MS`, iteration cap and status refresh.

use std::time::{Duration, Instant};

use super::Status;

/// Threads per test: 4× CI's 2 cores.
pub const THREADS: usize = 8;
/// Iteration cap per thread (per loop), whatever the run length.
pub const CAP: usize = 2_000_000;
/// Status lines are refreshed once every this many iterations.
pub const STATUS_EVERY: usize = 1024;

/// The run length: `SYNCLAB_STRESS_MS` (default 200 ms).
pub fn run_length() -> Duration {
    let ms = std::env::var("SYNCLAB_STRESS_MS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(200);
    Duration::from_millis(ms)
}

/// When a test's loops stop: at the deadline or after [`CAP`] iterations.
#[derive(Clone, Copy)]
pub struct Run {
    end: Instant,
}

impl Run {
    pub fn start() -> Run {
        Run {
            end: Instant::now() + run_length(),
        }
    }

    /// `true` while iteration `i` should run.
    pub fn more(&self, i: usize) -> bool {
        i < CAP && Instant::now() < self.end
    }
}

/// Refreshes `who`'s status line every [`STATUS_EVERY`] iterations.
// `is_multiple_of` is newer than synclab's `rust-version` (1.85); the exercises, which include
// this file too, have no `rust-version`, so clippy suggests it there.
#[allow(clippy::manual_is_multiple_of)]
pub fn every(status: &Status, who: &str, i: usize, what: &str) {
    if i % STATUS_EVERY == 0 {
        status.set(who, format!("iteration {i}: {what}"));
    }
}
