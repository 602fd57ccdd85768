//! # Exercise `event` — Part II, "Event"
//!
//! Build Python's `threading.Event` on one `AtomicU32`: bit 0 is the flag (`SET`), and the
//! other 31 bits count the `set`s (a *generation*). `set` turns the flag on, bumps the
//! generation and wakes every waiter; `clear` turns the flag off; `wait` returns once the flag
//! is on **or the generation has moved since the wait began**. That second condition is what
//! makes `set(); clear();` wake the threads that were already waiting, as CPython's
//! `test_set_and_clear` (bpo-13502) requires: by the time they look, the flag is off again.
//!
//! Check your work: `cargo xtask check event`

use std::sync::atomic::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};

// `synclab::futex` with each call counted, so that the tests can see every system call.
use synclab_exercises::futex;

const SET: u32 = 1; // bit 0: the flag
const GEN_ONE: u32 = 1 << 1; // one step of the generation, which lives in bits 1..32

/// Python's `threading.Event`: a flag that threads can wait for.
pub struct Event {
    state: AtomicU32,
}

impl Event {
    /// A new event, unset, generation 0.
    pub const fn new() -> Self {
        Event {
            state: AtomicU32::new(0),
        }
    }

    /// `true` if the flag is set (a snapshot).
    pub fn is_set(&self) -> bool {
        // TODO: load the word (which ordering pairs with `set`?) and test the SET bit.
        todo!()
    }

    /// Sets the flag and wakes every waiter. Setting a set event changes nothing.
    pub fn set(&self) {
        // TODO: if the flag is off, turn it on AND add GEN_ONE to the generation, in one
        // atomic step (a compare-exchange loop, or `fetch_update`; `wrapping_add` lets the
        // generation wrap). If you changed the word, wake every waiter with `futex::wake_all`.
        // If the flag was on already, do nothing.
        todo!()
    }

    /// Turns the flag off. Threads waiting since before the last `set` still return.
    pub fn clear(&self) {
        // TODO: turn the SET bit off, leaving the generation alone.
        todo!()
    }

    /// Sleeps until the flag is set, or until a `set` happened since this call began.
    pub fn wait(&self) {
        // TODO: load the word. If SET is on, return. Otherwise remember the generation you saw
        // and loop: sleep with `futex::wait` on the exact value you loaded, reload, and return
        // once SET is on or the generation differs from the one you remembered.
        // Why must the generation count, and not only the flag?
        todo!()
    }
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::Duration;

    /// Waits until `n` threads have said they are about to wait, then gives them time to
    /// fall asleep.
    fn until_waiting(waiting: &AtomicUsize, n: usize) {
        while waiting.load(SeqCst) < n {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    #[test]
    fn set_clear_and_is_set() {
        let ev = Event::new();
        assert!(!ev.is_set());
        ev.set();
        assert!(ev.is_set());
        ev.set(); // idempotent
        assert!(ev.is_set());
        ev.clear();
        assert!(!ev.is_set());
        ev.clear();
        assert!(!ev.is_set());
    }

    #[test]
    fn setting_a_set_event_changes_nothing() {
        // Python: `set()` on a set event does nothing. Here that means no new generation (a
        // waiter would see a `set` that did not happen) and no system call.
        let event = Event::new();
        event.set();
        let (state, before) = (event.state.load(Relaxed), futex::calls());
        event.set();
        assert_eq!(
            event.state.load(Relaxed),
            state,
            "a second set changed the state word"
        );
        assert_eq!(
            futex::calls().wakes - before.wakes,
            0,
            "a second set woke the futex: nothing changed, so nobody can be waiting for it"
        );
        assert!(event.is_set());
    }

    #[test]
    fn wait_on_a_set_event_returns_at_once() {
        let ev = Event::new();
        ev.set();
        ev.wait();
        ev.wait();
        assert!(ev.is_set());
    }

    #[test]
    fn set_wakes_every_waiter() {
        common::guarded("event_set_wakes_all", |status| {
            let ev = Event::new();
            for round in 0..2 {
                let (waiting, returned) = (AtomicUsize::new(0), AtomicUsize::new(0));
                std::thread::scope(|s| {
                    for _ in 0..4 {
                        s.spawn(|| {
                            waiting.fetch_add(1, SeqCst);
                            ev.wait();
                            returned.fetch_add(1, SeqCst);
                        });
                    }
                    status.set("main", format!("round {round}: waiting for the waiters"));
                    until_waiting(&waiting, 4);
                    assert_eq!(returned.load(SeqCst), 0, "a waiter returned before set()");
                    status.set("main", format!("round {round}: set(), joining"));
                    ev.set();
                });
                assert_eq!(returned.load(SeqCst), 4);
                ev.clear();
            }
        });
    }

    #[test]
    fn set_then_clear_still_wakes_every_waiter() {
        // bpo-13502: the waiters are asleep; `set(); clear();` runs before any of them gets
        // the CPU back, so each finds the flag off. They must return all the same. A lost
        // wakeup is a hang, which the watchdog reports after 10 s.
        common::watchdog("event_set_then_clear", Duration::from_secs(10), |status| {
            let ev = Event::new();
            for round in 0..3 {
                let waiting = AtomicUsize::new(0);
                std::thread::scope(|s| {
                    for i in 0..4 {
                        let (ev, waiting, status) = (&ev, &waiting, status.clone());
                        s.spawn(move || {
                            status.set(format!("waiter {i}"), format!("round {round}: in wait()"));
                            waiting.fetch_add(1, SeqCst);
                            ev.wait();
                            status.set(format!("waiter {i}"), format!("round {round}: returned"));
                        });
                    }
                    until_waiting(&waiting, 4);
                    ev.set();
                    ev.clear();
                    status.set("main", format!("round {round}: set+clear done, joining"));
                });
                assert!(!ev.is_set());
            }
        });
    }

    #[test]
    fn a_set_racing_with_wait_is_never_lost() {
        let rounds = common::scaled(2_000);
        common::guarded("event_race", |status| {
            let ev = Event::new();
            for round in 0..rounds {
                status.set("main", format!("round {round}"));
                std::thread::scope(|s| {
                    s.spawn(|| ev.wait());
                    s.spawn(|| ev.set());
                });
                ev.clear();
            }
        });
    }
}
