//! `Semaphore` and `BoundedSemaphore`: Python's `threading.Semaphore` and
//! `threading.BoundedSemaphore`, over one 4-byte counting state machine.
//!
//! - `semaphore/raw.rs`: the state word, its table and the proof that no wakeup
//!   is lost.
//! - this file: [`Semaphore`], the RAII [`SemaphorePermit`] both types hand out, and
//!   [`ReleaseError`].
//! - `semaphore/bounded.rs`: [`BoundedSemaphore`], which refuses to count past its initial value.
//!
//! Python lets any thread release a semaphore, also one that never acquired it, and so does
//! synclab. Counts never wrap: a release that would pass the limit (the bound, or
//! [`Semaphore::MAX_PERMITS`]) changes nothing and returns [`ReleaseError`].

mod bounded;
mod raw;

use std::fmt;
use std::time::Duration;

use crate::futex;
use crate::sync::loom_const_fn;
pub use bounded::BoundedSemaphore;
use raw::RawSemaphore;

/// A counting semaphore: Python's `threading.Semaphore`.
///
/// It holds a number of permits. [`acquire`](Semaphore::acquire) takes one, waiting while there
/// are none; [`release`](Semaphore::release) gives one back (from any thread) and wakes a waiter.
/// [`permit`](Semaphore::permit) is the `with sem:` block: it returns an RAII
/// [`SemaphorePermit`] that gives the permit back when dropped, also during a panic.
///
/// Unlike [`BoundedSemaphore`], releasing more than was acquired is allowed and adds permits, up
/// to [`Semaphore::MAX_PERMITS`]. The semaphore is 4 bytes; an uncontended acquire or release is
/// one compare-exchange, and a release makes a system call only when a thread sleeps.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
/// use synclab::Semaphore;
///
/// // At most 2 of the 5 workers download at the same time.
/// let slots = Semaphore::new(2);
/// let active = AtomicUsize::new(0);
/// std::thread::scope(|s| {
///     for _ in 0..5 {
///         s.spawn(|| {
///             let _permit = slots.permit();
///             assert!(active.fetch_add(1, Relaxed) < 2);
///             active.fetch_sub(1, Relaxed);
///         });
///     }
/// });
/// assert_eq!(slots.available(), 2);
/// ```
pub struct Semaphore {
    raw: RawSemaphore,
}

impl Semaphore {
    /// The most permits a semaphore can hold: 2^31 − 1 (the count shares a 32-bit word with
    /// a flag). Releasing past it returns [`ReleaseError`].
    pub const MAX_PERMITS: usize = raw::MAX_PERMITS as usize;

    loom_const_fn! {
        /// A semaphore with `permits` free permits (Python's `Semaphore(value)`).
        ///
        /// # Panics
        ///
        /// If `permits` is more than [`Semaphore::MAX_PERMITS`].
        ///
        /// ```
        /// static POOL: synclab::Semaphore = synclab::Semaphore::new(4);
        /// assert_eq!(POOL.available(), 4);
        /// ```
        pub fn new(permits: usize) -> Semaphore {
            assert!(
                permits <= Semaphore::MAX_PERMITS,
                "Semaphore::new: more permits than Semaphore::MAX_PERMITS (2^31 - 1)"
            );
            Semaphore { raw: RawSemaphore::new(permits as u32) }
        }
    }

    /// Takes a permit, sleeping while none is free (Python's `acquire()`).
    ///
    /// ```
    /// let sem = synclab::Semaphore::new(1);
    /// sem.acquire();
    /// assert_eq!(sem.available(), 0);
    /// sem.release().unwrap();
    /// ```
    #[inline]
    pub fn acquire(&self) {
        self.raw.acquire_until(None);
    }

    /// Takes a permit if one is free now; never sleeps (Python's `acquire(blocking=False)`).
    ///
    /// ```
    /// let sem = synclab::Semaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.raw.try_acquire()
    }

    /// Takes a permit, waiting at most `timeout` (Python's `acquire(timeout=…)`). `true` if it
    /// got one. `Duration::ZERO` only tries; `Duration::MAX` waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = synclab::Semaphore::new(1);
    /// assert!(sem.acquire_timeout(Duration::ZERO));
    /// assert!(!sem.acquire_timeout(Duration::from_millis(1)));
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.raw.try_acquire()
            || (!timeout.is_zero() && self.raw.acquire_until(futex::deadline_after(timeout)))
    }

    /// Gives one permit back and wakes a waiter, if any (Python's `release()`).
    ///
    /// Any thread may release, also one that did not acquire. `Err` only if the count is at
    /// [`Semaphore::MAX_PERMITS`] already; then nothing changes.
    ///
    /// ```
    /// let sem = synclab::Semaphore::new(0);
    /// sem.release().unwrap();
    /// assert_eq!(sem.available(), 1);
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.raw.release(1, raw::MAX_PERMITS)
    }

    /// Gives `n` permits back at once (Python's `release(n)`). `n == 0` does nothing.
    ///
    /// If the count would pass [`Semaphore::MAX_PERMITS`], nothing changes and the error says
    /// how many could have been released.
    ///
    /// ```
    /// use synclab::Semaphore;
    /// let sem = Semaphore::new(Semaphore::MAX_PERMITS - 1);
    /// let err = sem.release_n(2).unwrap_err();
    /// assert_eq!(err.requested(), 2);
    /// assert_eq!(sem.available(), Semaphore::MAX_PERMITS - 1); // unchanged
    /// sem.release_n(1).unwrap();
    /// ```
    #[inline]
    pub fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
        self.raw.release(n, raw::MAX_PERMITS)
    }

    /// Takes a permit, sleeping while none is free, and returns a guard that gives it back when
    /// dropped (Python's `with sem:`).
    ///
    /// ```
    /// let sem = synclab::Semaphore::new(1);
    /// {
    ///     let _permit = sem.permit();
    ///     assert_eq!(sem.available(), 0);
    /// }
    /// assert_eq!(sem.available(), 1);
    /// ```
    #[inline]
    pub fn permit(&self) -> SemaphorePermit<'_> {
        self.acquire();
        SemaphorePermit::new(&self.raw, raw::MAX_PERMITS)
    }

    /// [`permit`](Semaphore::permit) if a permit is free now; never sleeps.
    ///
    /// ```
    /// let sem = synclab::Semaphore::new(1);
    /// let p = sem.try_permit().unwrap();
    /// assert!(sem.try_permit().is_none());
    /// drop(p);
    /// assert!(sem.try_permit().is_some());
    /// ```
    #[inline]
    pub fn try_permit(&self) -> Option<SemaphorePermit<'_>> {
        self.try_acquire()
            .then(|| SemaphorePermit::new(&self.raw, raw::MAX_PERMITS))
    }

    /// [`permit`](Semaphore::permit), waiting at most `timeout`; `None` if time ran out.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = synclab::Semaphore::new(1);
    /// let p = sem.permit_timeout(Duration::from_secs(1)).unwrap();
    /// assert!(sem.permit_timeout(Duration::from_millis(1)).is_none());
    /// # drop(p);
    /// ```
    #[inline]
    pub fn permit_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        self.acquire_timeout(timeout)
            .then(|| SemaphorePermit::new(&self.raw, raw::MAX_PERMITS))
    }

    /// The number of free permits now (a snapshot; Python's `_value`).
    ///
    /// ```
    /// let sem = synclab::Semaphore::new(3);
    /// let _p = sem.permit();
    /// assert_eq!(sem.available(), 2);
    /// ```
    #[inline]
    pub fn available(&self) -> usize {
        self.raw.available() as usize
    }
}

impl Default for Semaphore {
    /// One permit, like Python's `Semaphore()`.
    fn default() -> Self {
        Semaphore::new(1)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available", &self.available())
            .finish()
    }
}

/// A permit taken from a [`Semaphore`] or [`BoundedSemaphore`]; dropping it gives it back.
///
/// Unlike a lock guard it may be sent to another thread and dropped there: a semaphore may be
/// released by any thread. [`forget`](SemaphorePermit::forget) keeps the permit taken.
///
/// The permit remembers its semaphore's limit, so its drop never pushes a `BoundedSemaphore`
/// past its bound. If the permit cannot go back because other threads released more than they
/// acquired in the meantime (the count is at the limit already), the drop gives nothing back
/// and does not panic: the count stays at the limit, which is where it would be anyway.
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    raw: &'a RawSemaphore,
    /// The limit `release` checks against: the bound, or `MAX_PERMITS`.
    limit: u32,
}

impl<'a> SemaphorePermit<'a> {
    fn new(raw: &'a RawSemaphore, limit: u32) -> Self {
        SemaphorePermit { raw, limit }
    }

    /// Keeps the permit taken: the semaphore has one permit less for good (until someone calls
    /// `release`).
    ///
    /// ```
    /// let sem = synclab::Semaphore::new(2);
    /// sem.permit().forget();
    /// assert_eq!(sem.available(), 1);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

// ANCHOR: permit_drop
impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        // Err only if others over-released meanwhile: documented above, dropped silently.
        let _ = self.raw.release(1, self.limit);
    }
}
// ANCHOR_END: permit_drop

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("available", &self.raw.available())
            .finish_non_exhaustive()
    }
}

/// A release that would push a semaphore's count past its limit: the bound of a
/// [`BoundedSemaphore`] (Python raises `ValueError`), or [`Semaphore::MAX_PERMITS`].
///
/// The release changed nothing. Usually it means a permit was given back twice.
///
/// ```
/// let sem = synclab::BoundedSemaphore::new(2);
/// let err = sem.release().unwrap_err();
/// assert_eq!((err.available(), err.requested(), err.limit()), (2, 1, 2));
/// assert_eq!(
///     err.to_string(),
///     "cannot release 1 permit: 2 are already available and the limit is 2, so at most 0 \
///      more can be released (release only permits that were acquired)"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseError {
    available: usize,
    requested: usize,
    limit: usize,
}

impl ReleaseError {
    pub(crate) fn new(available: u32, requested: usize, limit: u32) -> Self {
        ReleaseError {
            available: available as usize,
            requested,
            limit: limit as usize,
        }
    }

    /// Free permits when the release was refused.
    pub fn available(&self) -> usize {
        self.available
    }

    /// How many permits the refused call tried to release.
    pub fn requested(&self) -> usize {
        self.requested
    }

    /// The most permits the semaphore may hold: its bound, or [`Semaphore::MAX_PERMITS`].
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.requested == 1 { "" } else { "s" };
        write!(
            f,
            "cannot release {} permit{plural}: {} are already available and the limit is {}, \
             so at most {} more can be released (release only permits that were acquired)",
            self.requested,
            self.available,
            self.limit,
            self.limit.saturating_sub(self.available),
        )
    }
}

impl std::error::Error for ReleaseError {}
