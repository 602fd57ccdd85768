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

/// `struct futex_waitv` of `<linux/futex.h>`: one word of a `futex_waitv` call.
#[cfg(target_os = "linux")]
#[repr(C)]
struct FutexWaitv {
    val: u64,
    uaddr: u64,
    flags: u32,
    reserved: u32,
}

/// `FUTEX2_SIZE_U32`: the word is 32 bits (the only size the kernel supports so far).
#[cfg(target_os = "linux")]
const FUTEX2_SIZE_U32: u32 = 0x02;

/// `futex_waitv(2)` takes at most this many words (`FUTEX_WAITV_MAX`).
#[cfg(target_os = "linux")]
pub(super) const WAITV_MAX: usize = 128;

/// `struct __kernel_timespec`: 64-bit fields on every architecture (unlike `libc::timespec`).
#[cfg(target_os = "linux")]
#[repr(C)]
struct KernelTimespec {
    tv_sec: i64,
    tv_nsec: i64,
}

// ANCHOR: linux_waitv
/// Sleeps until one of `words` (each with the value it must still hold) is woken, or the
/// deadline passes: `futex_waitv(2)`, Linux 5.16+. `Some(true)`: woken, or some word no longer
/// held its value (go and look); `Some(false)`: the deadline passed; `None`: this kernel has no
/// `futex_waitv` (`ENOSYS`), or there are more than [`WAITV_MAX`] words.
#[cfg(target_os = "linux")]
pub(super) fn wait_any_with(
    words: &[(&AtomicU32, u32)],
    deadline: Option<Instant>,
    private: bool,
) -> Option<bool> {
    if words.len() > WAITV_MAX {
        return None;
    }
    let flags = FUTEX2_SIZE_U32
        | if private {
            libc::FUTEX_PRIVATE_FLAG as u32
        } else {
            0
        };
    let waiters: Vec<FutexWaitv> = words
        .iter()
        .map(|&(word, expected)| FutexWaitv {
            val: u64::from(expected),
            uaddr: word.as_ptr() as usize as u64,
            flags,
            reserved: 0,
        })
        .collect();
    // `time_t` and `c_long` are 32 bits on some 32-bit targets, 64 here.
    #[allow(clippy::useless_conversion)]
    let timespec = deadline.and_then(to_timespec).map(|t| KernelTimespec {
        tv_sec: i64::from(t.tv_sec),
        tv_nsec: i64::from(t.tv_nsec),
    });
    let timeout_ptr = timespec
        .as_ref()
        .map_or(ptr::null(), |t| t as *const KernelTimespec);
    loop {
        // SAFETY: `waiters`: ≤ 128 live records, each naming a live aligned u32; flags 0 as
        // required; `timeout_ptr` null or `timespec` (absolute CLOCK_MONOTONIC), outliving it.
        let r = unsafe {
            libc::syscall(
                libc::SYS_futex_waitv,
                waiters.as_ptr(),
                waiters.len() as libc::c_uint,
                0 as libc::c_uint,
                timeout_ptr,
                libc::CLOCK_MONOTONIC,
            )
        };
        if r >= 0 {
            return Some(true); // r is the index of the word that was woken
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EINTR) => continue, // a signal: same call, same absolute deadline
            Some(libc::ETIMEDOUT) => return Some(false),
            Some(libc::ENOSYS) => return None,
            // EAGAIN: a word did not hold its value. Anything else is a spurious return.
            _ => return Some(true),
        }
    }
}
// ANCHOR_END: linux_waitv
