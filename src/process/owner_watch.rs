//! The death watcher (Linux): one thread per process, started the first time one of its
//! threads sleeps for a held process lock, that sleeps in `poll(2)` on the pidfds of the
//! holders this process's sleepers wait for, and wakes those sleepers when one exits.
//!
//! Why a thread: a futex sleep cannot also wait for a file descriptor, and a pidfd is the
//! kernel's own "this process has exited" signal. The sleeper registers `(its lock word, the
//! holder)` here before it sleeps; when the holder's pidfd becomes readable the watcher sets
//! [`DIED_HINT`] in the word (if it still names that holder's pid) and wakes everyone sleeping
//! on it. The hint is what makes the wake impossible to lose: a sleeper that has registered but
//! not yet called `futex_wait` finds the word changed and does not sleep. It is only a hint: the
//! woken sleeper judges the holder itself ([`owner::alive`](super::owner::alive)) before it
//! takes anything over, so a wrong hint costs a check, never a second holder.
//!
//! The registry, under one mutex:
//!
//! | entry | added by | removed by | watched |
//! |---|---|---|---|
//! | holder, not exited, with sleepers | the first sleeper for that identity (opens and checks the pidfd, then kicks the watcher) | — | yes |
//! | holder, exited (pidfd fired) | the watcher marks it | — | no; a new sleeper for it is told "dead" |
//! | holder with no sleepers left | the last sleeper leaving | the watcher, at its next round (closing the pidfd) | until then |
//!
//! Only the watcher removes entries (and closes pidfds), and new ones are appended, so the
//! descriptors it polls stay open and in order while it sleeps.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering::*};
use std::sync::{Mutex, MutexGuard};

use super::owner::{self, Opened};
use super::raw_lock::{DIED_HINT, PID_MASK};
use super::sys;

struct Holder {
    pid: u32,
    start: Option<u64>,
    pidfd: OwnedFd,
    exited: bool,
    /// (token, address of the sleeper's lock word).
    sleepers: Vec<(u64, usize)>,
}

struct State {
    holders: Vec<Holder>,
    next_token: u64,
}

struct Watcher {
    state: Mutex<State>,
    /// An eventfd: written to make the watcher look at the registry again.
    kick: OwnedFd,
}

/// The process's watcher, leaked once made; null until then (and again in a forked child).
static WATCHER: AtomicPtr<Watcher> = AtomicPtr::new(std::ptr::null_mut());
/// Set when the watcher could not be started: sleepers poll instead.
static BROKEN: AtomicBool = AtomicBool::new(false);

/// A sleeper's registration; give it back with [`unwatch`].
pub(super) struct Token(u64);

/// What [`watch`] found.
pub(super) enum Watch {
    /// Registered: the watcher will wake this word when the holder exits.
    Watching(Token),
    /// The holder is already dead (or its pid was reused): try the take-over now.
    Dead,
    /// No watcher or no pidfd: sleep in slices and check after each (the fallback).
    Unavailable,
}

fn lock(w: &Watcher) -> MutexGuard<'_, State> {
    w.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers `word`'s sleeper for the holder `(pid, start)`.
///
/// The caller must call [`unwatch`] before its borrow of `word` ends: the watcher may touch the
/// word until then.
pub(super) fn watch(word: &AtomicU32, pid: u32, start: Option<u64>) -> Watch {
    if !owner::pidfds_usable() {
        return Watch::Unavailable;
    }
    if pid == sys::my_pid() {
        // A thread of ours holds it (we would outlive no death of our own), unless the holder
        // was an earlier process with our pid.
        return if owner::alive(pid, start) {
            Watch::Unavailable
        } else {
            Watch::Dead
        };
    }
    let Some(w) = watcher() else {
        return Watch::Unavailable;
    };
    let addr = word as *const AtomicU32 as usize;
    {
        let mut st = lock(w);
        if let Some(got) = join(&mut st, pid, start, addr) {
            return got;
        }
    }
    // A holder nobody here watches yet: open and check its pidfd outside the lock.
    let pidfd = match owner::open_holder(pid, start) {
        Opened::Alive(fd) => fd,
        Opened::Dead => return Watch::Dead,
        Opened::Unavailable => return Watch::Unavailable,
    };
    let mut st = lock(w);
    if let Some(got) = join(&mut st, pid, start, addr) {
        return got; // another thread added it meanwhile; ours closes on drop
    }
    let token = st.next_token;
    st.next_token += 1;
    st.holders.push(Holder {
        pid,
        start,
        pidfd,
        exited: false,
        sleepers: vec![(token, addr)],
    });
    drop(st);
    kick(w);
    Watch::Watching(Token(token))
}

/// Adds a sleeper to an existing entry for `(pid, start)`, if there is one.
fn join(st: &mut State, pid: u32, start: Option<u64>, addr: usize) -> Option<Watch> {
    let token = st.next_token;
    let h = st
        .holders
        .iter_mut()
        .find(|h| h.pid == pid && h.start == start)?;
    if h.exited {
        return Some(Watch::Dead);
    }
    h.sleepers.push((token, addr));
    st.next_token += 1;
    Some(Watch::Watching(Token(token)))
}

/// Ends a registration; from now on the watcher never touches that sleeper's word.
pub(super) fn unwatch(token: Token) {
    // Acquire: as in `watcher`. A token exists only if WATCHER was set.
    let p = WATCHER.load(Acquire);
    if p.is_null() {
        return;
    }
    // SAFETY: a non-null WATCHER points to a leaked Box, never freed.
    let w = unsafe { &*p };
    let mut st = lock(w);
    for h in &mut st.holders {
        if let Some(i) = h.sleepers.iter().position(|&(t, _)| t == token.0) {
            h.sleepers.swap_remove(i);
            if h.exited && h.sleepers.is_empty() {
                drop(st);
                kick(w); // let the watcher prune the dead entry now, not at its next round
            }
            return;
        }
    }
}

/// The watcher, started on first use; `None` if it cannot be.
fn watcher() -> Option<&'static Watcher> {
    // Acquire: pairs with the AcqRel publication below, so the Watcher's fields are visible.
    let p = WATCHER.load(Acquire);
    if !p.is_null() {
        // SAFETY: a non-null WATCHER points to a leaked Box, never freed.
        return (!BROKEN.load(Relaxed)).then(|| unsafe { &*p });
    }
    if BROKEN.load(Relaxed) {
        return None;
    }
    // SAFETY: eventfd takes two integers and returns a new descriptor or -1.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return None;
    }
    let fresh = Box::into_raw(Box::new(Watcher {
        state: Mutex::new(State {
            holders: Vec::new(),
            next_token: 0,
        }),
        // SAFETY: `fd` was just returned by eventfd and belongs to nobody else.
        kick: unsafe { OwnedFd::from_raw_fd(fd) },
    }));
    // AcqRel: publishes `fresh` to the Acquire load above; Acquire on failure: see the winner's.
    match WATCHER.compare_exchange(std::ptr::null_mut(), fresh, AcqRel, Acquire) {
        Ok(_) => {
            // SAFETY: `fresh` is leaked from here on: it lives for the rest of the process.
            let w: &'static Watcher = unsafe { &*fresh };
            let started = std::thread::Builder::new()
                .name("synclab-owner-watch".into())
                .spawn(move || run(w));
            if started.is_err() {
                BROKEN.store(true, Relaxed);
                return None;
            }
            Some(w)
        }
        Err(winner) => {
            // SAFETY: `fresh` came from Box::into_raw above and was never shared.
            drop(unsafe { Box::from_raw(fresh) });
            // SAFETY: as for the fast path: the winner is a leaked, never-freed Box.
            (!BROKEN.load(Relaxed)).then(|| unsafe { &*winner })
        }
    }
}

fn kick(w: &Watcher) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64 to our eventfd; a full counter (EAGAIN) means a
    // kick is pending anyway.
    unsafe { libc::write(w.kick.as_raw_fd(), (&one as *const u64).cast(), 8) };
}

// ANCHOR: watcher
/// The watcher's loop: prune, poll the kick and every live holder's pidfd, wake the sleepers of
/// the holders that exited.
fn run(w: &'static Watcher) {
    let mut fds: Vec<libc::pollfd> = Vec::new();
    loop {
        fds.clear();
        fds.push(pollin(w.kick.as_raw_fd()));
        {
            let mut st = lock(w);
            st.holders.retain(|h| !h.sleepers.is_empty()); // closes their pidfds
            // A negative fd is skipped by poll: exited holders wait only to be pruned.
            fds.extend(
                st.holders
                    .iter()
                    .map(|h| pollin(if h.exited { -1 } else { h.pidfd.as_raw_fd() })),
            );
        }
        // SAFETY: `fds` is a valid array of `fds.len()` pollfds for the whole call; every
        // descriptor in it stays open, since only this thread closes them (in `retain`).
        let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if r < 0 {
            if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                std::thread::sleep(super::raw_lock::SLICE); // ENOMEM: sleepers still poll
            }
            continue;
        }
        if fds[0].revents != 0 {
            let mut count = 0u64;
            // SAFETY: reads 8 bytes into a live u64 from our non-blocking eventfd.
            unsafe { libc::read(w.kick.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
        }
        let mut st = lock(w);
        // Entries were only appended since the poll: index i + 1 of `fds` is holder i.
        for (h, p) in st.holders.iter_mut().zip(&fds[1..]) {
            if p.revents != 0 && !h.exited {
                h.exited = true;
                for &(_, addr) in &h.sleepers {
                    // SAFETY: a sleeper's word stays borrowed until it unwatches, which takes
                    // the mutex we hold, so the address is that of a live AtomicU32.
                    nudge(unsafe { &*(addr as *const AtomicU32) }, h.pid);
                }
            }
        }
    }
}
// ANCHOR_END: watcher

fn pollin(fd: i32) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// Sets [`DIED_HINT`] in `word` if it still names `pid`, then wakes every sleeper on it (in any
/// process: they all must look). Relaxed: the hint carries no data; the sleeper re-reads the
/// word and judges the holder itself.
fn nudge(word: &AtomicU32, pid: u32) {
    let mut w = word.load(Relaxed);
    while w & PID_MASK == pid && w & DIED_HINT == 0 {
        match word.compare_exchange_weak(w, w | DIED_HINT, Relaxed, Relaxed) {
            Ok(_) => break,
            Err(now) => w = now,
        }
    }
    sys::wake_all(word);
}

/// In a child made by a bare `fork`: the parent's watcher thread does not exist here. Forget
/// it (leaking it; its mutex may have been held at the fork) so the child starts its own.
pub(super) fn forget_in_forked_child() {
    WATCHER.store(std::ptr::null_mut(), Relaxed);
    BROKEN.store(false, Relaxed);
}
