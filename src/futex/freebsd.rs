//! FreeBSD: the `_umtx_op(2)` system call.
//!
//! - wait: `UMTX_OP_WAIT_UINT_PRIVATE` compares the `u_int` at `obj` with `val` and sleeps if
//!   they are equal. A timeout is passed as a `struct _umtx_time` in `uaddr2`, with its size in
//!   `uaddr`; we set `UMTX_ABSTIME` and `CLOCK_MONOTONIC`, so, as on Linux, the deadline is
//!   *absolute*: an `EINTR` restarts the same call with the same deadline and never stretches
//!   it. `Instant` is `CLOCK_MONOTONIC` on FreeBSD too, so `ETIMEDOUT` means the deadline has
//!   passed on `Instant`'s clock. A timed-out waiter was not woken, so it swallowed no wake.
//! - wake: `UMTX_OP_WAKE_PRIVATE` with a count (1, or `i32::MAX` for all). It returns 0, not the
//!   number woken, so `wake_*` return 0.
//!
//! `_PRIVATE` keys the sleep queue on the process's address space only (cheaper), like Linux's
//! `FUTEX_PRIVATE_FLAG`. The `libc` crate provides the function, the operation codes and
//! `_umtx_time`.

use std::ptr;
use std::time::Instant;

use crate::sync::AtomicU32;

/// Converts `deadline` to an absolute `CLOCK_MONOTONIC` timeout. `None` (sleep without a
/// timeout) when the sum does not fit in a `timespec`.
fn to_umtx_time(deadline: Instant) -> Option<libc::_umtx_time> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec, and CLOCK_MONOTONIC is always available.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    debug_assert_eq!(r, 0);
    let secs = libc::time_t::try_from(remaining.as_secs()).ok()?;
    let mut sec = now.tv_sec.checked_add(secs)?;
    let mut nsec = now.tv_nsec + remaining.subsec_nanos() as libc::c_long;
    if nsec >= 1_000_000_000 {
        nsec -= 1_000_000_000;
        sec = sec.checked_add(1)?;
    }
    Some(libc::_umtx_time {
        _timeout: libc::timespec {
            tv_sec: sec,
            tv_nsec: nsec,
        },
        _flags: libc::UMTX_ABSTIME,
        _clockid: libc::CLOCK_MONOTONIC as u32,
    })
}

pub(super) fn wait(futex: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
    let mut timeout = deadline.and_then(to_umtx_time);
    // `uaddr` carries the size of the timeout struct, `uaddr2` a pointer to it; both null for
    // "no timeout".
    let (size, timeout_ptr) = match timeout.as_mut() {
        Some(t) => (
            ptr::without_provenance_mut::<libc::c_void>(size_of::<libc::_umtx_time>()),
            ptr::from_mut(t).cast::<libc::c_void>(),
        ),
        None => (ptr::null_mut(), ptr::null_mut()),
    };
    loop {
        // SAFETY: `futex.as_ptr()` points to a live, aligned u32 for the whole call (we hold a
        // reference) and UMTX_OP_WAIT_UINT_PRIVATE only reads it; `timeout_ptr` is null or
        // points to `timeout`, which outlives the call, and `size` is its size, as the
        // operation expects.
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
            Some(libc::EINTR) => continue, // same call, same absolute deadline
            Some(libc::ETIMEDOUT) => return false,
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
