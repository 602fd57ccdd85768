//! loom models of `Barrier` (run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test
//! --release --test loom_barrier`). A waiter left asleep shows up as a loom deadlock; under loom
//! a wait with a deadline returns "timed out" as soon as it would sleep.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use std::time::Duration;

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use loom::thread;
use loom_model::model;
use synclab::{Barrier, BrokenBarrier};

#[test]
fn two_threads_two_generations() {
    // Each thread writes its round number before a wait and checks the other's after it (with
    // Relaxed atomics, so only the barrier orders them); one leader in each of the four
    // generations.
    model(|| {
        let b = Arc::new(Barrier::new(2));
        let slots = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let run = |me: usize, b: &Barrier, slots: &[AtomicUsize; 2]| {
            let mut leaders = 0;
            for round in 1..=2 {
                slots[me].store(round, Relaxed);
                let r = b.wait().unwrap();
                assert_eq!(slots[1 - me].load(Relaxed), round);
                leaders += usize::from(r.is_leader());
                leaders += usize::from(b.wait().unwrap().is_leader());
            }
            leaders
        };
        let other = {
            let (b, slots) = (b.clone(), slots.clone());
            thread::spawn(move || run(1, &b, &slots))
        };
        let mine = run(0, &b, &slots);
        assert_eq!(mine + other.join().unwrap(), 4);
        assert_eq!(b.n_waiting(), 0);
    });
}

#[test]
fn three_threads_two_generations() {
    // Parties 3, main + 2 threads, two waits each. A thread may arrive for generation 2 while
    // generation 1 still drains; it must wait for the drain and then get a fresh index.
    // Three threads on a Lock + Condition make a big model: with 2 preemptions it takes
    // about 6 minutes, so this one is bounded to 1 (the two-thread model above keeps 2).
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(1);
    model.check(|| {
        let b = Arc::new(Barrier::new(3));
        let run = |b: &Barrier| (b.wait().unwrap().index(), b.wait().unwrap().index());
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || run(&b))
            })
            .collect();
        let mut firsts = vec![];
        let mut seconds = vec![];
        for (first, second) in hs.into_iter().map(|h| h.join().unwrap()).chain([run(&b)]) {
            firsts.push(first);
            seconds.push(second);
        }
        firsts.sort_unstable();
        seconds.sort_unstable();
        assert_eq!((firsts, seconds), (vec![0, 1, 2], vec![0, 1, 2]));
    });
    assert!(
        synclab::futex::loom_sleeps() > 0,
        "no execution of this model ever slept"
    );
}

#[test]
fn abort_wakes_a_waiter_and_reset_reopens() {
    model(|| {
        let b = Arc::new(Barrier::new(2));
        let waiter = {
            let b = b.clone();
            thread::spawn(move || b.wait())
        };
        b.abort();
        assert_eq!(waiter.join().unwrap(), Err(BrokenBarrier));
        b.reset();
        let other = {
            let b = b.clone();
            thread::spawn(move || b.wait().unwrap())
        };
        b.wait().unwrap();
        other.join().unwrap();
    });
}

#[test]
fn timeout_breaks_for_both() {
    // Under loom a timed wait times out whenever it would sleep, which breaks the barrier; the
    // other party must then be woken with Err, or both pass if the timed waiter came last.
    model(|| {
        let b = Arc::new(Barrier::new(2));
        let other = {
            let b = b.clone();
            thread::spawn(move || b.wait())
        };
        let mine = b.wait_timeout(Duration::from_secs(1));
        let theirs = other.join().unwrap();
        assert_eq!(mine.is_ok(), theirs.is_ok());
        assert_eq!(b.is_broken(), mine.is_err());
    });
}

#[test]
fn abort_after_completion_keeps_the_generation_ok() {
    // The generation completes, then `abort` comes, possibly before the other party has woken:
    // that party must still get `Ok` (its generation completed), and only later waits fail.
    model(|| {
        let b = Arc::new(Barrier::new(2));
        let other = {
            let b = b.clone();
            thread::spawn(move || b.wait())
        };
        let mine = b.wait();
        b.abort();
        assert!(mine.is_ok());
        assert!(other.join().unwrap().is_ok());
        assert_eq!(b.wait(), Err(BrokenBarrier));
    });
}

#[test]
fn reset_under_a_waiter_then_the_next_generation_completes() {
    // `reset` may end the other party's generation under it (it gets `Err` and tries again) or
    // come before it arrives; either way the next generation pairs the two, nobody is left
    // asleep (a loom deadlock), and the drain of the reset generation lets main in afterwards.
    model(|| {
        let b = Arc::new(Barrier::new(2));
        let other = {
            let b = b.clone();
            thread::spawn(move || {
                let mut errors = 0;
                while b.wait().is_err() {
                    errors += 1;
                }
                errors
            })
        };
        b.reset();
        b.wait().unwrap();
        assert!(other.join().unwrap() <= 1);
        assert_eq!(b.n_waiting(), 0);
        assert!(!b.is_broken());
    });
}
