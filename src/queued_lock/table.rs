//! The parking table of the queued lock: a fixed array of buckets keyed by a lock's address,
//! each a [`FutexLock`] over an intrusive FIFO of the threads parked on the locks that hash there
//! (parking_lot's `parking_lot_core`, which grows its table with the thread count; a fixed table
//! is simpler, and two locks that share a bucket only cost a longer scan).

use std::cell::Cell;
use std::ptr;
use std::time::{Duration, Instant};

use crate::FutexLock;
use crate::sync::{AtomicU32, UnsafeCell};

/// What a parked thread finds in its node's `token` (the unlock that dequeues it writes it).
pub(super) const WAITING: u32 = 0; // still queued
pub(super) const WOKEN: u32 = 1; // dequeued; the lock was released: compete for it again
pub(super) const HANDED_OFF: u32 = 2; // dequeued; the lock was *not* released: it is ours now
pub(super) const TIMED_OUT: u32 = 3; // (never stored) the deadline passed; we dequeued ourselves
pub(super) const INVALID: u32 = 4; // (never stored) the lock changed before we could queue

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
    /// When its thread first parked on this lock (in this call of `lock`).
    since: Instant,
    /// Whether its thread has parked on this lock before (woken, it lost the race).
    requeued: bool,
}
// ANCHOR_END: node

impl Node {
    pub(super) fn new(key: usize, since: Instant, requeued: bool) -> Node {
        Node {
            key,
            next: Cell::new(ptr::null()),
            parker: Parker::current(),
            token: AtomicU32::new(WAITING),
            since,
            requeued,
        }
    }

    /// Whether its thread has waited long enough to be handed the lock (parking_lot's
    /// "eventual fairness", Go's starvation mode). loom has no clock: there a thread that has
    /// parked before counts, so the models take both ways of waking.
    pub(super) fn overdue(&self) -> bool {
        if cfg!(loom) {
            self.requeued
        } else {
            overdue(self.since)
        }
    }

    pub(super) fn requeued(&self) -> bool {
        self.requeued
    }
}

/// How long a thread waits before the next unlock that wakes it hands it the lock instead
/// (Go's mutex uses 1 ms; parking_lot 0.12 handed off about every 0.5 ms).
const FAIR_AFTER: Duration = Duration::from_millis(1);

/// Whether a thread that first parked at `since` is owed a hand-off.
pub(super) fn overdue(since: Instant) -> bool {
    since.elapsed() >= FAIR_AFTER
}

/// std's per-thread parker: `unpark` sets the thread's own futex word (which the `Thread`
/// handle keeps alive, so a late wake never touches freed memory) and wakes it only if it
/// sleeps; `park` may return spuriously, or early for an old `unpark`, so callers loop. No
/// allocation: a contended lock allocates nothing (`tests/memory.rs`). A late `unpark` of ours
/// can make a caller's own `thread::park` return early, and ours can take an `unpark` meant for
/// it; both are within `park`'s contract (it may return spuriously, so a correct caller parks in
/// a loop that re-checks its condition), and std's own channels (`std::sync::mpmc`) park their
/// waiting threads the same way.
#[cfg(not(loom))]
#[derive(Clone)]
pub(super) struct Parker(std::thread::Thread);

#[cfg(not(loom))]
impl Parker {
    fn current() -> Parker {
        Parker(std::thread::current())
    }

    /// Sleeps until unparked, spuriously, or until `deadline`; `false` once it has passed.
    pub(super) fn park_until(&self, deadline: Option<Instant>) -> bool {
        match deadline {
            None => std::thread::park(),
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => std::thread::park_timeout(left),
                _ => return false,
            },
        }
        true
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

    /// As above; the futex model takes any deadline as passed the moment it would sleep.
    pub(super) fn park_until(&self, deadline: Option<Instant>) -> bool {
        !crate::futex::wait(&self.0, 0, deadline).timed_out()
    }

    pub(super) fn unpark(self) {
        // Release, as std's `unpark` (the futex model's load is SeqCst): a thread woken here
        // then sees its token, instead of finding the word set and its token not yet visible,
        // which loom would explore as an endless loop.
        self.0.store(1, crate::sync::Ordering::Release);
        crate::futex::wake_one(&self.0);
    }
}

/// The queue of one bucket: an intrusive FIFO of nodes.
pub(super) struct Queue {
    head: *const Node,
    tail: *const Node,
}

/// One bucket, on its own 128 bytes (two cache lines, as in `src/futex/fallback.rs`).
///
/// Its lock is synclab's three-state [`FutexLock`]. Once contended, that lock makes a `futex_wake`
/// per unlock until one finds nobody asleep, and the queued lock made 19 000–23 000 `futex`
/// calls per run with 4 threads and a long critical section (parking_lot: 11 000–16 000). A
/// bucket lock that spins and yields but never sleeps cut that to 12 000–13 000, but was no
/// faster in an interleaved A/B (its time ÷ this one's 0.98–1.13, medians of 13 runs), so the
/// lock that can sleep stayed (tuning log, entry 17).
#[repr(align(128))]
pub(super) struct Bucket {
    pub(super) lock: FutexLock,
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
    static ref TABLE: Vec<Bucket> = vec![Bucket::new()]; // one bucket: see `bucket`
}

/// The bucket of a lock: Fibonacci hashing of its address, as in `fallback.rs`.
///
/// Under loom there is one bucket: addresses change from one execution of a model to the next,
/// so hashing them would make two locks of a model share a bucket lock in some executions and
/// not in others, and loom requires every execution to touch the same objects in the same order
/// ("Is the model fully deterministic?"). Sharing always also keeps the models on the path where
/// a queue holds several locks' nodes.
pub(super) fn bucket(key: usize) -> &'static Bucket {
    if cfg!(loom) {
        return &TABLE[0];
    }
    const BITS: u32 = BUCKETS.trailing_zeros();
    let hash = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BITS);
    &TABLE[hash as usize]
}

impl Bucket {
    crate::sync::loom_const_fn! {
        fn new() -> Bucket {
            Bucket { lock: FutexLock::new(), queue: UnsafeCell::new(Queue::new()) }
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

    /// Puts `node` first: a thread that was woken, lost the lock to a running one and parks
    /// again keeps its place (Go's mutex does the same).
    ///
    /// # Safety
    ///
    /// As for `push`.
    pub(super) unsafe fn push_front(&mut self, node: *const Node) {
        // SAFETY: `node` is alive (the contract).
        unsafe { (*node).next.set(self.head) };
        if self.tail.is_null() {
            self.tail = node;
        }
        self.head = node;
    }

    /// Unlinks `cur`, which follows `prev` (null: `cur` is the head) and precedes `next`.
    ///
    /// # Safety
    ///
    /// The bucket lock is held, and `prev` (if not null) is queued, so alive.
    unsafe fn unlink(&mut self, prev: *const Node, cur: *const Node, next: *const Node) {
        if prev.is_null() {
            self.head = next;
        } else {
            // SAFETY: `prev` is queued (the contract).
            unsafe { (*prev).next.set(next) };
        }
        if self.tail == cur {
            self.tail = prev;
        }
    }

    /// Takes `node` out of the queue (a waiter whose deadline passed); says whether another
    /// node for the same lock remains.
    ///
    /// # Safety
    ///
    /// The bucket lock is held, and `node` is queued.
    pub(super) unsafe fn remove(&mut self, node: *const Node) -> bool {
        let (mut prev, mut cur): (*const Node, _) = (ptr::null(), self.head);
        let mut more = false;
        // SAFETY: as in `remove_first`: every node reached from `head` is queued and alive.
        unsafe {
            let key = (*node).key;
            while !cur.is_null() {
                let next = (*cur).next.get();
                if cur == node {
                    self.unlink(prev, cur, next);
                } else {
                    more |= (*cur).key == key;
                    prev = cur;
                }
                cur = next;
            }
        }
        more
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
                    self.unlink(prev, cur, next);
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

    /// Nodes for `keys`, queued in that order; `f` gets them and the queue.
    fn queued(keys: [usize; 4], f: impl FnOnce(&[Node], &mut Queue)) {
        let nodes: Vec<Node> = keys.map(|k| Node::new(k, Instant::now(), false)).into();
        let mut q = Queue::new();
        // SAFETY: `nodes` outlives every use of `q`, and nothing else sees `q`.
        unsafe {
            for n in &nodes {
                q.push(n);
            }
        }
        f(&nodes, &mut q);
    }

    fn at(nodes: &[Node], i: usize) -> Option<*const Node> {
        Some(&nodes[i] as *const Node)
    }

    #[test]
    fn queue_is_fifo_per_key() {
        queued([1, 2, 1, 3], |nodes, q| {
            let p = |i| at(nodes, i);
            // SAFETY: `nodes` outlives `q` (see `queued`).
            unsafe {
                assert_eq!(q.remove_first(1), (p(0), true));
                assert_eq!(q.remove_first(3), (p(3), false));
                assert_eq!(q.tail, &nodes[2] as *const Node);
                assert_eq!(q.remove_first(1), (p(2), false));
                assert_eq!(q.remove_first(1), (None, false));
                assert_eq!(q.remove_first(2), (p(1), false));
                assert!(q.head.is_null() && q.tail.is_null());
                // A requeued node goes first, also into an empty queue.
                q.push(&nodes[1]);
                q.push_front(&nodes[0]);
                assert_eq!(q.remove_first(2), (p(1), false));
                assert_eq!(q.tail, &nodes[0] as *const Node);
                q.push_front(&nodes[3]);
                assert_eq!(q.remove_first(1), (p(0), false));
                assert_eq!(q.remove_first(3), (p(3), false));
                assert!(q.head.is_null() && q.tail.is_null());
            }
        });
    }

    #[test]
    fn remove_takes_out_one_node_and_reports_its_lock_mates() {
        queued([1, 2, 1, 2], |nodes, q| {
            // SAFETY: as above.
            unsafe {
                assert!(q.remove(&nodes[3]), "node 1 is another for lock 2");
                assert_eq!(q.tail, &nodes[2] as *const Node);
                assert!(q.remove(&nodes[0]), "node 2 is another for lock 1");
                assert!(!q.remove(&nodes[2]));
                assert_eq!(q.remove_first(1), (None, false));
                assert_eq!(q.remove_first(2), (at(nodes, 1), false));
                assert!(q.head.is_null() && q.tail.is_null());
            }
        });
    }
}
