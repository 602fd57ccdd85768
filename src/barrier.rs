//! `Barrier`: Python's `threading.Barrier`, a meeting point for a fixed number of threads, with
//! `abort`, `reset` and timeouts that break it.
//!
//! Built on synclab's own [`Lock`] and [`Condition`], following CPython's `Lib/threading.py`
//! algorithm. Why not a lock-free word: the hard part of Python's barrier is not the counting but
//! `reset` and `abort`. A thread woken late must still learn how *its* generation ended
//! (completed, or reset under it), even if the barrier has moved on. CPython answers this with a
//! *draining* phase: a new generation does not begin until every thread of the last one has
//! left. Then a waiter only ever sees its own generation's outcome, and no generation counter
//! (nor its wrap-around) is needed. Under one lock, that rule is a few lines that plainly hold;
//! a barrier is not a hot path, and the lock's uncontended cost is one CAS.
//!
//! State, under the lock: `count` (threads inside `wait`: arrived and not yet left) and a phase.
//!
//! | phase | meaning | an arriving thread | a waiting thread, woken |
//! |---|---|---|---|
//! | `Filling` | a generation is gathering | gets index `count`, `count += 1`; the last sets `Draining` | keeps waiting |
//! | `Draining` | the generation completed; its threads are leaving | waits for `Filling` | returns `Ok` |
//! | `DrainingThenBroken` | as `Draining`, and `abort` came meanwhile | waits, then gets `Err` | returns `Ok` |
//! | `Resetting` | `reset` came while threads waited; they are leaving | waits for `Filling` | returns `Err` |
//! | `Broken` | `abort`, or a wait timed out | returns `Err` at once | returns `Err` |
//!
//! Every thread leaves through the same exit: `count -= 1`, and the last one out of `Draining`
//! or `Resetting` opens the next generation (`Filling`; `Broken` after `DrainingThenBroken`).
//! `reset` sets `Resetting` if threads are inside (`Filling`, `Broken`), `Draining` instead of
//! `DrainingThenBroken`, and `Filling` if nobody is inside. Invariant: while a thread is inside,
//! the phase never returns to `Filling`, so a waiter cannot miss the end of its generation.
//! Every phase change is followed by `notify_all` (after the lock is released); the waits are
//! `Condition::wait_while` loops, so a spurious wakeup only costs a look at the state.
//!
//! One refinement over CPython: an `abort` that arrives while a completed generation drains
//! breaks the barrier *after* the drain (`DrainingThenBroken`), so every thread of a completed
//! generation gets `Ok`, not only the ones that happened to wake first.

use std::fmt;
use std::time::Duration;

use crate::condition::Condition;
use crate::lock::{Lock, LockGuard};
use crate::sync::loom_const_fn;

// ANCHOR: state
/// Where the barrier is in its cycle (table in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Filling,
    Draining,
    DrainingThenBroken,
    Resetting,
    Broken,
}

#[derive(Debug)]
struct State {
    /// Threads inside `wait`: arrived and not yet left.
    count: usize,
    phase: Phase,
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
    /// Notified after every phase change.
    changed: Condition,
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
                state: Lock::new(State { count: 0, phase: Phase::Filling }),
                changed: Condition::new(),
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
        state.phase = match state.phase {
            // A completed generation keeps its `Ok`s; the barrier breaks once it has left.
            Phase::Draining | Phase::DrainingThenBroken => Phase::DrainingThenBroken,
            _ => Phase::Broken,
        };
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
        state.phase = if state.count == 0 {
            Phase::Filling
        } else {
            match state.phase {
                // Waiters of a broken or unfinished generation leave with `Err` first.
                Phase::Filling | Phase::Broken => Phase::Resetting,
                // A completed generation still leaves with `Ok`; cancel the pending break.
                Phase::Draining | Phase::DrainingThenBroken => Phase::Draining,
                Phase::Resetting => Phase::Resetting,
            }
        };
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
        matches!(
            self.state.lock().phase,
            Phase::Broken | Phase::DrainingThenBroken
        )
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
        let state = self.state.lock();
        if state.phase == Phase::Filling {
            state.count
        } else {
            0
        }
    }

    // ANCHOR: wait_inner
    /// `wait` and `wait_timeout`: CPython's `_enter`, then `_release` or `_wait`, then `_exit`.
    fn wait_inner(&self, timeout: Option<Duration>) -> Result<BarrierWaitResult, BrokenBarrier> {
        let draining = |s: &mut State| {
            matches!(
                s.phase,
                Phase::Draining | Phase::DrainingThenBroken | Phase::Resetting
            )
        };
        // Enter: let the previous generation leave first.
        let mut state = self.changed.wait_while(self.state.lock(), draining);
        if state.phase == Phase::Broken {
            return Err(BrokenBarrier);
        }
        debug_assert_eq!(state.phase, Phase::Filling);
        let index = state.count;
        state.count += 1;

        let mut changed = false;
        let result = if index + 1 == self.parties {
            // The last to arrive releases everyone.
            state.phase = Phase::Draining;
            changed = true;
            Ok(BarrierWaitResult {
                index,
                leader: true,
            })
        } else {
            let filling = |s: &mut State| s.phase == Phase::Filling;
            state = match timeout {
                None => self.changed.wait_while(state, filling),
                Some(timeout) => {
                    let (mut state, result) =
                        self.changed.wait_timeout_while(state, timeout, filling);
                    if result.timed_out() {
                        // Python's `_break`: a timeout breaks the barrier for everyone.
                        state.phase = Phase::Broken;
                        changed = true;
                    }
                    state
                }
            };
            match state.phase {
                Phase::Draining | Phase::DrainingThenBroken => Ok(BarrierWaitResult {
                    index,
                    leader: false,
                }),
                _ => Err(BrokenBarrier),
            }
        };

        // Exit: the last thread out of a finished or reset generation opens the next one.
        state.count -= 1;
        if state.count == 0 {
            let next = match state.phase {
                Phase::Draining | Phase::Resetting => Some(Phase::Filling),
                Phase::DrainingThenBroken => Some(Phase::Broken),
                Phase::Filling | Phase::Broken => None,
            };
            if let Some(next) = next {
                state.phase = next;
                changed = true;
            }
        }
        if changed {
            self.notify(state);
        }
        result
    }
    // ANCHOR_END: wait_inner

    /// Releases the lock, then wakes every thread waiting for a phase change (waking them while
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
mod tests {
    use super::*;

    fn phase(b: &Barrier) -> Phase {
        b.state.lock().phase
    }

    #[test]
    fn abort_while_draining_breaks_after_the_drain() {
        let b = Barrier::new(2);
        // As if a generation had just completed and one thread had not left yet.
        *b.state.lock() = State {
            count: 1,
            phase: Phase::Draining,
        };
        b.abort();
        assert_eq!(phase(&b), Phase::DrainingThenBroken);
        assert!(b.is_broken());
        assert_eq!(b.n_waiting(), 0);
        b.reset(); // cancels the pending break, the drain goes on
        assert_eq!(phase(&b), Phase::Draining);
    }

    #[test]
    fn reset_with_waiters_inside_drains_them_first() {
        let b = Barrier::new(3);
        for phase_before in [Phase::Filling, Phase::Broken] {
            *b.state.lock() = State {
                count: 2,
                phase: phase_before,
            };
            b.reset();
            assert_eq!(phase(&b), Phase::Resetting);
            assert!(!b.is_broken());
        }
        b.state.lock().count = 0;
        b.reset();
        assert_eq!(phase(&b), Phase::Filling);
    }
}
