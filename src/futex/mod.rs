//! Sleeping on an atomic: the only part of synclab that talks to the operating system.
//!
//! A *futex* ("fast userspace mutex") lets a thread say "put me to sleep, but only if this
//! 32-bit word still holds the value I expect", and another thread say "wake whoever sleeps on
//! this word". The check and the sleep happen atomically in the kernel, so a wake that comes
//! between "I looked at the word" and "I went to sleep" is never lost: the sleep simply does not
//! start. Every blocking primitive of synclab is a small state machine over [`AtomicU32`]s that
//! calls [`wait`] when it has to block and [`wake_one`] / [`wake_all`] when it changed the state
//! a sleeper waits on.
//!
//! # The contract
//!
//! - [`wait`] returns at once if `*atomic != expected`.
//! - It may return *spuriously*: without a wake, before the deadline. Callers always re-check
//!   their condition in a loop. ([`WaitResult::Woken`] means "go and look", never "it's your
//!   turn".)
//! - Signals (`EINTR`) are handled inside: the deadline is absolute, so an interrupted sleep
//!   resumes without stretching the timeout.
//! - A deadline of `None` means "no timeout". [`deadline_after`] turns a [`Duration`] into a
//!   deadline, and `Duration::MAX` (or any timeout too large to represent) into `None`.
//! - A waiter that reports [`WaitResult::TimedOut`] consumed no wake: the wake went to another
//!   sleeper, or to nobody.
//! - The count [`wake_one`] and [`wake_all`] return is a hint: it is exact on Linux and with the
//!   fallback table, and always `0` on macOS, Windows and FreeBSD, which do not report it.
//!
//! # Backends
//!
//! | platform | backend |
//! |---|---|
//! | Linux, Android | the `futex` system call: `FUTEX_WAIT_BITSET` with an absolute `CLOCK_MONOTONIC` deadline, `FUTEX_WAKE`, `FUTEX_PRIVATE_FLAG` |
//! | macOS, iOS | `__ulock_wait2` / `__ulock_wake` (what libc++'s `std::atomic::wait` uses) |
//! | Windows | `WaitOnAddress` / `WakeByAddressSingle` / `WakeByAddressAll` |
//! | FreeBSD | `_umtx_op` with `UMTX_OP_WAIT_UINT_PRIVATE` / `UMTX_OP_WAKE_PRIVATE` |
//! | everything else, or feature `force-fallback` | a hashed table of parked threads |
//! | `--cfg loom` | a model for the loom checker: a table of loom condition variables |
//!
//! On Linux, `futex::shared` offers the same three calls without `FUTEX_PRIVATE_FLAG`, for words that
//! live in memory shared between processes.
//!
//! # Example
//!
//! A one-shot flag: one thread waits until another sets it.
//!
//! ```
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use synclab::futex;
//!
//! let flag = AtomicU32::new(0);
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         flag.store(1, Ordering::Release);
//!         futex::wake_one(&flag);
//!     });
//!     // Sleep while the flag is still 0; re-check after every return.
//!     while flag.load(Ordering::Acquire) == 0 {
//!         futex::wait(&flag, 0, None);
//!     }
//! });
//! assert_eq!(flag.load(Ordering::Relaxed), 1);
//! ```

use std::time::{Duration, Instant};

use crate::sync::AtomicU32;

#[cfg(all(not(loom), any(target_os = "linux", target_os = "android")))]
mod linux;

#[cfg(loom)]
mod loom_model;
#[cfg(loom)]
use loom_model as imp;

#[cfg(all(
    not(loom),
    not(feature = "force-fallback"),
    any(target_os = "linux", target_os = "android")
))]
use linux as imp;

#[cfg(all(
    not(loom),
    not(feature = "force-fallback"),
    any(target_os = "macos", target_os = "ios")
))]
mod macos;
#[cfg(all(
    not(loom),
    not(feature = "force-fallback"),
    any(target_os = "macos", target_os = "ios")
))]
use macos as imp;

#[cfg(all(not(loom), not(feature = "force-fallback"), windows))]
mod windows;
#[cfg(all(not(loom), not(feature = "force-fallback"), windows))]
use windows as imp;

#[cfg(all(not(loom), not(feature = "force-fallback"), target_os = "freebsd"))]
mod freebsd;
#[cfg(all(not(loom), not(feature = "force-fallback"), target_os = "freebsd"))]
use freebsd as imp;

#[cfg(all(
    not(loom),
    any(
        feature = "force-fallback",
        not(any(
            target_os = "linux",
            target_os = "android",
            target_os = "macos",
            target_os = "ios",
            windows,
            target_os = "freebsd"
        ))
    )
))]
mod fallback;
#[cfg(all(
    not(loom),
    any(
        feature = "force-fallback",
        not(any(
            target_os = "linux",
            target_os = "android",
            target_os = "macos",
            target_os = "ios",
            windows,
            target_os = "freebsd"
        ))
    )
))]
use fallback as imp;

/// Why [`wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitResult {
    /// Woken by a wake call, or the word did not hold the expected value, or a spurious return:
    /// look at the state again.
    Woken,
    /// The deadline passed.
    TimedOut,
}

impl WaitResult {
    /// `true` if the deadline passed.
    ///
    /// ```
    /// # use std::sync::atomic::AtomicU32;
    /// # use std::time::Instant;
    /// let word = AtomicU32::new(0);
    /// let r = synclab::futex::wait(&word, 0, Some(Instant::now()));
    /// assert!(r.timed_out());
    /// ```
    #[inline]
    pub fn timed_out(self) -> bool {
        self == WaitResult::TimedOut
    }
}

/// Sleeps while `*atomic == expected`, until woken or until `deadline`.
///
/// Returns at once with [`WaitResult::Woken`] if the word holds another value. May return
/// spuriously: callers always re-check their condition. A deadline in the past returns
/// [`WaitResult::TimedOut`] at once (after the value check).
///
/// ```
/// use std::sync::atomic::AtomicU32;
/// use std::time::{Duration, Instant};
/// use synclab::futex::{self, WaitResult};
///
/// let word = AtomicU32::new(7);
/// // The word is not 3: no sleep at all.
/// assert_eq!(futex::wait(&word, 3, None), WaitResult::Woken);
/// // Nobody wakes us: the deadline passes.
/// let deadline = Instant::now() + Duration::from_millis(5);
/// assert_eq!(futex::wait(&word, 7, Some(deadline)), WaitResult::TimedOut);
/// ```
#[inline]
pub fn wait(atomic: &AtomicU32, expected: u32, deadline: Option<Instant>) -> WaitResult {
    if imp::wait(atomic, expected, deadline) {
        WaitResult::Woken
    } else {
        WaitResult::TimedOut
    }
}

/// Wakes one thread sleeping in [`wait`] on `atomic`, if there is one.
///
/// Returns how many were woken (0 or 1) where the platform tells, else 0.
///
/// ```
/// use std::sync::atomic::AtomicU32;
/// let word = AtomicU32::new(0);
/// assert_eq!(synclab::futex::wake_one(&word), 0); // nobody sleeps
/// ```
#[inline]
pub fn wake_one(atomic: &AtomicU32) -> usize {
    imp::wake_one(atomic)
}

/// Wakes every thread sleeping in [`wait`] on `atomic`.
///
/// Returns how many were woken where the platform tells, else 0.
///
/// ```
/// use std::sync::atomic::AtomicU32;
/// let word = AtomicU32::new(0);
/// assert_eq!(synclab::futex::wake_all(&word), 0); // nobody sleeps
/// ```
#[inline]
pub fn wake_all(atomic: &AtomicU32) -> usize {
    imp::wake_all(atomic)
}

/// `--cfg loom` only: how many times a loom model thread has really gone to sleep in [`wait`]
/// (the word still held the expected value), counted over every execution of every model run
/// on the calling OS thread (one `#[test]`).
///
/// The loom tests use it to prove that their models reach the sleep/wake protocol and do not
/// only explore the spinning paths in front of it. Not part of the API.
#[cfg(loom)]
#[doc(hidden)]
pub fn loom_sleeps() -> usize {
    loom_model::sleeps()
}

/// The deadline `timeout` from now, or `None` ("never") if it cannot be represented.
///
/// `Duration::ZERO` gives "now", so a wait with it times out at once; `Duration::MAX` gives
/// `None`, so a wait with it never times out. Every `*_timeout` method of synclab goes through
/// this function, which is why none of them can overflow or panic on a large timeout.
///
/// ```
/// use std::time::Duration;
/// use synclab::futex::deadline_after;
///
/// assert!(deadline_after(Duration::from_secs(1)).is_some());
/// assert!(deadline_after(Duration::MAX).is_none());
/// ```
#[inline]
pub fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// `true` once `deadline` has passed (`None`, from [`deadline_after`]'s overflow, never does).
#[inline]
pub(crate) fn expired(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

/// Process-shared futexes (Linux and Android): the same calls without `FUTEX_PRIVATE_FLAG`.
///
/// A private futex is keyed by the *virtual* address of the word, so it only works between
/// threads of one process. A shared futex is keyed by the underlying page, so two processes that
/// map the same shared memory (`memfd_create` + `mmap(MAP_SHARED)`) can sleep and wake each other
/// through a word that lives in it. The kernel does slightly more work for a shared futex, which
/// is why in-process primitives use the private flavour.
///
/// ```
/// use std::sync::atomic::AtomicU32;
/// use synclab::futex::shared;
///
/// let word = AtomicU32::new(1);
/// assert_eq!(shared::wait(&word, 0, None), synclab::futex::WaitResult::Woken);
/// assert_eq!(shared::wake_all(&word), 0);
/// ```
#[cfg(all(not(loom), any(target_os = "linux", target_os = "android")))]
pub mod shared {
    use super::{WaitResult, linux};
    use crate::sync::AtomicU32;
    use std::time::Instant;

    /// [`wait`](super::wait) on a word that may be shared between processes.
    #[inline]
    pub fn wait(atomic: &AtomicU32, expected: u32, deadline: Option<Instant>) -> WaitResult {
        if linux::wait_with(atomic, expected, deadline, false) {
            WaitResult::Woken
        } else {
            WaitResult::TimedOut
        }
    }

    /// [`wake_one`](super::wake_one) on a word that may be shared between processes.
    #[inline]
    pub fn wake_one(atomic: &AtomicU32) -> usize {
        linux::wake_with(atomic, 1, false)
    }

    /// [`wake_all`](super::wake_all) on a word that may be shared between processes.
    #[inline]
    pub fn wake_all(atomic: &AtomicU32) -> usize {
        linux::wake_with(atomic, i32::MAX, false)
    }

    /// Sleeps until a wake on *any* of `words` (each paired with the value it must still hold),
    /// or until `deadline`: Linux's `futex_waitv` (5.16+), the words possibly shared between
    /// processes.
    ///
    /// The contract of [`wait`](super::wait), for several words: it returns at once if some
    /// word does not hold its value, may return spuriously, and restarts after a signal with
    /// the same absolute deadline. `None` means it could not wait at all: the kernel has no
    /// `futex_waitv` (`ENOSYS`, before 5.16; also on Android, where this call is not offered),
    /// or there are more than 128 words. Callers then fall back to something else (synclab's
    /// [`process::wait_any`](crate::process::wait_any) takes short timed waits on each word in
    /// turn).
    ///
    /// ```
    /// use std::sync::atomic::AtomicU32;
    /// use std::time::{Duration, Instant};
    /// use synclab::futex::{WaitResult, shared};
    ///
    /// let (a, b) = (AtomicU32::new(0), AtomicU32::new(5));
    /// // `b` is not 4: no sleep at all.
    /// assert_ne!(shared::wait_any(&[(&a, 0), (&b, 4)], None), Some(WaitResult::TimedOut));
    /// // Both hold their values and nobody wakes: the deadline passes (or no futex_waitv).
    /// let soon = Instant::now() + Duration::from_millis(5);
    /// let r = shared::wait_any(&[(&a, 0), (&b, 5)], Some(soon));
    /// assert!(r == Some(WaitResult::TimedOut) || r.is_none());
    /// ```
    pub fn wait_any(words: &[(&AtomicU32, u32)], deadline: Option<Instant>) -> Option<WaitResult> {
        #[cfg(target_os = "linux")]
        return linux::wait_any_with(words, deadline, false).map(|woken| {
            if woken {
                WaitResult::Woken
            } else {
                WaitResult::TimedOut
            }
        });
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (words, deadline);
            None
        }
    }
}
