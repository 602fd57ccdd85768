//! `Lock<T>` and `RawLock`: every method, timeouts, contention, oversubscription, panics.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use synclab::{Lock, LockGuard, RawLock};

#[test]
fn sizes_are_a_contract() {
    assert_eq!(size_of::<Lock<()>>(), 4);
    assert_eq!(size_of::<RawLock>(), 4);
    assert_eq!(size_of::<Lock<u32>>(), 8);
}

#[test]
fn lock_gives_access_and_unlocks_on_drop() {
    let lock = Lock::new(5);
    {
        let mut g = lock.lock();
        assert!(lock.is_locked());
        *g += 1;
    }
    assert!(!lock.is_locked());
    assert_eq!(*lock.lock(), 6);
}

#[test]
fn try_lock_fails_while_held_and_succeeds_after() {
    let lock = Lock::new(());
    let g = lock.lock();
    assert!(lock.try_lock().is_none());
    drop(g);
    let g = lock.try_lock();
    assert!(g.is_some());
    assert!(lock.is_locked());
}

#[test]
fn try_lock_from_other_thread_fails_while_held() {
    // CPython test_try_acquire_contended.
    let lock = Lock::new(());
    let _g = lock.lock();
    std::thread::scope(|s| {
        assert!(s.spawn(|| lock.try_lock().is_none()).join().unwrap());
    });
}

#[test]
fn lock_timeout_zero_is_one_try() {
    let lock = Lock::new(());
    assert!(lock.lock_timeout(Duration::ZERO).is_some());
    let _g = lock.lock();
    assert!(lock.lock_timeout(Duration::ZERO).is_none());
}

#[test]
fn lock_timeout_waits_at_least_the_timeout_when_held() {
    let lock = Lock::new(());
    let _g = lock.lock();
    common::guarded("lock_timeout_held", |_| {
        std::thread::scope(|s| {
            s.spawn(|| {
                let start = Instant::now();
                assert!(lock.lock_timeout(Duration::from_millis(30)).is_none());
                assert!(start.elapsed() >= Duration::from_millis(30));
            });
        });
    });
    assert!(lock.is_locked());
}

#[test]
fn lock_timeout_max_waits_for_the_holder() {
    common::guarded("lock_timeout_max", |_| {
        let lock = Lock::new(0);
        let g = lock.lock();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let mut g = lock
                    .lock_timeout(Duration::MAX)
                    .expect("MAX never times out");
                *g += 1;
            });
            std::thread::sleep(Duration::from_millis(20));
            drop(g);
            waiter.join().unwrap();
        });
        assert_eq!(*lock.lock(), 1);
    });
}

#[test]
fn state_after_timeout_is_usable() {
    // CPython test_state_after_timeout (issue 11618): a failed timed acquire leaves no trace.
    common::guarded("state_after_timeout", |_| {
        let lock = Lock::new(());
        let g = lock.lock();
        std::thread::scope(|s| {
            s.spawn(|| assert!(lock.lock_timeout(Duration::from_millis(5)).is_none()));
        });
        drop(g);
        assert!(!lock.is_locked());
        assert!(lock.try_lock().is_some());
    });
}

#[test]
fn get_mut_and_into_inner() {
    let mut lock = Lock::new(vec![1]);
    lock.get_mut().push(2);
    assert_eq!(lock.into_inner(), vec![1, 2]);
}

#[test]
fn unsized_data() {
    let lock: &Lock<[u32]> = &Lock::new([1, 2, 3]);
    lock.lock()[1] = 5;
    assert_eq!(&*lock.lock(), &[1, 5, 3]);
}

#[test]
fn debug_shows_data_or_locked() {
    let lock = Lock::new(7);
    assert!(format!("{lock:?}").contains('7'));
    let _g = lock.lock();
    assert!(format!("{lock:?}").contains("<locked>"));
}

#[test]
fn blocked_threads_all_proceed_after_release() {
    // CPython test_acquire_contended: 5 threads block on a held lock; none finishes before the
    // release, all do after.
    common::guarded("acquire_contended", |status| {
        let lock = Lock::new(());
        let finished = AtomicUsize::new(0);
        let g = lock.lock();
        std::thread::scope(|s| {
            for i in 0..5 {
                let (lock, finished) = (&lock, &finished);
                s.spawn(move || {
                    status.set(format!("thread {i}"), "blocked in lock");
                    drop(lock.lock());
                    finished.fetch_add(1, SeqCst);
                    status.set(format!("thread {i}"), "done");
                });
            }
            std::thread::sleep(Duration::from_millis(20));
            assert_eq!(finished.load(SeqCst), 0, "a thread got past a held lock");
            drop(g);
        });
        assert_eq!(finished.load(SeqCst), 5);
    });
}

#[test]
fn unlock_fair_hands_the_lock_to_the_parked_thread() {
    // Unlocked the plain way, a held lock with a parked waiter is free for a moment and the
    // unlocking thread can take it straight back; `unlock_fair` gives it, still held, to the
    // waiter, so the unlocker's `try_lock` must fail until the waiter lets go.
    common::guarded("unlock_fair_hand_off", |status| {
        let lock = Lock::new(0);
        let g = lock.lock();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                status.set("waiter", "blocked in lock");
                let mut g = lock.lock();
                *g += 1;
                std::thread::sleep(Duration::from_millis(20));
                status.set("waiter", "done");
            });
            // Long enough for the waiter's ten yields, so that it is parked, not yielding.
            std::thread::sleep(Duration::from_millis(200));
            LockGuard::unlock_fair(g);
            assert!(lock.try_lock().is_none(), "unlock_fair left the lock free");
            waiter.join().unwrap();
        });
        assert_eq!(*lock.lock(), 1);
    });
}

// ANCHOR: lots_and_lots
#[test]
fn no_lost_updates_under_oversubscription() {
    // std's lots_and_lots: more threads than cores, each incrementing under the lock. A split
    // read-modify-write without the lock would lose updates; with it the total is exact.
    const THREADS: usize = 16;
    let iters = common::scaled(20_000);
    common::guarded("lots_and_lots", |_| {
        let lock = Lock::new(0usize);
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for _ in 0..iters {
                        let mut g = lock.lock();
                        let v = *g;
                        std::hint::black_box(());
                        *g = v + 1;
                    }
                });
            }
        });
        assert_eq!(lock.into_inner(), THREADS * iters);
    });
}
// ANCHOR_END: lots_and_lots

#[test]
fn mutual_exclusion_is_never_violated() {
    let iters = common::scaled(5_000);
    common::guarded("mutual_exclusion", |_| {
        let lock = Lock::new(());
        let inside = AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..iters {
                        let _g = lock.lock();
                        assert!(!inside.swap(true, SeqCst), "two threads inside the lock");
                        std::hint::spin_loop();
                        inside.store(false, SeqCst);
                    }
                });
            }
        });
    });
}

#[test]
fn timed_lockers_mixed_with_blocking_lockers() {
    // Timeouts racing with unlocks must not strand a sleeper (parking_lot #466 class).
    let iters = common::scaled(2_000);
    common::guarded("timed_and_blocking", |_| {
        let lock = Lock::new(0usize);
        let timed_ok = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..8 {
                let (lock, timed_ok) = (&lock, &timed_ok);
                s.spawn(move || {
                    for _ in 0..iters {
                        if t % 2 == 0 {
                            if let Some(mut g) = lock.lock_timeout(Duration::from_micros(50)) {
                                *g += 1;
                                timed_ok.fetch_add(1, SeqCst);
                            }
                        } else {
                            *lock.lock() += 1;
                        }
                    }
                });
            }
        });
        assert_eq!(lock.into_inner(), 4 * iters + timed_ok.load(SeqCst));
    });
}

#[test]
fn panic_while_holding_releases_and_does_not_poison() {
    common::guarded("panic_in_guard", |_| {
        let lock = Lock::new(1);
        std::thread::scope(|s| {
            let r = s
                .spawn(|| {
                    let mut g = lock.lock();
                    *g = 2;
                    panic!("boom while holding the lock");
                })
                .join();
            assert!(r.is_err());
        });
        assert!(!lock.is_locked());
        // The write before the panic is kept; the lock is usable, no poison to clear.
        assert_eq!(*lock.lock(), 2);
    });
}

#[test]
fn raw_lock_lock_until_past_deadline() {
    let raw = RawLock::new();
    assert!(raw.lock_until(Some(Instant::now())));
    assert!(!raw.lock_until(Some(Instant::now())));
    assert!(!raw.lock_until(Instant::now().checked_sub(Duration::from_secs(1))));
    // SAFETY: this thread took the lock above.
    unsafe { raw.unlock() };
    assert!(!raw.is_locked());
}

#[test]
fn static_lock_is_const() {
    static COUNT: Lock<u32> = Lock::new(0);
    *COUNT.lock() += 1;
    assert!(*COUNT.lock() >= 1);
}

#[test]
fn default_and_from() {
    let a: Lock<u8> = Lock::default();
    assert_eq!(a.into_inner(), 0);
    let b = Lock::from(String::from("x"));
    assert_eq!(b.into_inner(), "x");
}

#[test]
fn guard_displays_and_debugs_like_the_data() {
    let lock = Lock::new(42);
    let g = lock.lock();
    assert_eq!(format!("{g}"), "42");
    assert_eq!(format!("{g:?}"), "42");
}
