//! `process::Event`: Python's `multiprocessing.Event`, one `AtomicU32` in shared memory.
//!
//! The algorithm is the one of [`synclab::Event`](crate::Event) (a flag, a "someone may sleep"
//! bit and a generation counter), sleeping on the process-shared futex.
//!
//! | bits | name | meaning |
//! |---|---|---|
//! | 0 | `SET` | the event is set |
//! | 1 | `WAITERS` | a process may sleep on the word: `set` must wake all |
//! | 2..32 | generation | bumped by every unset → set transition |
//!
//! | operation | transition | syscall |
//! |---|---|---|
//! | `set` on unset | `SET`, generation + 1, `WAITERS` cleared (one CAS) | `wake_all` if `WAITERS` was set |
//! | `set` on set | unchanged (CAS to the same value, for its Release) | none |
//! | `clear` | `SET` cleared | none |
//! | `wait` on unset | CAS `WAITERS` in, sleep on that exact value | futex wait |
//!
//! No lost wakeup: a waiter sleeps only on a value with `WAITERS`, and only `set` clears it, in
//! the CAS that changes the word, so that `set` sees `WAITERS` and wakes. A waiter returns when
//! the flag is set *or* the generation moved, so a `set` quickly followed by `clear` still
//! releases everyone who was waiting. A waiter killed while asleep leaves `WAITERS` behind: the
//! next `set` makes one useless `wake_all`, nothing worse.

use std::fmt;
use std::time::{Duration, Instant};

use super::{Shareable, sys};
use crate::sync::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};

const SET: u32 = 1 << 0;
const WAITERS: u32 = 1 << 1;
const GEN_ONE: u32 = 1 << 2;
const GEN_MASK: u32 = !(SET | WAITERS);

/// A flag that processes can wait for: `multiprocessing.Event`.
///
/// Same methods as [`synclab::Event`](crate::Event). Put it in a [`Shared`](super::Shared)
/// region to use it between processes.
///
/// ```
/// use synclab::process::{Event, Shared};
///
/// # fn main() -> Result<(), synclab::process::ProcessError> {
/// # if cfg!(not(target_os = "linux")) { return Ok(()); }
/// let go = Shared::new(Event::new())?;
/// std::thread::scope(|s| {
///     s.spawn(|| go.wait());
///     go.set();
/// });
/// assert!(go.is_set());
/// # Ok(()) }
/// ```
#[repr(C)]
pub struct Event {
    /// `SET`, `WAITERS` and the generation (tables in the module docs).
    word: AtomicU32,
}

// SAFETY: one atomic word; every process reads it the same way.
unsafe impl Shareable for Event {}

impl Event {
    /// A new, unset event.
    ///
    /// ```
    /// assert!(!synclab::process::Event::new().is_set());
    /// ```
    pub const fn new() -> Event {
        Event {
            word: AtomicU32::new(0),
        }
    }

    /// Sets the flag and wakes every waiting process or thread.
    ///
    /// ```
    /// let e = synclab::process::Event::new();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn set(&self) {
        let mut s = self.word.load(Relaxed);
        loop {
            let new = if s & SET != 0 {
                s
            } else {
                (s & GEN_MASK).wrapping_add(GEN_ONE) | SET
            };
            // Release: publishes what the setter wrote to the Acquire loads in `wait`/`is_set`.
            match self.word.compare_exchange_weak(s, new, Release, Relaxed) {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        if s & WAITERS != 0 {
            sys::wake_all(&self.word);
        }
    }

    /// Resets the flag.
    ///
    /// ```
    /// let e = synclab::process::Event::new();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    pub fn clear(&self) {
        // Relaxed: clearing publishes nothing; as an RMW it continues `set`'s release sequence.
        self.word.fetch_and(!SET, Relaxed);
    }

    /// `true` if the flag is set.
    ///
    /// ```
    /// assert!(!synclab::process::Event::new().is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        // Acquire: pairs with the Release in `set`.
        self.word.load(Acquire) & SET != 0
    }

    /// Blocks until the flag is set.
    ///
    /// ```
    /// let e = synclab::process::Event::new();
    /// e.set();
    /// e.wait(); // returns at once
    /// ```
    pub fn wait(&self) {
        self.wait_until(None);
    }

    /// Blocks until the flag is set or `timeout` passes; `true` if it was set (Python's return
    /// value). `Duration::ZERO` only looks; `Duration::MAX` waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let e = synclab::process::Event::new();
    /// assert!(!e.wait_timeout(Duration::from_millis(5)));
    /// e.set();
    /// assert!(e.wait_timeout(Duration::ZERO));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(crate::futex::deadline_after(timeout))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        // Acquire (here and below): pairs with the Release in `set`.
        let mut s = self.word.load(Acquire);
        let generation = s & GEN_MASK;
        loop {
            if s & SET != 0 || s & GEN_MASK != generation {
                return true;
            }
            if s & WAITERS == 0 {
                // Relaxed: the futex compares the value; the Acquire load follows the sleep.
                if let Err(now) = self
                    .word
                    .compare_exchange_weak(s, s | WAITERS, Relaxed, Acquire)
                {
                    s = now;
                    continue;
                }
                s |= WAITERS;
            }
            if sys::wait(&self.word, s, deadline).timed_out() {
                let s = self.word.load(Acquire);
                return s & SET != 0 || s & GEN_MASK != generation;
            }
            s = self.word.load(Acquire);
        }
    }
}

impl Event {
    /// For [`wait_any`](super::wait_any): `None` if the flag is set; else makes sure `WAITERS`
    /// is in the word (so that `set` wakes) and returns the word with the value to sleep on.
    pub(super) fn arm_wait(&self) -> Option<(&AtomicU32, u32)> {
        // Acquire: pairs with the Release in `set`.
        let mut s = self.word.load(Acquire);
        loop {
            if s & SET != 0 {
                return None;
            }
            if s & WAITERS != 0 {
                return Some((&self.word, s));
            }
            // Relaxed: as in `wait_until`.
            match self
                .word
                .compare_exchange_weak(s, s | WAITERS, Relaxed, Acquire)
            {
                Ok(_) => return Some((&self.word, s | WAITERS)),
                Err(now) => s = now,
            }
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("process::Event")
            .field("set", &self.is_set())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_wakes_a_sleeping_thread() {
        let e = Box::new(Event::new());
        std::thread::scope(|s| {
            let h = s.spawn(|| e.wait());
            std::thread::sleep(Duration::from_millis(10));
            e.set();
            h.join().unwrap();
        });
        assert!(e.is_set());
    }

    #[test]
    fn set_then_clear_still_releases_a_waiter() {
        let e = Event::new();
        std::thread::scope(|s| {
            let h = s.spawn(|| e.wait_timeout(Duration::from_secs(30)));
            // Wait until the waiter has announced itself (it is about to sleep, or asleep).
            while e.word.load(Relaxed) & WAITERS == 0 {
                std::thread::yield_now();
            }
            e.set();
            e.clear();
            assert!(h.join().unwrap());
        });
        assert!(!e.is_set());
    }
}
