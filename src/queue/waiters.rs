//! Where blocked threads sleep: a futex word and a sleeper count per condition, and the
//! handshake that lets the other side skip the wake (and its system call) when nobody sleeps.
//!
//! Each side (getters, putters, joiners) has a [`Waiters`] pair: a futex word `seq` and a
//! `sleepers` count. A thread that found nothing to do
//!
//! 1. registers: `sleepers += 1` (SeqCst), then `fence(SeqCst)`;
//! 2. loads `seq` (Acquire);
//! 3. checks the store again, and only if still empty/full
//! 4. sleeps in `futex::wait(seq, loaded)`.
//!
//! The other side changes the store with a SeqCst read-modify-write (the reservation CAS on
//! `tail`/`head` of the lock-free stores; for the `Lock` stores see `locked.rs`), then loads
//! `sleepers` (SeqCst) and, only if it is non-zero, bumps `seq` (Release) and wakes.
//!
//! This is Dekker's pattern. If the notifier's load of `sleepers` misses the registration, that
//! load comes before the registration in the single SeqCst order, so the notifier's earlier CAS
//! also comes before the waiter's fence, and every load the waiter makes after its fence (the
//! re-check of step 3) sees the CAS: the waiter finds the item or the room and never sleeps.
//! Otherwise the notifier sees the registration and bumps `seq`; if the bump came before step 2,
//! step 2's Acquire load pairs with the bump's Release and the re-check sees the change; if it
//! came after, `seq` no longer holds the loaded value and the futex returns at once. The store
//! side therefore pays no fence and no syscall on its fast path: only a SeqCst load of a line
//! nobody writes while nobody sleeps (a plain `mov` on x86).
//!
//! The same ideas appear in std's futex `Condvar` (a counter as the futex word) and in
//! crossbeam-channel's `SyncWaker` (skip the notify unless someone registered: its `is_empty`
//! flag).

use std::ops::Deref;
use std::time::Instant;

use crate::futex;
use crate::sync::{
    AtomicU32,
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
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    /// The futex word: a wake sequence number, bumped (wrapping) before every wake so that a
    /// waiter that loaded the old value cannot fall asleep after the wake. Its value means
    /// nothing else. (After 2^32 bumps between a waiter's load and its sleep the waiter could
    /// miss one wake: the same accepted risk as std's futex `Condvar`.)
    seq: AtomicU32,
    /// How many threads are between step 1 (register) and their return from the futex wait.
    /// Notifiers skip the bump and the syscall while it is 0.
    sleepers: AtomicU32,
}

// ANCHOR: handshake
impl Waiters {
    /// Steps 1 and 2 of the handshake: register, then load the word to sleep on.
    #[inline]
    pub(crate) fn prepare(&self) -> u32 {
        // SeqCst + fence: the waiter half of the Dekker pair (module docs); the fence orders
        // the re-check's loads after the registration.
        self.sleepers.fetch_add(1, SeqCst);
        fence(SeqCst);
        // Acquire: pairs with the Release bump in `wake_*`, so a bump seen here implies the
        // re-check sees the change the bump announced.
        self.seq.load(Acquire)
    }

    /// The re-check succeeded: leave without sleeping.
    #[inline]
    pub(crate) fn cancel(&self) {
        // Relaxed: a stale higher count only costs a notifier a spare wake.
        self.sleepers.fetch_sub(1, Relaxed);
    }

    /// Step 4: sleep until woken, `seq` changes, or `deadline`; then deregister.
    #[inline]
    pub(crate) fn sleep(&self, seq: u32, deadline: Option<Instant>) {
        futex::wait(&self.seq, seq, deadline);
        // Relaxed: as in `cancel`.
        self.sleepers.fetch_sub(1, Relaxed);
    }

    /// The notifier half: wake one sleeper if anyone is registered. One is enough per item or
    /// per slot freed; a woken thread that loses the item to a spinning one sleeps again.
    #[inline]
    pub(crate) fn notify_one(&self) {
        loom_seq_cst_fence();
        // SeqCst: the notifier half of the Dekker pair; the store's SeqCst CAS comes before.
        if self.sleepers.load(SeqCst) != 0 {
            self.wake_one();
        }
    }

    #[cold]
    fn wake_one(&self) {
        // Release: pairs with the Acquire load in `prepare`.
        self.seq.fetch_add(1, Release);
        futex::wake_one(&self.seq);
    }
    // ANCHOR_END: handshake

    #[cold]
    fn wake_all(&self) {
        // Release: pairs with the Acquire load in `prepare`.
        self.seq.fetch_add(1, Release);
        futex::wake_all(&self.seq);
    }

    /// Wakes everyone registered (shutdown, join release).
    #[inline]
    pub(crate) fn notify_all(&self) {
        loom_seq_cst_fence();
        // SeqCst: as in `notify_one`.
        if self.sleepers.load(SeqCst) != 0 {
            self.wake_all();
        }
    }
}

/// Under loom only, a SeqCst fence before the notifier's SeqCst load of `sleepers`.
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
