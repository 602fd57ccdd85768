//! # Exercise `rlock_owner` — Part II, "RLock"
//!
//! Build Python's `threading.RLock`: a lock that the thread holding it may take again. It is a
//! plain `synclab::RawLock` (the exclusive part, which does all the sleeping) plus two words:
//! the id of the thread that holds it, and how many guards that thread holds. Re-entry only
//! counts; the first `lock` takes the raw lock; the last guard dropped gives it back.
//!
//! Check your work: `cargo xtask check rlock_owner`

use std::ops::Deref;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};

use synclab::RawLock;

/// `owner` when no thread holds the lock (thread ids start at 1).
const NO_OWNER: usize = 0;

/// This thread's id: nonzero, and never reused by another thread, even after this one exits.
/// (An id that a later thread could inherit, such as the address of a thread-local, would let
/// that thread walk into a lock whose guard an exited thread leaked: rust-lang/rust#123458.)
fn current_thread_id() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    // Relaxed: the counter only has to hand out distinct numbers.
    std::thread_local!(static ID: usize = NEXT.fetch_add(1, Relaxed));
    ID.with(|id| *id)
}

/// A re-entrant lock that owns its data: Python's `threading.RLock`.
pub struct ReentrantLock<T> {
    /// The exclusive part: held from the first `lock` of the owner to its last guard's drop.
    raw: RawLock,
    /// The holder's thread id, or `NO_OWNER`.
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
        // Relaxed: `owner` equals our id only if *we* stored it, and we clear it before we give
        // the raw lock back; a thread always reads its own latest store of a word (or a later
        // value). Any other value means "not ours", and then the raw lock does the ordering.
        if self.owner.load(Relaxed) == me {
            // Re-entry: only count. We hold the lock, so nobody else touches `count`.
            let count = self.count.load(Relaxed);
            let count = count
                .checked_add(1)
                .expect("ReentrantLock: too many guards");
            self.count.store(count, Relaxed);
        } else {
            // First entry: the raw lock may sleep; once we have it, record who we are.
            self.raw.lock();
            self.count.store(1, Relaxed);
            self.owner.store(me, Relaxed);
        }
        ReentrantGuard { lock: self }
    }

    /// `true` if the calling thread holds the lock (Python's `_is_owned()`).
    pub fn is_owned_by_current_thread(&self) -> bool {
        // Relaxed: as in `lock`, only this thread ever stores this thread's id.
        self.owner.load(Relaxed) == current_thread_id()
    }
}

/// Proof that this thread holds the lock; gives back one level when dropped.
///
/// It derefs to `&T` only: the owner may hold several guards at once, and two `&mut T` to the
/// same data would be undefined behaviour.
pub struct ReentrantGuard<'a, T> {
    lock: &'a ReentrantLock<T>,
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
            // Not the last guard: the lock stays ours.
            lock.count.store(count - 1, Relaxed);
            return;
        }
        // The last guard: forget the owner *before* the raw lock goes, so that the next owner
        // never sees our id, and we never see it after we have let go.
        lock.count.store(0, Relaxed);
        lock.owner.store(NO_OWNER, Relaxed);
        // SAFETY: this guard proves that this thread holds `raw`, and it is the last guard.
        unsafe { lock.raw.unlock() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::cell::Cell;
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::time::Duration;

    #[test]
    fn the_holder_can_lock_again() {
        // A plain lock here would wait for itself forever: the watchdog turns that into a failure.
        common::watchdog("rlock_reentry", Duration::from_secs(10), |_| {
            let lock = ReentrantLock::new(5);
            let a = lock.lock();
            let b = lock.lock();
            let c = lock.lock();
            assert_eq!(*a + *b + *c, 15);
            drop((a, b, c));
            assert_eq!(
                *lock.lock(),
                5,
                "the lock is free again after the last guard"
            );
        });
    }

    #[test]
    fn ownership_is_per_thread() {
        common::watchdog("rlock_ownership", Duration::from_secs(10), |_| {
            let lock = ReentrantLock::new(());
            assert!(!lock.is_owned_by_current_thread());
            let outer = lock.lock();
            let inner = lock.lock();
            assert!(lock.is_owned_by_current_thread());
            std::thread::scope(|s| {
                let other = s.spawn(|| lock.is_owned_by_current_thread());
                assert!(!other.join().unwrap(), "another thread claims to own it");
            });
            drop(inner);
            assert!(
                lock.is_owned_by_current_thread(),
                "one guard is still alive"
            );
            drop(outer);
            assert!(!lock.is_owned_by_current_thread(), "every guard is gone");
        });
    }

    #[test]
    fn an_inner_guard_does_not_release_the_lock() {
        common::guarded("rlock_inner_drop", |status| {
            let lock = ReentrantLock::new(());
            let entered = AtomicBool::new(false);
            let outer = lock.lock();
            drop(lock.lock()); // one level taken and given back: we still hold it
            std::thread::scope(|s| {
                s.spawn(|| {
                    status.set("other", "lock()");
                    let _g = lock.lock();
                    entered.store(true, SeqCst);
                    status.set("other", "got it");
                });
                std::thread::sleep(Duration::from_millis(50));
                let early = entered.load(SeqCst);
                status.set("main", "drop the outer guard");
                drop(outer);
                assert!(!early, "another thread got in while the owner held a guard");
            });
            assert!(entered.load(SeqCst));
        });
    }

    #[test]
    fn threads_exclude_each_other_also_when_nested() {
        let iters = common::scaled(5_000);
        common::guarded("rlock_exclusion", |status| {
            // A `Cell` is not thread-safe: if two threads were ever inside at once, updates
            // would be lost (and Miri would report the race).
            let lock = ReentrantLock::new(Cell::new(0usize));
            std::thread::scope(|s| {
                for t in 0..4 {
                    let lock = &lock;
                    s.spawn(move || {
                        status.set(format!("thread {t}"), "counting");
                        for _ in 0..iters {
                            let outer = lock.lock();
                            let inner = lock.lock();
                            let v = inner.get();
                            outer.set(std::hint::black_box(v) + 1);
                        }
                        status.set(format!("thread {t}"), "done");
                    });
                }
            });
            assert_eq!(lock.lock().get(), 4 * iters);
        });
    }
}
