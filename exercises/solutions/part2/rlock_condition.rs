//! # Exercise `rlock_condition` — Part II, "RLock"
//!
//! Let a condition variable wait with a re-entrant lock, as Python's default `Condition()`
//! does: the waiting thread may hold the lock several times, so `wait` must give up *every*
//! level (or the notifier could never get in) and, on waking, take the lock back with exactly
//! the count it had (or the thread's other guards would unlock too early, or never). CPython
//! calls the two halves `_release_save` and `_acquire_restore`; you write them. The lock and
//! the condition variable around them are given.
//!
//! Check your work: `cargo xtask check rlock_condition`

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use synclab::{RawLock, futex};

/// `owner` when no thread holds the lock (thread ids start at 1).
const NO_OWNER: usize = 0;

/// This thread's id: nonzero, and never reused by another thread.
fn current_thread_id() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    // Relaxed: the counter only has to hand out distinct numbers.
    std::thread_local!(static ID: usize = NEXT.fetch_add(1, Relaxed));
    ID.with(|id| *id)
}

/// A re-entrant lock (the `rlock_owner` exercise, solved): a raw lock, the owner's id, and how
/// many guards the owner holds.
pub struct ReentrantLock<T> {
    raw: RawLock,
    /// The holder's thread id, or `NO_OWNER`. Only the owner writes it.
    owner: AtomicUsize,
    /// How many guards the owner holds; 0 when free. Only the owner touches it.
    count: AtomicU32,
    data: T,
}

// SAFETY: the raw lock lets one thread at a time reach `&T`, so `T` need not be `Sync`; it
// must be `Send`, since the threads take turns with it.
unsafe impl<T: Send> Sync for ReentrantLock<T> {}

impl<T> ReentrantLock<T> {
    /// A new, unlocked lock holding `value`.
    pub const fn new(value: T) -> Self {
        ReentrantLock {
            raw: RawLock::new(),
            owner: AtomicUsize::new(NO_OWNER),
            count: AtomicU32::new(0),
            data: value,
        }
    }

    /// Takes the lock, blocking while another thread holds it; at once if this thread does.
    pub fn lock(&self) -> ReentrantGuard<'_, T> {
        let me = current_thread_id();
        // Relaxed: only this thread stores its id, and it clears it before letting go.
        if self.owner.load(Relaxed) == me {
            let count = self.count.load(Relaxed);
            self.count
                .store(count.checked_add(1).expect("too many guards"), Relaxed);
        } else {
            self.raw.lock();
            self.count.store(1, Relaxed);
            self.owner.store(me, Relaxed);
        }
        ReentrantGuard::new(self)
    }

    /// How many guards this thread holds: 0 if it does not hold the lock.
    pub fn recursion_count(&self) -> u32 {
        if self.owner.load(Relaxed) == current_thread_id() {
            self.count.load(Relaxed)
        } else {
            0
        }
    }

    /// Gives the lock up entirely on behalf of `guard` and every other guard of this thread
    /// (CPython's `_release_save`), and returns what `acquire_restore` needs to undo it.
    pub fn release_save(&self, guard: ReentrantGuard<'_, T>) -> Saved {
        // The guard's own level is part of `count`: its drop must not also give it back.
        std::mem::forget(guard);
        // Relaxed: we are the owner, the only writer; `raw.unlock` (Release) publishes both.
        let saved = Saved {
            owner: self.owner.load(Relaxed),
            count: self.count.load(Relaxed),
            _not_send: PhantomData,
        };
        // Clear both *before* the unlock, as the last guard's drop does: once `raw` is free,
        // the next owner starts from count 0 and must not find our id.
        self.count.store(0, Relaxed);
        self.owner.store(NO_OWNER, Relaxed);
        // SAFETY: a guard of this lock existed on this thread (guards are `!Send`), so this
        // thread holds `raw`, and no guard of ours will unlock it again before we restore.
        unsafe { self.raw.unlock() };
        saved
    }

    /// Takes the lock back (sleeping while another thread holds it) with the owner and count
    /// that `release_save` saved (CPython's `_acquire_restore`); returns the waited guard.
    pub fn acquire_restore(&self, saved: Saved) -> ReentrantGuard<'_, T> {
        self.raw.lock();
        // Relaxed: ordered after the Acquire of `raw.lock()`, like the first `lock`.
        self.count.store(saved.count, Relaxed);
        self.owner.store(saved.owner, Relaxed);
        ReentrantGuard::new(self)
    }
}

/// A re-entrant lock's owner and recursion count, saved for the duration of a wait.
#[derive(Debug)]
pub struct Saved {
    owner: usize,
    count: u32,
    /// `!Send`: restored on the thread that saved it.
    _not_send: PhantomData<*const ()>,
}

/// Proof that this thread holds the lock; gives back one level when dropped. `!Send`.
pub struct ReentrantGuard<'a, T> {
    lock: &'a ReentrantLock<T>,
    _not_send: PhantomData<*const ()>,
}

impl<'a, T> ReentrantGuard<'a, T> {
    fn new(lock: &'a ReentrantLock<T>) -> Self {
        ReentrantGuard {
            lock,
            _not_send: PhantomData,
        }
    }
}

impl<T> Deref for ReentrantGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.lock.data
    }
}

impl<T> Drop for ReentrantGuard<'_, T> {
    fn drop(&mut self) {
        let lock = self.lock;
        let count = lock.count.load(Relaxed);
        if count > 1 {
            lock.count.store(count - 1, Relaxed);
            return;
        }
        lock.count.store(0, Relaxed);
        lock.owner.store(NO_OWNER, Relaxed);
        // SAFETY: this guard proves that this thread holds `raw`, and it was the last one.
        unsafe { lock.raw.unlock() };
    }
}

/// A condition variable on one counter futex (the chapter "Condition"'s first design).
#[derive(Default)]
pub struct Cond {
    seq: AtomicU32,
}

impl Cond {
    /// Gives up every level of the lock, sleeps until notified (or `deadline`, or spuriously),
    /// and takes the lock back with the same count.
    pub fn wait_until<'a, T>(
        &self,
        guard: ReentrantGuard<'a, T>,
        deadline: Option<Instant>,
    ) -> ReentrantGuard<'a, T> {
        let lock = guard.lock;
        // Relaxed: read under the lock; a notifier changes the state under the lock first.
        let seq = self.seq.load(Relaxed);
        let saved = lock.release_save(guard);
        futex::wait(&self.seq, seq, deadline);
        lock.acquire_restore(saved)
    }

    /// Waits while `condition` holds.
    pub fn wait_while<'a, T>(
        &self,
        mut guard: ReentrantGuard<'a, T>,
        mut condition: impl FnMut(&T) -> bool,
    ) -> ReentrantGuard<'a, T> {
        while condition(&guard) {
            guard = self.wait_until(guard, None);
        }
        guard
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.seq.fetch_add(1, Relaxed);
        futex::wake_all(&self.seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::cell::Cell;
    use std::sync::atomic::Ordering::SeqCst;

    #[test]
    fn a_depth_of_three_survives_a_wait() {
        common::guarded("rlock_condition_depth_3", |status| {
            let lock = ReentrantLock::new(Cell::new(false));
            let cond = Cond::default();
            let count_inside = AtomicU32::new(u32::MAX);
            std::thread::scope(|s| {
                let a = lock.lock();
                let b = lock.lock();
                let c = lock.lock();
                s.spawn(|| {
                    status.set("notifier", "lock() while the waiter holds three levels");
                    let g = lock.lock(); // hangs if the wait kept a level
                    count_inside.store(lock.recursion_count(), SeqCst);
                    g.set(true);
                    drop(g);
                    cond.notify_all();
                    status.set("notifier", "done");
                });
                status.set("waiter", "waiting, three levels deep");
                let c = cond.wait_while(c, |ready| !ready.get());
                assert_eq!(
                    count_inside.load(SeqCst),
                    1,
                    "the notifier's count is its own"
                );
                assert_eq!(lock.recursion_count(), 3, "all three levels are back");
                drop(c);
                drop(b);
                assert_eq!(lock.recursion_count(), 1, "one guard left: still ours");
                drop(a);
                assert_eq!(lock.recursion_count(), 0);
            });
            std::thread::scope(|s| {
                let got_in = s.spawn(|| lock.lock().get()).join().unwrap();
                assert!(got_in, "the last guard frees the lock");
            });
        });
    }

    #[test]
    fn a_timed_out_wait_restores_the_count() {
        common::guarded("rlock_condition_timeout", |_| {
            let lock = ReentrantLock::new(5);
            let cond = Cond::default();
            let outer = lock.lock();
            let inner = cond.wait_until(lock.lock(), Some(Instant::now()));
            assert_eq!(lock.recursion_count(), 2);
            assert_eq!(*inner + *outer, 10);
            drop(inner);
            assert_eq!(lock.recursion_count(), 1);
        });
    }

    #[test]
    fn turns_pass_round_robin_between_nested_waiters() {
        const THREADS: usize = 3;
        let rounds = common::scaled(200);
        common::guarded("rlock_condition_round_robin", |status| {
            // A plain `Cell`: if two threads were ever inside at once, turns would be lost.
            let turn = ReentrantLock::new(Cell::new(0usize));
            let cond = Cond::default();
            std::thread::scope(|s| {
                for i in 0..THREADS {
                    let (turn, cond) = (&turn, &cond);
                    s.spawn(move || {
                        for r in 0..rounds {
                            status.set(format!("thread {i}"), format!("round {r}"));
                            let outer = turn.lock();
                            let inner = cond.wait_while(turn.lock(), |t| t.get() % THREADS != i);
                            assert_eq!(turn.recursion_count(), 2);
                            inner.set(outer.get() + 1);
                            drop((inner, outer));
                            cond.notify_all();
                        }
                        status.set(format!("thread {i}"), "done");
                    });
                }
            });
            assert_eq!(turn.lock().get(), THREADS * rounds);
        });
    }
}
