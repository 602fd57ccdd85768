//! Windows: `WaitOnAddress`, `WakeByAddressSingle` and `WakeByAddressAll` (Windows 8 and later).
//!
//! These live in `synchronization.lib` (the API set `api-ms-win-core-synch-l1-2-0`), which is
//! what std's own Windows futex code links to as well.
//!
//! - wait: `WaitOnAddress(addr, &expected, 4, ms)` compares the 4 bytes at `addr` with
//!   `expected` and sleeps if they are equal. The timeout is *relative*, in milliseconds, with
//!   `INFINITE` (`u32::MAX`) meaning forever: each try recomputes the time left to the absolute
//!   deadline, rounds it *up* to whole milliseconds (so it never wakes before the deadline for
//!   lack of resolution) and clamps it below `INFINITE`. A timeout reports `FALSE` with
//!   `GetLastError() == ERROR_TIMEOUT`; we then return `false` only if `Instant` agrees that the
//!   deadline has passed (Windows timers run on the tick clock and may fire a little early), and
//!   otherwise sleep for the rest. There are no signals to retry: the wait is not alertable. A
//!   timed-out `WaitOnAddress` was not woken, so it swallowed no wake.
//! - wake: `WakeByAddressSingle` / `WakeByAddressAll` return nothing, so `wake_*` return 0.

use std::ffi::c_void;
use std::time::Instant;

use crate::sync::{AtomicU32, Ordering};

/// `WaitOnAddress`'s "no timeout".
const INFINITE: u32 = u32::MAX;
/// `GetLastError()` after a `WaitOnAddress` that timed out.
const ERROR_TIMEOUT: i32 = 1460;

#[link(name = "synchronization")]
unsafe extern "system" {
    fn WaitOnAddress(
        address: *const c_void,
        compare_address: *const c_void,
        address_size: usize,
        milliseconds: u32,
    ) -> i32; // BOOL
    fn WakeByAddressSingle(address: *const c_void);
    fn WakeByAddressAll(address: *const c_void);
}

pub(super) fn wait(futex: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
    loop {
        let ms = match deadline {
            None => INFINITE,
            Some(deadline) => {
                // Relaxed: a `true` return only says "look again"; the caller's own load orders.
                if futex.load(Ordering::Relaxed) != expected {
                    return true;
                }
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    return false;
                }
                // Round up, then stay below INFINITE: a finite wait must stay finite (a longer
                // one times out after ~49.7 days and goes round the loop).
                let ms = remaining.as_nanos().div_ceil(1_000_000);
                u32::try_from(ms).unwrap_or(INFINITE - 1).min(INFINITE - 1)
            }
        };
        // SAFETY: `futex.as_ptr()` points to a live, aligned 4-byte word for the whole call (we
        // hold a reference), and `compare_address` to the local `expected`, also 4 bytes, as
        // `address_size` says. WaitOnAddress only reads both.
        let ok = unsafe {
            WaitOnAddress(
                futex.as_ptr().cast_const().cast(),
                (&raw const expected).cast(),
                size_of::<u32>(),
                ms,
            )
        };
        if ok != 0 {
            return true; // woken, the word differed, or a spurious return
        }
        // std's `last_os_error` reads `GetLastError()` on Windows.
        if std::io::Error::last_os_error().raw_os_error() != Some(ERROR_TIMEOUT) {
            return true; // some other failure: report it as a spurious return
        }
        // Timed out: go round; the check above returns `false` once the deadline has passed.
    }
}

#[inline]
pub(super) fn wake_one(futex: &AtomicU32) -> usize {
    // SAFETY: the address of a live word (we hold a reference); it is only used as a key.
    unsafe { WakeByAddressSingle(futex.as_ptr().cast_const().cast()) };
    0
}

#[inline]
pub(super) fn wake_all(futex: &AtomicU32) -> usize {
    // SAFETY: the address of a live word (we hold a reference); it is only used as a key.
    unsafe { WakeByAddressAll(futex.as_ptr().cast_const().cast()) };
    0
}
