//! `Event`: Python's `threading.Event`, as one `AtomicU32` holding a flag, a "someone may sleep"
//! bit and a generation counter.
//!
//! A plain flag is not enough. CPython's `test_set_and_clear` (bpo-13502) requires that a thread
//! already waiting when `set()` happens returns `true`, even if `clear()` runs before the waiter
//! gets the CPU to look at the flag. So `set` also bumps a *generation*: a waiter remembers the
//! generation it saw when it started and returns as soon as the flag is set **or** the generation
//! has moved.
//!
//! | bits | name | meaning |
//! |---|---|---|
//! | 0 | `SET` | the event is set |
//! | 1 | `WAITERS` | a thread may sleep in `futex::wait`: `set` must wake all |
//! | 2..32 | generation | bumped by every unset → set transition (wraps at 2^30) |
//!
//! | operation | transition | syscall |
//! |---|---|---|
//! | `set` on unset | `SET`, generation + 1, `WAITERS` cleared (one CAS) | `wake_all` only if `WAITERS` was set |
//! | `set` on set | unchanged (a CAS to the same value, for its Release) | none |
//! | `clear` | `SET` cleared (`fetch_and`) | none |
//! | `wait` on set | nothing (one Acquire load) | none |
//! | `wait` on unset | spin briefly, yield once; then CAS `WAITERS` in and sleep on that exact value | `futex::wait` |
//!
//! Invariants:
//!
//! - **No lost wakeup.** A waiter only sleeps on a value that has `WAITERS` set, and only
//!   `set` clears `WAITERS`, in the same CAS that changes the word. So any `set` that changes the
//!   value a waiter sleeps on sees `WAITERS` and wakes everyone; a `set` that lands between the
//!   waiter's CAS and its sleep changes the word, so the futex does not sleep at all.
//! - `SET` and `WAITERS` are never both set: waiters add `WAITERS` only to an unset word, and `set`
//!   clears it. A `clear` therefore leaves `WAITERS` clear, and a later `set` makes no syscall
//!   unless a new waiter came.
//! - Every write to the word is a read-modify-write, so later writes (a `clear`, another waiter's
//!   CAS) continue the release sequence of a `set`: a waiter that wakes to a word where `set` was
//!   already undone by `clear` still synchronizes with that `set`.
//!
//! **Generation wrap-around.** The generation has 30 bits. A waiter that sleeps (or is
//! descheduled) while *exactly* 2^30 set/clear cycles happen, and then finds the event unset,
//! sees its old generation again and keeps waiting: it misses those sets. That takes over a
//! billion sets with no chance for the waiter to run, the same trade-off std's futex `Condvar`
//! makes with its 32-bit notification counter.

use std::fmt;
use std::time::{Duration, Instant};

use crate::backoff;
use crate::futex;
use crate::sync::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
    loom_const_fn,
};

// ANCHOR: bits
const SET: u32 = 1 << 0; // the event is set
const WAITERS: u32 = 1 << 1; // a waiter may sleep: `set` must wake all
const GEN_ONE: u32 = 1 << 2; // one step of the generation counter
const GEN_MASK: u32 = !(SET | WAITERS); // the generation bits
// ANCHOR_END: bits

/// A flag that threads can wait for: Python's `threading.Event`.
///
/// One thread calls [`set`](Event::set); every thread blocked in [`wait`](Event::wait) wakes up,
/// and later waits return at once until [`clear`](Event::clear) resets the flag. Everything a
/// thread wrote before `set` is visible to a thread after its `wait` returns (or after
/// [`is_set`](Event::is_set) returns `true`).
///
/// The event is 4 bytes; `set` makes no system call when nobody waits, and a `wait` on a set event
/// is one atomic load.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
/// use synclab::Event;
///
/// let ready = Event::new();
/// let answer = AtomicU32::new(0);
/// std::thread::scope(|s| {
///     for _ in 0..3 {
///         s.spawn(|| {
///             ready.wait();
///             // `set` happened before `wait` returned, and the store before `set`.
///             assert_eq!(answer.load(Relaxed), 42);
///         });
///     }
///     answer.store(42, Relaxed);
///     ready.set();
/// });
/// ```
pub struct Event {
    /// `SET`, `WAITERS` and the generation (tables in the module docs).
    state: AtomicU32,
}

impl Event {
    loom_const_fn! {
        /// A new event, unset.
        ///
        /// ```
        /// static STOP: synclab::Event = synclab::Event::new();
        /// assert!(!STOP.is_set());
        /// ```
        pub fn new() -> Event {
            Event { state: AtomicU32::new(0) }
        }
    }

    // ANCHOR: set
    /// Sets the flag and wakes every waiting thread (Python's `set()`).
    ///
    /// Setting a set event changes nothing. No system call happens unless a thread is waiting.
    ///
    /// ```
    /// let ev = synclab::Event::new();
    /// ev.set();
    /// ev.set(); // idempotent
    /// assert!(ev.is_set());
    /// ```
    #[inline]
    pub fn set(&self) {
        let mut state = self.state.load(Relaxed);
        loop {
            let new = if state & SET != 0 {
                state
            } else {
                // Generation + 1 (wrapping inside the generation bits), SET in, WAITERS out:
                // we are about to wake every sleeper.
                ((state & GEN_MASK).wrapping_add(GEN_ONE)) | SET
            };
            // Release: publishes what this thread wrote before `set` to the Acquire loads in
            // `wait`/`is_set`. Also when the event was already set: then this CAS writes the same
            // value, but as a Release RMW it still orders our writes before any waiter that
            // reads this value or a later one.
            match self
                .state
                .compare_exchange_weak(state, new, Release, Relaxed)
            {
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        if state & WAITERS != 0 {
            self.wake_all();
        }
    }
    // ANCHOR_END: set

    // ANCHOR: clear
    /// Resets the flag (Python's `clear()`). Threads that are already waiting and saw a `set`
    /// since they began still return `true`; later waits block until the next `set`.
    ///
    /// ```
    /// let ev = synclab::Event::new();
    /// ev.set();
    /// ev.clear();
    /// assert!(!ev.is_set());
    /// ```
    #[inline]
    pub fn clear(&self) {
        // Relaxed: `clear` publishes nothing (a waiter returns because of a `set`, never because
        // of a `clear`); being an RMW, it keeps the release sequence of the last `set` intact.
        self.state.fetch_and(!SET, Relaxed);
    }
    // ANCHOR_END: clear

    /// `true` if the flag is set (Python's `is_set()`); a snapshot.
    ///
    /// When it returns `true`, what the setting thread wrote before `set` is visible.
    ///
    /// ```
    /// let ev = synclab::Event::new();
    /// assert!(!ev.is_set());
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    #[inline]
    pub fn is_set(&self) -> bool {
        // Acquire: pairs with the Release CAS in `set`.
        self.state.load(Acquire) & SET != 0
    }

    /// Blocks until the flag is set (Python's `wait()` with no timeout). Returns at once if it is
    /// set already.
    ///
    /// ```
    /// let ev = synclab::Event::new();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| ev.set());
    ///     ev.wait();
    /// });
    /// assert!(ev.is_set());
    /// ```
    #[inline]
    pub fn wait(&self) {
        // Acquire: pairs with the Release CAS in `set`.
        let state = self.state.load(Acquire);
        if state & SET == 0 {
            self.wait_contended(state, None);
        }
    }

    /// Blocks until the flag is set or `timeout` passes (Python's `wait(timeout)`).
    ///
    /// Returns `true` if the event was set: it is set now, or it was set (and perhaps cleared
    /// again) while this thread waited. `false` means the time ran out. `Duration::ZERO` only
    /// looks; `Duration::MAX` waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let ev = synclab::Event::new();
    /// assert!(!ev.wait_timeout(Duration::from_millis(1)));
    /// ev.set();
    /// assert!(ev.wait_timeout(Duration::ZERO));
    /// ```
    #[inline]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        // Acquire: pairs with the Release CAS in `set`.
        let state = self.state.load(Acquire);
        if state & SET != 0 {
            return true;
        }
        if timeout.is_zero() {
            // Only look: sleeping for nothing would leave WAITERS behind and cost `set` a syscall.
            return false;
        }
        self.wait_contended(state, futex::deadline_after(timeout))
    }

    // ANCHOR: wait_contended
    /// The slow path of `wait`: `seen` is the (unset) state the caller loaded when it began.
    /// Returns `true` once a `set` happened since then, `false` when `deadline` passed.
    #[cold]
    fn wait_contended(&self, seen: u32, deadline: Option<Instant>) -> bool {
        let generation = seen & GEN_MASK;
        let fired = |s: u32| s & SET != 0 || s & GEN_MASK != generation;

        let mut state = seen;
        if state & WAITERS == 0 {
            // Nobody sleeps yet: a `set` may be just around the corner (ping-pong). A short
            // spin and one yield, not a lock's long spin: the setter is often waiting for this
            // very core (100 spins made ping-pong 2x slower than std on 2 busy
            // cores). Relaxed: a hint only; the Acquire load below is what we act on.
            backoff::spin_briefly_until(|| {
                state = self.state.load(Relaxed);
                state != seen
            });
        }
        // Acquire: pairs with the Release CAS in `set`.
        state = self.state.load(Acquire);

        loop {
            if fired(state) {
                return true;
            }
            if state & WAITERS == 0 {
                // Relaxed on success: WAITERS carries no data; `set` reads it through its own
                // CAS on this word. Acquire on failure: the new value may show a `set`.
                match self
                    .state
                    .compare_exchange(state, state | WAITERS, Relaxed, Acquire)
                {
                    Ok(_) => state |= WAITERS,
                    Err(s) => {
                        state = s;
                        continue;
                    }
                }
            }
            // Sleep on the exact value: any `set` changes it (SET and generation), so it cannot
            // slip in between our CAS and the sleep.
            let result = futex::wait(&self.state, state, deadline);
            // Acquire: pairs with the Release CAS in `set`.
            state = self.state.load(Acquire);
            if result.timed_out() {
                // WAITERS stays set: others may still sleep. It costs the next `set` one
                // spare `wake_all` at most.
                return fired(state);
            }
        }
    }
    // ANCHOR_END: wait_contended

    #[cold]
    fn wake_all(&self) {
        futex::wake_all(&self.state);
    }
}

impl Default for Event {
    /// A new, unset event.
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Event {
    /// `Event(set)` or `Event(unset)`, like Python's repr.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.is_set() { "set" } else { "unset" };
        f.debug_tuple("Event")
            .field(&format_args!("{state}"))
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn generation_counts_transitions_only() {
        let ev = Event::new();
        let generation = || ev.state.load(Relaxed) & GEN_MASK;
        ev.set();
        assert_eq!(generation(), GEN_ONE);
        ev.set(); // no transition
        assert_eq!(generation(), GEN_ONE);
        ev.clear();
        ev.clear();
        assert_eq!(generation(), GEN_ONE);
        ev.set();
        assert_eq!(generation(), 2 * GEN_ONE);
    }

    #[test]
    fn generation_wraps_without_touching_the_flags() {
        let ev = Event::new();
        ev.state.store(GEN_MASK | WAITERS, Relaxed); // highest generation, a waiter recorded
        ev.set(); // wakes nobody: no sleeper really exists
        assert_eq!(ev.state.load(Relaxed), SET); // generation 0, WAITERS cleared
    }

    #[test]
    fn set_and_clear_is_seen_by_a_waiter_that_began_before() {
        let ev = Event::new();
        let seen = ev.state.load(Relaxed);
        ev.set();
        ev.clear();
        assert!(!ev.is_set());
        // The waiter that loaded `seen` before the set must report it.
        assert!(ev.wait_contended(seen, Some(Instant::now())));
    }

    #[test]
    fn timed_out_wait_leaves_waiters_for_set_to_clear() {
        let ev = Event::new();
        assert!(!ev.wait_timeout(Duration::from_millis(1)));
        assert_eq!(ev.state.load(Relaxed) & WAITERS, WAITERS);
        ev.set();
        assert_eq!(ev.state.load(Relaxed) & WAITERS, 0);
    }

    #[test]
    fn zero_timeout_records_no_waiter() {
        let ev = Event::new();
        assert!(!ev.wait_timeout(Duration::ZERO));
        assert_eq!(ev.state.load(Relaxed), 0);
    }
}
