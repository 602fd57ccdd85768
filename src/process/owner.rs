//! Who holds a process lock, and whether that process still lives, as the kernel sees it.
//!
//! A pid alone is a weak name for a process: a killed child stays a *zombie* (its pid taken)
//! until its parent reaps it, and once reaped its pid may go to a new process. So a holder is
//! named by its **identity**, the pair (pid, start time), where the start time is field 22 of
//! `/proc/PID/stat` (clock ticks after boot), which differs between two processes that had the
//! same pid. [`RawLock`](super::raw_lock::RawLock) keeps it packed in one `u64` beside the lock
//! word ([`pack`]).
//!
//! [`alive`] judges a holder. On Linux it opens a **pidfd** of the pid (`pidfd_open`, Linux 5.3):
//! a file descriptor bound to one process, never to a later process with the same pid, which
//! becomes readable when that process has exited, zombie or not. Where `pidfd_open` is missing
//! (`ENOSYS`, or `EPERM` from a seccomp filter), or [`force_polling`] says so, it falls back to
//! `kill(pid, 0)`, which counts a zombie as alive. Both compare the start time when it is known.
//!
//! | what the kernel says about `pid` | start time in `/proc/PID/stat` | verdict |
//! |---|---|---|
//! | no such process (`ESRCH`) | — | dead |
//! | pidfd readable: exited (a zombie, or being reaped) | — | dead |
//! | running | differs from the recorded one: the pid was reused | dead |
//! | running | equal, or not recorded, or `/proc` unreadable | alive |
//! | running (fallback: `kill(pid, 0)` finds it; a zombie lands here) | as above | as above |
//!
//! The verdict "dead" must never be wrong (a wrong one gives the lock to two processes); the
//! verdict "alive" may be, only when the start time is unknown, in which case a holder whose
//! pid was reused looks alive, as it did before identities.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::sys;

/// The low bits of a packed identity hold the pid: Linux pids are below `PID_MAX_LIMIT`, 2^22.
pub(super) const ID_PID_BITS: u32 = 22;
const ID_PID_MASK: u64 = (1 << ID_PID_BITS) - 1;

/// Packs (pid, start) into one word, or `0` (= unknown) when either does not fit.
pub(super) fn pack(pid: u32, start: Option<u64>) -> u64 {
    match start {
        Some(s)
            if pid != 0 && u64::from(pid) <= ID_PID_MASK && s < (1 << (64 - ID_PID_BITS)) - 1 =>
        {
            s << ID_PID_BITS | u64::from(pid)
        }
        _ => 0,
    }
}

/// The start time in a packed identity, if the identity is known and names `pid`.
pub(super) fn start_in(id: u64, pid: u32) -> Option<u64> {
    (id != 0 && id & ID_PID_MASK == u64::from(pid)).then_some(id >> ID_PID_BITS)
}

/// This process's packed identity, cached; `u64::MAX` = looked up, unknown.
static MY_ID: AtomicU64 = AtomicU64::new(0);

/// This process's packed identity (`0` if unknown), read once from `/proc/self/stat`.
#[inline]
pub(super) fn my_id() -> u64 {
    // Relaxed: every thread computes the same value; the race only repeats the lookup.
    match MY_ID.load(Relaxed) {
        0 => {
            let pid = sys::my_pid();
            let id = pack(pid, start_time(pid));
            MY_ID.store(if id == 0 { u64::MAX } else { id }, Relaxed);
            id
        }
        u64::MAX => 0,
        id => id,
    }
}

/// Called in a child made by a bare `fork` (from `sys`'s `pthread_atfork` handler): the child
/// has another pid and start time, and none of its parent's threads. Atomic stores only, so it
/// is async-signal-safe.
#[cfg(all(unix, not(miri)))]
pub(super) fn forget_in_forked_child() {
    MY_ID.store(0, Relaxed);
    #[cfg(all(target_os = "linux", not(miri)))]
    super::owner_watch::forget_in_forked_child();
}

/// Set once `pidfd_open` answered `ENOSYS` or `EPERM`: this kernel (or sandbox) has none.
#[cfg(all(target_os = "linux", not(miri)))]
static NO_PIDFD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

thread_local! {
    static FORCE_POLLING: Cell<bool> = const { Cell::new(false) };
}

/// Makes the current thread judge holders and wait for them the old way, `kill(pid, 0)` after
/// each 50 ms slice of sleep, as if the kernel had no pidfds. For tests and for the
/// `owner_died_latency` example, which measures both ways; other threads are not affected.
pub fn force_polling(on: bool) {
    FORCE_POLLING.with(|f| f.set(on));
}

/// `true` when this thread may use pidfds.
#[cfg(all(target_os = "linux", not(miri)))]
pub(super) fn pidfds_usable() -> bool {
    !NO_PIDFD.load(Relaxed) && !FORCE_POLLING.with(Cell::get)
}

/// How opening a pidfd for a recorded holder went.
#[cfg(all(target_os = "linux", not(miri)))]
pub(super) enum Opened {
    /// The holder lives, and this pidfd is bound to it.
    Alive(std::os::fd::OwnedFd),
    /// The holder is dead: see the table in the module docs.
    Dead,
    /// No pidfd this time (no kernel support, or out of descriptors): use the fallback.
    Unavailable,
}

// ANCHOR: open_holder
/// Opens a pidfd of the holder `(pid, start)` and checks that it is that holder, alive.
///
/// The order matters: pidfd first, start time second, readiness last. If the pidfd's process
/// has not exited at the last step, it held `pid` all along, so the start time read in between
/// was its own; if it has exited, the holder is dead, whoever has the pid now.
#[cfg(all(target_os = "linux", not(miri)))]
pub(super) fn open_holder(pid: u32, start: Option<u64>) -> Opened {
    use std::os::fd::FromRawFd;
    let Ok(raw_pid) = libc::pid_t::try_from(pid) else {
        return Opened::Dead; // no Linux pid is that large
    };
    // SAFETY: pidfd_open takes a pid and flags (0) and returns a new descriptor or -1; it
    // touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, raw_pid, 0) };
    if fd < 0 {
        return match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::ESRCH) => Opened::Dead,
            Some(libc::ENOSYS | libc::EPERM) => {
                NO_PIDFD.store(true, Relaxed);
                Opened::Unavailable
            }
            _ => Opened::Unavailable, // EMFILE, ENOMEM...: fall back this time
        };
    }
    // SAFETY: `fd` is a descriptor the kernel just gave us, owned by nobody else.
    let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) };
    let reused = match (start, start_time(pid)) {
        (Some(recorded), Some(now)) => recorded != now,
        _ => false,
    };
    if exited(&fd) || reused {
        Opened::Dead
    } else {
        Opened::Alive(fd)
    }
}
// ANCHOR_END: open_holder

/// `true` if the process of `pidfd` has exited: a pidfd polls readable from then on.
#[cfg(all(target_os = "linux", not(miri)))]
pub(super) fn exited(pidfd: &std::os::fd::OwnedFd) -> bool {
    use std::os::fd::AsRawFd;
    let mut p = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: `p` is one valid pollfd for the duration of the call; timeout 0 never blocks.
        let r = unsafe { libc::poll(&mut p, 1, 0) };
        if r >= 0 {
            return r > 0 && p.revents & libc::POLLIN != 0;
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return false; // cannot tell: "alive" is the safe answer
        }
    }
}

/// `false` only when the holder `(pid, start)` certainly no longer lives (the module's table).
pub(super) fn alive(pid: u32, start: Option<u64>) -> bool {
    if pid == sys::my_pid() {
        // Ourselves, unless the holder was an earlier process with our pid.
        return match (start, start_in(my_id(), pid)) {
            (Some(recorded), Some(mine)) => recorded == mine,
            _ => true,
        };
    }
    #[cfg(all(target_os = "linux", not(miri)))]
    if pidfds_usable() {
        match open_holder(pid, start) {
            Opened::Alive(_) => return true,
            Opened::Dead => return false,
            Opened::Unavailable => {}
        }
    }
    if !sys::alive(pid) {
        return false;
    }
    !matches!((start, start_time(pid)), (Some(recorded), Some(now)) if recorded != now)
}

/// The start time of process `pid` (field 22 of `/proc/PID/stat`, clock ticks after boot), or
/// `None` if there is no such file or it does not parse.
///
/// Plain `open`/`read`/`close` into a stack buffer, no allocation: a child made by a bare
/// `fork` may call this (through [`my_id`]) where only async-signal-safe calls are allowed.
pub(super) fn start_time(pid: u32) -> Option<u64> {
    #[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
    {
        let mut path = [0u8; 32];
        let n = proc_stat_path(pid, &mut path);
        let mut buf = [0u8; 1024];
        // SAFETY: `path` is NUL-terminated (`proc_stat_path` leaves the last bytes 0).
        let fd =
            unsafe { libc::open(path[..=n].as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        // SAFETY: `buf` is writable for its whole length; `fd` is ours and open.
        let len = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        // SAFETY: `fd` is ours and closed once.
        unsafe { libc::close(fd) };
        let text = buf.get(..usize::try_from(len).ok()?)?;
        parse_start_time(text)
    }
    #[cfg(not(all(any(target_os = "linux", target_os = "android"), not(miri))))]
    {
        let _ = pid;
        None
    }
}

/// Writes `/proc/<pid>/stat` into `out` and returns its length (the NUL follows it).
#[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
fn proc_stat_path(pid: u32, out: &mut [u8; 32]) -> usize {
    let mut digits = [0u8; 10];
    let (mut n, mut p) = (0, pid);
    loop {
        digits[n] = b'0' + (p % 10) as u8;
        n += 1;
        p /= 10;
        if p == 0 {
            break;
        }
    }
    let mut len = 0;
    for &b in b"/proc/"
        .iter()
        .chain(digits[..n].iter().rev())
        .chain(b"/stat")
    {
        out[len] = b;
        len += 1;
    }
    len
}

/// Field 22 of a `/proc/PID/stat` line. The command name (field 2) is in parentheses and may
/// itself hold spaces and parentheses, so fields are counted from the *last* `)`.
#[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
fn parse_start_time(stat: &[u8]) -> Option<u64> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    // After the name: field 3 (state) is the first, so field 22 is the 20th.
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

#[cfg(all(test, any(target_os = "linux", target_os = "android"), not(miri)))]
mod tests {
    use super::*;

    #[test]
    fn parses_field_22_after_a_name_with_spaces_and_parentheses() {
        let line = b"42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 \
                     200 18446744073709551615";
        assert_eq!(parse_start_time(line), Some(98765));
        assert_eq!(parse_start_time(b"42 (x) S 1 2"), None);
        assert_eq!(parse_start_time(b"no parenthesis"), None);
    }

    #[test]
    fn path_and_packing() {
        let mut out = [0u8; 32];
        let n = proc_stat_path(4_194_303, &mut out);
        assert_eq!(&out[..n], b"/proc/4194303/stat");
        assert_eq!(out[n], 0);
        let id = pack(1234, Some(5678));
        assert_eq!(start_in(id, 1234), Some(5678));
        assert_eq!(start_in(id, 1235), None);
        assert_eq!(pack(1 << 22, Some(1)), 0);
        assert_eq!(pack(1, None), 0);
        assert_eq!(start_in(0, 0), None);
    }
}
