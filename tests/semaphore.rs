//! `Semaphore` and `BoundedSemaphore`: CPython's `SemaphoreTests` / `BoundedSemaphoreTests`
//! (acquire, acquire_contended, multirelease, try_acquire(_contended), timeouts, with, release
//! past the bound), overflow at `MAX_PERMITS`, RAII permits and panics, lost-wakeup regressions
//! and a "did it really sleep" check.

mod common;

use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use synclab::{BoundedSemaphore, ReleaseError, Semaphore, SemaphorePermit};

/// Waits until `count` reaches `n`, then a little longer so that the threads that counted
/// themselves get to block (CPython's `wait_threads_blocked`).
fn wait_until_blocked(count: &AtomicUsize, n: usize) {
    while count.load(SeqCst) < n {
        thread::sleep(Duration::from_millis(1));
    }
    thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 50 }));
}

#[test]
fn sizes_are_a_contract() {
    assert_eq!(size_of::<Semaphore>(), 4);
    assert!(size_of::<BoundedSemaphore>() <= 8);
}

#[test]
fn auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Semaphore>();
    send_sync::<BoundedSemaphore>();
    // A permit may be given back by another thread: Python allows any thread to release.
    send_sync::<SemaphorePermit<'static>>();
    send_sync::<ReleaseError>();
}

#[test]
fn constructors_default_and_debug() {
    static STATIC: Semaphore = Semaphore::new(3);
    static BOUNDED: BoundedSemaphore = BoundedSemaphore::new(3);
    assert_eq!(STATIC.available(), 3);
    assert_eq!((BOUNDED.available(), BOUNDED.bound()), (3, 3));
    // Python's default value is 1.
    assert_eq!(Semaphore::default().available(), 1);
    assert_eq!(BoundedSemaphore::default().bound(), 1);
    assert_eq!(Semaphore::new(0).available(), 0);
    assert_eq!(
        Semaphore::new(Semaphore::MAX_PERMITS).available(),
        Semaphore::MAX_PERMITS
    );
    assert_eq!(Semaphore::MAX_PERMITS, (1 << 31) - 1);
    assert_eq!(BoundedSemaphore::MAX_PERMITS, Semaphore::MAX_PERMITS);

    let sem = Semaphore::new(2);
    let _p = sem.permit();
    assert_eq!(format!("{sem:?}"), "Semaphore { available: 1 }");
    let bounded = BoundedSemaphore::new(3);
    bounded.acquire();
    assert_eq!(
        format!("{bounded:?}"),
        "BoundedSemaphore { available: 2, bound: 3 }"
    );
}

#[test]
#[should_panic(expected = "Semaphore::MAX_PERMITS")]
fn new_above_max_panics() {
    let _ = Semaphore::new(Semaphore::MAX_PERMITS + 1);
}

#[test]
#[should_panic(expected = "BoundedSemaphore::MAX_PERMITS")]
fn bounded_new_above_max_panics() {
    let _ = BoundedSemaphore::new(usize::MAX);
}

#[test]
fn acquire_release_sequences() {
    // CPython test_acquire.
    let sem = Semaphore::new(1);
    sem.acquire();
    sem.release().unwrap();
    let sem = Semaphore::new(2);
    sem.acquire();
    sem.acquire();
    assert_eq!(sem.available(), 0);
    sem.release().unwrap();
    sem.release().unwrap();
    assert_eq!(sem.available(), 2);
}

#[test]
fn try_acquire_counts() {
    // CPython test_try_acquire.
    for (name, sem) in both(2) {
        assert!(sem.try_acquire(), "{name}");
        assert!(sem.try_acquire(), "{name}");
        assert!(!sem.try_acquire(), "{name}");
        sem.release().unwrap();
        assert!(sem.try_acquire(), "{name}");
        assert!(sem.try_permit().is_none(), "{name}");
    }
}

#[test]
fn try_acquire_contended_counts_exactly() {
    // CPython test_try_acquire_contended: 3 of 10 non-blocking attempts succeed.
    let sem = Semaphore::new(4);
    sem.acquire();
    let successes = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..5 {
            s.spawn(|| {
                for _ in 0..2 {
                    if sem.try_acquire() {
                        successes.fetch_add(1, SeqCst);
                    }
                }
            });
        }
    });
    assert_eq!(successes.load(SeqCst), 3);
    assert_eq!(sem.available(), 0);
}

#[test]
fn timeouts_zero_max_and_really_waiting() {
    // CPython test_acquire_timeout, for both kinds.
    for (name, sem) in both(2) {
        assert!(sem.acquire_timeout(Duration::ZERO), "{name}");
        assert!(sem.acquire_timeout(Duration::MAX), "{name}");
        assert!(!sem.acquire_timeout(Duration::ZERO), "{name}");
        assert!(sem.permit_timeout(Duration::ZERO).is_none(), "{name}");
        let timeout = Duration::from_millis(30);
        let start = Instant::now();
        assert!(!sem.acquire_timeout(timeout), "{name}");
        assert!(start.elapsed() >= timeout, "{name}");
        let start = Instant::now();
        assert!(sem.permit_timeout(timeout).is_none(), "{name}");
        assert!(start.elapsed() >= timeout, "{name}");
        // A failed timed acquire leaves the semaphore usable (CPython issue 11618).
        sem.release().unwrap();
        assert!(sem.acquire_timeout(timeout), "{name}");
        assert_eq!(sem.available(), 0, "{name}");
    }
}

#[test]
fn timeout_max_waits_for_a_release() {
    common::guarded("timeout_max", |_| {
        for (name, sem) in both(2) {
            sem.acquire();
            sem.acquire();
            thread::scope(|s| {
                s.spawn(|| {
                    thread::sleep(Duration::from_millis(10));
                    sem.release_n(2).unwrap_or_else(|e| panic!("{name}: {e}"));
                });
                assert!(sem.acquire_timeout(Duration::MAX), "{name}");
                assert!(sem.permit_timeout(Duration::MAX).is_some(), "{name}");
            });
        }
    });
}

#[test]
fn release_from_another_thread_wakes_a_sleeper() {
    common::guarded("release_wakes", |status| {
        let sem = Semaphore::new(0);
        let started = AtomicUsize::new(0);
        let got = AtomicUsize::new(0);
        thread::scope(|s| {
            s.spawn(|| {
                started.fetch_add(1, SeqCst);
                sem.acquire();
                got.fetch_add(1, SeqCst);
            });
            wait_until_blocked(&started, 1);
            assert_eq!(got.load(SeqCst), 0, "acquired a permit that does not exist");
            status.set("main", "releasing from a thread that never acquired");
            sem.release().unwrap();
        });
        assert_eq!(got.load(SeqCst), 1);
        assert_eq!(sem.available(), 0);
    });
}

#[test]
fn back_to_back_releases_wake_every_sleeper() {
    // Lost-wakeup regression: the first release clears the waiters flag and wakes one sleeper;
    // the second sees no flag and wakes nobody. The woken thread must pass the wake on, or the
    // other sleeper sleeps forever next to a free permit (the watchdog reports the hang).
    common::watchdog("back_to_back_releases", Duration::from_secs(30), |status| {
        for round in 0..common::scaled(20) {
            let sem = Semaphore::new(0);
            let started = AtomicUsize::new(0);
            thread::scope(|s| {
                for _ in 0..3 {
                    s.spawn(|| {
                        started.fetch_add(1, SeqCst);
                        sem.acquire();
                    });
                }
                wait_until_blocked(&started, 3);
                status.set("main", format!("round {round}: released 3, joining"));
                if round % 2 == 0 {
                    for _ in 0..3 {
                        sem.release().unwrap();
                    }
                } else {
                    sem.release_n(2).unwrap();
                    sem.release().unwrap();
                }
            });
            assert_eq!(sem.available(), 0);
        }
    });
}

#[test]
fn never_more_holders_than_permits() {
    common::guarded("holders", |status| {
        const PERMITS: usize = 2;
        let iterations = common::scaled(2_000);
        for (name, sem) in both(PERMITS) {
            status.set("main", format!("{name}: 10 threads on {PERMITS} permits"));
            let holders = AtomicUsize::new(0);
            let most = AtomicUsize::new(0);
            thread::scope(|s| {
                for t in 0..10 {
                    let (sem, holders, most) = (&sem, &holders, &most);
                    s.spawn(move || {
                        for i in 0..iterations {
                            // Every way to take a permit, each with its own way to give it back.
                            let permit = match (t + i) % 4 {
                                0 => Some(sem.permit()),
                                1 => sem.permit_timeout(Duration::from_millis(1)),
                                2 => sem.try_permit(),
                                _ => {
                                    sem.acquire();
                                    None
                                }
                            };
                            let manual = (t + i) % 4 == 3;
                            if permit.is_none() && !manual {
                                continue; // try/timeout failed: nothing held
                            }
                            let now = holders.fetch_add(1, SeqCst) + 1;
                            assert!(now <= PERMITS, "{name}: {now} holders of {PERMITS}");
                            most.fetch_max(now, SeqCst);
                            thread::yield_now();
                            holders.fetch_sub(1, SeqCst);
                            drop(permit);
                            if manual {
                                sem.release().unwrap();
                            }
                        }
                    });
                }
            });
            assert_eq!(sem.available(), PERMITS, "{name}");
            assert!(most.load(SeqCst) >= 1, "{name}");
        }
    });
}

/// A counter with no synchronisation of its own: only the semaphore orders the accesses, so
/// Miri reports a data race if acquire/release do not give happens-before.
struct Unsynced(UnsafeCell<u64>);
// SAFETY: the test only touches the cell while holding the one permit.
unsafe impl Sync for Unsynced {}

impl Unsynced {
    fn get(&self) -> *mut u64 {
        self.0.get()
    }
}

#[test]
fn one_permit_hands_data_from_releaser_to_acquirer() {
    common::guarded("hands_data_over", |_| {
        let rounds = common::scaled(2_000);
        for (name, sem) in both(1) {
            let counter = Unsynced(UnsafeCell::new(0));
            thread::scope(|s| {
                for t in 0..4 {
                    let (sem, counter) = (&sem, &counter);
                    s.spawn(move || {
                        for _ in 0..rounds {
                            if t % 2 == 0 {
                                let _p = sem.permit();
                                // SAFETY: we hold the only permit.
                                unsafe { *counter.get() += 1 };
                            } else {
                                sem.acquire();
                                // SAFETY: we hold the only permit.
                                unsafe { *counter.get() += 1 };
                                sem.release().unwrap();
                            }
                        }
                    });
                }
            });
            assert_eq!(counter.0.into_inner(), 4 * rounds as u64, "{name}");
        }
    });
}

/// CPython `test_acquire_contended` / `test_multirelease`: value 7, the main thread takes one,
/// 10 threads acquire twice each; exactly 6, then 7, then 6 get through, one per permit.
fn acquire_contended(multirelease: bool) {
    let sem = Semaphore::new(7);
    sem.acquire();
    let phase = AtomicU32::new(0);
    let passed = Mutex::new(Vec::new());
    let record = || {
        let p = phase.load(SeqCst);
        passed.lock().unwrap().push(p);
    };
    let expect = |counts: &[usize]| {
        let n: usize = counts.iter().sum();
        while passed.lock().unwrap().len() < n {
            thread::sleep(Duration::from_millis(1));
        }
        // Give a thread that should NOT get through the time to (wrongly) do so.
        thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 50 }));
        let mut got = passed.lock().unwrap().clone();
        got.sort_unstable();
        let want: Vec<u32> = (0..)
            .zip(counts)
            .flat_map(|(p, &c)| std::iter::repeat_n(p, c))
            .collect();
        assert_eq!(got, want);
    };
    let release = |n| {
        if multirelease {
            sem.release_n(n).unwrap();
        } else {
            (0..n).for_each(|_| sem.release().unwrap());
        }
    };
    thread::scope(|s| {
        for _ in 0..10 {
            s.spawn(|| {
                sem.acquire();
                record();
                sem.acquire();
                record();
            });
        }
        expect(&[6]);
        phase.store(1, SeqCst);
        release(7);
        expect(&[6, 7]);
        phase.store(2, SeqCst);
        release(6);
        expect(&[6, 7, 6]);
        assert!(!sem.try_acquire()); // still at 0
        phase.store(3, SeqCst);
        release(1); // let the last one finish
    });
    assert_eq!(passed.into_inner().unwrap().len(), 20);
    assert_eq!(sem.available(), 0);
}

#[test]
fn acquire_contended_lets_exactly_one_through_per_permit() {
    common::guarded("acquire_contended", |_| acquire_contended(false));
}

#[test]
fn multirelease_lets_exactly_n_through() {
    common::guarded("multirelease", |_| acquire_contended(true));
}

#[test]
fn permit_returns_on_drop_and_forget_keeps_it() {
    for (name, sem) in both(2) {
        let a = sem.permit();
        let b = sem.try_permit().unwrap();
        assert_eq!(sem.available(), 0, "{name}");
        drop(a);
        assert_eq!(sem.available(), 1, "{name}");
        b.forget();
        assert_eq!(sem.available(), 1, "{name}");
        let c = sem.permit_timeout(Duration::from_secs(1)).unwrap();
        assert!(format!("{c:?}").starts_with("SemaphorePermit"), "{name}");
        drop(c);
        assert_eq!(sem.available(), 1, "{name}");
    }
}

#[test]
fn permit_can_be_dropped_on_another_thread() {
    let sem = Semaphore::new(1);
    let permit = sem.permit();
    thread::scope(|s| {
        s.spawn(move || drop(permit));
    });
    assert_eq!(sem.available(), 1);
}

#[test]
fn a_panicking_holder_gives_its_permit_back() {
    common::guarded("panicking_holder", |_| {
        for (name, sem) in both(1) {
            // Same thread: the permit is dropped during unwinding.
            let r = catch_unwind(AssertUnwindSafe(|| {
                let _p = sem.permit();
                panic!("holder fails");
            }));
            assert!(r.is_err());
            assert_eq!(sem.available(), 1, "{name}");
            // Another thread panics while holding it; a waiter blocked meanwhile proceeds.
            let started = AtomicUsize::new(0);
            thread::scope(|s| {
                let holder = s.spawn(|| {
                    let _p = sem.permit();
                    started.fetch_add(1, SeqCst);
                    thread::sleep(Duration::from_millis(10));
                    panic!("holder fails");
                });
                while started.load(SeqCst) == 0 {
                    thread::yield_now();
                }
                let _p = sem.permit(); // blocks until the panicking holder unwinds
                assert!(holder.join().is_err());
            });
            assert_eq!(sem.available(), 1, "{name}");
        }
    });
}

#[test]
fn bounded_release_past_the_bound_is_an_error_and_changes_nothing() {
    // CPython BoundedSemaphoreTests.test_release_unacquired.
    let sem = BoundedSemaphore::new(3);
    let err = sem.release().unwrap_err();
    assert_eq!((err.available(), err.requested(), err.limit()), (3, 1, 3));
    assert_eq!(sem.available(), 3);
    sem.acquire();
    sem.acquire();
    let err = sem.release_n(3).unwrap_err();
    assert_eq!((err.available(), err.requested(), err.limit()), (1, 3, 3));
    assert_eq!(sem.available(), 1);
    assert!(err.to_string().contains("at most 2 more"), "{err}");
    sem.release_n(2).unwrap();
    assert_eq!(sem.available(), 3);
    // Plain Semaphore: releasing unacquired permits adds them (test_release_unacquired).
    let plain = Semaphore::new(3);
    plain.release().unwrap();
    assert_eq!(plain.available(), 4);
}

#[test]
fn bounded_limit_like_test_threading() {
    // CPython ThreadTests.test_BoundedSemaphore_limit: `limit` threads acquire, `limit` threads
    // release, one more release fails.
    for limit in 1..10 {
        let sem = BoundedSemaphore::new(limit);
        thread::scope(|s| {
            for _ in 0..limit {
                s.spawn(|| sem.acquire());
            }
        });
        assert_eq!(sem.available(), 0);
        thread::scope(|s| {
            for _ in 0..limit {
                s.spawn(|| sem.release().unwrap());
            }
        });
        assert!(sem.release().is_err(), "limit {limit}");
        assert_eq!(sem.available(), limit);
    }
}

#[test]
fn release_n_zero_is_a_no_op() {
    let sem = Semaphore::new(0);
    sem.release_n(0).unwrap();
    assert_eq!(sem.available(), 0);
    let full = BoundedSemaphore::new(2);
    full.release_n(0).unwrap();
    assert_eq!(full.available(), 2);
    let max = Semaphore::new(Semaphore::MAX_PERMITS);
    max.release_n(0).unwrap();
}

#[test]
fn overflow_at_max_permits_is_an_error_never_a_wrap() {
    // asyncband#144 wrapped the counter before checking; we check first.
    let max = Semaphore::MAX_PERMITS;
    let sem = Semaphore::new(max - 1);
    for n in [2, 3, max, max + 1, usize::MAX] {
        let err = sem.release_n(n).unwrap_err();
        assert_eq!(
            (err.available(), err.requested(), err.limit()),
            (max - 1, n, max)
        );
        assert_eq!(sem.available(), max - 1, "release_n({n}) changed the count");
    }
    sem.release_n(1).unwrap();
    assert_eq!(sem.available(), max);
    assert!(sem.release().is_err());
    assert_eq!(sem.available(), max);
    // Still a working semaphore at the top of its range.
    assert!(sem.try_acquire());
    assert_eq!(sem.available(), max - 1);

    let bounded = BoundedSemaphore::new(BoundedSemaphore::MAX_PERMITS);
    assert!(bounded.release_n(usize::MAX).is_err());
    assert_eq!(bounded.available(), BoundedSemaphore::MAX_PERMITS);
}

#[test]
fn a_permit_never_pushes_past_the_limit() {
    // Someone over-releases while the permit is out; its drop then gives nothing back, silently.
    let bounded = BoundedSemaphore::new(1);
    let permit = bounded.permit();
    bounded.release().unwrap(); // back to 1 of 1 while `permit` is still out
    drop(permit);
    assert_eq!(bounded.available(), 1);

    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    let permit = sem.permit();
    sem.release().unwrap();
    drop(permit);
    assert_eq!(sem.available(), Semaphore::MAX_PERMITS);
}

#[test]
fn release_error_is_a_proper_error() {
    fn check<E: std::error::Error + Clone + Copy + PartialEq + Eq + Send + Sync + 'static>() {}
    check::<ReleaseError>();
    let err = Semaphore::new(Semaphore::MAX_PERMITS)
        .release_n(5)
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("cannot release 5 permits"), "{msg}");
    assert!(msg.contains(&Semaphore::MAX_PERMITS.to_string()), "{msg}");
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert_eq!(boxed.to_string(), msg);
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
fn a_blocked_acquire_sleeps_instead_of_spinning() {
    // Loose on purpose: only a thread that spins for most of its wait can fail it.
    let sem = Semaphore::new(0);
    let timeout = Duration::from_millis(300);
    let cpu = thread_cpu_time();
    assert!(!sem.acquire_timeout(timeout));
    let used = thread_cpu_time() - cpu;
    assert!(
        used < timeout / 3,
        "the waiter used {used:?} of CPU in a {timeout:?} wait"
    );
}

/// Both kinds behind one interface, so that each shared test runs on both.
trait Sem: Sync {
    fn acquire(&self);
    fn try_acquire(&self) -> bool;
    fn acquire_timeout(&self, d: Duration) -> bool;
    fn release(&self) -> Result<(), ReleaseError>;
    fn release_n(&self, n: usize) -> Result<(), ReleaseError>;
    fn permit(&self) -> SemaphorePermit<'_>;
    fn try_permit(&self) -> Option<SemaphorePermit<'_>>;
    fn permit_timeout(&self, d: Duration) -> Option<SemaphorePermit<'_>>;
    fn available(&self) -> usize;
}

macro_rules! impl_sem {
    ($t:ty) => {
        impl Sem for $t {
            fn acquire(&self) {
                <$t>::acquire(self)
            }
            fn try_acquire(&self) -> bool {
                <$t>::try_acquire(self)
            }
            fn acquire_timeout(&self, d: Duration) -> bool {
                <$t>::acquire_timeout(self, d)
            }
            fn release(&self) -> Result<(), ReleaseError> {
                <$t>::release(self)
            }
            fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
                <$t>::release_n(self, n)
            }
            fn permit(&self) -> SemaphorePermit<'_> {
                <$t>::permit(self)
            }
            fn try_permit(&self) -> Option<SemaphorePermit<'_>> {
                <$t>::try_permit(self)
            }
            fn permit_timeout(&self, d: Duration) -> Option<SemaphorePermit<'_>> {
                <$t>::permit_timeout(self, d)
            }
            fn available(&self) -> usize {
                <$t>::available(self)
            }
        }
    };
}
impl_sem!(Semaphore);
impl_sem!(BoundedSemaphore);

/// A `Semaphore` and a `BoundedSemaphore`, both with `n` permits.
fn both(n: usize) -> [(&'static str, Box<dyn Sem>); 2] {
    [
        ("Semaphore", Box::new(Semaphore::new(n))),
        ("BoundedSemaphore", Box::new(BoundedSemaphore::new(n))),
    ]
}
