//! The synclab workbook's exercises.
//!
//! Each exercise is a learner stub in `exercises/<part>/<name>.rs` (edit it), a reference
//! solution in `exercises/solutions/<part>/<name>.rs` (don't peek too early) and tests at the
//! bottom of both files (identical). `exercises/info.toml` lists them in reading order with
//! their hints, and `exercises/tests/<name>.rs` wires each one up as its own test target.
//!
//! ```text
//! cargo xtask check            # every exercise, against your code, with a progress count
//! cargo xtask check spin_lock  # one exercise, with its test output and all its hints
//! cargo test -p synclab-exercises   # the reference solutions (what CI runs)
//! ```

/// `synclab::futex`, with each thread's calls counted so that a test can see the system calls
/// an exercise makes.
///
/// The same three calls and the same contract as [`synclab::futex`] (read its docs); the only
/// difference is [`calls`](crate::futex::calls), which the `three_state_lock` tests use to prove
/// that an uncontended lock and unlock make no system call at all.
///
/// ```
/// use std::sync::atomic::AtomicU32;
/// use synclab_exercises::futex;
///
/// let word = AtomicU32::new(0);
/// let before = futex::calls();
/// futex::wake_one(&word);
/// assert_eq!(futex::calls().wakes, before.wakes + 1);
/// assert_eq!(futex::calls().waits, before.waits);
/// ```
pub mod futex {
    use std::cell::Cell;
    use std::sync::atomic::AtomicU32;
    use std::time::{Duration, Instant};

    pub use synclab::futex::WaitResult;

    /// How many futex calls the calling thread has made through this module so far.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Calls {
        /// Calls to [`wait`].
        pub waits: u64,
        /// Calls to [`wake_one`] and [`wake_all`].
        pub wakes: u64,
    }

    thread_local! {
        static CALLS: Cell<Calls> = const { Cell::new(Calls { waits: 0, wakes: 0 }) };
    }

    /// The calling thread's counts (each thread counts its own calls only).
    pub fn calls() -> Calls {
        CALLS.with(Cell::get)
    }

    fn count(f: impl FnOnce(&mut Calls)) {
        CALLS.with(|c| {
            let mut calls = c.get();
            f(&mut calls);
            c.set(calls);
        });
    }

    /// [`synclab::futex::wait`], counted.
    pub fn wait(atomic: &AtomicU32, expected: u32, deadline: Option<Instant>) -> WaitResult {
        count(|c| c.waits += 1);
        synclab::futex::wait(atomic, expected, deadline)
    }

    /// [`synclab::futex::wake_one`], counted.
    pub fn wake_one(atomic: &AtomicU32) -> usize {
        count(|c| c.wakes += 1);
        synclab::futex::wake_one(atomic)
    }

    /// [`synclab::futex::wake_all`], counted.
    pub fn wake_all(atomic: &AtomicU32) -> usize {
        count(|c| c.wakes += 1);
        synclab::futex::wake_all(atomic)
    }

    /// [`synclab::futex::deadline_after`].
    pub fn deadline_after(timeout: Duration) -> Option<Instant> {
        synclab::futex::deadline_after(timeout)
    }
}
