//! # Exercise `semaphore` — Part II, "Semaphore"
//!
//! Build a counting semaphore, Python's `threading.Semaphore`, on one `AtomicU32` that holds
//! the number of free permits. `try_acquire` takes a permit if there is one (a compare-exchange
//! loop: never let the count go below zero); `acquire` does the same but sleeps with
//! `futex::wait` while the count is 0; `release` adds a permit and wakes one sleeper. Waking
//! on every release costs a system call each time, even when nobody sleeps; the chapter shows
//! how synclab's `Semaphore` avoids that with a WAITERS bit.
//!
//! Check your work: `cargo xtask check semaphore`

use std::sync::atomic::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};

use synclab::futex;

/// A counting semaphore: at most `permits` threads hold a permit at once.
pub struct Semaphore {
    /// The number of free permits.
    permits: AtomicU32,
}

impl Semaphore {
    /// A semaphore with `permits` free permits.
    pub const fn new(permits: u32) -> Self {
        Semaphore {
            permits: AtomicU32::new(permits),
        }
    }

    /// The number of free permits now (a snapshot).
    pub fn available(&self) -> u32 {
        self.permits.load(Relaxed)
    }

    /// Takes a permit if one is free now; never sleeps.
    pub fn try_acquire(&self) -> bool {
        let mut n = self.permits.load(Relaxed);
        // Not `fetch_sub`: it would take the count below zero (it wraps) when none is free.
        while n > 0 {
            // Acquire: pairs with the Release in `release`, so what the releasing thread
            // wrote is visible to the new holder. Weak: we loop anyway.
            match self
                .permits
                .compare_exchange_weak(n, n - 1, Acquire, Relaxed)
            {
                Ok(_) => return true,
                // Another thread took or released one meanwhile: try again with its value.
                Err(now) => n = now,
            }
        }
        false
    }

    /// Takes a permit, sleeping while none is free.
    pub fn acquire(&self) {
        while !self.try_acquire() {
            // Sleep only while the count is still 0; the kernel checks, so a `release`
            // between our `try_acquire` and this call is not lost. Spurious returns and
            // wake-ups that another thread beat us to just go round the loop.
            futex::wait(&self.permits, 0, None);
        }
    }

    /// Gives a permit back (any thread may) and wakes one sleeper.
    pub fn release(&self) {
        // Release: publishes our writes to the Acquire CAS of the next holder.
        self.permits.fetch_add(1, Release);
        // One permit, one sleeper. We cannot tell whether anyone sleeps, so this is a
        // system call every time.
        futex::wake_one(&self.permits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::Duration;

    #[test]
    fn try_acquire_takes_only_the_permits_there_are() {
        let sem = Semaphore::new(2);
        assert!(sem.try_acquire());
        assert!(sem.try_acquire());
        assert!(!sem.try_acquire());
        assert_eq!(
            sem.available(),
            0,
            "a failed try_acquire must not change the count"
        );
        sem.release();
        assert_eq!(sem.available(), 1);
        assert!(sem.try_acquire());
        assert!(!sem.try_acquire());
    }

    /// Counts a thread out of `running` when it ends.
    struct Leaving<'a>(&'a AtomicUsize);

    impl Drop for Leaving<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, SeqCst);
        }
    }

    #[test]
    fn failed_try_acquires_racing_each_other_never_take_a_permit() {
        // A try_acquire that takes first and gives back when it went below zero (fetch_sub,
        // then fetch_add) writes even when it fails: for a moment the count has wrapped to
        // u32::MAX, and a try_acquire racing with it takes a permit that does not exist.
        let attempts = common::scaled(200_000);
        common::guarded("semaphore_empty_race", |_| {
            let sem = Semaphore::new(0);
            let (taken, running, seen) = (
                AtomicUsize::new(0),
                AtomicUsize::new(4),
                AtomicUsize::new(0),
            );
            std::thread::scope(|s| {
                for _ in 0..4 {
                    s.spawn(|| {
                        // Counted down on the way out, even by a panic.
                        let _leaving = Leaving(&running);
                        for _ in 0..attempts {
                            if sem.try_acquire() {
                                taken.fetch_add(1, SeqCst);
                            }
                        }
                    });
                }
                // Meanwhile, watch the count: it must read 0 every time.
                while running.load(SeqCst) > 0 {
                    let n = sem.available();
                    if n != 0 {
                        seen.store(n as usize, SeqCst);
                    }
                }
            });
            assert_eq!(
                taken.load(SeqCst),
                0,
                "try_acquire on an empty semaphore succeeded"
            );
            assert_eq!(
                seen.load(SeqCst),
                0,
                "the count of an empty semaphore read non-zero while try_acquires failed: a failed try_acquire must write nothing"
            );
            assert_eq!(sem.available(), 0);
        });
    }

    #[test]
    fn acquire_takes_and_release_gives_back() {
        let sem = Semaphore::new(1);
        sem.acquire();
        assert_eq!(sem.available(), 0);
        sem.release();
        sem.release(); // a plain semaphore may be released more than it was acquired
        assert_eq!(sem.available(), 2);
        sem.acquire();
        sem.acquire();
        assert_eq!(sem.available(), 0);
    }

    #[test]
    fn never_more_than_two_holders() {
        let iters = common::scaled(2_000);
        common::guarded("semaphore_holders", |_| {
            let sem = Semaphore::new(2);
            let (inside, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
            std::thread::scope(|s| {
                for _ in 0..8 {
                    s.spawn(|| {
                        for i in 0..iters {
                            sem.acquire();
                            let now = inside.fetch_add(1, SeqCst) + 1;
                            most.fetch_max(now, SeqCst);
                            if i % 16 == 0 {
                                std::thread::yield_now(); // hold the permit for a while
                            }
                            inside.fetch_sub(1, SeqCst);
                            sem.release();
                        }
                    });
                }
            });
            let most = most.load(SeqCst);
            assert!(
                most <= 2,
                "{most} threads held a permit at once; the limit is 2"
            );
            assert_eq!(sem.available(), 2, "permits were lost or made up");
        });
    }

    #[test]
    fn release_wakes_a_sleeper() {
        common::guarded("semaphore_wake", |status| {
            let sem = Semaphore::new(0);
            std::thread::scope(|s| {
                let sleeper = s.spawn(|| sem.acquire());
                std::thread::sleep(Duration::from_millis(50));
                assert!(
                    !sleeper.is_finished(),
                    "acquire returned with no permit free"
                );
                status.set("main", "release(), joining the sleeper");
                sem.release();
                sleeper.join().unwrap();
            });
            assert_eq!(sem.available(), 0);
        });
    }

    #[test]
    fn each_release_wakes_its_own_sleeper() {
        // Four sleepers, four releases in a row: every one of them must get a permit.
        common::guarded("semaphore_wake_many", |status| {
            let sem = Semaphore::new(0);
            let waiting = AtomicUsize::new(0);
            std::thread::scope(|s| {
                for i in 0..4 {
                    let (sem, waiting, status) = (&sem, &waiting, status.clone());
                    s.spawn(move || {
                        waiting.fetch_add(1, SeqCst);
                        sem.acquire();
                        status.set(format!("sleeper {i}"), "got a permit");
                    });
                }
                while waiting.load(SeqCst) < 4 {
                    std::thread::yield_now();
                }
                std::thread::sleep(Duration::from_millis(50));
                for _ in 0..4 {
                    sem.release();
                }
                status.set("main", "released 4, joining");
            });
            assert_eq!(sem.available(), 0);
        });
    }
}
