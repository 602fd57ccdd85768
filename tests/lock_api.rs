//! Feature `lock_api`: `lock_api::Mutex<RawLock, T>` works like parking_lot's Mutex.
#![cfg(feature = "lock_api")]

mod common;

use std::time::Duration;

type Mutex<T> = lock_api::Mutex<synclab::RawLock, T>;

#[test]
fn lock_api_mutex_counts_exactly_under_contention() {
    let iters = common::scaled(10_000);
    common::guarded("lock_api_contended", |_| {
        let m = Mutex::new(0usize);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for i in 0..iters {
                        let mut g = m.lock();
                        *g += 1;
                        if i % 2 == 1 {
                            lock_api::MutexGuard::unlock_fair(g);
                        }
                    }
                });
            }
        });
        assert_eq!(m.into_inner(), 8 * iters);
    });
}

#[test]
fn lock_api_timed_and_try() {
    let m = Mutex::new(());
    let g = m.lock();
    assert!(m.is_locked());
    assert!(m.try_lock().is_none());
    assert!(m.try_lock_for(Duration::from_millis(2)).is_none());
    assert!(m.try_lock_for(Duration::ZERO).is_none());
    drop(g);
    assert!(m.try_lock_for(Duration::MAX).is_some());
    assert!(m.try_lock_until(std::time::Instant::now()).is_some());
}

#[test]
fn lock_api_mapped_guard() {
    let m = Mutex::new((1, 2));
    let mut second = lock_api::MutexGuard::map(m.lock(), |pair| &mut pair.1);
    *second += 40;
    drop(second);
    assert_eq!(*m.lock(), (1, 42));
}
