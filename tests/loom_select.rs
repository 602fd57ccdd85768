//! loom model of `Select` (run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2
//! CARGO_TARGET_DIR=target/loom cargo test --release --test loom_select`).
//!
//! Two queues, one selector, one producer per queue: the selector must get both items whatever
//! the interleaving. A lost wakeup leaves the selector asleep in the futex model forever, which
//! loom reports as a deadlock. Under loom the backoff completes at once, so the selector goes
//! straight to registering, re-checking and sleeping: the paths the argument in
//! `src/queue/selectors.rs` is about.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use synclab::{Queue, Select, ShutDown};

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
    assert!(
        synclab::futex::loom_sleeps() > 0,
        "{name}: no execution ever slept"
    );
}

#[test]
fn selector_gets_one_item_from_each_of_two_producers() {
    model("select: 2 queues, 2 producers", 3, || {
        let a = Arc::new(Queue::bounded(1));
        let b = Arc::new(Queue::new());
        let pa = {
            let a = a.clone();
            thread::spawn(move || a.put(1).unwrap())
        };
        let pb = {
            let b = b.clone();
            thread::spawn(move || b.put(2).unwrap())
        };
        let mut sel = Select::new().queue(&*a).queue(&*b);
        let (i, x) = sel.get().unwrap();
        let (j, y) = sel.get().unwrap();
        // 1 comes from `a` (index 0), 2 from `b` (index 1), in either order.
        assert_eq!((i + 1, j + 1), (x, y));
        assert_eq!(x + y, 3);
        pa.join().unwrap();
        pb.join().unwrap();
    });
}

#[test]
fn selector_sees_the_shutdown_of_both_queues() {
    model("select: shutdown of 2 queues", 2, || {
        let a = Arc::new(Queue::<u8>::new());
        let b = Arc::new(Queue::<u8>::new());
        let closer = {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || {
                a.shutdown();
                b.shutdown();
            })
        };
        let mut sel = Select::new().queue(&*a).queue(&*b);
        assert_eq!(sel.get(), Err(ShutDown(())));
        closer.join().unwrap();
    });
}

#[test]
fn selector_and_plain_getter_share_a_queue() {
    // Two items on `a`, a plain getter on `a` and a selector on `a` and `b`: each gets one,
    // whoever the wakes go to.
    model("select: selector + getter on one queue", 2, || {
        let a = Arc::new(Queue::new());
        let b = Arc::new(Queue::<u32>::new());
        let producer = {
            let a = a.clone();
            thread::spawn(move || {
                a.put(1).unwrap();
                a.put(2).unwrap();
            })
        };
        let getter = {
            let a = a.clone();
            thread::spawn(move || a.get().unwrap())
        };
        let mut sel = Select::new().queue(&*a).queue(&*b);
        let (at, x) = sel.get().unwrap();
        let y = getter.join().unwrap();
        assert_eq!(at, 0);
        assert_eq!(x + y, 3);
        producer.join().unwrap();
    });
}
