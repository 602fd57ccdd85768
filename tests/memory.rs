//! Memory: no allocation on the hot paths of `Lock`, `Event`, `Semaphore` and `Condition`; the
//! documented size of every primitive; the bytes each queue kind spends per queued item.
//!
//! A counting `#[global_allocator]` counts, **per thread**, the allocations made while that
//! thread is inside [`measure`]. Starting a thread allocates (its stack record, its name, the
//! result slot), so every test starts its threads first, lines them up on a barrier, and counts
//! only inside the region after it. Per-thread counters keep tests that run in parallel from
//! seeing each other's allocations.
//!
//! The blocking paths are checked with the OS futex only: the portable fallback
//! (`--features force-fallback`) allocates one small record per wait, as its docs say.
//!
//! `cargo test --test memory -- --nocapture` also prints the per-item table the benchmarks
//! chapter shows.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::mem::size_of;
use std::sync::Barrier as StdBarrier;

use common::{LIMIT, scaled, watchdog};
use synclab::{
    Barrier, BoundedSemaphore, Condition, Event, LifoQueue, Lock, Pool, PriorityQueue, Queue,
    RLock, RawLock, Semaphore, Timer,
};

// ANCHOR: allocator
/// The system allocator, counting what the current thread allocates while it is measuring.
struct Counting;

thread_local! {
    /// Whether this thread is inside `measure`.
    static ON: Cell<bool> = const { Cell::new(false) };
    /// Allocations (including reallocations) since `measure` began.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    /// Bytes allocated minus bytes freed since `measure` began.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

/// Records an allocation of `grow` bytes (negative: a free) if this thread is measuring.
/// `try_with`: during thread teardown the thread-locals may be gone; nothing is measured then.
fn note(count: bool, grow: isize) {
    let _ = ON.try_with(|on| {
        if on.get() {
            if count {
                ALLOCS.with(|a| a.set(a.get() + 1));
            }
            LIVE.with(|l| l.set(l.get() + grow));
        }
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees are ours; the bookkeeping touches only `const`-initialised thread-locals without
// destructors, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(true, layout.size() as isize);
        // SAFETY: the caller's contract for `alloc` is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(true, layout.size() as isize);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(false, -(layout.size() as isize));
        // SAFETY: `ptr` came from `System` (every allocation above is `System`'s) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(true, new_size as isize - layout.size() as isize);
        // SAFETY: as for `dealloc`; `new_size` is the caller's, valid by `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` on this thread and returns (allocations made, bytes still allocated) by this thread
/// while it ran.
fn measure<R>(f: impl FnOnce() -> R) -> (R, usize, isize) {
    ALLOCS.with(|a| a.set(0));
    LIVE.with(|l| l.set(0));
    ON.with(|on| on.set(true));
    let r = f();
    ON.with(|on| on.set(false));
    (r, ALLOCS.with(Cell::get), LIVE.with(Cell::get))
}

/// Runs `work(i)` on two threads started before the measured region; returns each thread's
/// allocation count inside its region.
#[cfg_attr(feature = "force-fallback", allow(dead_code))] // its users check the OS futex only
fn two_threads(name: &str, work: impl Fn(usize) + Sync) -> [usize; 2] {
    watchdog(name, LIMIT, |_| {
        let start = StdBarrier::new(2);
        std::thread::scope(|s| {
            let (start, work) = (&start, &work);
            let run = move |i| {
                start.wait();
                measure(|| work(i)).1
            };
            let other = s.spawn(move || run(1));
            let mine = run(0);
            [mine, other.join().unwrap()]
        })
    })
}
// ANCHOR_END: allocator

/// The counter itself: it sees this thread's allocations, and only this thread's.
#[test]
fn the_counter_counts_this_thread_only() {
    let (b, allocs, live) = measure(|| Box::new(7u64));
    assert_eq!((allocs, live), (1, 8));
    drop(b);
    let ((), allocs, _) = measure(|| {
        std::thread::scope(|s| {
            s.spawn(|| drop(std::hint::black_box(vec![1u8; 100])));
        })
    });
    assert!(
        allocs > 0,
        "spawning a thread allocates on the spawning thread"
    );
    // Another thread measures while this one allocates: it counts none of it.
    let joined = watchdog("counter", LIMIT, |_| {
        let (start, done) = (StdBarrier::new(2), StdBarrier::new(2));
        std::thread::scope(|s| {
            let t = s.spawn(|| {
                measure(|| {
                    start.wait();
                    done.wait();
                })
                .1
            });
            start.wait();
            drop(std::hint::black_box(vec![0u8; 64])); // inside t's region, but not t's
            done.wait();
            t.join().unwrap()
        })
    });
    assert_eq!(joined, 0);
}

#[test]
fn lock_and_unlock_allocate_nothing() {
    let lock = Lock::new(0u64);
    let raw = RawLock::new();
    let ((), allocs, _) = measure(|| {
        for _ in 0..scaled(10_000) {
            *lock.lock() += 1;
            assert!(lock.try_lock().is_some());
            raw.lock();
            // SAFETY: this thread locked `raw` just above.
            unsafe { raw.unlock() };
        }
    });
    assert_eq!(allocs, 0);
}

#[test]
#[cfg(not(feature = "force-fallback"))]
fn contended_lock_allocates_nothing() {
    let lock = Lock::new(0u64);
    let n = scaled(20_000);
    let allocs = two_threads("contended lock", |_| {
        for _ in 0..n {
            let mut guard = lock.lock();
            *guard += 1;
            // Held across a yield: the other thread's spin runs out and it sleeps on the futex.
            std::thread::yield_now();
            drop(guard);
        }
    });
    assert_eq!(allocs, [0, 0]);
    assert_eq!(lock.into_inner(), 2 * n as u64);
}

#[test]
#[cfg(not(feature = "force-fallback"))]
fn event_set_and_wait_allocate_nothing() {
    let (ping, pong) = (Event::new(), Event::new());
    let allocs = two_threads("event ping-pong", |i| {
        for _ in 0..scaled(2_000) {
            if i == 0 {
                ping.set();
                pong.wait();
                pong.clear();
            } else {
                ping.wait();
                ping.clear();
                pong.set();
            }
        }
    });
    assert_eq!(allocs, [0, 0]);
}

#[test]
#[cfg(not(feature = "force-fallback"))]
fn semaphore_acquire_and_release_allocate_nothing() {
    let sem = Semaphore::new(1);
    let bounded = BoundedSemaphore::new(1);
    let n = scaled(10_000);
    let allocs = two_threads("semaphore", |_| {
        for _ in 0..n {
            sem.acquire();
            std::thread::yield_now(); // the other thread finds no permit and sleeps
            sem.release().unwrap();
            drop(bounded.permit());
        }
    });
    assert_eq!(allocs, [0, 0]);
    assert_eq!((sem.available(), bounded.available()), (1, 1));
}

#[test]
#[cfg(not(feature = "force-fallback"))]
fn condition_wait_and_notify_allocate_nothing() {
    let (turn, cond) = (Lock::new(0u64), Condition::new());
    let n = scaled(2_000) as u64;
    let allocs = two_threads("condition hand-off", |me| {
        cond.notify_one(); // no waiter yet, or one: either way nothing to allocate
        for _ in 0..n {
            let mut t = cond.wait_while(turn.lock(), |t| *t % 2 != me as u64);
            *t += 1;
            drop(t);
            cond.notify_all();
        }
    });
    assert_eq!(allocs, [0, 0]);
    assert_eq!(turn.into_inner(), 2 * n);
}

// ANCHOR: sizes
#[test]
#[cfg(target_pointer_width = "64")]
fn sizes_are_as_documented() {
    // Documented on each type (and DESIGN.md's targets: 4, 4, ≤ 8, ≤ 8).
    assert_eq!(size_of::<RawLock>(), 4);
    assert_eq!(size_of::<Lock<()>>(), 4);
    assert_eq!(size_of::<Lock<u32>>(), 8); // the state word, then the data
    assert_eq!(size_of::<Event>(), 4);
    assert_eq!(size_of::<Semaphore>(), 4);
    assert_eq!(size_of::<BoundedSemaphore>(), 8);
    assert_eq!(size_of::<Condition>(), 8);
    assert_eq!(size_of::<RLock<()>>(), 16);
    // The std peers, for the chapter's table. On Linux std's Mutex is a 4-byte futex word;
    // on Windows (WaitOnAddress takes any size) it is one byte, so the poison flag follows it.
    let (mutex, event, semaphore) = if cfg!(windows) {
        (2, 8, 24)
    } else {
        (4 + 1 + 3, 12, 24)
    };
    assert_eq!(size_of::<std::sync::Mutex<()>>(), mutex); // state, poison flag, padding
    assert_eq!(size_of::<std::sync::Condvar>(), 4);
    // The benchmarks' Mutex + Condvar event and semaphore.
    assert_eq!(
        size_of::<(std::sync::Mutex<bool>, std::sync::Condvar)>(),
        event
    );
    assert_eq!(
        size_of::<(std::sync::Mutex<usize>, std::sync::Condvar)>(),
        semaphore
    );
    // The composite types (figures in the benchmarks chapter): a Lock around the barrier's
    // state, a Condition and the party count; the queues keep their waiter counts on cache
    // lines of their own; a Pool and a Timer hold the shared part behind an `Arc`.
    // If a layout change moves these on purpose, update them here and in the chapter's table.
    assert_eq!(size_of::<Barrier>(), 40);
    assert_eq!(size_of::<Queue<u64>>(), 896);
    assert_eq!(size_of::<LifoQueue<u64>>(), 512);
    assert_eq!(size_of::<PriorityQueue<u64>>(), 512);
    assert_eq!(size_of::<Pool>(), 48);
    assert_eq!(size_of::<Timer>(), 8);
}
// ANCHOR_END: sizes

/// Bytes per item that `fill` leaves allocated for `items` queued `u64`s (the queue itself is
/// returned by value, so its own `size_of` is not counted: only what it allocates).
fn per_item<Q>(items: usize, fill: impl FnOnce() -> Q) -> f64 {
    let (queue, _, live) = measure(fill);
    drop(queue);
    live as f64 / items as f64
}

#[test]
#[cfg_attr(
    miri,
    ignore = "fills queues with thousands of items: minutes under Miri"
)]
fn bytes_per_queued_item() {
    const N: usize = 1024;
    let bounded = per_item(N, || {
        let q = Queue::bounded(N);
        (0..N as u64).for_each(|i| q.put(i).unwrap());
        q
    });
    // 255 `u64`s per block of the list (plus one block linked ahead of time at most).
    let blocks = 64;
    let unbounded = per_item(255 * blocks, || {
        let q = Queue::new();
        (0..(255 * blocks) as u64).for_each(|i| q.put(i).unwrap());
        q
    });
    let lifo = per_item(N, || {
        let q = LifoQueue::new();
        (0..N as u64).for_each(|i| q.put(i).unwrap());
        q
    });
    let priority = per_item(N, || {
        let q = PriorityQueue::new();
        (0..N as u64).for_each(|i| q.put(i).unwrap());
        q
    });
    println!(
        "bytes per queued u64: bounded {bounded:.2}, unbounded {unbounded:.2}, lifo {lifo:.2}, priority {priority:.2}"
    );
    // A ring slot is the item and its stamp: 8 + 8, all allocated by `bounded`.
    assert_eq!(bounded, 16.0);
    // A block is 255 slots of item + state (16 bytes each) and a `next` pointer: a page, less 8
    // bytes (4 088 / 255 = 16.03; 65 blocks for 64 blocks' worth of items: 16.28).
    assert!((16.0..17.5).contains(&unbounded), "unbounded: {unbounded}");
    // A Vec (or the heap's Vec) of exactly 1024 u64s after doubling: 8 bytes each.
    assert_eq!((lifo, priority), (8.0, 8.0));
}
