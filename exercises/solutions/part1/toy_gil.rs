//! # Exercise `toy_gil` — Part I, "The GIL and the countdown"
//!
//! Build the hand-over at the heart of CPython's GIL (`Python/ceval_gil.c`), small:
//!
//! - `acquire` waits until the GIL is free. It waits on a `Condition` for at most one *switch
//!   interval*; if the interval passes and the same thread still holds the GIL, it sets
//!   `drop_request`;
//! - the holder calls `yield_if_requested` now and then (CPython: at backward jumps). When it
//!   finds the request set, it releases the GIL, waits until *another* thread has taken it
//!   (`FORCE_SWITCHING`: otherwise it would take it straight back and the waiter would starve),
//!   and then queues up for it again with `acquire`;
//! - `release` lets go for good.
//!
//! The tests run two threads that spin under the GIL: they must never run at the same time,
//! and each must get the GIL back again and again.
//!
//! Check your work: `cargo xtask check toy_gil`

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use synclab::{Condition, Lock};

/// What `Gil::state` protects.
struct State {
    /// Whether some thread holds the GIL (CPython: `gil->locked`).
    held: bool,
    /// Incremented by every `acquire` (CPython: `gil->switch_number`): a waiter that times out
    /// compares it with the value it saw before waiting to tell "same holder" from "new holder".
    switch_number: u64,
}

/// A toy Global Interpreter Lock.
pub struct Gil {
    state: Lock<State>,
    /// Notified when the GIL is released (CPython: `gil->cond`).
    released: Condition,
    /// Notified when a thread takes the GIL (CPython: `gil->switch_cond`).
    switched: Condition,
    /// "Please let go", set by a waiter after a whole interval (CPython: `gil_drop_request`).
    /// Relaxed is enough: it is only a hint, read without the lock, and every real hand-over
    /// goes through `state`. It is only written while `state` is locked.
    drop_request: AtomicBool,
    /// How long a waiter waits before it asks the holder to let go (CPython: 5 ms).
    interval: Duration,
}

impl Gil {
    /// A free GIL whose waiters ask for it after `interval`.
    pub fn new(interval: Duration) -> Gil {
        Gil {
            state: Lock::new(State {
                held: false,
                switch_number: 0,
            }),
            released: Condition::new(),
            switched: Condition::new(),
            drop_request: AtomicBool::new(false),
            interval,
        }
    }

    /// Waits until the GIL is free and takes it (CPython's `take_gil`).
    pub fn acquire(&self) {
        let mut state = self.state.lock();
        while state.held {
            // Remember who held it before the wait: a timeout with the same switch number means
            // the same holder has had a whole interval.
            let seen = state.switch_number;
            let (guard, result) = self.released.wait_timeout(state, self.interval);
            state = guard;
            if result.timed_out() && state.held && state.switch_number == seen {
                self.drop_request.store(true, Relaxed);
            }
        }
        state.held = true;
        state.switch_number += 1;
        // Our request, if we made one, is answered.
        self.drop_request.store(false, Relaxed);
        // A holder waiting in `yield_if_requested` for the switch may go on.
        self.switched.notify_all();
    }

    /// Lets go of the GIL (CPython's `drop_gil`).
    pub fn release(&self) {
        self.state.lock().held = false;
        self.released.notify_one();
    }

    /// Called by the holder now and then. If a waiter has asked for the GIL, hands it over:
    /// releases it, waits until another thread has taken it, and takes it back in turn.
    /// Returns whether it handed over.
    pub fn yield_if_requested(&self) -> bool {
        // The cheap check first, without the lock: this runs at every "backward jump".
        if !self.drop_request.load(Relaxed) {
            return false;
        }
        let mut state = self.state.lock();
        state.held = false;
        let seen = state.switch_number;
        self.released.notify_one();
        // FORCE_SWITCHING: wait until the switch number moves, i.e. until someone else has
        // taken the GIL. Without this wait we would take it straight back, before the waiter
        // even wakes up, and the waiter would starve (the pre-3.2 GIL's problem).
        drop(self.switched.wait_while(state, |s| s.switch_number == seen));
        self.acquire();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    const INTERVAL: Duration = Duration::from_millis(1);

    #[test]
    fn a_lone_thread_is_never_asked_to_yield() {
        let gil = Gil::new(INTERVAL);
        gil.acquire();
        for _ in 0..1000 {
            assert!(!gil.yield_if_requested(), "nobody asked for the GIL");
        }
        gil.release();
        gil.acquire(); // free again
        gil.release();
    }

    #[test]
    fn a_waiter_gets_the_gil_only_when_it_is_released() {
        common::guarded("toy_gil_release", |status| {
            let gil = Gil::new(INTERVAL);
            let got_it = AtomicBool::new(false);
            gil.acquire();
            std::thread::scope(|s| {
                s.spawn(|| {
                    status.set("waiter", "in acquire");
                    gil.acquire();
                    got_it.store(true, SeqCst);
                    gil.release();
                    status.set("waiter", "done");
                });
                // The holder never calls `yield_if_requested`: requests pile up unanswered.
                std::thread::sleep(Duration::from_millis(50));
                assert!(
                    !got_it.load(SeqCst),
                    "acquire returned while the GIL was held"
                );
                status.set("main", "release");
                gil.release();
            });
            assert!(got_it.load(SeqCst));
        });
    }

    /// What one run of two threads taking turns under a GIL saw.
    struct Turns {
        /// Steps that found the other thread in a step too.
        overlaps: usize,
        /// `yield_if_requested` returned `true`, yet the same thread ran the next step.
        phantoms: usize,
        /// How many separate times each thread had the GIL.
        turns: [usize; 2],
    }

    /// Two threads spin under `gil`, one step at a time, calling `yield_if_requested` between
    /// steps, each until it has had the GIL `goal` separate times or the other one is done.
    fn take_turns(gil: &Gil, goal: usize, status: &common::Status) -> Turns {
        let inside = AtomicUsize::new(0); // threads in a step right now
        let (overlaps, phantoms) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let last = AtomicUsize::new(usize::MAX); // who ran the previous step
        let turns = [AtomicUsize::new(0), AtomicUsize::new(0)];
        let done = [AtomicBool::new(false), AtomicBool::new(false)];
        std::thread::scope(|s| {
            for me in 0..2 {
                let (inside, overlaps, phantoms) = (&inside, &overlaps, &phantoms);
                let (last, turns, done) = (&last, &turns, &done);
                s.spawn(move || {
                    status.set(format!("thread {me}"), "acquire");
                    gil.acquire();
                    let mut handed_over = false;
                    loop {
                        if inside.fetch_add(1, SeqCst) != 0 {
                            overlaps.fetch_add(1, SeqCst);
                        }
                        if last.swap(me, SeqCst) != me {
                            // A new turn: the other thread ran since our last step.
                            let turn = turns[me].fetch_add(1, SeqCst) + 1;
                            status.set(format!("thread {me}"), format!("turn {turn}"));
                        } else if handed_over {
                            // `yield_if_requested` said it handed the GIL over, yet we got it
                            // back before the other thread ran a single step.
                            phantoms.fetch_add(1, SeqCst);
                        }
                        inside.fetch_sub(1, SeqCst);
                        if turns[me].load(SeqCst) >= goal || done[1 - me].load(SeqCst) {
                            break;
                        }
                        handed_over = gil.yield_if_requested();
                    }
                    done[me].store(true, SeqCst);
                    gil.release();
                    status.set(format!("thread {me}"), "done");
                });
            }
        });
        Turns {
            overlaps: overlaps.into_inner(),
            phantoms: phantoms.into_inner(),
            turns: turns.map(AtomicUsize::into_inner),
        }
    }

    #[test]
    fn two_threads_take_turns_and_never_run_together() {
        // A GIL that never hands over hangs here: the watchdog reports it after 30 s. A GIL
        // whose yielder takes it straight back, without waiting for the switch, shows up as
        // phantom hand-overs in some rounds (when the waiter loses the race to the lock), so
        // the scenario runs several times, with fresh threads.
        const TURNS: usize = 10;
        const ROUNDS: usize = 6;
        common::watchdog("toy_gil_turns", Duration::from_secs(30), |status| {
            for round in 0..ROUNDS {
                status.set("main", format!("round {round}"));
                let seen = take_turns(&Gil::new(INTERVAL), TURNS, status);
                assert_eq!(seen.overlaps, 0, "two threads ran under the GIL at once");
                assert_eq!(
                    seen.phantoms, 0,
                    "the yielder took the GIL straight back: wait for the switch"
                );
                for (me, &turns) in seen.turns.iter().enumerate() {
                    assert!(
                        turns >= TURNS - 1,
                        "thread {me} had the GIL only {turns} times"
                    );
                }
            }
        });
    }
}
