//! Where blocked threads sleep: a futex word and a waiter count per condition, and the
//! handshake that lets the other side skip the wake (and its system call) when nobody sleeps,
//! or when everyone asleep has already been woken.
//!
//! Each side (getters, putters, joiners) has a [`Waiters`] pair: a futex word `seq` and a
//! `count` word. A thread that found nothing to do
//!
//! 1. loads `seq` (Acquire);
//! 2. registers: `count += ASLEEP` (SeqCst), then `fence(SeqCst)`;
//! 3. checks the store again, and only if still empty/full
//! 4. sleeps in `futex::wait(seq, loaded)`, and in every case then *leaves* (below).
//!
//! The other side changes the store with a SeqCst read-modify-write (the reservation CAS on
//! `tail`/`head` of the lock-free stores; for the `Lock` stores see `locked.rs`), then loads
//! `count` (SeqCst) and, only if its `ASLEEP` half is non-zero, *claims* a unit, bumps `seq`
//! (Release) and wakes.
//!
//! # The count word
//!
//! | half | meaning | `+1` by | `-1` by |
//! |---|---|---|---|
//! | `ASLEEP` (low) | registered waiters no notifier has claimed yet | `prepare` | a claim (moves it to `WOKEN`); a leaving thread when `WOKEN` is 0 |
//! | `WOKEN` (high) | claims whose wake no leaving thread has absorbed yet | a claim | a leaving thread, first |
//!
//! `ASLEEP + WOKEN` is the number of registered threads that have not left. Units are
//! anonymous. Claiming is what keeps a slow-to-run woken thread from costing every later put a
//! `futex_wake`: before claims existed a woken thread stayed counted until it got a core, and
//! on 2 busy cores a consumer could drain the whole ring meanwhile with one syscall per item
//! (25 005 wakes for 125 sleeps in `perf_scratch queue/bounded/4p4c`; now one wake per sleep).
//! crossbeam-channel's `SyncWaker` gets the same effect by removing the waiter it selects.
//!
//! # Why no wakeup is lost
//!
//! *Dekker.* If the notifier's load of `count` misses the registration, that load comes before
//! the registration in the single SeqCst order, so the notifier's earlier CAS also comes before
//! the waiter's fence, and every load the waiter makes after its fence (the re-check of step 3)
//! sees the CAS: the waiter finds the item or the room and does not sleep. Otherwise the
//! notifier sees a non-zero `ASLEEP` and claims.
//!
//! *Claims.* Call a registered thread *live* if it is asleep in the futex and not yet woken, or
//! has not slept yet and no `seq` bump happened since its step 1. Invariant: live threads
//! `<= ASLEEP`. Registering adds one of each. A claim takes one `ASLEEP` unit, bumps `seq` and
//! wakes one futex sleeper: that sleeper stops being live, and every not-yet-sleeping thread
//! stops being live too, because it loaded `seq` before the bump, so its futex wait returns at
//! once (the bump comes after the claim saw the registration, which comes after step 1). If no
//! thread slept, nothing is live after the bump. A leaving thread takes a `WOKEN` unit if there
//! is one (`ASLEEP` unchanged); otherwise `ASLEEP + WOKEN = ASLEEP` counts the leaver, who is
//! not live (it is awake, past step 4), so live `<= ASLEEP - 1`. Hence `ASLEEP == 0` means no
//! thread is asleep unwoken or can fall asleep on its current registration: skipping the wake is
//! safe. A thread woken but beaten to the item registers again (a new unit) and sleeps again.
//!
//! The store side therefore pays no fence and no syscall on its fast path: only a SeqCst load
//! of a line nobody writes while nobody sleeps (a plain `mov` on x86).
//!
//! The same ideas appear in std's futex `Condvar` (a counter as the futex word) and in
//! crossbeam-channel's `SyncWaker` (skip the notify unless someone registered: its `is_empty`
//! flag).

use std::ops::Deref;
use std::time::Instant;

use crate::futex;
use crate::sync::{
    AtomicU32, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
    fence,
};

/// Keeps its contents on its own pair of cache lines (128 bytes: x86's adjacent-line
/// prefetcher pulls lines in pairs, so 64 would still let two hot words share a fetch). This is
/// crossbeam-utils' `CachePadded` figure for x86-64 and aarch64.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> Deref for Padded<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Threads asleep (or about to sleep) waiting for one condition, and the word they sleep on.
///
/// The same pair serves between processes (`process::Queue`, in shared memory: hence
/// `repr(C)`) through the `_shared` methods, which sleep and wake on the shared futex instead
/// of the private one; the handshake is the same.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct Waiters {
    /// The futex word: a wake sequence number, bumped (wrapping) before every wake so that a
    /// waiter that loaded the old value cannot fall asleep after the wake. Its value means
    /// nothing else. (After 2^32 bumps between a waiter's load and its sleep the waiter could
    /// miss one wake: the same accepted risk as std's futex `Condvar`.)
    seq: AtomicU32,
    /// Two counts in one word (table in the module docs): `ASLEEP` units (registered threads no
    /// notifier has claimed yet) in the low half, `WOKEN` units (claims not yet absorbed by a
    /// leaving thread) in the high half. Notifiers skip the bump and the syscall while the low
    /// half is 0.
    count: AtomicUsize,
}

/// One registered, unclaimed waiter (low half of `count`).
const ASLEEP: usize = 1;
/// One claim not yet absorbed (high half of `count`).
const WOKEN: usize = 1 << (usize::BITS / 2);
/// The low half of `count`.
const ASLEEP_MASK: usize = WOKEN - 1;

// ANCHOR: handshake
impl Waiters {
    /// Steps 1 and 2 of the handshake: load the word to sleep on, then register.
    #[inline]
    pub(crate) fn prepare(&self) -> u32 {
        // Acquire: pairs with the Release bump in `claim`, so a bump seen here implies the
        // re-check sees the change the bump announced. Loaded *before* registering: a
        // notifier that claims our unit bumps `seq` after it saw the registration, so after
        // this load, and our futex wait on this value cannot sleep (module docs).
        let seq = self.seq.load(Acquire);
        // SeqCst + fence: the waiter half of the Dekker pair (module docs); the fence orders
        // the re-check's loads after the registration.
        self.count.fetch_add(ASLEEP, SeqCst);
        fence(SeqCst);
        seq
    }

    /// The re-check succeeded: leave without sleeping.
    #[inline]
    pub(crate) fn cancel(&self) {
        self.leave();
    }

    /// Step 4: sleep until woken, `seq` changes, or `deadline`; then leave.
    #[inline]
    pub(crate) fn sleep(&self, seq: u32, deadline: Option<Instant>) {
        futex::wait(&self.seq, seq, deadline);
        self.leave();
    }

    /// Deregisters: absorbs one `WOKEN` unit if there is one, else gives back one `ASLEEP`.
    #[cold]
    pub(crate) fn leave(&self) {
        // Relaxed: the counts carry no data; each update is one atomic read-modify-write.
        let mut count = self.count.load(Relaxed);
        loop {
            let new = if count >= WOKEN {
                count - WOKEN
            } else {
                count - ASLEEP
            };
            match self
                .count
                .compare_exchange_weak(count, new, Relaxed, Relaxed)
            {
                Ok(_) => return,
                Err(c) => count = c,
            }
        }
    }

    /// The notifier half: wake one sleeper if anyone is registered and unclaimed. One is
    /// enough per item or per slot freed; a woken thread that loses the item to a spinning one
    /// registers and sleeps again.
    #[inline]
    pub(crate) fn notify_one(&self) {
        loom_seq_cst_fence();
        // SeqCst: the notifier half of the Dekker pair; the store's SeqCst CAS comes before.
        if self.count.load(SeqCst) & ASLEEP_MASK != 0 {
            self.claim(1, Futex::Private);
        }
    }

    /// Wakes everyone registered (shutdown, join release).
    #[inline]
    pub(crate) fn notify_all(&self) {
        loom_seq_cst_fence();
        // SeqCst: as in `notify_one`.
        if self.count.load(SeqCst) & ASLEEP_MASK != 0 {
            self.claim(usize::MAX, Futex::Private);
        }
    }

    /// Moves up to `n` units from `ASLEEP` to `WOKEN`, then bumps `seq` and wakes as many.
    #[cold]
    fn claim(&self, n: usize, futex: Futex) {
        // Relaxed: the SeqCst load in `notify_*` did the handshake; this only picks units.
        let mut count = self.count.load(Relaxed);
        let claimed = loop {
            let k = (count & ASLEEP_MASK).min(n);
            if k == 0 {
                // Claimed by another notifier, or the waiters left: nothing to wake.
                return;
            }
            let new = count - k * ASLEEP + k * WOKEN;
            match self
                .count
                .compare_exchange_weak(count, new, Relaxed, Relaxed)
            {
                Ok(_) => break k,
                Err(c) => count = c,
            }
        };
        // Release: pairs with the Acquire load in `prepare`.
        self.seq.fetch_add(1, Release);
        match (futex, claimed) {
            (Futex::Private, 1) => {
                futex::wake_one(&self.seq);
            }
            (Futex::Private, _) => {
                futex::wake_all(&self.seq);
            }
            #[cfg(not(loom))]
            (Futex::Shared, 1) => crate::process::sys::wake_one(&self.seq),
            #[cfg(not(loom))]
            (Futex::Shared, _) => crate::process::sys::wake_all(&self.seq),
        }
    }
}
// ANCHOR_END: handshake

/// Which futex calls a [`Waiters`] sleeps and wakes with.
#[derive(Clone, Copy)]
enum Futex {
    /// The threads of one process.
    Private,
    /// Any process that maps the word (`process::Queue`).
    #[cfg(not(loom))]
    Shared,
}

/// Between processes: the same handshake, on the shared futex (the pair lives in shared
/// memory). A process killed while registered leaves its unit behind: at most one wake wasted
/// per later sleep, never one missed, and the process queue's sleeps are bounded anyway.
#[cfg(not(loom))]
impl Waiters {
    /// An empty pair, in a `const` (the process queue's constructor is one).
    pub(crate) const fn new() -> Waiters {
        Waiters {
            seq: AtomicU32::new(0),
            count: AtomicUsize::new(0),
        }
    }

    /// Step 4 between processes.
    #[inline]
    pub(crate) fn sleep_shared(&self, seq: u32, deadline: Option<Instant>) {
        crate::process::sys::wait(&self.seq, seq, deadline);
        self.leave();
    }

    /// [`notify_one`](Waiters::notify_one) between processes.
    #[inline]
    pub(crate) fn notify_one_shared(&self) {
        // SeqCst: as in `notify_one`.
        if self.count.load(SeqCst) & ASLEEP_MASK != 0 {
            self.claim(1, Futex::Shared);
        }
    }

    /// [`notify_all`](Waiters::notify_all) between processes.
    #[inline]
    pub(crate) fn notify_all_shared(&self) {
        // SeqCst: as in `notify_one`.
        if self.count.load(SeqCst) & ASLEEP_MASK != 0 {
            self.claim(usize::MAX, Futex::Shared);
        }
    }

    /// The futex word, for a waiter that sleeps elsewhere (`process::wait_any`).
    pub(crate) fn word(&self) -> &AtomicU32 {
        &self.seq
    }

    /// Registered waiters not yet claimed (a test's look).
    #[cfg(test)]
    pub(crate) fn asleep(&self) -> usize {
        self.count.load(Relaxed) & ASLEEP_MASK
    }
}

/// Under loom only, a SeqCst fence before the notifier's SeqCst load of `count`.
///
/// The handshake above relies on C++'s rule that a SeqCst load cannot read a value older than
/// a SeqCst write that precedes it in the single total order. loom models SeqCst loads and
/// stores no stronger than AcqRel (tokio-rs/loom#180; SeqCst *fences* it models exactly), so
/// without this fence it reports a deadlock the real memory model forbids (the task_done/join
/// model in `tests/loom_queue.rs`). Real builds compile to nothing here.
#[inline(always)]
fn loom_seq_cst_fence() {
    #[cfg(loom)]
    fence(SeqCst);
}
