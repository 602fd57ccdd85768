//! # Exercise `cancellable_timer` — Part II, "Timer"
//!
//! Build Python's `threading.Timer` with a `cancel` that tells you who won: `start(delay, f)`
//! runs `f` on a thread of its own once `delay` has passed, unless `cancel` came first. One
//! `AtomicU32` decides the race: both the timer thread and `cancel` try to move it out of
//! `PENDING` with a compare-exchange, and only one of them can. The timer thread sleeps on that
//! same word with `futex::wait`, so a `cancel` that changes it can wake it at once.
//!
//! Check your work: `cargo xtask check cancellable_timer`

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use synclab::futex;

const PENDING: u32 = 0; // the delay is running
const CANCELLED: u32 = 1; // `cancel` won: `f` never runs
const FIRED: u32 = 2; // the timer thread won: `f` runs (or has run)

/// A function that runs on its own thread after a delay, unless cancelled first.
pub struct CancellableTimer {
    /// `PENDING`, `CANCELLED` or `FIRED`; shared with the timer thread.
    state: Arc<AtomicU32>,
    thread: JoinHandle<()>,
}

impl CancellableTimer {
    /// Starts a thread that calls `f` once `delay` has passed, unless [`cancel`] comes first.
    ///
    /// [`cancel`]: CancellableTimer::cancel
    pub fn start<F>(delay: Duration, f: F) -> Self
    where
        F: FnOnce() + Send + 'static,
    {
        // The deadline is fixed now: the delay counts from this call, and a spurious return
        // from the futex does not restart it. `None` (for `Duration::MAX`) means "never".
        let deadline = futex::deadline_after(delay);
        let state = Arc::new(AtomicU32::new(PENDING));
        let shared = state.clone();
        let thread = std::thread::spawn(move || run(&shared, deadline, f));
        CancellableTimer { state, thread }
    }

    /// Stops the timer if `f` has not started yet. `true` if `f` will never run, `false` if
    /// the timer thread got there first.
    pub fn cancel(&self) -> bool {
        // One compare-exchange decides the race with the timer thread's. Relaxed: deciding
        // publishes nothing; `join` orders what `f` did.
        match self
            .state
            .compare_exchange(PENDING, CANCELLED, Relaxed, Relaxed)
        {
            Ok(_) => {
                // The timer thread sleeps on PENDING: wake it, so that it exits now instead
                // of sleeping out the whole delay.
                futex::wake_all(&self.state);
                true
            }
            // An earlier cancel also means "never runs"; FIRED means it was too late.
            Err(now) => now == CANCELLED,
        }
    }

    /// Waits for the timer thread to end: after `f` has returned, or at once after a cancel.
    pub fn join(self) {
        self.thread.join().expect("the timer thread panicked");
    }
}

/// The timer thread: sleep until `deadline` unless cancelled, then fire unless cancelled.
fn run(state: &AtomicU32, deadline: Option<Instant>, f: impl FnOnce()) {
    // Sleep on the state word while it is PENDING. `futex::wait` may return early for no
    // reason, so loop; a cancel makes the word CANCELLED and wakes us.
    loop {
        if state.load(Relaxed) != PENDING {
            return; // cancelled while we slept
        }
        if futex::wait(state, PENDING, deadline).timed_out() {
            break;
        }
    }
    // The deadline passed, but a cancel may come at this very moment: the compare-exchange,
    // not the load above, decides. Whoever leaves PENDING first wins.
    if state
        .compare_exchange(PENDING, FIRED, Relaxed, Relaxed)
        .is_ok()
    {
        f();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use synclab::Event;

    #[test]
    fn fires_on_its_own_thread_after_the_delay() {
        common::watchdog("timer_fires", Duration::from_secs(10), |_| {
            let delay = Duration::from_millis(30);
            let fired_after = Arc::new(synclab::Lock::new(None));
            let slot = fired_after.clone();
            let main = std::thread::current().id();
            let start = Instant::now();
            let timer = CancellableTimer::start(delay, move || {
                assert_ne!(
                    std::thread::current().id(),
                    main,
                    "f ran on the caller's thread"
                );
                *slot.lock() = Some(start.elapsed());
            });
            timer.join();
            let elapsed = fired_after.lock().expect("f never ran");
            assert!(
                elapsed >= delay,
                "f ran after {elapsed:?}, before the {delay:?} delay"
            );
        });
    }

    #[test]
    fn cancel_before_firing_stops_the_function() {
        common::watchdog("timer_cancel_before", Duration::from_secs(10), |_| {
            let ran = Arc::new(AtomicBool::new(false));
            let flag = ran.clone();
            let timer = CancellableTimer::start(Duration::from_millis(200), move || {
                flag.store(true, SeqCst);
            });
            assert!(timer.cancel(), "cancelled long before the deadline");
            assert!(
                timer.cancel(),
                "a second cancel still reports that f never runs"
            );
            timer.join();
            assert!(!ran.load(SeqCst), "f ran although cancel returned true");
        });
    }

    #[test]
    fn cancel_wakes_the_sleeping_timer_thread() {
        // A timer for an hour: `join` after `cancel` only returns in time if the cancel woke
        // the thread. If it did not, the watchdog fails the test.
        common::watchdog("timer_cancel_wakes", Duration::from_secs(10), |status| {
            let timer = CancellableTimer::start(Duration::from_secs(3600), || {
                panic!("ran after a cancel");
            });
            std::thread::sleep(Duration::from_millis(20)); // let it fall asleep
            assert!(timer.cancel());
            status.set("main", "join() after cancel");
            timer.join();
        });
    }

    #[test]
    fn cancel_after_firing_returns_false() {
        common::watchdog("timer_cancel_after", Duration::from_secs(10), |_| {
            let ran = Arc::new(Event::new());
            let flag = ran.clone();
            let timer = CancellableTimer::start(Duration::from_millis(1), move || flag.set());
            assert!(ran.wait_timeout(Duration::from_secs(5)), "f never ran");
            assert!(
                !timer.cancel(),
                "cancel claims to have stopped a timer that fired"
            );
            timer.join();
        });
    }

    #[test]
    fn dropping_the_handle_does_not_cancel() {
        common::watchdog("timer_drop", Duration::from_secs(10), |_| {
            let ran = Arc::new(Event::new());
            let flag = ran.clone();
            drop(CancellableTimer::start(
                Duration::from_millis(10),
                move || flag.set(),
            ));
            assert!(
                ran.wait_timeout(Duration::from_secs(5)),
                "dropping the timer stopped it"
            );
        });
    }

    #[test]
    fn exactly_one_of_cancel_and_fire_wins() {
        let timers = common::scaled(200);
        common::guarded("timer_race", |status| {
            for i in 0..timers {
                status.set("main", format!("timer {i}"));
                let ran = Arc::new(AtomicBool::new(false));
                let flag = ran.clone();
                // Delays of 0 to 200 µs, cancelled at once: both outcomes happen.
                let delay = Duration::from_micros((i % 5 * 50) as u64);
                let timer = CancellableTimer::start(delay, move || flag.store(true, SeqCst));
                if i % 2 == 0 {
                    std::thread::yield_now();
                }
                let cancelled = timer.cancel();
                timer.join();
                assert_ne!(
                    cancelled,
                    ran.load(SeqCst),
                    "timer {i}: cancel() returned {cancelled}, and f ran: {}",
                    ran.load(SeqCst)
                );
            }
        });
    }
}
