//! # Exercise `futex_flag` — Part II, "The futex"
//!
//! Build a one-shot "done" flag on one `AtomicU32`: `0` means "not yet", `1` means "done".
//! `set` publishes the `1` and wakes every thread asleep on the word; `wait` sleeps until the
//! flag is set; `wait_timeout` gives up at a deadline. Sleep and wake with `synclab::futex`
//! (`futex::wait`, `futex::wake_all`, `futex::deadline_after`), never with a spin loop, and
//! remember its contract: `futex::wait` may return for no reason, so always look again.
//!
//! Check your work: `cargo xtask check futex_flag`

use std::sync::atomic::{
    AtomicU32,
    Ordering::{Acquire, Release},
};
use std::time::Duration;

use synclab::futex;

const UNSET: u32 = 0; // not done yet: waiters sleep on this value
const SET: u32 = 1; // done, for good

/// A flag that is set once and that threads can sleep on until it is.
pub struct Flag {
    state: AtomicU32,
}

impl Flag {
    /// A new, unset flag.
    pub const fn new() -> Self {
        Flag {
            state: AtomicU32::new(UNSET),
        }
    }

    /// `true` once the flag is set. What the setter wrote before `set` is then visible.
    pub fn is_set(&self) -> bool {
        // Acquire: pairs with the Release store in `set`.
        self.state.load(Acquire) == SET
    }

    /// Sets the flag and wakes every thread waiting for it.
    pub fn set(&self) {
        // Release: publishes what we wrote before `set` to the Acquire load in `is_set`.
        self.state.store(SET, Release);
        // Everyone, not one: all waiters wait for the same thing. (A real primitive would
        // skip this system call when nobody sleeps; the Event chapter shows how.)
        futex::wake_all(&self.state);
    }

    /// Sleeps until the flag is set; returns at once if it is set already.
    pub fn wait(&self) {
        // A loop, because `futex::wait` may return spuriously. It only sleeps while the word
        // is still UNSET, and it checks that inside the kernel: a `set` that lands between our
        // load and the sleep makes the sleep return at once instead of being lost.
        while !self.is_set() {
            futex::wait(&self.state, UNSET, None);
        }
    }

    /// Sleeps until the flag is set or `timeout` has passed; `true` if it is set.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        // One absolute deadline for the whole wait: a spurious return must not restart the
        // clock. (`Duration::MAX` gives `None`: no deadline.)
        let deadline = futex::deadline_after(timeout);
        while !self.is_set() {
            if futex::wait(&self.state, UNSET, deadline).timed_out() {
                // One last look: the flag may have been set just as the time ran out.
                return self.is_set();
            }
        }
        true
    }
}

impl Default for Flag {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::time::Instant;

    #[test]
    fn set_flag_is_seen_and_wait_returns_at_once() {
        let flag = Flag::new();
        assert!(!flag.is_set());
        flag.set();
        assert!(flag.is_set());
        flag.wait();
        assert!(flag.wait_timeout(Duration::ZERO));
        assert!(flag.wait_timeout(Duration::MAX));
    }

    #[test]
    fn wait_timeout_gives_up_when_nobody_sets() {
        let flag = Flag::new();
        let start = Instant::now();
        assert!(!flag.wait_timeout(Duration::from_millis(20)));
        assert!(
            start.elapsed() >= Duration::from_millis(20),
            "wait_timeout returned after {:?}, before its timeout",
            start.elapsed()
        );
        assert!(!flag.wait_timeout(Duration::ZERO));
    }

    #[test]
    fn sleeping_waiters_are_woken_by_set() {
        common::guarded("futex_flag_wake", |status| {
            let flag = Flag::new();
            let returned = AtomicUsize::new(0);
            std::thread::scope(|s| {
                for i in 0..4 {
                    let (flag, returned) = (&flag, &returned);
                    let status = status.clone();
                    s.spawn(move || {
                        status.set(format!("waiter {i}"), "in wait()");
                        flag.wait();
                        returned.fetch_add(1, Relaxed);
                        status.set(format!("waiter {i}"), "returned");
                    });
                }
                // Give the waiters time to fall asleep: `set` must wake them, not find them
                // still on their way in.
                std::thread::sleep(Duration::from_millis(50));
                assert_eq!(returned.load(Relaxed), 0, "a waiter returned before set()");
                status.set("main", "set()");
                flag.set();
            });
            assert_eq!(returned.load(Relaxed), 4);
        });
    }

    #[test]
    fn a_set_racing_with_wait_is_never_lost() {
        // Many short races between one waiter and one setter: a "check, then sleep" that is
        // not atomic loses one of them sooner or later, and the watchdog reports the hang.
        let rounds = common::scaled(2_000);
        common::guarded("futex_flag_race", |status| {
            for round in 0..rounds {
                status.set("main", format!("round {round}"));
                let flag = Flag::new();
                std::thread::scope(|s| {
                    s.spawn(|| flag.wait());
                    s.spawn(|| flag.set());
                });
            }
        });
    }

    #[test]
    fn a_timed_waiter_sees_a_set_before_its_deadline() {
        common::guarded("futex_flag_timed", |_| {
            let flag = Flag::new();
            std::thread::scope(|s| {
                let waiter = s.spawn(|| flag.wait_timeout(Duration::from_secs(30)));
                std::thread::sleep(Duration::from_millis(20));
                flag.set();
                assert!(
                    waiter.join().unwrap(),
                    "the waiter timed out although set() ran"
                );
            });
        });
    }
}
