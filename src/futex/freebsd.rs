//! FreeBSD: the `_umtx_op(2)` system call.
//!
//! - wait: `UMTX_OP_WAIT_UINT_PRIVATE` compares the `u_int` at `obj` with `val` and sleeps if
//!   they are equal. A timeout is passed as a `struct _umtx_time` in `uaddr2`, with its size in
//!   `uaddr`; we set `UMTX_ABSTIME` and `CLOCK_MONOTONIC`, so, as on Linux, the deadline is
//!   *absolute*: an `EINTR` restarts the call with the same deadline and never stretches it.
//!   `Instant` is `CLOCK_MONOTONIC` on FreeBSD too, so `ETIMEDOUT` means the deadline has passed
//!   on `Instant`'s clock, unless it was clamped to [`MAX_TIMEOUT`] ahead, in which case the
//!   wait goes on. A timed-out waiter was not woken, so it swallowed no wake.
//! - wake: `UMTX_OP_WAKE_PRIVATE` with a count (1, or `i32::MAX` for all). It returns 0, not the
//!   number woken, so `wake_*` return 0.
//!
//! `_PRIVATE` keys the sleep queue on the process's address space only (cheaper), like Linux's
//! `FUTEX_PRIVATE_FLAG`. The `libc` crate provides the function, the operation codes and
//! `_umtx_time`.

use std::ptr;
use std::time::{Duration, Instant};

use crate::sync::AtomicU32;

/// The longest single sleep we ask for: a year. A later deadline sleeps again when this one
/// times out. The kernel converts timeouts to 32.32 fixed-point `sbintime_t`; the clamp keeps a
/// deadline centuries away out of that arithmetic (a precaution, not tested on FreeBSD here).
const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Converts `deadline`, at most [`MAX_TIMEOUT`] away, to an absolute `CLOCK_MONOTONIC` timeout.
fn to_umtx_time(deadline: Instant) -> libc::_umtx_time {
    let remaining = deadline
        .saturating_duration_since(Instant::now())
        .min(MAX_TIMEOUT);
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec, and CLOCK_MONOTONIC is always available.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    debug_assert_eq!(r, 0);
    // No overflow: the monotonic clock counts from boot and `remaining` is at most a year.
    let mut tv_sec = now.tv_sec + remaining.as_secs() as libc::time_t;
    let mut tv_nsec = now.tv_nsec + remaining.subsec_nanos() as libc::c_long;
    if tv_nsec >= 1_000_000_000 {
        tv_nsec -= 1_000_000_000;
        tv_sec += 1;
    }
    libc::_umtx_time {
        _timeout: libc::timespec { tv_sec, tv_nsec },
        _flags: libc::UMTX_ABSTIME,
        _clockid: libc::CLOCK_MONOTONIC as u32,
    }
}

pub(super) fn wait(futex: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
    loop {
        let mut timeout = deadline.map(to_umtx_time);
        // `uaddr` carries the size of the timeout struct, `uaddr2` a pointer to it; both null
        // for "no timeout".
        let (size, timeout_ptr) = match timeout.as_mut() {
            Some(t) => (
                ptr::without_provenance_mut::<libc::c_void>(size_of::<libc::_umtx_time>()),
                ptr::from_mut(t).cast::<libc::c_void>(),
            ),
            None => (ptr::null_mut(), ptr::null_mut()),
        };
        // `futex.as_ptr()` points to a live, aligned u32 for the whole call (we hold a
        // reference) and UMTX_OP_WAIT_UINT_PRIVATE only reads it; `timeout_ptr` is null or
        // points to `timeout`, which outlives the call, and `size` is its size.
        // SAFETY: every argument is valid for the operation, as above.
        let r = unsafe {
            libc::_umtx_op(
                futex.as_ptr().cast(),
                libc::UMTX_OP_WAIT_UINT_PRIVATE,
                libc::c_ulong::from(expected),
                size,
                timeout_ptr,
            )
        };
        if r >= 0 {
            return true; // woken, the word differed, or a spurious return
        }
        match std::io::Error::last_os_error().raw_os_error() {
            // A signal: the same absolute deadline again, so it is not stretched.
            Some(libc::EINTR) => continue,
            // The (possibly clamped) deadline passed; `false` only if the real one did.
            Some(libc::ETIMEDOUT) => {
                if deadline.is_none_or(|d| Instant::now() >= d) {
                    return false;
                }
            }
            _ => return true,
        }
    }
}

fn wake(futex: &AtomicU32, count: i32) -> usize {
    // SAFETY: `futex.as_ptr()` points to a live, aligned u32 (we hold a reference); the wake
    // uses the address only as a key and takes no timeout.
    unsafe {
        libc::_umtx_op(
            futex.as_ptr().cast(),
            libc::UMTX_OP_WAKE_PRIVATE,
            count as libc::c_ulong,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    0
}

#[inline]
pub(super) fn wake_one(futex: &AtomicU32) -> usize {
    wake(futex, 1)
}

#[inline]
pub(super) fn wake_all(futex: &AtomicU32) -> usize {
    wake(futex, i32::MAX)
}
