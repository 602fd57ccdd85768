//! Shared by every benchmark file: the criterion settings and the harness that times a group of
//! threads started together.
#![allow(dead_code)] // each bench file uses part of this

use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use criterion::Criterion;

// ANCHOR: config
/// The settings of the whole suite: half a second of warm-up, a second and a half of
/// measurement, 20 samples per benchmark. About 2.5 s per benchmark, so the 64 benchmarks
/// finish in about four minutes on two cores. `cargo xtask bench --quick` shortens them further
/// from the command line (`--warm-up-time`, `--measurement-time`, `--sample-size`), which
/// criterion applies on top of this.
pub fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(20)
}
// ANCHOR_END: config

// ANCHOR: timed_threads
/// Starts `threads` threads, each running `work(index)` once, released together by a barrier;
/// returns the wall time from the first thread's start of work to the last thread's end.
///
/// Benchmarks call this once per criterion *sample* (inside `iter_custom`), with the sample's
/// iteration count split between the threads: starting threads costs tens of microseconds, so it
/// stays outside the timed region and happens once per sample, never per iteration. The barrier
/// is `std::sync::Barrier` for every contestant, so the harness favours nobody.
///
/// The clock is read by the workers, not by the spawning thread after its own `wait`: on two
/// cores that thread is often woken last, behind the workers, and reading the clock there left
/// up to a whole time slice of their work untimed (measured: 3–16 ms of a 6–11 ms run, now and
/// then; see the tuning log).
pub fn timed_threads<F>(threads: usize, work: F) -> Duration
where
    F: Fn(usize) + Sync,
{
    let start = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (start, work) = (&start, &work);
                s.spawn(move || {
                    start.wait();
                    let t0 = Instant::now();
                    work(i);
                    (t0, Instant::now())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a benchmark thread panicked"))
            .collect()
    });
    let first = spans
        .iter()
        .map(|s| s.0)
        .min()
        .expect("at least one thread");
    let last = spans
        .iter()
        .map(|s| s.1)
        .max()
        .expect("at least one thread");
    last - first
}
// ANCHOR_END: timed_threads

/// `iters` split between `parts` threads, rounded up so that every thread has at least one.
pub fn share(iters: u64, parts: usize) -> u64 {
    iters.div_ceil(parts as u64).max(1)
}

/// Some work that the optimizer cannot remove: `rounds` dependent multiply-adds, a few
/// nanoseconds each. The "long" critical sections run it while holding the lock.
#[inline]
pub fn busy(x: &mut u64, rounds: u32) {
    for _ in 0..rounds {
        *x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// A `u64` behind the three-state `FutexLock`, `Lock`'s raw lock until issue 14 (tuning log,
/// entries 21 and 22): `benches/lock.rs` measures it as `synclab_futex`, `benches/fairness.rs`
/// as `synclab FutexLock`.
#[derive(Default)]
pub struct Futex {
    lock: synclab::FutexLock,
    n: std::cell::UnsafeCell<u64>,
}

// SAFETY: `n` is only touched under `lock`.
unsafe impl Sync for Futex {}

impl Futex {
    /// Locks, runs `f` on the counter, unlocks.
    #[inline]
    pub fn with(&self, f: impl FnOnce(&mut u64)) {
        self.lock.lock();
        // SAFETY: we hold the lock, so no other reference to `n` exists; the benchmarks' `f`
        // (an increment and `busy`) does not panic, so the unlock below always runs.
        f(unsafe { &mut *self.n.get() });
        // SAFETY: locked above, by this thread.
        unsafe { self.lock.unlock() };
    }
}
