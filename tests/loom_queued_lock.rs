//! loom models of [`RawLock`], the queued lock of issue 14 (`src/queued_lock.rs`, tuning log
//! entries 17 and 22). Run with
//! `RUSTFLAGS="--cfg loom" cargo test --release --test loom_queued_lock` (at least 3 preemptions:
//! see [`model`]).
//!
//! The protected counter is a loom `UnsafeCell`, so loom also checks that every access to it
//! happens-after the previous holder's: through the lock word's Release/Acquire on a plain
//! unlock, through the node's token on `unlock_fair`'s hand-off.
//! A lost wakeup leaves a thread parked forever, which loom reports as a deadlock.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use std::time::{Duration, Instant};
use synclab::{RawLock, loom_parks};

/// A counter behind the queued lock.
#[derive(Default)]
struct Counter(RawLock, UnsafeCell<u32>);

// SAFETY: the cell is touched only with the lock held.
unsafe impl Sync for Counter {}
// SAFETY: as above; the parts are `Send`.
unsafe impl Send for Counter {}

impl Counter {
    fn add(&self, n: u32, fair: bool) {
        self.0.lock();
        // SAFETY: the lock is held: this is the only access to the cell, and this thread may
        // release it.
        unsafe {
            self.1.with_mut(|p| *p += n);
            if fair {
                self.0.unlock_fair();
            } else {
                self.0.unlock();
            }
        }
    }

    fn get(&self) -> u32 {
        self.0.lock();
        // SAFETY: as in `add`.
        unsafe {
            let v = self.1.with(|p| *p);
            self.0.unlock();
            v
        }
    }
}

/// `loom::model`, then a check that some execution really parked.
/// `loom::model` with at least 3 preemptions, then a check that some execution really parked.
///
/// Why 3, where the other models use 2: a woken thread that goes through the parker's futex
/// word is ordered after its waker by that word, whatever the token's ordering. The token's
/// Release/Acquire matters only when the parked thread reads its token *before* the waker's
/// `unpark`, between the waker's token store and its wake: one more preemption. With 2, a
/// Relaxed token store passed these models; with 3 it fails with a causality violation on the
/// counter (so do: no re-check under the bucket lock (deadlock), a Relaxed token load, and a
/// hand-off that also clears `LOCKED`).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.map_or(3, |b| b.max(3)));
    builder.check(f);
    assert!(loom_parks() > 0, "no execution of this model ever parked");
}

/// Two threads and the main one add 1, 2 and 4; `fair` picks the unlock of the two.
fn three_threads(fair: bool) {
    model(move || {
        let c = Arc::new(Counter::default());
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let c = c.clone();
                thread::spawn(move || c.add(1 << i, fair))
            })
            .collect();
        c.add(4, false);
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(c.get(), 7);
    });
}

#[test]
fn three_threads_count_exactly() {
    three_threads(false);
}

/// A hand-off with a third thread around, which must not find the lock free meanwhile.
#[test]
fn three_threads_with_hand_offs_count_exactly() {
    three_threads(true);
}

#[test]
fn unlock_fair_hands_over_without_a_race() {
    model(|| {
        let c = Arc::new(Counter::default());
        let c2 = c.clone();
        let other = thread::spawn(move || c2.add(1, true));
        c.add(2, true);
        other.join().unwrap();
        assert_eq!(c.get(), 3);
        assert!(!c.0.is_locked());
    });
}

/// A waiter with a deadline beside one without. loom's futex times out every sleep that has a
/// deadline at once, so the timed waiter leaves the queue in every way it can (before, beside
/// and after the unlock that would have woken it); the blocking one is never stranded, and the
/// lock ends free. The main thread then takes the lock again, so that the timed waiter can be
/// woken (an unlock sets `WOKEN` for it), find the lock held, and give up. With `fair`, the unlock may hand the lock to the waiter as it times out: it
/// must then keep it (and release it), or the blocking thread would wait forever.
fn timed_beside_blocking(fair: bool) {
    model(move || {
        let c = Arc::new(Counter::default());
        c.0.lock();
        let c1 = c.clone();
        let timed = thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(3600);
            if !c1.0.lock_until(Some(deadline)) {
                return 0;
            }
            // SAFETY: the lock is held, so this is the only access, and ours to release.
            unsafe {
                c1.1.with_mut(|p| *p += 1);
                c1.0.unlock();
            }
            1
        });
        let c2 = c.clone();
        let blocking = thread::spawn(move || c2.add(2, false));
        // SAFETY: locked above, by this thread.
        unsafe {
            if fair {
                c.0.unlock_fair();
            } else {
                c.0.unlock();
            }
        }
        // Once more, so that an unlock can find the timed waiter woken and then gone: if it
        // left without handing back WOKEN, this unlock would not wake the blocking one.
        c.add(4, false);
        let got = timed.join().unwrap();
        blocking.join().unwrap();
        assert_eq!(c.get(), 6 + got);
        assert!(!c.0.is_locked());
    });
}

#[test]
fn a_waiter_that_times_out_never_strands_another() {
    timed_beside_blocking(false);
}

#[test]
fn a_waiter_handed_the_lock_as_it_times_out_keeps_it() {
    timed_beside_blocking(true);
}
