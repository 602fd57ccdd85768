//! Linux and Android: the raw `futex(2)` system call.
//!
//! - wait: `FUTEX_WAIT_BITSET` with `FUTEX_BITSET_MATCH_ANY`. Unlike plain `FUTEX_WAIT` (a
//!   relative timeout), it takes an *absolute* deadline, measured on `CLOCK_MONOTONIC` because
//!   `FUTEX_CLOCK_REALTIME` is not set. An `EINTR` restarts the same call with the same deadline,
//!   so signals never stretch a timeout, and a wall-clock jump never shortens or lengthens one.
//! - wake: `FUTEX_WAKE` with a count (1, or `i32::MAX` for "all"); the kernel returns how many
//!   threads it woke.
//!
//! `FUTEX_PRIVATE_FLAG` tells the kernel the word is not shared with another process, which
//! lets it key the wait queue on the virtual address alone (cheaper). [`super::shared`] leaves it
//! off.

use std::ptr;
use std::time::Instant;

use crate::sync::AtomicU32;

/// Converts `deadline` to an absolute `CLOCK_MONOTONIC` timespec.
///
/// std's `Instant` is `CLOCK_MONOTONIC` on Linux but does not expose its timespec, so we read the
/// clock once and add the remaining time. `None` (no timeout) when the sum does not fit.
fn to_timespec(deadline: Instant) -> Option<libc::timespec> {
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
    Some(libc::timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    })
}

// ANCHOR: linux_wait
/// Sleeps while `*futex == expected`. `false` only when the deadline passed.
pub(super) fn wait_with(
    futex: &AtomicU32,
    expected: u32,
    deadline: Option<Instant>,
    private: bool,
) -> bool {
    let timespec = deadline.and_then(to_timespec);
    let timeout_ptr = timespec
        .as_ref()
        .map_or(ptr::null(), |t| t as *const libc::timespec);
    let op = libc::FUTEX_WAIT_BITSET | if private { libc::FUTEX_PRIVATE_FLAG } else { 0 };
    loop {
        // SAFETY: `futex.as_ptr()` points to a live, aligned u32 for the whole call (we hold a
        // reference); `timeout_ptr` is null or points to `timespec`, which outlives the call; the
        // unused `uaddr2` argument is null; the bitset is non-zero as the kernel requires.
        let r = unsafe {
            libc::syscall(
                libc::SYS_futex,
                futex.as_ptr(),
                op,
                expected,
                timeout_ptr,
                ptr::null::<u32>(),
                // The kernel reads `val3` as a u32: pass the all-ones mask as one.
                libc::FUTEX_BITSET_MATCH_ANY as u32,
            )
        };
        if r >= 0 {
            return true; // woken (or spuriously returned)
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EINTR) => continue, // a signal: same call, same absolute deadline
            Some(libc::ETIMEDOUT) => return false,
            // EAGAIN: the word did not hold `expected`. Anything else is a spurious return.
            _ => return true,
        }
    }
}
// ANCHOR_END: linux_wait

// ANCHOR: linux_wake
/// Wakes up to `count` sleepers; returns how many were woken.
pub(super) fn wake_with(futex: &AtomicU32, count: i32, private: bool) -> usize {
    let op = libc::FUTEX_WAKE | if private { libc::FUTEX_PRIVATE_FLAG } else { 0 };
    // SAFETY: `futex.as_ptr()` points to a live, aligned u32 (we hold a reference); FUTEX_WAKE
    // reads only the address and the count.
    let r = unsafe { libc::syscall(libc::SYS_futex, futex.as_ptr(), op, count as u32) };
    usize::try_from(r).unwrap_or(0)
}
// ANCHOR_END: linux_wake

#[cfg_attr(feature = "force-fallback", allow(dead_code))]
#[inline]
pub(super) fn wait(futex: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
    wait_with(futex, expected, deadline, true)
}

#[cfg_attr(feature = "force-fallback", allow(dead_code))]
#[inline]
pub(super) fn wake_one(futex: &AtomicU32) -> usize {
    wake_with(futex, 1, true)
}

#[cfg_attr(feature = "force-fallback", allow(dead_code))]
#[inline]
pub(super) fn wake_all(futex: &AtomicU32) -> usize {
    wake_with(futex, i32::MAX, true)
}
