//! `Event`: CPython's `EventTests` (is_set, notify, timeout, set_and_clear) plus memory
//! ordering, oversubscription, `Duration::MAX` and a "did it really sleep" check.

mod common;

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use synclab::Event;

/// More waiters than the 2 cores CI has.
const WAITERS: usize = 12;

/// Waits until `count` reaches `n`, then a little longer so that the threads that counted
/// themselves get to block (CPython's `wait_threads_blocked`).
fn wait_until_blocked(count: &AtomicUsize, n: usize) {
    while count.load(SeqCst) < n {
        thread::sleep(Duration::from_millis(1));
    }
    thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 100 }));
}

#[test]
fn size_is_4_bytes() {
    assert_eq!(size_of::<Event>(), 4);
}

#[test]
fn is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Event>();
}

#[test]
fn new_default_and_debug() {
    static STATIC: Event = Event::new();
    assert!(!STATIC.is_set());
    let ev = Event::default();
    assert_eq!(format!("{ev:?}"), "Event(unset)");
    ev.set();
    assert_eq!(format!("{ev:?}"), "Event(set)");
}

#[test]
fn set_and_clear_are_idempotent() {
    // CPython test_is_set.
    let ev = Event::new();
    assert!(!ev.is_set());
    ev.set();
    assert!(ev.is_set());
    ev.set();
    assert!(ev.is_set());
    ev.clear();
    assert!(!ev.is_set());
    ev.clear();
    assert!(!ev.is_set());
}

#[test]
fn wait_after_set_returns_at_once() {
    common::guarded("wait_after_set", |_| {
        let ev = Event::new();
        ev.set();
        ev.wait();
        assert!(ev.wait_timeout(Duration::ZERO));
        assert!(ev.wait_timeout(Duration::from_secs(3600)));
        assert!(ev.wait_timeout(Duration::MAX));
        assert!(ev.is_set());
    });
}

#[test]
fn wait_timeout_zero_on_unset_is_false() {
    let ev = Event::new();
    assert!(!ev.wait_timeout(Duration::ZERO));
    assert!(!ev.is_set());
}

#[test]
fn wait_timeout_times_out_after_the_timeout() {
    let ev = Event::new();
    let timeout = Duration::from_millis(30);
    let start = Instant::now();
    assert!(!ev.wait_timeout(timeout));
    assert!(start.elapsed() >= timeout);
    // Once set, the same call says so (CPython test_timeout).
    ev.set();
    assert!(ev.wait_timeout(timeout));
}

#[test]
fn wait_timeout_max_returns_when_set() {
    common::guarded("wait_timeout_max", |_| {
        let ev = Event::new();
        thread::scope(|s| {
            s.spawn(|| {
                thread::sleep(Duration::from_millis(10));
                ev.set();
            });
            assert!(ev.wait_timeout(Duration::MAX));
        });
    });
}

#[test]
fn every_waiter_wakes_on_set() {
    // CPython test_notify: every waiter returns true, a second wait too; then again after clear.
    common::guarded("every_waiter_wakes", |status| {
        let ev = Event::new();
        for round in 0..3 {
            let blocked = AtomicUsize::new(0);
            let woken = AtomicUsize::new(0);
            thread::scope(|s| {
                for i in 0..WAITERS {
                    let (ev, blocked, woken) = (&ev, &blocked, &woken);
                    s.spawn(move || {
                        blocked.fetch_add(1, SeqCst);
                        // Mix the three ways to wait.
                        match i % 3 {
                            0 => ev.wait(),
                            1 => assert!(ev.wait_timeout(Duration::MAX)),
                            _ => assert!(ev.wait_timeout(Duration::from_secs(3600))),
                        }
                        assert!(ev.wait_timeout(Duration::ZERO)); // still set
                        woken.fetch_add(1, SeqCst);
                    });
                }
                status.set(
                    "main",
                    format!("round {round}: waiting for the waiters to block"),
                );
                wait_until_blocked(&blocked, WAITERS);
                assert_eq!(woken.load(SeqCst), 0, "a waiter returned before set");
                status.set("main", format!("round {round}: set, joining"));
                ev.set();
            });
            assert_eq!(woken.load(SeqCst), WAITERS);
            ev.clear();
        }
    });
}

#[test]
fn set_then_clear_still_wakes_every_waiter() {
    // CPython test_set_and_clear (bpo-13502): set() immediately followed by clear() must wake
    // every waiter with `true`, although the event is unset again when they get to look.
    common::guarded("set_then_clear", |status| {
        let ev = Event::new();
        for round in 0..3 {
            let blocked = AtomicUsize::new(0);
            let results = thread::scope(|s| {
                let handles: Vec<_> = (0..WAITERS)
                    .map(|_| {
                        let (ev, blocked) = (&ev, &blocked);
                        // A lost `set` shows up as `false` after 10 s, not as a hang.
                        s.spawn(move || {
                            blocked.fetch_add(1, SeqCst);
                            ev.wait_timeout(Duration::from_secs(10))
                        })
                    })
                    .collect();
                status.set(
                    "main",
                    format!("round {round}: waiting for the waiters to block"),
                );
                wait_until_blocked(&blocked, WAITERS);
                ev.set();
                ev.clear();
                status.set("main", format!("round {round}: set+clear done, joining"));
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap())
                    .collect::<Vec<_>>()
            });
            assert!(!ev.is_set());
            assert_eq!(results, vec![true; WAITERS], "round {round}");
        }
    });
}

/// A cell with no synchronisation of its own: only the events order the accesses, so Miri
/// reports a data race if `set`/`wait` do not give happens-before.
struct Unsynced(UnsafeCell<u64>);
// SAFETY: the test only touches the cell from one thread at a time, handed over by events.
unsafe impl Sync for Unsynced {}

impl Unsynced {
    fn get(&self) -> *mut u64 {
        self.0.get()
    }
}

#[test]
fn set_clear_ping_pong_publishes_data() {
    common::guarded("ping_pong", |status| {
        let rounds = common::scaled(5_000);
        let (ping, pong) = (Event::new(), Event::new());
        let data = Unsynced(UnsafeCell::new(0));
        thread::scope(|s| {
            s.spawn(|| {
                for i in 0..rounds {
                    ping.wait();
                    ping.clear();
                    // SAFETY: main wrote before `ping.set()` and waits for `pong` before its
                    // next access.
                    unsafe {
                        assert_eq!(*data.get(), 2 * i as u64 + 1);
                        *data.get() += 1;
                    }
                    pong.set();
                }
            });
            for i in 0..rounds {
                if i % 1000 == 0 {
                    status.set("main", format!("round {i}"));
                }
                // SAFETY: the worker is blocked in `ping.wait()` (or has not started).
                unsafe { *data.get() += 1 };
                ping.set();
                pong.wait();
                pong.clear();
                // SAFETY: the worker wrote before `pong.set()` and now waits for `ping`.
                unsafe { assert_eq!(*data.get(), 2 * i as u64 + 2) };
            }
        });
    });
}

#[test]
fn many_setters_and_waiters_under_oversubscription() {
    // Waiters loop on wait+clear while setters keep setting; every waiter must finish its
    // rounds (any set after it started waiting releases it). Checks for lost wakeups.
    common::guarded("many_setters_and_waiters", |status| {
        let rounds = common::scaled(2_000);
        let ev = Event::new();
        let done = AtomicUsize::new(0);
        thread::scope(|s| {
            for w in 0..4 {
                let (ev, done) = (&ev, &done);
                s.spawn(move || {
                    for _ in 0..rounds {
                        ev.wait();
                        if w == 0 {
                            ev.clear();
                        }
                    }
                    done.fetch_add(1, SeqCst);
                });
            }
            for _ in 0..2 {
                s.spawn(|| {
                    while done.load(SeqCst) < 4 {
                        ev.set();
                        thread::yield_now();
                    }
                });
            }
            status.set("main", "joining 4 waiters and 2 setters");
        });
        assert_eq!(done.load(SeqCst), 4);
    });
}

/// CPU time this thread has used so far.
// Linux only (so not under Wine either): the thread's CPU clock is read with Linux's
// `CLOCK_THREAD_CPUTIME_ID`; Miri has no such clock.
#[cfg(all(target_os = "linux", not(miri)))]
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is always supported on Linux.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(all(target_os = "linux", not(miri)))]
#[test]
fn a_waiter_sleeps_instead_of_spinning() {
    // A waiter that spun instead of sleeping would burn about as much CPU as the wall time it
    // waited (or its share of the cores); a sleeper burns microseconds. The bound is loose on
    // purpose: it can only fail for a waiter that spins for most of its wait.
    let ev = Event::new();
    let timeout = Duration::from_millis(300);
    let cpu = thread_cpu_time();
    assert!(!ev.wait_timeout(timeout));
    let used = thread_cpu_time() - cpu;
    assert!(
        used < timeout / 3,
        "the waiter used {used:?} of CPU in a {timeout:?} wait"
    );
}
