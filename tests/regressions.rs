//! Regression tests, one per bug found on the way, each named after the bug. Each doc comment
//! says what went wrong and which commit fixed it.
//!
//! Regression tests that live elsewhere, next to what they need:
//!
//! - `tests/semaphore.rs::back_to_back_releases_wake_every_sleeper`: two releases in a row, the
//!   second seeing no waiters flag, must still wake both sleepers (the baton rule; written with
//!   the Semaphore in a36eeed, and modelled by `tests/loom_semaphore.rs`).
//! - `exercises/solutions/part2/spin_lock.rs::then_some_failed_try_lock_does_not_unlock_the_holder`: the
//!   exercise's reference `try_lock` used `then_some`, which builds (and drops, unlocking) a
//!   guard even when the swap failed (fixed in e1de0ff).
//! - `tests/loom_queue.rs::join_returns_after_the_last_task_done`: the loom false deadlock of
//!   the queue's notifier load (fixed in 021c613; see below for the real-thread test).
//! - `src/timer.rs` unit tests: the cancel-after-deadline race that a `swap` instead of the
//!   compare-exchange would lose (0468b6a).
//! - `tests/loom_event.rs` (every model, through its `model` helper): after `Event::wait` began
//!   to spin 8 times and yield once before sleeping (11bf0be), the yield made loom run the
//!   setter to the end first in every execution, so `set_clear_set_never_strands_a_waiter`
//!   never reached the futex sleep and the helper's "some execution slept" check failed in CI.
//!   Under loom the brief spin now neither spins nor yields (3228b89).
//! - `tests/process.rs::lock_taken_in_a_forked_child_records_the_childs_pid`: a bare `fork`ed
//!   child kept the parent's cached pid, so its locks named the parent as holder (c850c94).
//! - `tests/process.rs::queue_from_threads_four_putters_four_getters_one_slot`: the
//!   process queue woke a registered getter on every put until it ran again (about 1.7
//!   `futex` calls per item with ten producers); the claims that fixed it (7a771ed) are what
//!   this test exercises: a claim that is never given back stalls it into the watchdog.
//!
//! Not testable here: the FreeBSD `_umtx_op` timeout overflow (a495922) needs FreeBSD; CI only
//! type-checks that backend.
#![cfg(not(loom))]

mod common;

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use synclab::Queue;
use synclab::futex::{self, WaitResult};

/// `FUTEX_WAIT_BITSET` takes its bit mask in `val3`, which the kernel reads as a u32. The
/// Linux backend passed `FUTEX_BITSET_MATCH_ANY` as libc's `i32` −1 through the variadic
/// `syscall`, which a newer Miri reports as undefined behaviour (an argument of the wrong type).
/// Fixed in 1ee8ec3 (val3 and the wake count passed as u32). Every path of the bitset wait
/// runs here, so `cargo +nightly miri test --test regressions` checks the call: a mismatch
/// (no sleep), a timed wait that expires, a past deadline, and a sleep ended by a wake.
#[test]
fn futex_val3_bitset_match_any_passed_as_i32() {
    let word = AtomicU32::new(1);
    assert_eq!(futex::wait(&word, 0, None), WaitResult::Woken);
    let soon = Instant::now() + Duration::from_millis(1);
    assert_eq!(futex::wait(&word, 1, Some(soon)), WaitResult::TimedOut);
    let past = Instant::now() - Duration::from_millis(1);
    assert_eq!(futex::wait(&word, 1, Some(past)), WaitResult::TimedOut);
    common::guarded("futex_val3", |status| {
        thread::scope(|s| {
            s.spawn(|| {
                while word.load(SeqCst) == 1 {
                    futex::wait(&word, 1, None);
                }
            });
            status.set("main", "storing 2, waking the sleeper");
            thread::sleep(Duration::from_millis(5));
            word.store(2, SeqCst);
            futex::wake_all(&word);
        });
    });
}

/// The queue's `task_done` wakes joiners after a SeqCst load of the sleeper count. loom models
/// SeqCst loads as AcqRel, reported a deadlock that cannot happen, and the loom model of
/// `task_done` + `join` was marked ignored. Fixed in 021c613 (a SeqCst fence before the load
/// under `cfg(loom)` only), which put the model back in CI. This is the same protocol on real
/// threads: a joiner asleep while the last `task_done` runs on another thread.
#[test]
fn loom_seq_cst_false_deadlock_in_queue_join() {
    common::guarded("queue_join", |status| {
        for round in 0..common::scaled(50) {
            let q = Queue::new();
            q.put(round).unwrap();
            q.put(round + 1).unwrap();
            thread::scope(|s| {
                s.spawn(|| {
                    for _ in 0..2 {
                        q.get().unwrap();
                        q.task_done().unwrap();
                    }
                });
                status.set("main", format!("round {round}: blocked in join"));
                q.join();
            });
            assert!(q.is_empty());
        }
    });
}

/// A producer of a bounded queue that finds its slot still being emptied by a consumer used to
/// *spin* (pause bursts, never yielding) until the consumer stamped the slot. With more threads
/// than cores the consumer may be preempted in that window, and the spinner burnt its whole
/// time slice on a core the consumer needed. Fixed in 4514629 (snooze: pauses, then yields).
/// Here eight threads share a one-slot queue on two cores; every item must arrive once, under
/// the watchdog.
#[test]
fn bounded_queue_spin_while_a_consumer_finishes_a_slot() {
    const PER_PRODUCER: usize = 500;
    let per = common::scaled(PER_PRODUCER);
    common::guarded("slot_spin", |status| {
        let q = Queue::bounded(1);
        let sum = AtomicUsize::new(0);
        thread::scope(|s| {
            for p in 0..4 {
                let q = &q;
                s.spawn(move || {
                    for i in 0..per {
                        q.put(p * per + i).unwrap();
                    }
                });
            }
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..per {
                        sum.fetch_add(q.get().unwrap(), SeqCst);
                    }
                });
            }
            status.set("main", "4 producers, 4 consumers on bounded(1)");
        });
        let n = 4 * per;
        assert_eq!(sum.load(SeqCst), n * (n - 1) / 2);
    });
}
