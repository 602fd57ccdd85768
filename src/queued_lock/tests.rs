//! Unit tests of `RawLock` that read its word (the integration tests cannot).

use super::*;

#[test]
fn try_lock_and_unlock() {
    let l = RawLock::new();
    assert!(l.try_lock());
    assert!(l.is_locked() && !l.try_lock());
    // SAFETY: held.
    unsafe { l.unlock() };
    assert!(!l.is_locked());
    l.lock();
    // SAFETY: held.
    unsafe { l.unlock_fair() };
    assert_eq!(l.state.load(Relaxed), 0);
}

/// Waits (up to 10 s) until `l`'s word reads `want`.
fn until_state(l: &RawLock, want: u32) {
    let start = std::time::Instant::now();
    while l.state.load(Relaxed) != want {
        assert!(
            start.elapsed().as_secs() < 10,
            "state {}",
            l.state.load(Relaxed)
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Waiters whose deadlines pass take themselves out: the last one clears `PARKED` (else
/// every later unlock would go to the bucket for nobody), but not while a waiter without a
/// deadline is still queued.
#[test]
fn timed_out_waiters_leave_and_the_last_clears_parked() {
    use std::time::{Duration, Instant};
    let l = RawLock::new();
    l.lock();
    let ms = |n| Some(Instant::now() + Duration::from_millis(n));
    std::thread::scope(|s| {
        let timed: Vec<_> = (0..3).map(|_| s.spawn(|| l.lock_until(ms(30)))).collect();
        until_state(&l, LOCKED_BIT | PARKED_BIT);
        assert!(timed.into_iter().all(|t| !t.join().unwrap()));
        assert_eq!(
            l.state.load(Relaxed),
            LOCKED_BIT,
            "PARKED left set by nobody"
        );

        let blocking = s.spawn(|| {
            l.lock();
            // SAFETY: held.
            unsafe { l.unlock() };
        });
        until_state(&l, LOCKED_BIT | PARKED_BIT);
        let timed = s.spawn(|| l.lock_until(ms(30)));
        assert!(!timed.join().unwrap());
        assert_eq!(
            l.state.load(Relaxed),
            LOCKED_BIT | PARKED_BIT,
            "the sleeper was forgotten"
        );
        // SAFETY: held since the start.
        unsafe { l.unlock() };
        blocking.join().unwrap();
    });
    assert_eq!(l.state.load(Relaxed), 0);
    // A deadline already past still takes a free lock (one try).
    assert!(l.lock_until(Some(Instant::now())));
    // SAFETY: just taken.
    unsafe { l.unlock() };
}
