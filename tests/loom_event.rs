//! loom models of `Event` (run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test
//! --release --test loom_event`). A lost wakeup shows up as a loom deadlock; under loom a wait
//! with a deadline returns "timed out" whenever it would sleep.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use std::time::Duration;

use loom::sync::Arc;
use loom::thread;
use loom_model::model;
use synclab::Event;

#[test]
fn set_wakes_two_waiters() {
    model(|| {
        let ev = Arc::new(Event::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let ev = ev.clone();
                thread::spawn(move || ev.wait())
            })
            .collect();
        ev.set();
        for w in waiters {
            w.join().unwrap();
        }
        assert!(ev.is_set());
    });
}

#[test]
fn set_clear_set_never_strands_a_waiter() {
    model(|| {
        let ev = Arc::new(Event::new());
        let waiter = {
            let ev = ev.clone();
            thread::spawn(move || ev.wait())
        };
        ev.set();
        ev.clear();
        ev.set();
        waiter.join().unwrap();
    });
}

#[test]
fn set_then_clear_reports_true_to_a_waiter_that_saw_it_unset() {
    // The waiter may look before or after the set+clear. If its timed wait reports `false`, it
    // must have missed the set entirely: then the event is unset, and a later set must still
    // wake its untimed wait.
    // Only a timed wait can find the event unset here, so no execution sleeps: plain loom.
    loom::model(|| {
        let ev = Arc::new(Event::new());
        let setter = {
            let ev = ev.clone();
            thread::spawn(move || {
                ev.set();
                ev.clear();
            })
        };
        let seen = ev.wait_timeout(Duration::from_secs(1));
        setter.join().unwrap();
        if !seen {
            assert!(!ev.is_set());
        }
        ev.set();
        ev.wait();
    });
}

#[test]
fn timed_out_waiter_does_not_break_a_sleeping_one() {
    model(|| {
        let ev = Arc::new(Event::new());
        let sleeper = {
            let ev = ev.clone();
            thread::spawn(move || ev.wait())
        };
        let timed = {
            let ev = ev.clone();
            thread::spawn(move || {
                let _ = ev.wait_timeout(Duration::from_secs(1));
            })
        };
        timed.join().unwrap();
        ev.set();
        sleeper.join().unwrap();
    });
}
