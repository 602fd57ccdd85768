//! `RLock<T>`: every method, re-entry, timeouts, ownership, contention, oversubscription, panics,
//! and ports of CPython's `RLockTests` (Lib/test/lock_tests.py).

mod common;

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use synclab::{Event, RLock};

#[test]
fn size_is_as_documented() {
    // "16 bytes plus the data on 64-bit targets".
    #[cfg(target_pointer_width = "64")]
    {
        assert_eq!(size_of::<RLock<()>>(), 16);
        assert_eq!(size_of::<RLock<u64>>(), 24);
    }
}

#[test]
fn send_and_sync_follow_std_reentrant_lock() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<RLock<u32>>();
    // `T: Send` is enough for sharing: only one thread at a time gets `&T`.
    is_send_sync::<RLock<Cell<u32>>>();
    is_send_sync::<RLock<RefCell<Vec<u8>>>>();
}

#[test]
fn reacquire_nests_and_unwinds() {
    // CPython test_reacquire and test_recursion_count: 0, 1, 3, 2, 0.
    let lock = RLock::new(());
    assert_eq!(lock.recursion_count(), 0);
    let a = lock.lock();
    assert_eq!(lock.recursion_count(), 1);
    let b = lock.lock();
    let c = lock.try_lock().expect("re-entry never fails");
    assert_eq!(lock.recursion_count(), 3);
    drop(c);
    assert_eq!(lock.recursion_count(), 2);
    assert!(lock.is_locked());
    drop(b);
    drop(a);
    assert_eq!(lock.recursion_count(), 0);
    assert!(!lock.is_locked());
}

#[test]
fn recursion_count_is_zero_in_another_thread() {
    let lock = RLock::new(());
    let _g = lock.lock();
    let _h = lock.lock();
    std::thread::scope(|s| {
        assert_eq!(s.spawn(|| lock.recursion_count()).join().unwrap(), 0);
    });
    assert_eq!(lock.recursion_count(), 2);
}

#[test]
fn locked_and_owned() {
    // CPython test_locked and test__is_owned.
    let lock = RLock::new(());
    assert!(!lock.is_locked());
    assert!(!lock.is_owned_by_current_thread());
    let a = lock.lock();
    let b = lock.lock();
    assert!(lock.is_locked() && lock.is_owned_by_current_thread());
    drop(a);
    assert!(lock.is_locked() && lock.is_owned_by_current_thread());
    drop(b);
    assert!(!lock.is_locked());
    assert!(!lock.is_owned_by_current_thread());
}

#[test]
fn locked_with_2threads() {
    // CPython test_locked_with_2threads: held by another thread, it reads locked here but not
    // owned.
    common::guarded("locked_with_2threads", |_| {
        let lock = RLock::new(());
        let (taken, release) = (Event::new(), Event::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                let _g = lock.lock();
                let _h = lock.lock();
                taken.set();
                release.wait();
            });
            taken.wait();
            assert!(lock.is_locked());
            assert!(!lock.is_owned_by_current_thread());
            assert_eq!(lock.recursion_count(), 0);
            release.set();
        });
        assert!(!lock.is_locked());
    });
}

#[test]
fn different_thread_cannot_take_it_while_held() {
    // CPython test_different_thread / test_try_acquire_contended, for every way to lock.
    common::guarded("different_thread", |_| {
        let lock = RLock::new(());
        let a = lock.lock();
        let _b = lock.lock();
        std::thread::scope(|s| {
            s.spawn(|| {
                assert!(lock.try_lock().is_none());
                assert!(lock.lock_timeout(Duration::ZERO).is_none());
                let start = Instant::now();
                assert!(lock.lock_timeout(Duration::from_millis(20)).is_none());
                assert!(start.elapsed() >= Duration::from_millis(20));
            });
        });
        drop(a); // still held once
        std::thread::scope(|s| {
            s.spawn(|| assert!(lock.try_lock().is_none()));
        });
    });
}

#[test]
fn lock_timeout_zero_and_max_on_a_free_or_own_lock() {
    let lock = RLock::new(7);
    let a = lock.lock_timeout(Duration::ZERO).expect("free");
    let b = lock.lock_timeout(Duration::ZERO).expect("own");
    let c = lock.lock_timeout(Duration::MAX).expect("own");
    assert_eq!(*a + *b + *c, 21);
    assert_eq!(lock.recursion_count(), 3);
}

#[test]
fn lock_timeout_max_waits_for_the_holder() {
    common::guarded("rlock_timeout_max", |_| {
        let lock = RLock::new(Cell::new(0));
        let taken = Event::new();
        std::thread::scope(|s| {
            let g = lock.lock();
            s.spawn(|| {
                taken.set();
                let g = lock
                    .lock_timeout(Duration::MAX)
                    .expect("MAX never times out");
                g.set(g.get() + 1);
            });
            taken.wait();
            std::thread::sleep(Duration::from_millis(10));
            g.set(10);
            drop(g);
        });
        assert_eq!(lock.lock().get(), 11);
    });
}

#[test]
fn blocked_threads_proceed_only_after_the_last_guard() {
    // CPython test_acquire_contended, with the holder nested twice.
    common::guarded("rlock_acquire_contended", |status| {
        let lock = RLock::new(());
        let finished = AtomicUsize::new(0);
        let outer = lock.lock();
        let inner = lock.lock();
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
            drop(inner);
            std::thread::sleep(Duration::from_millis(20));
            assert_eq!(finished.load(SeqCst), 0, "got in while one guard was left");
            drop(outer);
        });
        assert_eq!(finished.load(SeqCst), 5);
    });
}

#[test]
fn nested_counting_is_exact_under_oversubscription() {
    // 12 threads on 2 cores, each taking the lock 1-3 levels deep and incrementing a `Cell`
    // inside, with a split read-modify-write that a broken lock would lose updates on.
    const THREADS: usize = 12;
    let iters = common::scaled(5_000);
    common::guarded("rlock_oversubscription", |_| {
        let lock = RLock::new(Cell::new(0usize));
        let inside = AtomicBool::new(false);
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (lock, inside) = (&lock, &inside);
                s.spawn(move || {
                    for i in 0..iters {
                        let outer = match (t + i) % 3 {
                            0 => lock.lock(),
                            1 => loop {
                                if let Some(g) = lock.try_lock() {
                                    break g;
                                }
                                std::thread::yield_now();
                            },
                            _ => lock.lock_timeout(Duration::MAX).unwrap(),
                        };
                        assert!(!inside.swap(true, SeqCst), "two threads inside");
                        let depth = 1 + i % 3;
                        let inner: Vec<_> = (1..depth).map(|_| lock.lock()).collect();
                        assert_eq!(lock.recursion_count() as usize, depth);
                        let v = outer.get();
                        std::hint::black_box(());
                        inner.last().unwrap_or(&outer).set(v + 1);
                        drop(inner);
                        inside.store(false, SeqCst);
                        drop(outer);
                    }
                });
            }
        });
        assert_eq!(lock.into_inner().get(), THREADS * iters);
    });
}

#[test]
fn timed_lockers_mixed_with_blocking_lockers() {
    let iters = common::scaled(2_000);
    common::guarded("rlock_timed_and_blocking", |_| {
        let lock = RLock::new(Cell::new(0usize));
        let timed_ok = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..8 {
                let (lock, timed_ok) = (&lock, &timed_ok);
                s.spawn(move || {
                    for _ in 0..iters {
                        let g = if t % 2 == 0 {
                            match lock.lock_timeout(Duration::from_micros(50)) {
                                Some(g) => {
                                    timed_ok.fetch_add(1, SeqCst);
                                    g
                                }
                                None => continue,
                            }
                        } else {
                            lock.lock()
                        };
                        let again = lock.lock();
                        again.set(g.get() + 1);
                    }
                });
            }
        });
        assert_eq!(lock.into_inner().get(), 4 * iters + timed_ok.load(SeqCst));
    });
}

#[test]
fn panic_while_holding_nested_guards_releases_the_lock() {
    common::guarded("rlock_panic", |_| {
        let lock = RLock::new(Cell::new(1));
        std::thread::scope(|s| {
            let r = s
                .spawn(|| {
                    let a = lock.lock();
                    let _b = lock.lock();
                    a.set(2);
                    panic!("boom while holding an RLock twice");
                })
                .join();
            assert!(r.is_err());
        });
        assert!(!lock.is_locked());
        // Others proceed; the write before the panic is kept; no poison.
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(lock.lock().get(), 2));
        });
    });
}

#[test]
fn ownership_moves_from_thread_to_thread() {
    // A lock released by one thread and taken by another: the new owner is the only owner,
    // and the old one is not treated as re-entering.
    common::guarded("rlock_handover", |_| {
        let lock = RLock::new(());
        for _ in 0..common::scaled(50) {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let _g = lock.lock();
                    assert!(lock.is_owned_by_current_thread());
                });
            });
            assert!(!lock.is_owned_by_current_thread());
            assert!(!lock.is_locked());
            let _g = lock.lock();
            assert_eq!(lock.recursion_count(), 1);
        }
    });
}

#[test]
fn get_mut_into_inner_default_from() {
    let mut lock = RLock::new(vec![1]);
    lock.get_mut().push(2);
    assert_eq!(lock.into_inner(), vec![1, 2]);
    assert_eq!(RLock::<u8>::default().into_inner(), 0);
    assert_eq!(RLock::from("x").into_inner(), "x");
}

#[test]
fn unsized_data() {
    let lock: &RLock<[u32]> = &RLock::new([1, 2, 3]);
    let g = lock.lock();
    let h = lock.lock();
    assert_eq!(&*g, &*h);
    assert_eq!(g.len(), 3);
}

#[test]
fn debug_shows_data_to_the_owner_and_locked_to_others() {
    let lock = RLock::new(7);
    assert!(format!("{lock:?}").contains('7'));
    let g = lock.lock();
    assert!(
        format!("{lock:?}").contains('7'),
        "the owner may look re-entrantly"
    );
    std::thread::scope(|s| {
        let other = s.spawn(|| format!("{lock:?}")).join().unwrap();
        assert!(other.contains("<locked>"), "{other}");
    });
    assert_eq!(format!("{g}"), "7");
    assert_eq!(format!("{g:?}"), "7");
}

#[test]
fn static_rlock_is_const() {
    static LOG: RLock<RefCell<Vec<u32>>> = RLock::new(RefCell::new(Vec::new()));
    let g = LOG.lock();
    g.borrow_mut().push(1);
    LOG.lock().borrow_mut().push(2);
    drop(g);
    assert!(LOG.lock().borrow().ends_with(&[1, 2]));
}
