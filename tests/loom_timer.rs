//! loom models of `Timer` (run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test
//! --release --test loom_timer`). Under loom the timer thread is a loom thread (the `thread`
//! facade in `src/sync.rs`), and its wait with a deadline returns "timed out" whenever it would
//! sleep: a timer with a finite delay always goes on to try to fire, so every model below races
//! `cancel` against the firing. A lost wakeup shows up as a loom deadlock, including one that
//! leaves the timer thread asleep after the model's own threads are done.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use std::time::Duration;

use loom::sync::Arc;
use loom::sync::atomic::{
    AtomicUsize,
    Ordering::{Relaxed, SeqCst},
};
use loom::thread;
use loom_model::model;
use synclab::Timer;

#[test]
fn cancel_races_the_deadline() {
    // Exactly one of "f ran" and "cancel returned true", and `wait` returns either way. The
    // sleep: `wait` finds the timer RUNNING and sleeps until FINISHED.
    model(|| {
        let ran = Arc::new(AtomicUsize::new(0));
        let counter = ran.clone();
        let timer = Timer::start(Duration::ZERO, move || {
            counter.fetch_add(1, Relaxed);
        });
        let cancelled = timer.cancel();
        timer.wait();
        assert!(timer.is_finished());
        // Relaxed: `wait` returned, so f's write (if it ran) is visible through FINISHED.
        let runs = ran.load(Relaxed);
        assert_eq!(
            runs + usize::from(cancelled),
            1,
            "ran {runs}, cancelled {cancelled}"
        );
        // A second cancel gives the same answer.
        assert_eq!(timer.cancel(), cancelled);
    });
}

#[test]
fn cancel_wakes_the_timer_thread_and_a_waiter() {
    // `Duration::MAX` has no deadline, so the timer thread really sleeps on PENDING, and so
    // may a thread in `wait`: the cancel must wake both (a `wake_one` would leave one asleep,
    // a deadlock once the other threads finish).
    model(|| {
        let timer = Arc::new(Timer::start(Duration::MAX, || {
            panic!("a timer without a deadline fired")
        }));
        let waiter = {
            let timer = timer.clone();
            thread::spawn(move || timer.wait())
        };
        assert!(timer.cancel());
        waiter.join().unwrap();
        assert!(timer.is_finished());
    });
}

#[test]
fn wait_on_another_thread_sees_what_f_wrote() {
    // A second thread waits while the timer fires; after `wait` it must see f's write. f's
    // store and the check are Relaxed on purpose: only the FINISHED Release/Acquire pair can
    // make the value visible.
    model(|| {
        let data = Arc::new(AtomicUsize::new(0));
        let written = data.clone();
        let timer = Arc::new(Timer::start(Duration::ZERO, move || {
            written.store(42, Relaxed);
        }));
        let waiter = {
            let (timer, data) = (timer.clone(), data.clone());
            thread::spawn(move || {
                timer.wait();
                assert_eq!(data.load(Relaxed), 42);
            })
        };
        waiter.join().unwrap();
        assert!(timer.is_finished());
        assert!(!timer.cancel());
    });
}

#[test]
fn a_late_cancel_and_a_waiter_agree() {
    // cancel and a waiter on two threads while the timer fires: if cancel lost, the waiter saw
    // f run; if it won, f never ran.
    model(|| {
        let ran = Arc::new(AtomicUsize::new(0));
        let counter = ran.clone();
        let timer = Arc::new(Timer::start(Duration::ZERO, move || {
            counter.fetch_add(1, SeqCst);
        }));
        let canceller = {
            let timer = timer.clone();
            thread::spawn(move || timer.cancel())
        };
        timer.wait();
        let cancelled = canceller.join().unwrap();
        assert_eq!(ran.load(SeqCst) + usize::from(cancelled), 1);
    });
}
