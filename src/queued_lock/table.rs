//! The parking table of the queued lock: a fixed array of buckets keyed by a lock's address,
//! each a [`BucketLock`] over an intrusive FIFO of the threads parked on the locks that hash there
//! (parking_lot's `parking_lot_core`, which grows its table with the thread count; a fixed table
//! is simpler, and two locks that share a bucket only cost a longer scan).

use std::cell::Cell;
use std::ptr;

use crate::sync::{AtomicU32, UnsafeCell};
#[cfg(not(loom))]
use crate::sync::{
    Ordering::{Acquire, Relaxed, Release},
    spin_loop, yield_now,
};

/// What a parked thread finds in its node's `token` (the unlock that dequeues it writes it).
pub(super) const WAITING: u32 = 0; // still queued
pub(super) const WOKEN: u32 = 1; // dequeued; the lock was released: compete for it again
pub(super) const HANDED_OFF: u32 = 2; // dequeued; the lock was *not* released: it is ours now

// ANCHOR: node
/// One parked thread, on its own stack. It is queued while `token` is `WAITING`; the unlock
/// that dequeues it takes a clone of `parker`, then stores `token` and touches the node no more,
/// because its owner may return (freeing it) as soon as it sees the new token.
pub(super) struct Node {
    /// The address of the lock word (a bucket serves many locks).
    pub(super) key: usize,
    /// The next node in the bucket's FIFO; read and written only under the bucket lock.
    next: Cell<*const Node>,
    /// How to wake this thread: its own futex word, kept alive by the clone the waker holds.
    pub(super) parker: Parker,
    pub(super) token: AtomicU32,
}
// ANCHOR_END: node

impl Node {
    pub(super) fn new(key: usize) -> Node {
        Node {
            key,
            next: Cell::new(ptr::null()),
            parker: Parker::current(),
            token: AtomicU32::new(WAITING),
        }
    }
}

/// std's per-thread parker: `unpark` sets the thread's own futex word (which the `Thread`
/// handle keeps alive, so a late wake never touches freed memory) and wakes it only if it
/// sleeps; `park` may return spuriously, or early for an old `unpark`, so callers loop.
#[cfg(not(loom))]
#[derive(Clone)]
pub(super) struct Parker(std::thread::Thread);

#[cfg(not(loom))]
impl Parker {
    fn current() -> Parker {
        Parker(std::thread::current())
    }
    pub(super) fn park(&self) {
        std::thread::park();
    }
    pub(super) fn unpark(self) {
        self.0.unpark();
    }
}

/// Under loom, the same with a word of its own per node on synclab's futex model. (loom's
/// `unpark` would do, but it also wakes a thread blocked on a loom mutex, here a bucket lock's
/// futex, which real threads never see, and loom then fails inside that mutex.)
#[cfg(loom)]
#[derive(Clone)]
pub(super) struct Parker(crate::sync::Arc<AtomicU32>);

#[cfg(loom)]
impl Parker {
    fn current() -> Parker {
        Parker(crate::sync::Arc::new(AtomicU32::new(0)))
    }
    pub(super) fn park(&self) {
        crate::futex::wait(&self.0, 0, None);
    }
    pub(super) fn unpark(self) {
        // Release, as std's `unpark` (the futex model's load is SeqCst): a thread woken here
        // then sees its token, instead of finding the word set and its token not yet visible,
        // which loom would explore as an endless loop.
        self.0.store(1, crate::sync::Ordering::Release);
        crate::futex::wake_one(&self.0);
    }
}

// ANCHOR: bucket_lock
/// The lock of a bucket: test-and-test-and-set, a few `PAUSE`s, then `yield_now` until free.
///
/// It never sleeps: a bucket is held for a handful of pointer operations, by a thread that
/// blocks on nothing inside, so the only long wait is for a holder that was preempted, and a
/// yield gives it the core back. (The first version used synclab's three-state `RawLock` here,
/// and it had the three-state word's fault: once contended, its `CONTENDED` state stayed set,
/// and every bucket unlock made a `futex_wake`. With 4 threads and a long critical section the
/// queued lock made 19 000–23 000 `futex` calls per run with it, 12 000–13 000 without,
/// and went from 1.2× to 0.8× parking_lot: tuning log, entry 17. parking_lot's `WordLock`
/// spins, then parks in a queue of its own.)
///
/// | `0` free | `1` held |
#[cfg(not(loom))]
pub(super) struct BucketLock(AtomicU32);

#[cfg(not(loom))]
impl BucketLock {
    /// `PAUSE` rounds (1, 2, 4, 8) before the waiter starts yielding.
    const SPIN_ROUNDS: u32 = 4;

    crate::sync::loom_const_fn! {
        fn new() -> BucketLock {
            BucketLock(AtomicU32::new(0))
        }
    }

    pub(super) fn lock(&self) {
        let mut round = 0;
        // Relaxed load first: waiters read the line and do not pull it away from the holder.
        // Acquire swap: pairs with the Release store in `unlock`, so the queue's last state is
        // visible to the next holder.
        while self.0.load(Relaxed) != 0 || self.0.swap(1, Acquire) != 0 {
            if round < Self::SPIN_ROUNDS {
                for _ in 0..1u32 << round {
                    spin_loop();
                }
                round += 1;
            } else {
                yield_now();
            }
        }
    }

    /// # Safety
    ///
    /// The caller holds the lock.
    pub(super) unsafe fn unlock(&self) {
        // Release: publishes the queue's changes to the next `lock`.
        self.0.store(0, Release);
    }
}
// ANCHOR_END: bucket_lock

/// Under loom the bucket lock is synclab's `RawLock` (checked by its own models): a lock that
/// never sleeps is a spin loop, whose every round is a branch for loom, and the models of the
/// queued lock then exceed loom's branch limit. What they check, the queue protocol, only needs
/// the bucket lock to exclude.
#[cfg(loom)]
pub(super) struct BucketLock(crate::RawLock);

#[cfg(loom)]
impl BucketLock {
    fn new() -> BucketLock {
        BucketLock(crate::RawLock::new())
    }

    pub(super) fn lock(&self) {
        self.0.lock();
    }

    /// # Safety
    ///
    /// The caller holds the lock.
    pub(super) unsafe fn unlock(&self) {
        // SAFETY: held, by the contract.
        unsafe { self.0.unlock() };
    }
}

/// The queue of one bucket: an intrusive FIFO of nodes.
pub(super) struct Queue {
    head: *const Node,
    tail: *const Node,
}

/// One bucket, on its own 128 bytes (two cache lines, as in `src/futex/fallback.rs`).
#[repr(align(128))]
pub(super) struct Bucket {
    pub(super) lock: BucketLock,
    queue: UnsafeCell<Queue>,
}

// SAFETY: the raw pointers in `queue` are read and written only with `lock` held, and each
// points to a node whose thread stays parked (its frame alive) until it is dequeued.
unsafe impl Sync for Bucket {}

const BUCKETS: usize = 64;

#[cfg(not(loom))]
static TABLE: [Bucket; BUCKETS] = [const { Bucket::new() }; BUCKETS];
#[cfg(loom)]
loom::lazy_static! {
    static ref TABLE: Vec<Bucket> = (0..BUCKETS).map(|_| Bucket::new()).collect();
}

/// The bucket of a lock: Fibonacci hashing of its address, as in `fallback.rs`.
pub(super) fn bucket(key: usize) -> &'static Bucket {
    const BITS: u32 = BUCKETS.trailing_zeros();
    let hash = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BITS);
    &TABLE[hash as usize]
}

impl Bucket {
    crate::sync::loom_const_fn! {
        fn new() -> Bucket {
            Bucket { lock: BucketLock::new(), queue: UnsafeCell::new(Queue::new()) }
        }
    }

    /// Runs `f` on the queue.
    ///
    /// # Safety
    ///
    /// The caller holds `self.lock`.
    pub(super) unsafe fn with_queue<R>(&self, f: impl FnOnce(&mut Queue) -> R) -> R {
        // SAFETY: the bucket lock (held, by the contract) makes this the only access.
        self.queue.with_mut(|q| f(unsafe { &mut *q }))
    }
}

impl Queue {
    const fn new() -> Queue {
        Queue {
            head: ptr::null(),
            tail: ptr::null(),
        }
    }

    /// Appends `node`.
    ///
    /// # Safety
    ///
    /// The bucket lock is held, and `node` stays alive and in place until it is dequeued.
    pub(super) unsafe fn push(&mut self, node: *const Node) {
        // SAFETY: `node` is alive (the contract), and so is `tail`, which is queued.
        unsafe {
            (*node).next.set(ptr::null());
            if self.tail.is_null() {
                self.head = node;
            } else {
                (*self.tail).next.set(node);
            }
        }
        self.tail = node;
    }

    /// Takes the first node for `key` out of the queue; also says whether another remains.
    ///
    /// # Safety
    ///
    /// The bucket lock is held (so every queued node is alive).
    pub(super) unsafe fn remove_first(&mut self, key: usize) -> (Option<*const Node>, bool) {
        let (mut prev, mut cur): (*const Node, _) = (ptr::null(), self.head);
        // SAFETY: every node reached from `head` is queued, and queued nodes stay alive until
        // dequeued, which only the bucket lock's holder (the caller) does.
        unsafe {
            while !cur.is_null() {
                let next = (*cur).next.get();
                if (*cur).key == key {
                    if prev.is_null() {
                        self.head = next;
                    } else {
                        (*prev).next.set(next);
                    }
                    if self.tail == cur {
                        self.tail = prev;
                    }
                    let mut scan = next;
                    while !scan.is_null() && (*scan).key != key {
                        scan = (*scan).next.get();
                    }
                    return (Some(cur), !scan.is_null());
                }
                (prev, cur) = (cur, next);
            }
        }
        (None, false)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn queue_is_fifo_per_key() {
        let nodes: Vec<Node> = [1, 2, 1, 3].map(Node::new).into();
        let p = |i: usize| Some(&nodes[i] as *const Node);
        let mut q = Queue::new();
        // SAFETY: `nodes` outlives every use of `q`, and nothing else sees `q`.
        unsafe {
            for n in &nodes {
                q.push(n);
            }
            assert_eq!(q.remove_first(1), (p(0), true));
            assert_eq!(q.remove_first(3), (p(3), false));
            assert_eq!(q.tail, &nodes[2] as *const Node);
            assert_eq!(q.remove_first(1), (p(2), false));
            assert_eq!(q.remove_first(1), (None, false));
            assert_eq!(q.remove_first(2), (p(1), false));
            assert!(q.head.is_null() && q.tail.is_null());
        }
    }
}
