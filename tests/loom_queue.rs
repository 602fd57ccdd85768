//! loom models of the queues (run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2
//! CARGO_TARGET_DIR=target/loom cargo test --release --test loom_queue`).
//!
//! Under `--cfg loom` the queue's atomics are loom's, its futex is a model in which a lost
//! wakeup leaves a thread asleep forever (loom reports a deadlock), and every spin or yield of
//! the backoff is a point where loom may switch threads. The models are small (2–3 threads,
//! 1–3 items, capacity 1–2) so that the spin-then-sleep loops stay inside loom's branch limit.
//! Each prints how many executions loom explored (`--nocapture` to see it), and checks that some
//! execution slept in the futex model (`synclab::futex::loom_sleeps`).
#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use synclab::{LifoQueue, Queue};

/// Runs `f` under loom with at most `preemptions` preemptions (each model picks the bound it
/// can afford) and reports the number of executions explored.
fn model(name: &str, preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = runs.clone();
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(preemptions);
    let start = std::time::Instant::now();
    b.check(move || {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    eprintln!(
        "{name}: {} executions, preemption bound {preemptions}, {:?}",
        runs.load(std::sync::atomic::Ordering::Relaxed),
        start.elapsed()
    );
    // Every model here blocks a thread: some execution must really sleep in the futex model,
    // or loom only explored the paths in front of the sleep.
    assert!(
        synclab::futex::loom_sleeps() > 0,
        "{name}: no execution ever slept"
    );
}

#[test]
fn bounded_getter_blocked_on_empty_is_woken_by_put() {
    model("bounded get woken by put", 2, || {
        let q = Arc::new(Queue::bounded(1));
        let q2 = q.clone();
        let getter = thread::spawn(move || q2.get().unwrap());
        q.put(7).unwrap();
        assert_eq!(getter.join().unwrap(), 7);
        assert!(q.is_empty());
    });
}

#[test]
fn bounded_putter_blocked_on_full_is_woken_by_get() {
    model("bounded put woken by get", 2, || {
        let q = Arc::new(Queue::bounded(1));
        q.put(1).unwrap();
        let q2 = q.clone();
        let putter = thread::spawn(move || q2.put(2).unwrap());
        assert_eq!(q.get(), Ok(1));
        putter.join().unwrap();
        assert_eq!(q.try_get(), Ok(2));
    });
}

#[test]
fn bounded_fifo_hand_off_two_items_through_one_slot() {
    // The producer blocks on full after the first item; the consumer on empty; both in turn.
    model("bounded(1) FIFO, 2 items", 2, || {
        let q = Arc::new(Queue::bounded(1));
        let q2 = q.clone();
        let producer = thread::spawn(move || {
            q2.put(1).unwrap();
            q2.put(2).unwrap();
        });
        assert_eq!(q.get(), Ok(1));
        assert_eq!(q.get(), Ok(2));
        producer.join().unwrap();
    });
}

#[test]
fn bounded_two_getters_one_putter_each_item_once() {
    model("bounded(2), 2 getters", 1, || {
        let q = Arc::new(Queue::bounded(2));
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                thread::spawn(move || q.get().unwrap())
            })
            .collect();
        q.put(1).unwrap();
        q.put(2).unwrap();
        let mut got: Vec<i32> = getters.into_iter().map(|g| g.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

#[test]
fn shutdown_wakes_a_blocked_getter_with_err() {
    model("shutdown vs blocked get", 2, || {
        let q = Arc::new(Queue::<i32>::bounded(1));
        let q2 = q.clone();
        let getter = thread::spawn(move || q2.get());
        q.shutdown();
        assert!(getter.join().unwrap().is_err());
    });
}

#[test]
fn shutdown_wakes_a_blocked_putter_with_its_item() {
    model("shutdown vs blocked put", 2, || {
        let q = Arc::new(Queue::bounded(1));
        q.put(1).unwrap();
        let q2 = q.clone();
        let putter = thread::spawn(move || q2.put(2));
        q.shutdown();
        assert_eq!(putter.join().unwrap().unwrap_err().into_inner(), 2);
        // Items put before the shutdown are still handed out, then get fails.
        assert_eq!(q.get(), Ok(1));
        assert!(q.get().is_err());
    });
}

// `task_done` is the notifier half of a Dekker pair (a SeqCst CAS on `done`, then a SeqCst load
// of `sleepers`). loom models SeqCst loads as AcqRel (tokio-rs/loom#180) and would report a
// false deadlock here (main blocked in `join`, worker terminated); `Waiters` adds a SeqCst fence
// under `cfg(loom)` only, which loom models exactly (see `loom_seq_cst_fence` in
// src/queue/waiters.rs).
#[test]
fn join_returns_after_the_last_task_done() {
    model("task_done + join", 2, || {
        let q = Arc::new(Queue::bounded(2));
        let finished = Arc::new(AtomicUsize::new(0));
        q.put(1).unwrap();
        q.put(2).unwrap();
        let (q2, f2) = (q.clone(), finished.clone());
        let worker = thread::spawn(move || {
            for _ in 0..2 {
                q2.get().unwrap();
                f2.fetch_add(1, SeqCst);
                q2.task_done().unwrap();
            }
        });
        q.join();
        assert_eq!(finished.load(SeqCst), 2);
        worker.join().unwrap();
        assert!(q.task_done().is_err());
    });
}

/// An unbounded queue whose first `n` slots were filled and read on this thread (no
/// interleavings), so that a model starts near the end of the first 31-slot block.
fn drained_queue(n: i32) -> Queue<i32> {
    let q = Queue::new();
    for i in 0..n {
        q.put(i).unwrap();
    }
    for i in 0..n {
        assert_eq!(q.try_get(), Ok(i));
    }
    q
}

#[test]
fn unbounded_fifo_across_a_block_boundary() {
    // Fill and drain 30 slots of the first 31-slot block on one thread (no interleavings), so
    // that the concurrent puts cross into the second block while a getter waits.
    model("unbounded, block boundary", 1, || {
        let q = Arc::new(drained_queue(30));
        let q2 = q.clone();
        let getter = thread::spawn(move || (q2.get().unwrap(), q2.get().unwrap()));
        q.put(100).unwrap();
        q.put(101).unwrap();
        assert_eq!(getter.join().unwrap(), (100, 101));
        assert!(q.is_empty());
    });
}

#[test]
fn unbounded_block_freed_once_while_a_slot_is_claimed_unwritten() {
    // Slots 0..29 of the first 31-slot block are filled and read on one thread. Then one
    // thread puts an item; another puts one and gets one; this one gets one. The interleaving
    // that matters needs one preemption: the first producer claims slot 29 and stops before
    // writing it, the second fills slot 30 and claims slot 29 for its get, and this thread
    // (asleep in `get` until then) reads slot 30 and walks the block to free it. The walk finds
    // slot 29 claimed but unwritten and sets `DESTROY` there; the producer's plain store of
    // `written` must not erase it (it lives in a word of its own), and slot 29's consumer must
    // see it and free the block. loom's allocation tracking fails an execution that ends with a
    // block not freed (a consumer that stores `READ` instead of `fetch_or` fails it so), and
    // its cell tracking one that frees a block while a slot is still being read.
    model("unbounded, block freed under a claimed slot", 2, || {
        let q = Arc::new(drained_queue(29));
        let first = {
            let q = q.clone();
            thread::spawn(move || q.put(100).unwrap())
        };
        let second = {
            let q = q.clone();
            thread::spawn(move || {
                q.put(101).unwrap();
                q.get().unwrap()
            })
        };
        let mine = q.get().unwrap();
        first.join().unwrap();
        let theirs = second.join().unwrap();
        let mut got = [mine, theirs];
        got.sort_unstable();
        assert_eq!(got, [100, 101]);
        assert!(q.is_empty());
    });
}

#[test]
fn lifo_getter_blocked_on_empty_is_woken_by_put() {
    model("LIFO get woken by put", 2, || {
        let q = Arc::new(LifoQueue::new());
        let q2 = q.clone();
        let getter = thread::spawn(move || q2.get().unwrap());
        q.put(7).unwrap();
        assert_eq!(getter.join().unwrap(), 7);
    });
}

#[test]
fn lifo_bounded_putter_blocked_on_full_is_woken_by_get() {
    model("LIFO put woken by get", 2, || {
        let q = Arc::new(LifoQueue::bounded(1));
        q.put(1).unwrap();
        let q2 = q.clone();
        let putter = thread::spawn(move || q2.put(2).unwrap());
        assert_eq!(q.get(), Ok(1));
        putter.join().unwrap();
        assert_eq!(q.try_get(), Ok(2));
    });
}

#[test]
fn lifo_order_with_a_concurrent_getter() {
    // Two items in before the getter starts come out last-in first.
    model("LIFO order", 2, || {
        let q = Arc::new(LifoQueue::new());
        q.put(1).unwrap();
        q.put(2).unwrap();
        let q2 = q.clone();
        let getter = thread::spawn(move || q2.get().unwrap());
        let mine = q.get().unwrap();
        let theirs = getter.join().unwrap();
        assert_eq!((mine.max(theirs), mine.min(theirs)), (2, 1));
    });
}
