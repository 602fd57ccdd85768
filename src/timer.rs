//! `Timer`: Python's `threading.Timer`, a function that runs on its own thread after a delay
//! unless it is cancelled first.
//!
//! One `AtomicU32`, shared (in an `Arc`) by the handle and the timer thread, decides the race
//! between `cancel` and firing: both leave `PENDING` with a compare-exchange, so exactly one of
//! them wins.
//!
//! | state | meaning | reached by |
//! |---|---|---|
//! | `PENDING` (0) | the delay is running; the timer thread sleeps on the word | `start` |
//! | `CANCELLED` (1) | `f` will never run | `cancel`: CAS `PENDING` → `CANCELLED`, then `wake_all` |
//! | `RUNNING` (2) | `f` is running | the timer thread, after its deadline: CAS `PENDING` → `RUNNING` |
//! | `FINISHED` (3) | `f` has returned (or panicked) | the timer thread: store, then `wake_all` |
//!
//! The timer thread sleeps with `futex::wait(state, PENDING, deadline)`: the deadline is the
//! delay (computed once, in `start`, so the delay counts from the call), and a `cancel` changes
//! the word and wakes it, so a cancelled timer's thread exits at once instead of sleeping out
//! its delay (important for `Duration::MAX`, which means "no deadline": such a timer only ever
//! ends by `cancel`).
//!
//! `wait` sleeps on the word while it is `PENDING` or `RUNNING`. No wakeup is lost: both ends,
//! `CANCELLED` and `FINISHED`, are stores followed by `wake_all`, and a waiter sleeps only on the
//! exact value it saw, so it either sees the end or is asleep when the wake comes. The step
//! `PENDING` → `RUNNING` wakes nobody; a waiter asleep on `PENDING` sleeps on until `FINISHED`.
//! Each timer makes at most two wake calls in its life (a cancel, or the finish); no waiter bit
//! is worth its complexity next to the cost of the thread itself.

use std::fmt;
use std::time::{Duration, Instant};

use crate::futex;
use crate::sync::{
    Arc, AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
    thread,
};

// ANCHOR: states
const PENDING: u32 = 0; // waiting for the deadline
const CANCELLED: u32 = 1; // cancelled before firing: `f` never runs
const RUNNING: u32 = 2; // `f` is running
const FINISHED: u32 = 3; // `f` has returned or panicked
// ANCHOR_END: states

/// Runs a function on its own thread after a delay, unless cancelled first: Python's
/// `threading.Timer(interval, function)` (started at once, so `start` is Python's
/// `Timer(...)` followed by `.start()`).
///
/// [`cancel`](Timer::cancel) stops the function if it has not started yet and tells you whether
/// it did; [`wait`](Timer::wait) blocks until the timer is done (the function has returned, or
/// the timer was cancelled), so tests need no sleeps.
///
/// **Dropping a `Timer` does not cancel it**: like a Python `Timer` (a thread of its own), it
/// fires whether or not anyone keeps the handle. Call `cancel` to stop it. A timer that is never
/// cancelled keeps its thread asleep until the delay passes; with `Duration::MAX`, until the
/// process exits.
///
/// If the function panics, the panic ends the timer thread (and is reported by the panic hook,
/// as Python reports an exception in a `Timer` through `threading.excepthook`); the timer still
/// counts as finished, so `wait` returns.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use synclab::Timer;
///
/// let fired = Arc::new(AtomicBool::new(false));
/// let flag = fired.clone();
/// let timer = Timer::start(Duration::from_millis(10), move || flag.store(true, Relaxed));
/// timer.wait();
/// assert!(fired.load(Relaxed));
/// assert!(!timer.cancel()); // too late: it already ran
///
/// let never = Timer::start(Duration::MAX, || unreachable!());
/// assert!(never.cancel()); // stopped: the function will never run
/// ```
pub struct Timer {
    /// `PENDING`, `CANCELLED`, `RUNNING` or `FINISHED` (table in the module docs).
    state: Arc<AtomicU32>,
    /// Under loom only: the timer thread, joined when the handle is dropped. loom ends a model's
    /// execution when its main closure returns and tears down the futex model's table then, so
    /// every thread must be done with the futex by that time; the timer thread's last step, the
    /// `wake_all` after `FINISHED`, comes after `wait` has returned. A model must therefore
    /// cancel or let fire every timer it drops (a `Duration::MAX` timer never cancelled is a
    /// loom deadlock), and must not drop the last handle from inside `f`.
    #[cfg(loom)]
    thread: Option<thread::JoinHandle<()>>,
}

impl Timer {
    /// Starts a thread that calls `f` once `delay` has passed, unless [`cancel`](Timer::cancel)
    /// comes first. `f` runs *at least* `delay` after this call (later if the machine is busy).
    ///
    /// `Duration::ZERO` fires as soon as the thread runs; `Duration::MAX` never fires (the
    /// thread sleeps until the timer is cancelled).
    ///
    /// # Panics
    ///
    /// If the operating system cannot create the thread.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = synclab::Timer::start(Duration::ZERO, || println!("now"));
    /// timer.wait();
    /// ```
    // ANCHOR: start
    pub fn start<F>(delay: Duration, f: F) -> Timer
    where
        F: FnOnce() + Send + 'static,
    {
        let deadline = futex::deadline_after(delay);
        let state = Arc::new(AtomicU32::new(PENDING));
        let shared = state.clone();
        let thread = thread::Builder::new()
            .name("synclab-timer".into())
            .spawn(move || fire_after(&shared, deadline, f))
            .expect("Timer::start: the operating system could not create the timer thread");
        // Normally dropping the handle detaches the thread: it ends on its own once it has fired
        // or seen the cancel. Under loom the `Timer` keeps it and joins it when dropped.
        #[cfg(not(loom))]
        drop(thread);
        Timer {
            state,
            #[cfg(loom)]
            thread: Some(thread),
        }
    }
    // ANCHOR_END: start

    /// Stops the timer if its function has not started yet (Python's `cancel()`).
    ///
    /// Returns `true` if the function will never run (this call or an earlier one stopped it),
    /// `false` if it has already started or finished; cancelling then is harmless.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = synclab::Timer::start(Duration::from_secs(3600), || unreachable!());
    /// assert!(timer.cancel());
    /// assert!(timer.cancel()); // still stopped
    /// assert!(timer.is_finished());
    /// ```
    // ANCHOR: cancel
    pub fn cancel(&self) -> bool {
        // Relaxed on success: cancelling publishes nothing; the RMW alone decides the race with
        // the timer thread's CAS. Acquire on failure: pairs with the Release store of FINISHED,
        // so a caller that sees `false` and then `is_finished` also sees what `f` did.
        match self
            .state
            .compare_exchange(PENDING, CANCELLED, Relaxed, Acquire)
        {
            Ok(_) => {
                // The timer thread (and any `wait`er) sleeps on PENDING.
                futex::wake_all(&self.state);
                true
            }
            Err(state) => state == CANCELLED,
        }
    }
    // ANCHOR_END: cancel

    /// Blocks until the timer is done: its function has returned (or panicked), or the timer was
    /// cancelled before it started. Like `join()` on Python's `Timer`, except that it also returns
    /// for a cancelled timer whose thread is still on its way out. Everything the function did
    /// is visible after this returns. Called from inside the function itself, it never returns
    /// (it would wait for itself).
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = synclab::Timer::start(Duration::from_millis(1), || {});
    /// timer.wait();
    /// assert!(timer.is_finished());
    /// ```
    pub fn wait(&self) {
        self.wait_until(None);
    }

    /// Like [`wait`](Timer::wait), for at most `timeout`. `true` if the timer is done.
    /// `Duration::ZERO` only looks; `Duration::MAX` waits as long as `wait`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = synclab::Timer::start(Duration::MAX, || {});
    /// assert!(!timer.wait_timeout(Duration::from_millis(1)));
    /// timer.cancel();
    /// assert!(timer.wait_timeout(Duration::ZERO));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(futex::deadline_after(timeout))
    }

    /// `true` once nothing more will happen: the function has returned (or panicked), or the
    /// timer was cancelled before it started. A snapshot; when `true`, what the function did is
    /// visible.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = synclab::Timer::start(Duration::MAX, || {});
    /// assert!(!timer.is_finished());
    /// timer.cancel();
    /// assert!(timer.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        // Acquire: pairs with the Release store of FINISHED.
        is_done(self.state.load(Acquire))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        loop {
            // Acquire: pairs with the Release store of FINISHED.
            let state = self.state.load(Acquire);
            if is_done(state) {
                return true;
            }
            if futex::wait(&self.state, state, deadline).timed_out() {
                return self.is_finished();
            }
        }
    }
}

/// `true` for the two final states.
#[inline]
fn is_done(state: u32) -> bool {
    state == CANCELLED || state == FINISHED
}

// ANCHOR: timer_thread
/// The body of the timer thread.
fn fire_after(state: &AtomicU32, deadline: Option<Instant>, f: impl FnOnce()) {
    if sleep_until_due(state, deadline) {
        fire(state, f);
    }
}

/// Sleeps until `deadline`; `false` if the timer was cancelled first.
fn sleep_until_due(state: &AtomicU32, deadline: Option<Instant>) -> bool {
    loop {
        // Relaxed: only a cancel changes the word now, and it publishes nothing.
        if state.load(Relaxed) != PENDING {
            return false;
        }
        if futex::wait(state, PENDING, deadline).timed_out() {
            return true;
        }
    }
}

/// Runs `f` unless a cancel got to the word first (it may have, since the deadline passed).
fn fire(state: &AtomicU32, f: impl FnOnce()) {
    // Relaxed: as in `cancel`, the RMW alone decides who wins; `f`'s inputs came with the thread.
    if state
        .compare_exchange(PENDING, RUNNING, Relaxed, Relaxed)
        .is_err()
    {
        return; // cancelled
    }

    /// Marks the timer finished when `f` returns, and also when it panics.
    struct Finish<'a>(&'a AtomicU32);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            // Release: publishes what `f` did to the Acquire loads in `wait` and `is_finished`.
            self.0.store(FINISHED, Release);
            futex::wake_all(self.0);
        }
    }
    let _finish = Finish(state);
    f();
}
// ANCHOR_END: timer_thread

#[cfg(loom)]
impl Drop for Timer {
    /// Joins the timer thread (loom only; see the `thread` field).
    fn drop(&mut self) {
        // Not while unwinding from a failed assertion: the model has failed already, and joining
        // a thread that cannot finish (a timer the model meant to cancel after the assertion)
        // would pile a loom deadlock report on top of the real failure.
        if std::thread::panicking() {
            return;
        }
        if let Some(thread) = self.thread.take() {
            // A panic in `f` fails the loom model on its own; there is nothing to report here.
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for Timer {
    /// `Timer(pending)`, `Timer(cancelled)`, `Timer(running)` or `Timer(finished)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state.load(Relaxed) {
            PENDING => "pending",
            CANCELLED => "cancelled",
            RUNNING => "running",
            _ => "finished",
        };
        f.debug_tuple("Timer")
            .field(&format_args!("{state}"))
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_timer_never_runs_its_function() {
        let state = AtomicU32::new(CANCELLED);
        fire_after(&state, Some(Instant::now()), || panic!("ran after cancel"));
        assert_eq!(state.load(Relaxed), CANCELLED);
    }

    #[test]
    fn a_cancel_just_after_the_deadline_still_wins() {
        // The race `cancel` must win: the deadline passed, then a cancel, then the timer thread
        // tries to fire.
        let timer = Timer {
            state: Arc::new(AtomicU32::new(PENDING)),
        };
        assert!(sleep_until_due(&timer.state, Some(Instant::now())));
        assert!(timer.cancel());
        fire(&timer.state, || panic!("ran after a successful cancel"));
        assert_eq!(timer.state.load(Relaxed), CANCELLED);
        assert!(timer.is_finished());
    }

    #[test]
    fn a_panicking_function_still_finishes_the_timer() {
        let state = AtomicU32::new(PENDING);
        let r = std::panic::catch_unwind(|| {
            fire_after(&state, Some(Instant::now()), || panic!("boom"))
        });
        assert!(r.is_err());
        assert_eq!(state.load(Relaxed), FINISHED);
    }
}
