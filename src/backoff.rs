//! The spin policy, in one place.
//!
//! Before a thread goes to sleep on a futex (a system call of a microsecond or more each way), it
//! is worth spinning for a short while: a lock held for a few nanoseconds is usually free again
//! before the syscall would even have started. Spinning too long burns a core that the holder
//! might need (on 2 cores, badly). The rules, after std's futex mutex and crossbeam's `Backoff`:
//!
//! - spin with *loads only*: a compare-exchange in a loop would pull the cache line away from
//!   the holder on every iteration;
//! - stop at once when the state says others are already asleep: we would only add to the queue
//!   after them anyway;
//! - bound the spin, with named limits.

use std::time::{Duration, Instant};

use crate::futex::expired;
use crate::sync::{spin_loop, yield_now};

// ANCHOR: spin_until
/// How many load-only iterations [`spin_until`] spins before its caller sleeps (the semaphore's
/// acquire; `FutexLock` waits with [`Backoff::snooze`], and `RawLock` and the queues with
/// [`SpinWait`], which measured better for them).
///
/// 100 is std's figure for its futex mutex: roughly 1–4 µs of `PAUSE` on current x86, about the
/// cost of one futex sleep/wake round trip, so spinning longer than this cannot win. Tune it with
/// the benchmarks (`cargo xtask bench semaphore`), never by guessing.
#[cfg(not(loom))]
pub(crate) const SPIN_LIMIT: u32 = 100;
/// Under loom, no spin: sleep at once. Every spin is a loom yield, and loom runs a thread that
/// yielded only once the others are blocked, so with any spin at all loom explored only
/// executions where the awaited change arrived while spinning, and the Event, Semaphore and
/// Queue models never reached the futex sleep/wake protocol (`futex::loom_sleeps` counts the
/// sleeps; the loom tests check it).
#[cfg(loom)]
pub(crate) const SPIN_LIMIT: u32 = 0;

/// Spins (load-only) until `stop` returns `true` or [`SPIN_LIMIT`] iterations pass.
/// Returns the last value `stop` saw.
#[inline]
pub(crate) fn spin_until(mut stop: impl FnMut() -> bool) -> bool {
    for _ in 0..SPIN_LIMIT {
        if stop() {
            return true;
        }
        spin_loop();
    }
    stop()
}
// ANCHOR_END: spin_until

/// How many load-only iterations [`spin_briefly_until`] spins before its one yield.
///
/// Measured on `event/pingpong` (`benches/perf_scratch.rs`, 2 cores under load): 100 spins
/// cost 2x std's `Mutex`+`Condvar`, no spin 0.8-1.0x, 5-10 spins and one yield 0.8-0.9x.
#[cfg(not(loom))]
pub(crate) const SHORT_SPIN_LIMIT: u32 = 8;
/// Under loom, no spin and no yield, for the reason given at [`SPIN_LIMIT`]: with the yield,
/// loom ran the setter to the end first in every execution, and the Event models never slept.
#[cfg(loom)]
pub(crate) const SHORT_SPIN_LIMIT: u32 = 0;

/// Waits briefly for *another thread to act* (a `set` after a `wait`): [`SHORT_SPIN_LIMIT`]
/// load-only spins, then one `yield_now` (which lets the other thread run if it shares this
/// core), then one last look. Returns the last value `stop` saw.
#[inline]
pub(crate) fn spin_briefly_until(mut stop: impl FnMut() -> bool) -> bool {
    for _ in 0..SHORT_SPIN_LIMIT {
        if stop() {
            return true;
        }
        spin_loop();
    }
    if stop() {
        return true;
    }
    if cfg!(loom) {
        return false;
    }
    yield_now();
    stop()
}

// ANCHOR: backoff
/// Exponential backoff for waiting on *another thread's progress* (crossbeam's `snooze`):
/// a few rounds of growing `PAUSE` bursts, then a few yields, then [`Backoff::is_completed`]
/// says "stop spinning and sleep".
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    step: u32,
}

impl Backoff {
    /// Rounds of `2^step` pauses (1, 2, 4, … 64).
    #[cfg(not(loom))]
    const SPIN_STEPS: u32 = 6;
    /// Then rounds of `yield_now` until here.
    #[cfg(not(loom))]
    const YIELD_STEPS: u32 = 10;
    #[cfg(loom)]
    const SPIN_STEPS: u32 = 0;
    #[cfg(loom)]
    const YIELD_STEPS: u32 = 0;

    pub(crate) const fn new() -> Self {
        Backoff { step: 0 }
    }

    /// Retry after a failed compare-exchange: contention, not waiting.
    #[inline]
    pub(crate) fn spin(&mut self) {
        for _ in 0..1u32 << self.step.min(Self::SPIN_STEPS) {
            spin_loop();
        }
        if self.step <= Self::SPIN_STEPS {
            self.step += 1;
        }
    }

    /// Wait for another thread to make progress: spin, then yield.
    #[inline]
    pub(crate) fn snooze(&mut self) {
        if self.step <= Self::SPIN_STEPS {
            for _ in 0..1u32 << self.step {
                spin_loop();
            }
        } else {
            yield_now();
        }
        if self.step <= Self::YIELD_STEPS {
            self.step += 1;
        }
    }

    /// `true` once snoozing has gone on long enough that the caller should sleep instead.
    #[inline]
    pub(crate) fn is_completed(&self) -> bool {
        // Under loom at once, so that the models reach the sleep (see [`SPIN_LIMIT`]).
        cfg!(loom) || self.step > Self::YIELD_STEPS
    }
}
// ANCHOR_END: backoff

// ANCHOR: spin_wait
/// How a thread waits, before it sleeps, for another thread that may take a while (a lock's
/// holder, a queue's producer): up to 10 steps, each a `yield_now` and then a pause of `PAUSE`s
/// whose length doubles from 0.32 µs to 2.56 µs, some 20 µs in all. `RawLock`'s waiters, a
/// getter on an empty queue and a putter on a full one wait this way (tuning log, entries 23
/// and 24).
///
/// - The yield is there for more threads than cores: the thread waited for may be waiting for
///   a core, and only a yield gives it one (entry 21).
/// - The pause is there for the thread waited for. Each look at the shared word takes its cache
///   line away from that thread, which is writing it or its neighbours. A waiter that looked
///   after every yield (one look every 0.16 µs here) slowed the lock's holder more than its
///   looks were worth (entry 23).
/// - The pause is timed, not counted: a `PAUSE` lasts 10 ns on one CPU and some 40 ns on
///   another.
/// - A deadline ends the spin too.
///
/// Under loom a step never spins (see [`SPIN_LIMIT`]); under Miri it yields without the pause.
#[derive(Debug, Default)]
pub(crate) struct SpinWait {
    step: u32,
}

impl SpinWait {
    const STEPS: u32 = 10;
    const FIRST_PAUSE: Duration = Duration::from_nanos(320);
    const LONGEST_PAUSE: Duration = Duration::from_nanos(2560);

    /// One step; `false` (and no wait) once the caller should sleep, or give up, instead.
    pub(crate) fn spin(&mut self, deadline: Option<Instant>) -> bool {
        if self.is_completed() || expired(deadline) {
            return false;
        }
        let pause = (Self::FIRST_PAUSE * (1 << self.step)).min(Self::LONGEST_PAUSE);
        self.step += 1;
        yield_now();
        if cfg!(miri) {
            // Miri's clock is virtual: the pause would only burn interpreter time, and its clock
            // reads let a deadline pass before the thread ever parked (the timed-waiter test in
            // `queued_lock/tests.rs` failed so, run on its own).
            return true;
        }
        let start = Instant::now();
        let until = deadline.map_or(start + pause, |d| d.min(start + pause));
        while Instant::now() < until {
            for _ in 0..8 {
                spin_loop();
            }
        }
        true
    }

    /// `true` once the steps are spent (under loom at once).
    #[inline]
    pub(crate) fn is_completed(&self) -> bool {
        cfg!(loom) || self.step >= Self::STEPS
    }
}
// ANCHOR_END: spin_wait
