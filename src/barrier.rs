//! `Barrier`: Python's `threading.Barrier`, a meeting point for a fixed number of threads, with
//! `abort`, `reset` and timeouts that break it.
//!
//! Built on synclab's own [`Lock`] and [`Condition`]. Python's semantics (CPython's
//! `Lib/threading.py`) with std's speed: a *generation number*, as std's `Barrier` has, so a
//! thread that leaves a completed generation can enter the next one at once, and a short
//! *drain* only after a `reset`, the one case in which a waiter must learn that its generation
//! ended badly. (CPython drains after every generation: the fast thread of a two-thread loop
//! then sleeps once more per round, which made the first version of this file 2× std.)
//!
//! State, under the lock:
//!
//! | field | meaning |
//! |---|---|
//! | `generation` | the current generation; +1 when one completes, or when `reset` ends one that has waiters |
//! | `count` | threads that arrived in the current generation and have not left |
//! | `broken` | `abort`, or a wait timed out; cleared by `reset` |
//! | `draining` | waiters of a *reset* generation that have not left yet; arrivals wait while it is not 0 |
//!
//! | event | what changes | the waiters of generation `g` |
//! |---|---|---|
//! | the last party arrives | `generation += 1`, `count = 0` | see `generation != g`: `Ok` |
//! | `abort`, a timeout | `broken = true` | see `generation == g && broken`: `Err`, `count -= 1` |
//! | `reset` with `count > 0` | `draining = count`, `count = 0`, `generation += 1`, `broken = false` | see `generation == g + 1 && draining > 0`: `Err`, `draining -= 1` |
//! | `reset` with `count == 0` | `broken = false` | (none) |
//!
//! Why a woken waiter can tell how its generation `g` ended: it sleeps while `generation == g`
//! and the barrier is not broken. If `g` was reset, no generation can start until every waiter
//! of `g` has left (`draining > 0` holds the entrance), so the waiter finds exactly
//! `generation == g + 1` with `draining > 0`. If `g` completed, the waiter is no longer counted
//! anywhere; later generations may complete or be reset meanwhile, but a reset of one of them
//! leaves `generation == g' + 1` with `g' > g`, never `g + 1`. So: still `g` means broken,
//! `g + 1` while draining means reset, anything else means completed. The counters are `u32`s,
//! which keeps `Barrier` at std's 40 bytes.
//!
//! One refinement over CPython: an `abort` that arrives after a generation completed but before
//! all its threads woke does not touch them (they see the new generation), so every thread of a
//! completed generation gets `Ok`, not only the ones that happened to wake first.
//!
//! Outside the lock, one word: `completed`, the generation after the last one that completed,
//! stored by each leader (and by nothing else). A waiter spins on it ([`SpinWait`], some 20 µs)
//! before it takes the lock again to sleep on the condition; if its generation completes
//! meanwhile it leaves without the lock. That took the two-thread round trip from about std's
//! cost (a futex sleep and wake per round) to a fiftieth of it (tuning log, entry 25).
//!
//! | `completed` − `g` (wrapping, signed) | for a waiter of generation `g` |
//! |---|---|
//! | ≤ 0 | `g` has not completed (it runs, or was reset or broken: the lock tells which) |
//! | > 0 | `g` completed: `Ok` |

use std::fmt;
use std::time::{Duration, Instant};

use crate::backoff::SpinWait;
use crate::condition::Condition;
use crate::futex;
use crate::lock::{Lock, LockGuard};
use crate::sync::Ordering::{Acquire, Release};
use crate::sync::{AtomicU32, loom_const_fn};

// ANCHOR: state
/// The barrier's state, under its lock (tables in the module docs).
#[derive(Debug)]
struct State {
    /// The current generation (wrapping: a waiter would have to sleep through 2³² generations
    /// to be confused, and std's `usize` generation is no wider on 32-bit targets).
    generation: u32,
    /// Threads that arrived in the current generation and have not left.
    count: u32,
    /// `abort` was called, or a wait timed out; cleared by `reset`.
    broken: bool,
    /// Waiters of a reset generation that have not left yet. New arrivals wait while it is not 0.
    draining: u32,
}
// ANCHOR_END: state

/// A reusable meeting point for `parties` threads: Python's `threading.Barrier`.
///
/// Each thread calls [`wait`](Barrier::wait); all of them block until the last one arrives, then
/// all go on together and the barrier is ready for the next round (a *generation*). Each gets its
/// arrival index, and the last to arrive (index `parties − 1`) is the leader, like std's
/// `Barrier`.
///
/// Unlike std's, the barrier can *break*: [`abort`](Barrier::abort), or a
/// [`wait_timeout`](Barrier::wait_timeout) that runs out of time, makes every current and future
/// `wait` return `Err(BrokenBarrier)` until [`reset`](Barrier::reset). Everything a thread wrote
/// before its `wait` is visible to every thread of the same generation after theirs.
///
/// **If a party may panic**, make it abort on the way out, so that the others are not left
/// waiting for a thread that will never come:
///
/// ```
/// use synclab::Barrier;
///
/// /// Aborts the barrier if the thread unwinds while this guard is alive.
/// struct AbortOnPanic<'a>(&'a Barrier);
/// impl Drop for AbortOnPanic<'_> {
///     fn drop(&mut self) {
///         if std::thread::panicking() {
///             self.0.abort();
///         }
///     }
/// }
///
/// let barrier = Barrier::new(2);
/// std::thread::scope(|s| {
///     let failing = s.spawn(|| {
///         let _guard = AbortOnPanic(&barrier);
///         panic!("this party never reaches the barrier");
///     });
///     assert!(barrier.wait().is_err()); // released by the abort, not stuck forever
///     assert!(failing.join().is_err());
/// });
/// ```
pub struct Barrier {
    state: Lock<State>,
    /// Notified after every change of the state.
    changed: Condition,
    // ANCHOR: completed
    /// The generation after the last one that *completed*: stored (under the lock, `Release`)
    /// by each leader, never by `reset`. A waiter of generation `g` spins on it before it
    /// sleeps; once it is past `g`, `g` completed, and the waiter leaves without the lock.
    completed: AtomicU32,
    // ANCHOR_END: completed
    parties: usize,
}

/// What [`Barrier::wait`] returns when the generation completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BarrierWaitResult {
    index: usize,
    leader: bool,
}

impl BarrierWaitResult {
    /// The arrival index of this thread in its generation, in `0..parties`: Python's return value
    /// of `wait()`. The indices of one generation are a permutation of `0..parties`.
    ///
    /// ```
    /// let barrier = synclab::Barrier::new(1);
    /// assert_eq!(barrier.wait().unwrap().index(), 0);
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// `true` for exactly one thread per generation: the last to arrive (index `parties − 1`).
    ///
    /// ```
    /// let barrier = synclab::Barrier::new(1);
    /// assert!(barrier.wait().unwrap().is_leader());
    /// ```
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

/// The error of a wait on a broken [`Barrier`]: Python's `BrokenBarrierError`.
///
/// ```
/// let barrier = synclab::Barrier::new(2);
/// barrier.abort();
/// let err = barrier.wait().unwrap_err();
/// assert_eq!(err, synclab::BrokenBarrier);
/// assert!(err.to_string().contains("broken"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BrokenBarrier;

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the barrier is broken (aborted, reset while this thread waited, or a wait timed out); \
             call reset() to use it again",
        )
    }
}

impl std::error::Error for BrokenBarrier {}

impl Barrier {
    loom_const_fn! {
        /// A barrier for `parties` threads (Python's `Barrier(parties)`).
        ///
        /// # Panics
        ///
        /// If `parties` is 0 (Python raises `ValueError`): nobody could ever pass.
        ///
        /// ```
        /// static START: synclab::Barrier = synclab::Barrier::new(1);
        /// assert_eq!(START.parties(), 1);
        /// ```
        pub fn new(parties: usize) -> Barrier {
            assert!(parties > 0, "Barrier::new: parties must be at least 1");
            Barrier {
                state: Lock::new(State {
                    generation: 0,
                    count: 0,
                    broken: false,
                    draining: 0,
                }),
                changed: Condition::new(),
                completed: AtomicU32::new(0),
                parties,
            }
        }
    }

    /// Blocks until `parties` threads have called `wait` (this one included), then returns this
    /// thread's [`BarrierWaitResult`]. `Err(BrokenBarrier)` if the barrier is broken, or breaks or
    /// is [`reset`](Barrier::reset) while this thread waits.
    ///
    /// ```
    /// let barrier = synclab::Barrier::new(2);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| barrier.wait().unwrap());
    ///     barrier.wait().unwrap();
    /// });
    /// ```
    pub fn wait(&self) -> Result<BarrierWaitResult, BrokenBarrier> {
        self.wait_inner(None)
    }

    /// Like [`wait`](Barrier::wait), but if the generation has not completed within `timeout`,
    /// the barrier **breaks** (for every waiter, as in Python) and this returns
    /// `Err(BrokenBarrier)`.
    ///
    /// `Duration::MAX` never times out. `Duration::ZERO` breaks the barrier unless this thread
    /// is the last to arrive. Time spent while the previous generation's threads leave is not
    /// counted (nor is it in Python).
    ///
    /// ```
    /// use std::time::Duration;
    /// let barrier = synclab::Barrier::new(2);
    /// assert!(barrier.wait_timeout(Duration::from_millis(1)).is_err()); // nobody came
    /// assert!(barrier.is_broken());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<BarrierWaitResult, BrokenBarrier> {
        self.wait_inner(Some(timeout))
    }

    /// Breaks the barrier: every thread waiting now, and every later `wait`, gets
    /// `Err(BrokenBarrier)` until [`reset`](Barrier::reset). Python's `abort()`.
    ///
    /// ```
    /// let barrier = synclab::Barrier::new(3);
    /// barrier.abort();
    /// assert!(barrier.is_broken());
    /// assert!(barrier.wait().is_err());
    /// ```
    // ANCHOR: abort
    pub fn abort(&self) {
        let mut state = self.state.lock();
        // Only the current generation's waiters see it: a completed one has moved on.
        state.broken = true;
        self.notify(state);
    }
    // ANCHOR_END: abort

    /// Returns the barrier to its fresh state. Threads waiting now get `Err(BrokenBarrier)`;
    /// threads that arrive after them start a new generation (they wait until the old ones have
    /// left). Python's `reset()`.
    ///
    /// ```
    /// let barrier = synclab::Barrier::new(1);
    /// barrier.abort();
    /// barrier.reset();
    /// assert!(!barrier.is_broken());
    /// assert!(barrier.wait().is_ok());
    /// ```
    // ANCHOR: reset
    pub fn reset(&self) {
        let mut state = self.state.lock();
        if state.count > 0 {
            // End the generation under its waiters: they leave with `Err` before a new one
            // may start (the entrance waits for `draining` to reach 0).
            state.draining += state.count;
            state.count = 0;
            state.generation = state.generation.wrapping_add(1);
        }
        state.broken = false;
        self.notify(state);
    }
    // ANCHOR_END: reset

    /// `true` if the barrier is broken (Python's `broken`); a snapshot.
    ///
    /// ```
    /// let barrier = synclab::Barrier::new(2);
    /// assert!(!barrier.is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        self.state.lock().broken
    }

    /// How many threads the barrier needs (Python's `parties`).
    ///
    /// ```
    /// assert_eq!(synclab::Barrier::new(4).parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many threads wait in the current generation (Python's `n_waiting`); a snapshot. 0 while
    /// a completed generation leaves or a reset is under way.
    ///
    /// ```
    /// assert_eq!(synclab::Barrier::new(4).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.state.lock().count as usize
    }

    // ANCHOR: wait_inner
    /// `wait` and `wait_timeout`.
    fn wait_inner(&self, timeout: Option<Duration>) -> Result<BarrierWaitResult, BrokenBarrier> {
        // Enter: after a reset, its waiters leave first.
        let mut state = self
            .changed
            .wait_while(self.state.lock(), |s| s.draining > 0);
        if state.broken {
            return Err(BrokenBarrier);
        }
        let generation = state.generation;
        let index = state.count as usize;
        if index + 1 == self.parties {
            // The last to arrive completes the generation and releases everyone.
            state.generation = generation.wrapping_add(1);
            state.count = 0;
            self.completed.store(state.generation, Release);
            self.notify(state);
            return Ok(BarrierWaitResult {
                index,
                leader: true,
            });
        }
        state.count += 1;
        let released = || {
            Ok(BarrierWaitResult {
                index,
                leader: false,
            })
        };

        // Spin first, without the lock: in a loop of short rounds the last party is usually
        // only microseconds away, and a sleep and a wake-up cost more than that.
        let deadline = timeout.and_then(futex::deadline_after);
        drop(state);
        let mut spin = SpinWait::default();
        loop {
            if self.has_completed(generation) {
                return released();
            }
            if !spin.spin(deadline) {
                break;
            }
        }

        // Then sleep on the condition, under the lock.
        let ours = |s: &mut State| s.generation == generation && !s.broken;
        state = match timeout {
            None => self.changed.wait_while(self.state.lock(), ours),
            Some(timeout) => {
                let left =
                    deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
                let (mut state, result) =
                    self.changed
                        .wait_timeout_while(self.state.lock(), left, ours);
                if result.timed_out() {
                    // Python's `_break`: a timeout breaks the barrier for everyone.
                    state.broken = true;
                    state.count -= 1;
                    self.notify(state);
                    return Err(BrokenBarrier);
                }
                state
            }
        };
        // How did our generation end? (The module docs prove the three cases apart.)
        if state.generation == generation {
            state.count -= 1; // broken under us
            Err(BrokenBarrier)
        } else if state.draining > 0 && state.generation == generation.wrapping_add(1) {
            state.draining -= 1; // reset under us
            if state.draining == 0 {
                self.notify(state); // open the entrance
            }
            Err(BrokenBarrier)
        } else {
            released()
        }
    }
    // ANCHOR_END: wait_inner

    // ANCHOR: has_completed
    /// `true` once generation `g` has completed (for a waiter of `g` that has not left yet).
    ///
    /// `completed` is `g` or less (in wrapping order) until `g` completes: it was stored by an
    /// earlier leader, and only resets came after. Then it is `g + 1`, or more if other threads
    /// went on to complete later generations meanwhile. A reset of `g` does not store it, and
    /// no later generation can complete while `g`'s waiters drain. The `Acquire` pairs with the
    /// leader's `Release`, which came after the lock had passed through every party of `g`.
    fn has_completed(&self, g: u32) -> bool {
        (self.completed.load(Acquire).wrapping_sub(g) as i32) > 0
    }
    // ANCHOR_END: has_completed

    /// Releases the lock, then wakes every thread waiting for a change (waking them while
    /// we hold the lock would only send them to sleep again on the lock).
    fn notify(&self, state: LockGuard<'_, State>) {
        drop(state);
        self.changed.notify_all();
    }
}

impl fmt::Debug for Barrier {
    /// `Barrier { parties, n_waiting, broken }`, like Python's repr.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.is_broken())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
