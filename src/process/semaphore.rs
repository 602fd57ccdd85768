//! `process::Semaphore`: Python's `multiprocessing.Semaphore`, two `AtomicU32`s in shared memory.
//!
//! | word | values | meaning |
//! |---|---|---|
//! | `permits` | `0..=MAX_PERMITS` | free permits; sleepers sleep on it while it is `0` |
//! | `sleepers` | `0..` | how many processes/threads may be asleep: `release` wakes only if non-zero |
//!
//! | operation | transition | syscall |
//! |---|---|---|
//! | `acquire`, permits > 0 | CAS permits → permits − 1 | none |
//! | `acquire`, permits = 0 | sleepers + 1, sleep on `permits == 0`, sleepers − 1 | futex wait |
//! | `release(n)` | CAS permits → permits + n (refused past `MAX_PERMITS`) | wake n if sleepers > 0 |
//!
//! No lost wakeup: a sleeper increments `sleepers` *before* the futex compares `permits` with
//! 0, and a releaser increments `permits` *before* it reads `sleepers`; both are SeqCst, so at
//! least one of them sees the other's write: either the futex does not sleep (permits moved),
//! or the releaser wakes it. A process killed while asleep leaves `sleepers` one too high: later
//! releases make a useless wake, nothing worse. A process killed while it *holds* a permit takes
//! the permit with it, as in Python: a semaphore has no owner to check.

use std::fmt;
use std::time::{Duration, Instant};

use super::{Shareable, sys};
use crate::ReleaseError;
use crate::sync::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, SeqCst},
};

/// The most permits a process semaphore holds, as for [`synclab::Semaphore`](crate::Semaphore).
const MAX_PERMITS: u32 = u32::MAX >> 1;

/// A counting semaphore shared between processes: `multiprocessing.Semaphore`.
///
/// Same methods as [`synclab::Semaphore`](crate::Semaphore) (without the RAII permit, which
/// could not follow a permit into another process). Put it in a [`Shared`](super::Shared)
/// region to use it between processes.
///
/// ```
/// use synclab::process::{Semaphore, Shared};
///
/// # fn main() -> Result<(), synclab::process::ProcessError> {
/// # if cfg!(not(target_os = "linux")) { return Ok(()); }
/// let slots = Shared::new(Semaphore::new(2))?;
/// slots.acquire();
/// assert!(slots.try_acquire());
/// assert!(!slots.try_acquire());
/// slots.release_n(2).unwrap();
/// assert_eq!(slots.available(), 2);
/// # Ok(()) }
/// ```
#[repr(C)]
pub struct Semaphore {
    /// Free permits (table in the module docs).
    permits: AtomicU32,
    /// How many may sleep on `permits`.
    sleepers: AtomicU32,
}

// SAFETY: two atomic words; every process reads them the same way.
unsafe impl Shareable for Semaphore {}

impl Semaphore {
    /// The most permits a semaphore can hold: 2^31 − 1.
    pub const MAX_PERMITS: usize = MAX_PERMITS as usize;

    /// A semaphore with `permits` free permits.
    ///
    /// # Panics
    ///
    /// If `permits` is more than [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// assert_eq!(synclab::process::Semaphore::new(3).available(), 3);
    /// ```
    pub const fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Semaphore::MAX_PERMITS,
            "process::Semaphore::new: more permits than Semaphore::MAX_PERMITS (2^31 - 1)"
        );
        Semaphore {
            permits: AtomicU32::new(permits as u32),
            sleepers: AtomicU32::new(0),
        }
    }

    /// Takes a permit, sleeping while there is none.
    ///
    /// ```
    /// let sem = synclab::process::Semaphore::new(1);
    /// sem.acquire();
    /// assert_eq!(sem.available(), 0);
    /// ```
    pub fn acquire(&self) {
        self.acquire_until(None);
    }

    /// Takes a permit if one is free now.
    ///
    /// ```
    /// let sem = synclab::process::Semaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        let mut n = self.permits.load(Relaxed);
        while n > 0 {
            // Acquire: pairs with the SeqCst (release) increment in `release_n`.
            match self
                .permits
                .compare_exchange_weak(n, n - 1, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
        false
    }

    /// Takes a permit, waiting at most `timeout`; `true` if it got one.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = synclab::process::Semaphore::new(0);
    /// assert!(!sem.acquire_timeout(Duration::from_millis(5)));
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.acquire_until(crate::futex::deadline_after(timeout))
    }

    fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        loop {
            if self.try_acquire() {
                return true;
            }
            // SeqCst: see "No lost wakeup" in the module docs.
            self.sleepers.fetch_add(1, SeqCst);
            let r = sys::wait(&self.permits, 0, deadline);
            self.sleepers.fetch_sub(1, Relaxed);
            if r.timed_out() {
                return self.try_acquire();
            }
        }
    }

    /// Gives one permit back (from any process).
    ///
    /// ```
    /// let sem = synclab::process::Semaphore::new(0);
    /// sem.release().unwrap();
    /// assert_eq!(sem.available(), 1);
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.release_n(1)
    }

    /// Gives `n` permits back. Past [`Semaphore::MAX_PERMITS`] nothing changes and the error
    /// says how many could have been released.
    ///
    /// ```
    /// use synclab::process::Semaphore;
    /// let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    /// assert!(sem.release_n(1).is_err());
    /// ```
    pub fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
        if n == 0 {
            return Ok(());
        }
        let mut now = self.permits.load(Relaxed);
        loop {
            let room = MAX_PERMITS - now;
            let Some(add) = u32::try_from(n).ok().filter(|&a| a <= room) else {
                return Err(ReleaseError::new(now, n, MAX_PERMITS));
            };
            // SeqCst: publishes the releaser's writes (release) and orders against the read of
            // `sleepers` below (see the module docs).
            match self
                .permits
                .compare_exchange_weak(now, now + add, SeqCst, Relaxed)
            {
                Ok(_) => break,
                Err(actual) => now = actual,
            }
        }
        if self.sleepers.load(SeqCst) > 0 {
            if n == 1 {
                sys::wake_one(&self.permits);
            } else {
                sys::wake_all(&self.permits);
            }
        }
        Ok(())
    }

    /// The number of free permits (a snapshot).
    ///
    /// ```
    /// assert_eq!(synclab::process::Semaphore::new(2).available(), 2);
    /// ```
    pub fn available(&self) -> usize {
        self.permits.load(Relaxed) as usize
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("process::Semaphore")
            .field("available", &self.available())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_wakes_a_sleeping_thread() {
        let sem = Semaphore::new(0);
        std::thread::scope(|s| {
            let h = s.spawn(|| sem.acquire_timeout(Duration::from_secs(30)));
            while sem.sleepers.load(Relaxed) == 0 {
                std::thread::yield_now();
            }
            sem.release().unwrap();
            assert!(h.join().unwrap());
        });
        assert_eq!(sem.available(), 0);
    }

    #[test]
    fn overflow_changes_nothing() {
        let sem = Semaphore::new(Semaphore::MAX_PERMITS - 1);
        assert!(sem.release_n(2).is_err());
        assert_eq!(sem.available(), Semaphore::MAX_PERMITS - 1);
        assert!(sem.release_n(1).is_ok());
    }
}
