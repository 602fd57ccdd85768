//! macOS and iOS: the `__ulock_wait2` / `__ulock_wake` system calls.
//!
//! These are the kernel's futex (XNU `bsd/kern/sys_ulock.c`). They are private API: libSystem
//! exports them and libc++ builds C++20 `std::atomic::wait` on them, but no SDK header declares
//! them, so we declare them here. The prototypes and constants follow XNU's `bsd/sys/ulock.h`
//! (apple-oss-distributions/xnu): `UL_COMPARE_AND_WAIT = 1` (compare a 32-bit word, then sleep),
//! `ULF_WAKE_ALL = 0x100`, `ULF_NO_ERRNO = 0x0100_0000` (return `-errno` instead of setting
//! `errno`).
//!
//! - wait: `__ulock_wait2(UL_COMPARE_AND_WAIT, addr, expected, timeout_ns, 0)`, macOS 11 and
//!   later. (The older `__ulock_wait` takes microseconds in a `u32`.) The timeout is *relative*
//!   and `0` means "forever", so each try recomputes the time left to the absolute deadline,
//!   returns `false` itself when none is left (it must never pass `0` for "no time"), and clamps
//!   a huge remainder to [`MAX_TIMEOUT`] so the kernel's deadline arithmetic cannot overflow.
//!   `EINTR` and `EFAULT` are retried; an `ETIMEDOUT` goes round the loop too, which returns
//!   `false` once the deadline has really passed on `Instant`'s clock. A kernel timeout means the
//!   thread was not woken, so a timed-out waiter never swallows a wake.
//! - wake: `__ulock_wake(UL_COMPARE_AND_WAIT [| ULF_WAKE_ALL], addr, 0)`. It returns `0` or
//!   `-ENOENT` (nobody waits), never a count, so `wake_*` return 0.
//!
//! Apple may reject apps that call private API from the App Store; std avoids these calls for
//! that reason (it uses the public `os_sync_wait_on_address`, macOS 14.4+, where available).

use std::ffi::{c_int, c_void};
use std::time::{Duration, Instant};

use crate::sync::{AtomicU32, Ordering};

/// Operation: compare the 32-bit word at `addr` with `value`, sleep if equal.
const UL_COMPARE_AND_WAIT: u32 = 1;
/// Wake flag: wake every waiter instead of one.
const ULF_WAKE_ALL: u32 = 0x0000_0100;
/// Generic flag: report an error as a negative return value instead of through `errno`.
const ULF_NO_ERRNO: u32 = 0x0100_0000;

/// The longest single sleep we ask for: a year. Longer waits sleep again (an `ETIMEDOUT` before
/// the deadline just goes round the loop). XNU turns the relative timeout into an absolute
/// `mach_absolute_time` deadline by addition, which a near-`u64::MAX` value would overflow.
const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

unsafe extern "C" {
    fn __ulock_wait2(
        operation: u32,
        addr: *mut c_void,
        value: u64,
        timeout_ns: u64,
        value2: u64,
    ) -> c_int;
    fn __ulock_wake(operation: u32, addr: *mut c_void, wake_value: u64) -> c_int;
}

pub(super) fn wait(futex: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
    loop {
        let timeout_ns = match deadline {
            None => 0, // forever
            Some(deadline) => {
                // Relaxed: a `true` return only says "look again"; the caller's own load orders.
                if futex.load(Ordering::Relaxed) != expected {
                    return true;
                }
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    return false;
                }
                // At least 1 (non-zero duration) and at most a year of nanoseconds: fits in u64.
                remaining.min(MAX_TIMEOUT).as_nanos() as u64
            }
        };
        // SAFETY: `futex.as_ptr()` points to a live, aligned u32 for the whole call (we hold a
        // reference); UL_COMPARE_AND_WAIT only reads it. The kernel compares it with `expected`
        // and sleeps atomically. `value2` is unused by this operation and must be 0.
        let r = unsafe {
            __ulock_wait2(
                UL_COMPARE_AND_WAIT | ULF_NO_ERRNO,
                futex.as_ptr().cast(),
                u64::from(expected),
                timeout_ns,
                0,
            )
        };
        if r >= 0 {
            // Woken, or the word did not hold `expected` (the value is the number of waiters
            // left).
            return true;
        }
        match -r {
            // A signal, or the word's page was not resident while the kernel held its lock:
            // try again with the time that is left.
            libc::EINTR | libc::EFAULT => continue,
            // Not woken. Loop: the deadline check above returns `false` if it has passed, and
            // an early kernel timeout (a clamped or rounded sleep) sleeps again.
            libc::ETIMEDOUT => continue,
            // Anything else: a spurious return.
            _ => return true,
        }
    }
}

fn wake(futex: &AtomicU32, flags: u32) -> usize {
    loop {
        // SAFETY: `futex.as_ptr()` points to a live, aligned u32 (we hold a reference); the wake
        // only uses the address as a key. `wake_value` is unused without ULF_WAKE_THREAD.
        let r = unsafe {
            __ulock_wake(
                UL_COMPARE_AND_WAIT | ULF_NO_ERRNO | flags,
                futex.as_ptr().cast(),
                0,
            )
        };
        if r == -libc::EINTR {
            continue;
        }
        // 0: woke whoever waited; -ENOENT: nobody waited. No count either way.
        return 0;
    }
}

#[inline]
pub(super) fn wake_one(futex: &AtomicU32) -> usize {
    wake(futex, 0)
}

#[inline]
pub(super) fn wake_all(futex: &AtomicU32) -> usize {
    wake(futex, ULF_WAKE_ALL)
}
