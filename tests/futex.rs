//! The futex layer against its contract (`synclab::futex`, see its module docs).
//!
//! Run plainly these test the platform's backend (the `futex` syscall on Linux); with
//! `--features force-fallback` they test the portable parking table instead. Sleepers always
//! loop on their condition, because `wait` may return spuriously, and timing assertions are
//! lower bounds only ("waited at least until the deadline"): CI runs on 2 shared cores, where
//! any upper bound is a flake. (Not built under `--cfg loom`, whose atomics are loom's.)
#![cfg(not(loom))]

mod common;

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize};
use std::thread;
use std::time::{Duration, Instant};

use synclab::futex::{self, WaitResult, deadline_after};

/// Whether `wake_one` / `wake_all` return exact counts: the Linux futex does, and so does the
/// fallback table; macOS, Windows and FreeBSD return 0.
const EXACT_COUNTS: bool = cfg!(feature = "force-fallback")
    || !cfg!(any(
        target_os = "macos",
        target_os = "ios",
        windows,
        target_os = "freebsd"
    ));

/// Gives threads that said "about to wait" time to really fall asleep. Not needed for
/// correctness (the tests also pass when they are late), only to make the wake paths run.
fn settle() {
    thread::sleep(Duration::from_millis(20));
}

/// Polls until `cond` holds (the watchdog of `common::guarded` bounds the wait).
fn wait_for(cond: impl Fn() -> bool) {
    while !cond() {
        thread::sleep(Duration::from_millis(1));
    }
}

/// Polls until `cond` holds or `limit` has passed, for conditions a bug would leave false
/// forever (so the test fails with its own message instead of the watchdog's).
fn wait_for_at_most(limit: Duration, cond: impl Fn() -> bool) {
    let give_up = Instant::now() + limit;
    while !cond() && Instant::now() < give_up {
        thread::sleep(Duration::from_millis(1));
    }
}

/// Sleeps on `word` while it holds `value`, counting every return of `wait` in `returns`.
fn sleep_while(word: &AtomicU32, value: u32, returns: &AtomicUsize) {
    while word.load(Acquire) == value {
        futex::wait(word, value, None);
        returns.fetch_add(1, Relaxed);
    }
}

#[test]
fn value_mismatch_returns_at_once() {
    common::guarded("value_mismatch_returns_at_once", |_| {
        let word = AtomicU32::new(5);
        assert_eq!(futex::wait(&word, 4, None), WaitResult::Woken);
        let later = deadline_after(Duration::from_secs(3600));
        assert_eq!(futex::wait(&word, 4, later), WaitResult::Woken);
        // The value is checked before the deadline.
        assert_eq!(
            futex::wait(&word, 4, Some(Instant::now())),
            WaitResult::Woken
        );
    });
}

#[test]
fn past_deadline_times_out() {
    common::guarded("past_deadline_times_out", |_| {
        let word = AtomicU32::new(0);
        let now = Instant::now();
        let past = now.checked_sub(Duration::from_secs(1)).unwrap_or(now);
        assert_eq!(futex::wait(&word, 0, Some(past)), WaitResult::TimedOut);
        assert_eq!(
            futex::wait(&word, 0, Some(Instant::now())),
            WaitResult::TimedOut
        );
        assert!(futex::wait(&word, 0, Some(now)).timed_out());
    });
}

#[test]
fn deadline_after_extremes() {
    common::guarded("deadline_after_extremes", |_| {
        assert_eq!(deadline_after(Duration::MAX), None);
        assert_eq!(deadline_after(Duration::from_secs(u64::MAX)), None);
        assert!(deadline_after(Duration::from_secs(1)).is_some());
        let word = AtomicU32::new(0);
        let zero = deadline_after(Duration::ZERO);
        assert!(zero.is_some());
        assert_eq!(futex::wait(&word, 0, zero), WaitResult::TimedOut);
    });
}

#[test]
fn timed_wait_lasts_until_the_deadline() {
    common::guarded("timed_wait_lasts_until_the_deadline", |_| {
        let word = AtomicU32::new(0);
        for ms in [1, 10, 30] {
            let timeout = Duration::from_millis(ms);
            let start = Instant::now();
            let deadline = start + timeout;
            // A spurious `Woken` is allowed: wait again for the rest.
            while futex::wait(&word, 0, Some(deadline)) == WaitResult::Woken {}
            let now = Instant::now();
            assert!(now >= deadline, "TimedOut {:?} early", deadline - now);
            assert!(start.elapsed() >= timeout);
        }
    });
}

/// Deadlines far in the future must neither overflow (panic, or an instant timeout) nor be
/// taken as "no sleep": the waiter sleeps until woken.
#[test]
fn far_deadline_sleeps_until_woken() {
    common::guarded("far_deadline_sleeps_until_woken", |status| {
        for secs in [1 << 40, u64::MAX >> 2] {
            let Some(far) = Instant::now().checked_add(Duration::from_secs(secs)) else {
                continue; // not representable here: callers get `None` from `deadline_after`
            };
            let word = AtomicU32::new(0);
            assert_eq!(futex::wait(&word, 1, Some(far)), WaitResult::Woken);
            let ready = AtomicBool::new(false);
            thread::scope(|s| {
                s.spawn(|| {
                    status.set("sleeper", format!("waiting, deadline +{secs}s"));
                    ready.store(true, Release);
                    while word.load(Acquire) == 0 {
                        assert_eq!(futex::wait(&word, 0, Some(far)), WaitResult::Woken);
                    }
                    status.set("sleeper", "done");
                });
                wait_for(|| ready.load(Acquire));
                settle();
                word.store(1, Release);
                futex::wake_all(&word);
            });
        }
    });
}

#[test]
fn wake_without_sleepers_returns_zero() {
    common::guarded("wake_without_sleepers_returns_zero", |_| {
        let word = AtomicU32::new(0);
        assert_eq!(futex::wake_one(&word), 0);
        assert_eq!(futex::wake_all(&word), 0);
    });
}

/// `wake_one` wakes exactly one of N sleepers. Each round gives the word a new value; the
/// sleepers go back to sleep while it holds that value, so a return of `wait` (counted) is the
/// only trace a wake leaves, and a spurious return cannot end the round early.
#[test]
fn wake_one_wakes_exactly_one() {
    const SLEEPERS: usize = 4;
    common::guarded("wake_one_wakes_exactly_one", |status| {
        let word = AtomicU32::new(0);
        for round in 1..=common::scaled(5) as u32 {
            word.store(round, Release);
            let ready = AtomicUsize::new(0);
            let returns = AtomicUsize::new(0);
            thread::scope(|s| {
                for i in 0..SLEEPERS {
                    let (word, ready, returns) = (&word, &ready, &returns);
                    s.spawn(move || {
                        status.set(format!("sleeper {i}"), format!("round {round}: waiting"));
                        ready.fetch_add(1, Release);
                        sleep_while(word, round, returns);
                        status.set(format!("sleeper {i}"), format!("round {round}: done"));
                    });
                }
                wait_for(|| ready.load(Acquire) == SLEEPERS);
                settle();
                status.set("main", format!("round {round}: wake_one"));
                if EXACT_COUNTS {
                    // Some sleeper may still be on its way to the kernel: retry until the wake
                    // finds one asleep.
                    loop {
                        match futex::wake_one(&word) {
                            0 => thread::sleep(Duration::from_millis(1)),
                            n => {
                                assert_eq!(n, 1);
                                break;
                            }
                        }
                    }
                } else {
                    futex::wake_one(&word);
                }
                wait_for(|| returns.load(Relaxed) >= 1);
                settle(); // room for a second, wrong, return to show up
                let after_wake_one = returns.load(Relaxed);
                // Release everyone before asserting: a panic here would otherwise wait forever
                // for the scope's sleepers.
                status.set("main", format!("round {round}: wake the rest"));
                word.store(round + 1_000, Release);
                let n = futex::wake_all(&word);
                assert_eq!(
                    after_wake_one, 1,
                    "round {round}: wake_one woke {after_wake_one}"
                );
                assert!(n <= SLEEPERS);
            });
        }
    });
}

#[test]
fn wake_all_wakes_all() {
    let sleepers = if cfg!(miri) { 3 } else { 8 };
    common::guarded("wake_all_wakes_all", |status| {
        let word = AtomicU32::new(0);
        let ready = AtomicUsize::new(0);
        let returns = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        thread::scope(|s| {
            for i in 0..sleepers {
                let (word, ready, returns, done) = (&word, &ready, &returns, &done);
                s.spawn(move || {
                    status.set(format!("sleeper {i}"), "waiting");
                    ready.fetch_add(1, Release);
                    sleep_while(word, 0, returns);
                    done.fetch_add(1, Relaxed);
                    status.set(format!("sleeper {i}"), "done");
                });
            }
            wait_for(|| ready.load(Acquire) == sleepers);
            settle();
            word.store(1, Release);
            let n = futex::wake_all(&word);
            assert!(n <= sleepers);
        });
        assert_eq!(done.load(Relaxed), sleepers);
    });
}

/// Waking other words, even ones that share the fallback's bucket, wakes nobody.
#[test]
fn wake_reaches_only_its_word() {
    let others = if cfg!(miri) { 64 } else { 1024 };
    common::guarded("wake_reaches_only_its_word", |status| {
        let words: Vec<AtomicU32> = (0..=others).map(|_| AtomicU32::new(0)).collect();
        let ready = AtomicBool::new(false);
        let returns = AtomicUsize::new(0);
        thread::scope(|s| {
            s.spawn(|| {
                status.set("sleeper", "waiting on word 0");
                ready.store(true, Release);
                sleep_while(&words[0], 0, &returns);
                status.set("sleeper", "done");
            });
            wait_for(|| ready.load(Acquire));
            settle();
            for w in &words[1..] {
                assert_eq!(futex::wake_one(w), 0);
                assert_eq!(futex::wake_all(w), 0);
            }
            words[0].store(1, Release);
            futex::wake_all(&words[0]);
        });
    });
}

/// A waiter that reports `TimedOut` consumed no wake. Timed waiters with timeouts of 0-40 µs
/// and an untimed one sleep on one word while `wake_one`s race the timeouts: every wake the OS
/// counted must show up as a `Woken` return. (Checkable only where wakes are counted.)
#[test]
fn timed_out_waiter_swallows_no_wake() {
    const TIMED: usize = 3;
    common::guarded("timed_out_waiter_swallows_no_wake", |status| {
        let word = AtomicU32::new(0);
        let stop = AtomicBool::new(false);
        let woken = AtomicUsize::new(0);
        let running = AtomicUsize::new(0);
        thread::scope(|s| {
            for t in 0..=TIMED {
                let (word, stop, woken, running) = (&word, &stop, &woken, &running);
                s.spawn(move || {
                    running.fetch_add(1, Release);
                    let mut i = t as u64;
                    while !stop.load(Acquire) {
                        // Thread 0 waits without a timeout, so some wakes always find a sleeper.
                        let timeout = Duration::from_micros(10 * (i % 5));
                        let deadline = (t > 0).then(|| Instant::now() + timeout);
                        if futex::wait(word, 0, deadline) == WaitResult::Woken {
                            woken.fetch_add(1, Relaxed);
                        }
                        i += 1;
                    }
                });
            }
            wait_for(|| running.load(Acquire) == TIMED + 1);
            let mut wakes = 0;
            for _ in 0..common::scaled(20_000) {
                wakes += futex::wake_one(&word);
                thread::yield_now();
            }
            status.set(
                "main",
                format!("{wakes} wakes counted; waiting for the Woken returns"),
            );
            if EXACT_COUNTS {
                // A swallowed wake leaves `woken` short for ever.
                wait_for_at_most(Duration::from_secs(5), || woken.load(Relaxed) >= wakes);
                settle(); // room for an extra, wrong, return to show up
            }
            let seen = woken.load(Relaxed);
            // Release everyone before asserting (a panic in a scope waits for its threads).
            stop.store(true, Release);
            word.store(1, Release);
            futex::wake_all(&word);
            if EXACT_COUNTS {
                assert_eq!(seen, wakes, "Woken returns vs wakes counted");
            }
        });
    });
}

/// EINTR storm: a no-op SIGUSR1 handler installed without `SA_RESTART`, and a thread that
/// signals the waiter every millisecond. The wait must neither return early nor report a
/// timeout before its deadline.
// Linux and Android only (so not under Wine): POSIX signals interrupting the futex system call.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri cannot deliver signals")]
fn eintr_storm_does_not_end_a_timed_wait() {
    use std::sync::mpsc;

    static HANDLED: AtomicUsize = AtomicUsize::new(0);
    extern "C" fn on_sigusr1(_: libc::c_int) {
        HANDLED.fetch_add(1, Relaxed); // async-signal-safe: a lock-free atomic
    }
    // SAFETY: an all-zero `sigaction` is a valid value (empty mask, no flags, SIG_DFL), which
    // we then fill in; `sa_mask` is a valid, writable sigset_t.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_sigusr1 as extern "C" fn(libc::c_int) as libc::sighandler_t;
    action.sa_flags = 0; // no SA_RESTART: an interrupted futex wait returns EINTR
    // SAFETY: `sa_mask` is a valid, writable sigset_t inside `action`.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: `action` is fully initialised and its handler only touches an atomic; we do not
    // ask for the old action.
    let r = unsafe { libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()) };
    assert_eq!(r, 0);

    common::guarded("eintr_storm_does_not_end_a_timed_wait", |status| {
        const TIMEOUT: Duration = Duration::from_millis(200);
        let word = AtomicU32::new(0);
        let waited = AtomicBool::new(false);
        let stopped = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel();
        thread::scope(|s| {
            let waiter = s.spawn(|| {
                // SAFETY: pthread_self has no preconditions.
                tx.send(unsafe { libc::pthread_self() }).unwrap();
                let start = Instant::now();
                let deadline = start + TIMEOUT;
                let r = futex::wait(&word, 0, Some(deadline));
                let returned = Instant::now();
                waited.store(true, Release);
                // Stay alive until the signaller has stopped: `pthread_kill` on a thread that
                // has exited is undefined behaviour.
                wait_for(|| stopped.load(Acquire));
                (r, returned >= deadline, returned - start)
            });
            let target = rx.recv().unwrap();
            let (waited, stopped) = (&waited, &stopped);
            let signaller = s.spawn(move || {
                let mut sent = 0;
                while !waited.load(Acquire) {
                    // SAFETY: `target` is the waiter, which does not exit before `stopped`.
                    let r = unsafe { libc::pthread_kill(target, libc::SIGUSR1) };
                    assert_eq!(r, 0);
                    sent += 1;
                    thread::sleep(Duration::from_millis(1));
                }
                stopped.store(true, Release);
                sent
            });
            status.set("main", "waiting for the waiter");
            let (r, after_deadline, elapsed) = waiter.join().unwrap();
            let sent = signaller.join().unwrap();
            assert_eq!(r, WaitResult::TimedOut, "after {elapsed:?}, {sent} signals");
            assert!(after_deadline, "returned after {elapsed:?} < {TIMEOUT:?}");
            assert!(sent >= 10, "only {sent} signals sent");
            assert!(HANDLED.load(Relaxed) >= 10);
        });
    });
}

/// `futex::shared` (no `FUTEX_PRIVATE_FLAG`) between two threads of one process.
// Linux and Android only: `futex::shared` exists only there.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn shared_futex_wakes_between_threads() {
    use synclab::futex::shared;

    common::guarded("shared_futex_wakes_between_threads", |status| {
        let word = AtomicU32::new(0);
        assert_eq!(shared::wait(&word, 1, None), WaitResult::Woken);
        assert_eq!(shared::wake_one(&word), 0);
        assert_eq!(shared::wake_all(&word), 0);
        assert!(shared::wait(&word, 0, Some(Instant::now())).timed_out());
        let ready = AtomicBool::new(false);
        thread::scope(|s| {
            let sleeper = s.spawn(|| {
                status.set("sleeper", "waiting");
                ready.store(true, Release);
                let mut returns = 0;
                while word.load(Acquire) == 0 {
                    shared::wait(&word, 0, None);
                    returns += 1;
                }
                returns
            });
            wait_for(|| ready.load(Acquire));
            settle();
            // Retry until the wake finds the sleeper in the kernel (Linux counts exactly).
            while shared::wake_one(&word) == 0 {
                thread::sleep(Duration::from_millis(1));
            }
            word.store(1, Release);
            shared::wake_one(&word);
            assert!(sleeper.join().unwrap() >= 1);
        });
    });
}
