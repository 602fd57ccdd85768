//! The queue side of [`RawLock`]: parking a thread in its bucket's queue, leaving it at a
//! deadline, and the unlock's slow half that dequeues and wakes (or hands the lock over).

use std::time::Instant;

#[cfg(loom)]
use super::PARKS;
use super::table::{self, Bucket, HANDED_OFF, INVALID, Node, TIMED_OUT, WOKEN, bucket};
use super::{LOCKED_BIT, PARKED_BIT, RawLock, WOKEN_BIT};
use crate::sync::Ordering::{Acquire, Relaxed, Release};

impl RawLock {
    // ANCHOR: park
    /// Queues this thread on the lock and sleeps until an unlock dequeues it. Returns the token
    /// it was woken with, `INVALID` at once if the lock changed before it could queue, or
    /// `TIMED_OUT` if `deadline` passed and it took itself out of the queue.
    pub(super) fn park(&self, deadline: Option<Instant>, since: Instant, requeued: bool) -> u32 {
        let key = self.key();
        let bucket = bucket(key);
        let node = Node::new(key, since, requeued);
        bucket.lock.lock();
        // Relaxed: the bucket lock orders this load after every store an unlock made under it.
        // (WOKEN may be set: the woken thread is still to look at the lock, invariant 3.)
        if self.state.load(Relaxed) & (LOCKED_BIT | PARKED_BIT) != LOCKED_BIT | PARKED_BIT {
            // SAFETY: taken just above.
            unsafe { bucket.lock.unlock() };
            return INVALID;
        }
        // SAFETY: the bucket lock is held; `node` stays where it is, on this frame, which does
        // not return before an unlock has dequeued it and set its token.
        unsafe {
            bucket.with_queue(|q| {
                if node.requeued() {
                    q.push_front(&node);
                } else {
                    q.push(&node);
                }
            });
        }
        // SAFETY: taken just above.
        unsafe { bucket.lock.unlock() };
        #[cfg(loom)]
        PARKS.with(|n| n.set(n.get() + 1));
        loop {
            // Acquire: pairs with the Release store of the token in `unlock_slow`, so that a
            // hand-off brings the previous holder's writes with it.
            match node.token.load(Acquire) {
                // Woken, or early: look again.
                table::WAITING if node.parker.park_until(deadline) => {}
                table::WAITING => return self.leave(bucket, &node),
                token => return token,
            }
        }
    }

    /// A parked thread's deadline has passed: it takes its node out of the queue, unless an
    /// unlock dequeued it first (then it was woken after all, and returns that token).
    #[cold]
    fn leave(&self, bucket: &Bucket, node: &Node) -> u32 {
        bucket.lock.lock();
        // Acquire: as in `park`. Under the bucket lock, WAITING means still queued: an unlock
        // stores the token before it lets go of the bucket.
        let token = node.token.load(Acquire);
        if token == table::WAITING {
            // SAFETY: the bucket lock is held, and `node` is queued (its token says so).
            if !unsafe { bucket.with_queue(|q| q.remove(node)) } {
                // The last one for this lock: clear PARKED, as `unlock_slow` does (invariant 2).
                // Relaxed: the bucket lock orders it for parkers.
                self.state.fetch_and(!PARKED_BIT, Relaxed);
            }
        }
        // SAFETY: taken above.
        unsafe { bucket.lock.unlock() };
        if token == table::WAITING {
            TIMED_OUT
        } else {
            token
        }
    }
    // ANCHOR_END: park

    // ANCHOR: unlock_slow
    /// The rest of `unlock` when threads were parked: the lock is already free (and may be held
    /// by another thread by now), but `&self` is still borrowed for this call, so the word is
    /// alive (the same contract that lets std's futex mutex wake after its release).
    #[cold]
    pub(super) fn unlock_slow(&self) {
        // Held again already (that holder's unlock will see PARKED), or a woken thread is still
        // to look at the lock (invariant 3): nobody to wake now. This is what keeps a holder
        // that retakes the lock at once from waking, one unlock after another, parked threads
        // that can only find it held and park again. Relaxed: ordered by the word itself.
        if self.state.load(Relaxed) & (LOCKED_BIT | WOKEN_BIT) != 0 {
            return;
        }
        let bucket = bucket(self.key());
        bucket.lock.lock();
        // SAFETY: the bucket lock is held.
        let (node, more) = unsafe { bucket.with_queue(|q| q.remove_first(self.key())) };
        if !more {
            // The last one (or nobody yet: a waiter that set PARKED but has not queued sees the
            // bit gone under the bucket lock and retries). `fetch_and`, not a store: another
            // thread may hold the lock by now. Relaxed: the bucket lock orders it for parkers.
            self.state.fetch_and(!PARKED_BIT, Relaxed);
        }
        match node {
            Some(node) => {
                // A thread that has waited too long is handed the lock, if nobody has barged in
                // meanwhile (that thread's unlock will come here in turn): it wakes holding it.
                // SAFETY: `node` was just dequeued under the bucket lock, so it is alive.
                let token = if unsafe { (*node).overdue() } && self.try_lock() {
                    HANDED_OFF
                } else {
                    // Relaxed: the woken thread learns of it from its token (Release/Acquire).
                    self.state.fetch_or(WOKEN_BIT, Relaxed);
                    WOKEN
                };
                // SAFETY: the bucket lock is held, and `node` was just dequeued.
                unsafe { wake(bucket, node, token) }
            }
            // SAFETY: taken above.
            None => unsafe { bucket.lock.unlock() },
        }
    }

    /// The rest of `unlock_fair` when threads are parked: the lock is still held.
    #[cold]
    pub(super) fn unlock_fair_slow(&self) {
        let bucket = bucket(self.key());
        bucket.lock.lock();
        // SAFETY: the bucket lock is held.
        let (node, more) = unsafe { bucket.with_queue(|q| q.remove_first(self.key())) };
        // Read-modify-writes, not parking_lot's plain stores (which are sound: we hold the lock,
        // and a waiter setting PARKED meanwhile re-checks under the bucket lock). loom 0.7,
        // though, let this thread read back a value older than its own plain store here
        // ("stored 0, read 3") and then reported a deadlock; the RMWs cost the same on a path
        // that wakes a thread anyway.
        let Some(node) = node else {
            // Nobody queued yet (see `unlock_slow`). Release: as in `unlock`.
            self.state.fetch_and(!(LOCKED_BIT | PARKED_BIT), Release);
            // SAFETY: taken above.
            return unsafe { bucket.lock.unlock() };
        };
        if !more {
            // LOCKED stays set. Relaxed: the bucket lock orders it for parkers.
            self.state.fetch_and(!PARKED_BIT, Relaxed);
        }
        // The lock stays LOCKED and passes to the woken thread, which gets our writes through
        // the token's Release.
        // SAFETY: the bucket lock is held, and `node` was just dequeued.
        unsafe { wake(bucket, node, HANDED_OFF) };
    }
    // ANCHOR_END: unlock_slow
}

/// Gives a dequeued node its token, releases the bucket, and wakes the node's thread.
///
/// # Safety
///
/// `bucket.lock` is held, and `node` has just been taken out of its queue (so it is alive, and
/// its thread is parked on it or about to look at its token).
unsafe fn wake(bucket: &Bucket, node: *const Node, token: u32) {
    // SAFETY: `node` is alive until the token store below (its thread leaves only after seeing
    // a token); after that store it is not touched again.
    let parker = unsafe { (*node).parker.clone() };
    // SAFETY: as above. Release: pairs with the Acquire load in `park`.
    unsafe { (*node).token.store(token, Release) };
    // SAFETY: held, by the contract.
    unsafe { bucket.lock.unlock() };
    parker.unpark();
}
