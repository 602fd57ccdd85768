//! The portable fallback: a futex built from a hashed table of parked threads.
//!
//! This is the "parking lot" idea of WebKit's `WTF::ParkingLot` (Filip Pizlo, "Locking in
//! WebKit", 2016), which Amanieu d'Antras ported to Rust as `parking_lot_core`: a thread that has
//! to sleep on an address queues itself in a global table keyed by that address and parks; a
//! thread that wakes the address finds it there and unparks it. It gives any platform with
//! threads a futex, and it runs on Linux too with feature `force-fallback`, so the tests cover it.
//!
//! # The table
//!
//! [`BUCKETS`] buckets, fixed for the life of the process (parking_lot grows its table with the
//! thread count; a fixed table is simpler and two words that share a bucket only cost a longer
//! scan). A word's bucket is a Fibonacci hash of its address. Each bucket is a `std::sync::Mutex`
//! (which is fine here: these platforms have no futex of ours for a lock to sleep on) over a FIFO
//! of [`Waiter`] records, and is padded to its own cache lines so that two busy buckets do not
//! share one.
//!
//! # wait and wake
//!
//! - `wait`: lock the bucket, compare the word, enqueue a record, unlock, then
//!   `thread::park[_timeout]` until the record says "woken" or the deadline passes. Comparing
//!   *under the bucket lock* is what makes this a futex: a waker changes the word before it takes
//!   the same lock, so either the waiter sees the new value and does not sleep, or the waker
//!   finds the waiter in the queue.
//! - `wake_*`: lock the bucket, take the matching records out of the queue and mark them woken,
//!   unlock, then unpark their threads. The count returned is exact.
//! - Timeout: the waiter locks the bucket and removes its own record. If the record is no longer
//!   there, a waker took it first: the wait reports "woken" (returns `true`), so a timed-out
//!   waiter never swallows a wake. Being in the queue *is* the state "not yet woken", and it only
//!   changes under the bucket lock.
//!
//! `thread::park` may return spuriously, and an `unpark` may arrive after its waiter has already
//! seen the flag and left (it then makes some later `park` of that thread return early). Both are
//! harmless: `wait` parks in a loop on its own flag, and every other user of `park` loops too.
//!
//! Each wait allocates one small `Arc` record. A fallback can afford it; parking_lot avoids it
//! with a thread-local record.

use std::collections::VecDeque;
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Thread};
use std::time::Instant;

use crate::sync::{AtomicBool, AtomicU32, Ordering};

/// Number of buckets; a power of two. 64 buckets keep collisions rare for the handful of words a
/// program sleeps on at once, in 8 KiB of statics.
const BUCKETS: usize = 64;

/// One sleeping thread.
struct Waiter {
    /// The address of the word it sleeps on (buckets are shared between words).
    addr: usize,
    /// Whom to unpark.
    thread: Thread,
    /// Set (under the bucket lock, when the record leaves the queue) by the waker.
    woken: AtomicBool,
}

/// One queue of the table, on its own cache lines (128 bytes: two 64-byte lines, because x86's
/// adjacent-line prefetcher and Apple's M-series fetch pairs; crossbeam's `CachePadded` uses 128
/// on these targets too).
#[repr(align(128))]
struct Bucket {
    queue: Mutex<VecDeque<Arc<Waiter>>>,
}

impl Bucket {
    const fn new() -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
        }
    }

    /// Locks the queue. Nothing panics while it is held, but if a panic ever poisons it the
    /// queue itself is still consistent (every change is a single push or remove).
    fn lock(&self) -> MutexGuard<'_, VecDeque<Arc<Waiter>>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

static TABLE: [Bucket; BUCKETS] = [const { Bucket::new() }; BUCKETS];

/// The key of a word: its address.
fn key(futex: &AtomicU32) -> usize {
    ptr::from_ref(futex).addr()
}

/// The bucket of an address: Fibonacci hashing (multiply by 2^64 / φ, keep the top bits), which
/// spreads neighbouring addresses over the whole table.
fn bucket(addr: usize) -> &'static Bucket {
    const BITS: u32 = BUCKETS.trailing_zeros();
    let hash = (addr as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BITS);
    &TABLE[hash as usize]
}

// ANCHOR: fallback_wait
pub(super) fn wait(futex: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
    let addr = key(futex);
    let bucket = bucket(addr);
    let me = {
        let mut queue = bucket.lock();
        // SeqCst, like the kernel's futex. The bucket lock already orders this load after any
        // store a waker made before its `wake_*` took the lock.
        if futex.load(Ordering::SeqCst) != expected {
            return true;
        }
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return false;
        }
        let me = Arc::new(Waiter {
            addr,
            thread: thread::current(),
            woken: AtomicBool::new(false),
        });
        queue.push_back(Arc::clone(&me));
        me
    };
    // ANCHOR_END: fallback_wait
    loop {
        // Acquire: pairs with the Release store in `mark_woken`, so everything the waker did
        // before waking us is visible once we return.
        if me.woken.load(Ordering::Acquire) {
            return true;
        }
        match deadline {
            None => thread::park(),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                thread::park_timeout(deadline - now);
            }
        }
    }
    // The deadline passed. Leave the queue, unless a waker already took us out of it: then we
    // were woken (the wake is ours, and reporting a timeout would lose it).
    let mut queue = bucket.lock();
    match queue.iter().position(|w| Arc::ptr_eq(w, &me)) {
        Some(i) => {
            queue.remove(i);
            false
        }
        None => true,
    }
}

/// Marks a record taken out of the queue as woken. Called with the bucket lock held.
fn mark_woken(waiter: &Waiter) {
    // Release: pairs with the Acquire load in `wait`.
    waiter.woken.store(true, Ordering::Release);
}

pub(super) fn wake_one(futex: &AtomicU32) -> usize {
    let addr = key(futex);
    let waiter = {
        let mut queue = bucket(addr).lock();
        let Some(i) = queue.iter().position(|w| w.addr == addr) else {
            return 0;
        };
        let waiter = queue.remove(i).expect("index from position");
        mark_woken(&waiter);
        waiter
    };
    // Unpark after unlocking, so the woken thread does not run straight into a held lock. The
    // record stays alive through our `Arc`, even if its thread has already returned.
    waiter.thread.unpark();
    1
}

pub(super) fn wake_all(futex: &AtomicU32) -> usize {
    let addr = key(futex);
    let mut woken = Vec::new();
    {
        let mut queue = bucket(addr).lock();
        queue.retain(|w| {
            if w.addr != addr {
                return true;
            }
            mark_woken(w);
            woken.push(Arc::clone(w));
            false
        });
    }
    for waiter in &woken {
        waiter.thread.unpark();
    }
    woken.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn neighbouring_words_spread_over_buckets() {
        let words: Vec<AtomicU32> = (0..BUCKETS).map(|_| AtomicU32::new(0)).collect();
        let mut used = [false; BUCKETS];
        for w in &words {
            let b = ptr::from_ref(bucket(key(w)));
            let i = TABLE.iter().position(|t| ptr::eq(t, b)).unwrap();
            used[i] = true;
        }
        // Not a perfect hash, but far from "all in one bucket".
        assert!(used.iter().filter(|&&u| u).count() > BUCKETS / 2);
    }

    #[test]
    fn timed_out_waiter_leaves_the_queue() {
        let word = AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_millis(1);
        assert!(!wait(&word, 0, Some(deadline)));
        let addr = key(&word);
        assert!(!bucket(addr).lock().iter().any(|w| w.addr == addr));
        assert_eq!(wake_one(&word), 0);
    }
}
