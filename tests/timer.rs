//! `Timer`: fires once after at least its delay, cancel before and after firing, zero and
//! `Duration::MAX` delays, waiting, panics, and many timers at once.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use synclab::{Event, Timer};

#[test]
fn fires_once_after_at_least_the_delay() {
    common::guarded("timer_fires", |_| {
        let runs = Arc::new(AtomicUsize::new(0));
        let fired_at = Arc::new(synclab::Lock::new(None));
        let start = Instant::now();
        let timer = {
            let (runs, fired_at) = (runs.clone(), fired_at.clone());
            Timer::start(Duration::from_millis(30), move || {
                *fired_at.lock() = Some(Instant::now());
                runs.fetch_add(1, SeqCst);
            })
        };
        timer.wait();
        assert!(timer.is_finished());
        assert_eq!(runs.load(SeqCst), 1);
        let fired_at = fired_at.lock().expect("ran");
        assert!(fired_at - start >= Duration::from_millis(30));
        timer.wait(); // waiting again returns at once
        assert_eq!(runs.load(SeqCst), 1);
    });
}

#[test]
fn cancel_before_firing_means_it_never_runs() {
    common::guarded("timer_cancel_before", |_| {
        let ran = Arc::new(AtomicBool::new(false));
        let timer = {
            let ran = ran.clone();
            Timer::start(Duration::from_secs(3600), move || ran.store(true, SeqCst))
        };
        assert!(!timer.is_finished());
        assert!(timer.cancel());
        assert!(
            timer.cancel(),
            "a second cancel still reports a stopped timer"
        );
        timer.wait();
        assert!(timer.is_finished());
        assert!(!ran.load(SeqCst));
        assert!(format!("{timer:?}").contains("cancelled"));
    });
}

#[test]
fn cancel_after_firing_is_harmless_and_says_so() {
    common::guarded("timer_cancel_after", |_| {
        let ran = Arc::new(AtomicBool::new(false));
        let timer = {
            let ran = ran.clone();
            Timer::start(Duration::ZERO, move || ran.store(true, SeqCst))
        };
        timer.wait();
        assert!(!timer.cancel());
        assert!(!timer.cancel());
        assert!(ran.load(SeqCst));
        assert!(format!("{timer:?}").contains("finished"));
    });
}

#[test]
fn cancel_while_running_returns_false_and_wait_waits_for_the_end() {
    common::guarded("timer_cancel_running", |_| {
        let (started, finish) = (Arc::new(Event::new()), Arc::new(Event::new()));
        let done = Arc::new(AtomicBool::new(false));
        let timer = {
            let (started, finish, done) = (started.clone(), finish.clone(), done.clone());
            Timer::start(Duration::ZERO, move || {
                started.set();
                finish.wait();
                done.store(true, SeqCst);
            })
        };
        started.wait();
        assert!(!timer.cancel(), "f already started");
        assert!(!timer.is_finished());
        assert!(format!("{timer:?}").contains("running"));
        assert!(!timer.wait_timeout(Duration::ZERO));
        finish.set();
        timer.wait();
        assert!(done.load(SeqCst), "wait returns only after f returned");
    });
}

#[test]
fn zero_delay_fires_at_once() {
    common::guarded("timer_zero", |_| {
        let ran = Arc::new(AtomicBool::new(false));
        let timer = {
            let ran = ran.clone();
            Timer::start(Duration::ZERO, move || ran.store(true, SeqCst))
        };
        assert!(timer.wait_timeout(Duration::MAX));
        assert!(ran.load(SeqCst));
    });
}

#[test]
fn max_delay_never_fires_and_cancel_ends_its_thread() {
    common::guarded("timer_max", |_| {
        let timer = Timer::start(Duration::MAX, || panic!("Duration::MAX fired"));
        let start = Instant::now();
        assert!(!timer.wait_timeout(Duration::from_millis(20)));
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(!timer.is_finished());
        assert!(format!("{timer:?}").contains("pending"));
        assert!(timer.cancel());
        assert!(timer.wait_timeout(Duration::ZERO));
    });
}

#[test]
fn dropping_the_handle_does_not_cancel() {
    common::guarded("timer_drop", |_| {
        let fired = Arc::new(Event::new());
        {
            let fired = fired.clone();
            drop(Timer::start(Duration::from_millis(5), move || fired.set()));
        }
        fired.wait(); // would hang (and the watchdog fail) if drop cancelled
    });
}

#[test]
fn a_panicking_function_still_lets_wait_return() {
    common::guarded("timer_panic", |_| {
        let timer = Timer::start(Duration::ZERO, || panic!("boom in a timer (expected)"));
        timer.wait();
        assert!(timer.is_finished());
        assert!(!timer.cancel());
    });
}

#[test]
fn many_timers_at_once() {
    // 32 timers, every other one cancelled at once: exactly the others run, each once.
    let n = if cfg!(miri) { 6 } else { 32 };
    common::guarded("timer_many", |_| {
        let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect());
        let timers: Vec<_> = (0..n)
            .map(|i| {
                let runs = runs.clone();
                let delay = if i % 2 == 0 {
                    Duration::from_millis((i % 5) as u64)
                } else {
                    Duration::from_secs(3600)
                };
                Timer::start(delay, move || {
                    runs[i].fetch_add(1, SeqCst);
                })
            })
            .collect();
        for (i, t) in timers.iter().enumerate() {
            if i % 2 == 1 {
                assert!(t.cancel());
            }
        }
        for t in &timers {
            t.wait();
        }
        for (i, r) in runs.iter().enumerate() {
            assert_eq!(r.load(SeqCst), usize::from(i % 2 == 0), "timer {i}");
        }
    });
}

#[test]
fn cancel_racing_with_the_deadline_is_decided_once() {
    // Whoever wins, `cancel`'s answer must match what happened to `f`.
    let rounds = common::scaled(200).max(4);
    common::guarded("timer_race", |_| {
        for i in 0..rounds {
            let ran = Arc::new(AtomicBool::new(false));
            let timer = {
                let ran = ran.clone();
                Timer::start(Duration::from_micros((i % 4) as u64 * 50), move || {
                    ran.store(true, SeqCst)
                })
            };
            if i % 3 == 0 {
                std::thread::yield_now();
            }
            let stopped = timer.cancel();
            timer.wait();
            assert_eq!(stopped, !ran.load(SeqCst), "round {i}");
        }
    });
}

#[test]
fn timer_is_send_and_sync() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Timer>();
}
