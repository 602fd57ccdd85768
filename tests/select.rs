//! Tests of `Select`: waiting on several queues at once.
//!
//! Multi-threaded bodies run under the watchdog of `tests/common` (a lost wakeup shows as a
//! watchdog failure with the threads' last status); sleeps only make blocking likely, no test
//! relies on timing.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use common::{guarded, scaled};
use synclab::{GetError, LifoQueue, PriorityQueue, Queue, Select, ShutDown};

/// Long enough that a thread spawned before it has most likely blocked.
const SETTLE: Duration = Duration::from_millis(30);

#[test]
fn many_producers_on_three_queues_every_item_received_exactly_once() {
    guarded("select: 6 producers, 3 queues, 1 selector", |status| {
        const PER: usize = scaled(20_000);
        // One of each store: the bounded ring (small, so producers block too), the list, and
        // a locked stack.
        let ring = Queue::bounded(4);
        let list = Queue::new();
        let stack = LifoQueue::new();
        let mut seen = vec![0u8; 6 * PER];
        thread::scope(|s| {
            for p in 0..6 {
                let (ring, list, stack) = (&ring, &list, &stack);
                s.spawn(move || {
                    for i in 0..PER {
                        let item = p * PER + i;
                        match p % 3 {
                            0 => ring.put(item).unwrap(),
                            1 => list.put(item).unwrap(),
                            _ => stack.put(item).unwrap(),
                        }
                    }
                });
            }
            let mut sel = Select::new().queue(&ring).queue(&list).queue(&stack);
            for n in 0..6 * PER {
                status.set("selector", format!("waiting for item {n}"));
                let (at, item) = sel.get().unwrap();
                assert_eq!(
                    at,
                    (item / PER) % 3,
                    "item {item} came from the wrong queue"
                );
                seen[item] += 1;
            }
            status.set("selector", "done");
        });
        assert!(seen.iter().all(|&c| c == 1), "an item was lost or doubled");
        assert!(ring.is_empty() && list.is_empty() && stack.is_empty());
    });
}

#[test]
fn two_selectors_and_a_getter_share_two_queues() {
    guarded("select: 2 selectors + 1 getter", |status| {
        const PER: usize = scaled(10_000);
        let (a, b) = (Queue::bounded(2), Queue::new());
        let total = AtomicUsize::new(0);
        let count = AtomicUsize::new(0);
        thread::scope(|s| {
            for (q, base) in [(&a, 0), (&b, PER)] {
                s.spawn(move || {
                    for i in 0..PER {
                        q.put(base + i).unwrap();
                    }
                    q.shutdown();
                });
            }
            for who in 0..2 {
                let (a, b, total, count) = (&a, &b, &total, &count);
                s.spawn(move || {
                    let mut sel = Select::new().queue(a).queue(b);
                    while let Ok((_, item)) = sel.get() {
                        total.fetch_add(item, SeqCst);
                        count.fetch_add(1, SeqCst);
                        status.set(format!("selector {who}"), format!("got {item}"));
                    }
                });
            }
            while let Ok(item) = a.get() {
                total.fetch_add(item, SeqCst);
                count.fetch_add(1, SeqCst);
            }
        });
        let n = 2 * PER;
        assert_eq!(count.load(SeqCst), n);
        assert_eq!(total.load(SeqCst), n * (n - 1) / 2);
    });
}

#[test]
fn blocked_selector_is_woken_by_a_put_on_either_queue() {
    guarded("select: woken by each queue", |_| {
        for which in 0..2 {
            let (a, b) = (Queue::new(), PriorityQueue::new());
            thread::scope(|s| {
                s.spawn(|| {
                    thread::sleep(SETTLE);
                    if which == 0 {
                        a.put(5).unwrap()
                    } else {
                        b.put(5).unwrap()
                    }
                });
                let mut sel = Select::new().queue(&a).queue(&b);
                assert_eq!(sel.get(), Ok((which, 5)));
            });
        }
    });
}

#[test]
fn timeout_expires_on_empty_queues() {
    guarded("select: timeout", |_| {
        let (a, b) = (Queue::<u8>::new(), Queue::bounded(1));
        let mut sel = Select::new().queue(&a).queue(&b);
        assert_eq!(sel.get_timeout(SETTLE), Err(GetError::Timeout));
        assert_eq!(sel.get_timeout(Duration::ZERO), Err(GetError::Timeout));
        b.put(1).unwrap();
        assert_eq!(sel.get_timeout(Duration::ZERO), Ok((1, 1)));
        // MAX is "no timeout": a put from another thread ends it.
        thread::scope(|s| {
            s.spawn(|| {
                thread::sleep(SETTLE);
                a.put(2).unwrap();
            });
            assert_eq!(sel.get_timeout(Duration::MAX), Ok((0, 2)));
        });
        // A timed-out select left nothing registered behind: the queues work as before.
        assert_eq!(
            sel.get_timeout(Duration::from_millis(1)),
            Err(GetError::Timeout)
        );
        a.put(3).unwrap();
        assert_eq!(a.get(), Ok(3));
    });
}

#[test]
fn try_get_on_empty_and_finished() {
    let (a, b) = (Queue::<u8>::new(), Queue::new());
    let mut sel = Select::new().queue(&a).queue(&b);
    assert_eq!(sel.try_get(), Err(GetError::Empty));
    a.shutdown();
    assert_eq!(sel.try_get(), Err(GetError::Empty)); // b may still get items
    b.put(4).unwrap();
    b.shutdown();
    assert_eq!(sel.try_get(), Ok((1, 4))); // drained after the shutdown
    assert_eq!(sel.try_get(), Err(GetError::ShutDown));
    assert_eq!(sel.get(), Err(ShutDown(())));
    assert_eq!(
        sel.get_timeout(Duration::from_secs(3600)),
        Err(GetError::ShutDown)
    );
}

#[test]
fn no_queues_is_finished_at_once() {
    let mut sel = Select::<u8>::new();
    assert_eq!(sel.try_get(), Err(GetError::ShutDown));
    assert_eq!(sel.get(), Err(ShutDown(())));
}

#[test]
fn shutdown_wakes_a_blocked_selector() {
    guarded("select: shutdown seen", |_| {
        let (a, b) = (Queue::<u8>::new(), Queue::<u8>::new());
        thread::scope(|s| {
            s.spawn(|| {
                thread::sleep(SETTLE);
                a.shutdown();
                thread::sleep(SETTLE);
                b.shutdown_now();
            });
            let mut sel = Select::new().queue(&a).queue(&b);
            assert_eq!(sel.get(), Err(ShutDown(())));
            assert!(a.is_shutdown() && b.is_shutdown());
        });
    });
}

#[test]
fn fair_order_takes_turns_and_biased_does_not() {
    let (a, b, c) = (Queue::new(), Queue::new(), Queue::new());
    for n in 0..3 {
        a.put(('a', n)).unwrap();
        b.put(('b', n)).unwrap();
        c.put(('c', n)).unwrap();
    }
    let mut fair = Select::new().queue(&a).queue(&b).queue(&c);
    let order: Vec<usize> = (0..6).map(|_| fair.get().unwrap().0).collect();
    assert_eq!(order, [0, 1, 2, 0, 1, 2]);
    let mut biased = Select::new().queue(&a).queue(&b).queue(&c).biased();
    let order: Vec<usize> = (0..3).map(|_| biased.get().unwrap().0).collect();
    assert_eq!(order, [0, 1, 2]); // a's last, then b's, then c's
    // Fair skips an empty queue and resumes after the one that served.
    a.put(('a', 9)).unwrap();
    c.put(('c', 9)).unwrap();
    let mut fair = Select::new().queue(&a).queue(&b).queue(&c);
    assert_eq!(fair.get().unwrap(), (0, ('a', 9)));
    assert_eq!(fair.get().unwrap(), (2, ('c', 9)));
}

#[test]
fn the_same_queue_twice_and_plain_getters_alongside() {
    guarded("select: duplicate queue", |_| {
        let q = Queue::new();
        thread::scope(|s| {
            s.spawn(|| {
                thread::sleep(SETTLE);
                q.put(1).unwrap();
            });
            let mut sel = Select::new().queue(&q).queue(&q);
            let (at, item) = sel.get().unwrap();
            assert!(at < 2);
            assert_eq!(item, 1);
        });
        q.put(2).unwrap();
        assert_eq!(q.get(), Ok(2));
    });
}
