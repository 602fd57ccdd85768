//! # Exercise `condvar` — Part II, "Condition"
//!
//! Build a condition variable on one futex word, a notification counter: `wait` reads the
//! counter while the lock is still held, unlocks, and sleeps while the counter still holds
//! that value; `notify_one` and `notify_all` bump the counter and wake one sleeper or all of
//! them. Reading the counter *before* unlocking is what keeps a notification that comes between
//! the unlock and the sleep from being lost.
//!
//! synclab's `LockGuard` does not say which lock it holds (the library's `Condition` uses a
//! crate-private accessor), so here `wait` takes the lock as well as its guard.
//!
//! Check your work: `cargo xtask check condvar`

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use synclab::{Lock, LockGuard, futex};

/// A condition variable used with a `synclab::Lock`.
pub struct Condvar {
    /// Bumped (wrapping) by every notification; sleepers futex-wait on it.
    counter: AtomicU32,
}

impl Condvar {
    /// A condition variable nobody waits on.
    pub const fn new() -> Self {
        Condvar {
            counter: AtomicU32::new(0),
        }
    }

    /// Unlocks `lock` (whose guard is `guard`), sleeps until notified (or spuriously woken),
    /// locks it again and returns the new guard.
    pub fn wait<'a, T>(&self, lock: &'a Lock<T>, guard: LockGuard<'a, T>) -> LockGuard<'a, T> {
        // TODO: read `counter` *before* you give up the lock (why before?), then drop the
        // guard, `futex::wait` while the counter still holds what you read, and lock again.
        // Which ordering does the load need, given that the lock already orders it?
        todo!()
    }

    /// Waits while `condition` holds, re-checking it after every wake-up.
    pub fn wait_while<'a, T>(
        &self,
        lock: &'a Lock<T>,
        mut guard: LockGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> LockGuard<'a, T> {
        while condition(&mut guard) {
            guard = self.wait(lock, guard);
        }
        guard
    }

    /// Wakes one waiting thread, if any.
    pub fn notify_one(&self) {
        // TODO: change the counter, then wake one thread sleeping on it. Why must the change
        // come before the wake?
        todo!()
    }

    /// Wakes every waiting thread.
    pub fn notify_all(&self) {
        // TODO: as `notify_one`, but wake every sleeper.
        todo!()
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;

    #[test]
    fn a_notification_hands_over_the_state() {
        common::guarded("condvar_hand_off", |status| {
            let ready = Lock::new(None);
            let cond = Condvar::new();
            std::thread::scope(|s| {
                s.spawn(|| {
                    status.set("producer", "storing 42, then notify_one");
                    *ready.lock() = Some(42);
                    cond.notify_one();
                    status.set("producer", "done");
                });
                status.set("main", "waiting for the value");
                let mut guard = ready.lock();
                while guard.is_none() {
                    guard = cond.wait(&ready, guard);
                }
                assert_eq!(*guard, Some(42));
                status.set("main", "done");
            });
        });
    }

    #[test]
    fn notify_all_wakes_every_waiter() {
        common::guarded("condvar_notify_all", |status| {
            // (waiters registered, go)
            let state = Lock::new((0usize, false));
            let cond = Condvar::new();
            let woken = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|s| {
                for i in 0..4 {
                    let (state, cond, woken) = (&state, &cond, &woken);
                    s.spawn(move || {
                        status.set(format!("waiter {i}"), "waiting for go");
                        let mut guard = state.lock();
                        guard.0 += 1;
                        let guard = cond.wait_while(state, guard, |(_, go)| !*go);
                        drop(guard);
                        woken.fetch_add(1, Relaxed);
                        status.set(format!("waiter {i}"), "woken");
                    });
                }
                // Let all four register (each one then sleeps or is about to), then one
                // notify_all must wake every one of them.
                while state.lock().0 < 4 {
                    std::thread::yield_now();
                }
                state.lock().1 = true;
                status.set("main", "notify_all sent");
                cond.notify_all();
            });
            assert_eq!(woken.load(Relaxed), 4);
        });
    }

    #[test]
    fn two_threads_take_turns() {
        let rounds = common::scaled(2_000);
        common::guarded("condvar_ping_pong", |status| {
            // Whose turn it is (0 or 1) and how many turns were taken.
            let turn = Lock::new((0usize, 0usize));
            let cond = Condvar::new();
            std::thread::scope(|s| {
                for me in 0..2 {
                    let (turn, cond) = (&turn, &cond);
                    s.spawn(move || {
                        for r in 0..rounds {
                            status.set(format!("player {me}"), format!("waiting for turn {r}"));
                            let mut guard = cond.wait_while(turn, turn.lock(), |t| t.0 != me);
                            guard.0 = 1 - me;
                            guard.1 += 1;
                            drop(guard);
                            cond.notify_one();
                        }
                        status.set(format!("player {me}"), "done");
                    });
                }
            });
            assert_eq!(turn.lock().1, 2 * rounds);
        });
    }
}
