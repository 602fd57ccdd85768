//! loom models of `Semaphore` / `BoundedSemaphore` (run: `RUSTFLAGS="--cfg loom"
//! LOOM_MAX_PREEMPTIONS=2 cargo test --release --test loom_semaphore`). A lost wakeup shows up
//! as a loom deadlock; under loom a wait with a deadline returns "timed out" whenever it would
//! sleep.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use std::time::Duration;

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use loom_model::model;
use synclab::{BoundedSemaphore, Semaphore};

#[test]
fn two_releases_wake_two_sleepers() {
    // The baton rule: the first release clears the waiters flag, the second may wake nobody.
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                thread::spawn(move || sem.acquire())
            })
            .collect();
        sem.release().unwrap();
        sem.release().unwrap();
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(sem.available(), 0);
    });
}

#[test]
fn release_n_wakes_two_sleepers() {
    model(|| {
        let sem = Arc::new(BoundedSemaphore::new(2));
        sem.acquire();
        sem.acquire();
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                thread::spawn(move || sem.acquire())
            })
            .collect();
        sem.release_n(2).unwrap();
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(sem.available(), 0);
        assert!(sem.release_n(3).is_err());
    });
}

#[test]
fn one_permit_is_mutual_exclusion() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let holders = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (sem, holders) = (sem.clone(), holders.clone());
                thread::spawn(move || {
                    let _p = sem.permit();
                    assert_eq!(holders.fetch_add(1, SeqCst), 0);
                    holders.fetch_sub(1, SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(sem.available(), 1);
    });
}

#[test]
fn a_timed_out_acquirer_keeps_the_waiters_flag() {
    // One thread gives up (loom: at once, whenever it would sleep) and then blocks for good;
    // the other blocks from the start. Two releases must get both through.
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let timed = {
            let sem = sem.clone();
            thread::spawn(move || {
                if !sem.acquire_timeout(Duration::from_secs(1)) {
                    sem.acquire();
                }
            })
        };
        let plain = {
            let sem = sem.clone();
            thread::spawn(move || sem.acquire())
        };
        sem.release().unwrap();
        sem.release().unwrap();
        timed.join().unwrap();
        plain.join().unwrap();
        assert_eq!(sem.available(), 0);
    });
}
