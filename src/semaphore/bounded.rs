//! `BoundedSemaphore`: a [`Semaphore`](super::Semaphore) that refuses to count past its initial
//! value, Python's `threading.BoundedSemaphore`.

use std::fmt;
use std::time::Duration;

use super::raw::{self, RawSemaphore};
use super::{ReleaseError, SemaphorePermit};
use crate::futex;
use crate::sync::loom_const_fn;

/// A semaphore whose count never exceeds its initial value: Python's
/// `threading.BoundedSemaphore`.
///
/// It works like [`Semaphore`](crate::Semaphore), except that [`release`](Self::release) returns
/// [`ReleaseError`] instead of raising the count above [`bound`](Self::bound) (Python raises
/// `ValueError`). A refused release changes nothing. That turns "a permit was given back twice",
/// a bug a plain semaphore hides by quietly growing, into an error at the place it happens.
///
/// It is 8 bytes: the 4-byte state word of `Semaphore` plus the bound.
///
/// ```
/// use synclab::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(2);
/// sem.acquire();
/// sem.release().unwrap();
/// assert!(sem.release().is_err()); // would make 3 of 2
/// assert_eq!(sem.available(), 2);
/// ```
pub struct BoundedSemaphore {
    raw: RawSemaphore,
    /// The initial count and the most the count may ever be.
    bound: u32,
}

impl BoundedSemaphore {
    /// The largest bound: 2^31 − 1, as for [`Semaphore::MAX_PERMITS`](crate::Semaphore::MAX_PERMITS).
    pub const MAX_PERMITS: usize = raw::MAX_PERMITS as usize;

    loom_const_fn! {
        /// A semaphore with `bound` free permits that may never hold more (Python's
        /// `BoundedSemaphore(value)`).
        ///
        /// # Panics
        ///
        /// If `bound` is more than [`BoundedSemaphore::MAX_PERMITS`].
        ///
        /// ```
        /// static SLOTS: synclab::BoundedSemaphore = synclab::BoundedSemaphore::new(3);
        /// assert_eq!(SLOTS.bound(), 3);
        /// ```
        pub fn new(bound: usize) -> BoundedSemaphore {
            assert!(
                bound <= BoundedSemaphore::MAX_PERMITS,
                "BoundedSemaphore::new: bound above BoundedSemaphore::MAX_PERMITS (2^31 - 1)"
            );
            BoundedSemaphore { raw: RawSemaphore::new(bound as u32), bound: bound as u32 }
        }
    }

    /// Takes a permit, sleeping while none is free (Python's `acquire()`).
    ///
    /// ```
    /// let sem = synclab::BoundedSemaphore::new(1);
    /// sem.acquire();
    /// assert_eq!(sem.available(), 0);
    /// # sem.release().unwrap();
    /// ```
    #[inline]
    pub fn acquire(&self) {
        self.raw.acquire_until(None);
    }

    /// Takes a permit if one is free now; never sleeps.
    ///
    /// ```
    /// let sem = synclab::BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.raw.try_acquire()
    }

    /// Takes a permit, waiting at most `timeout`; `true` if it got one. `Duration::ZERO` only
    /// tries; `Duration::MAX` waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = synclab::BoundedSemaphore::new(1);
    /// assert!(sem.acquire_timeout(Duration::MAX));
    /// assert!(!sem.acquire_timeout(Duration::ZERO));
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.raw.try_acquire()
            || (!timeout.is_zero() && self.raw.acquire_until(futex::deadline_after(timeout)))
    }

    /// Gives one permit back and wakes a waiter, if any; `Err` (nothing changed) if all
    /// [`bound`](Self::bound) permits are free already.
    ///
    /// ```
    /// let sem = synclab::BoundedSemaphore::new(1);
    /// assert!(sem.release().is_err());
    /// sem.acquire();
    /// assert!(sem.release().is_ok());
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.raw.release(1, self.bound)
    }

    /// Gives `n` permits back at once; `Err` (nothing changed) if that would make more than
    /// [`bound`](Self::bound). `n == 0` does nothing.
    ///
    /// ```
    /// let sem = synclab::BoundedSemaphore::new(3);
    /// sem.acquire();
    /// sem.acquire();
    /// let err = sem.release_n(3).unwrap_err();
    /// assert_eq!(err.available(), 1);
    /// assert_eq!(sem.available(), 1); // unchanged
    /// sem.release_n(2).unwrap();
    /// ```
    #[inline]
    pub fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
        self.raw.release(n, self.bound)
    }

    /// Takes a permit, sleeping while none is free, and returns a guard that gives it back
    /// (never past the bound) when dropped.
    ///
    /// ```
    /// let sem = synclab::BoundedSemaphore::new(1);
    /// let permit = sem.permit();
    /// assert_eq!(sem.available(), 0);
    /// drop(permit);
    /// assert_eq!(sem.available(), 1);
    /// ```
    #[inline]
    pub fn permit(&self) -> SemaphorePermit<'_> {
        self.acquire();
        SemaphorePermit::new(&self.raw, self.bound)
    }

    /// [`permit`](Self::permit) if a permit is free now; never sleeps.
    ///
    /// ```
    /// let sem = synclab::BoundedSemaphore::new(1);
    /// let _p = sem.try_permit().unwrap();
    /// assert!(sem.try_permit().is_none());
    /// ```
    #[inline]
    pub fn try_permit(&self) -> Option<SemaphorePermit<'_>> {
        self.try_acquire()
            .then(|| SemaphorePermit::new(&self.raw, self.bound))
    }

    /// [`permit`](Self::permit), waiting at most `timeout`; `None` if time ran out.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = synclab::BoundedSemaphore::new(1);
    /// let _p = sem.permit_timeout(Duration::MAX).unwrap();
    /// assert!(sem.permit_timeout(Duration::from_millis(1)).is_none());
    /// ```
    #[inline]
    pub fn permit_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        self.acquire_timeout(timeout)
            .then(|| SemaphorePermit::new(&self.raw, self.bound))
    }

    /// The number of free permits now (a snapshot).
    ///
    /// ```
    /// let sem = synclab::BoundedSemaphore::new(2);
    /// sem.permit().forget();
    /// assert_eq!(sem.available(), 1);
    /// ```
    #[inline]
    pub fn available(&self) -> usize {
        self.raw.available() as usize
    }

    /// The initial count, which the count never exceeds.
    ///
    /// ```
    /// assert_eq!(synclab::BoundedSemaphore::new(5).bound(), 5);
    /// ```
    #[inline]
    pub fn bound(&self) -> usize {
        self.bound as usize
    }
}

impl Default for BoundedSemaphore {
    /// A bound of one, like Python's `BoundedSemaphore()`.
    fn default() -> Self {
        BoundedSemaphore::new(1)
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("available", &self.available())
            .field("bound", &self.bound)
            .finish()
    }
}
