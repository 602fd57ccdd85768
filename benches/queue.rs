//! `Queue` (bounded and unbounded) against `crossbeam_channel` and `std::sync::mpsc`, with one
//! producer and one consumer (SPSC) and with 2 and 4 of each (MPMC).
//!
//! ```text
//! cargo bench --bench queue
//! cargo bench --bench queue -- unbounded
//! ```
//!
//! One iteration is one item through the queue, so the figures are time per item. std's
//! receiver cannot be shared (`mpsc` is single-consumer): for SPSC the one consumer takes it
//! for the whole run; for MPMC it sits in a `Mutex` that each consumer locks for each item
//! (the usual workaround, and the reason to want an MPMC queue).

use std::hint::black_box;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};

mod common;
use common::{share, timed_threads};

/// Capacity of the bounded queues (the issue's `bounded(1024)`).
const CAP: usize = 1024;

/// One shape of the benchmark: how many producers and consumers, bounded or not.
#[derive(Clone, Copy)]
struct Shape {
    producers: usize,
    consumers: usize,
    bounded: bool,
}

// ANCHOR: mpmc
/// `items` items from `producers` threads to `consumers` threads. Each producer puts its share,
/// each consumer takes its share (the totals are equal, so nobody waits forever); returns the
/// wall time. `put` and `get` are the contestant's operations on its queue `q`.
fn transfer<Q: Sync>(
    q: &Q,
    shape: Shape,
    items: u64,
    put: impl Fn(&Q, u64) + Sync,
    get: impl Fn(&Q) -> u64 + Sync,
) -> Duration {
    // The same number of producers and consumers in every shape, so the shares are equal.
    let per = share(items, shape.producers);
    timed_threads(shape.producers + shape.consumers, |i| {
        if i < shape.producers {
            for k in 0..per {
                put(q, k);
            }
        } else {
            let mut sum = 0u64;
            for _ in 0..per {
                sum = sum.wrapping_add(get(q));
            }
            black_box(sum);
        }
    })
}
// ANCHOR_END: mpmc

fn synclab_run(shape: Shape, items: u64) -> Duration {
    let q = if shape.bounded {
        synclab::Queue::bounded(CAP)
    } else {
        synclab::Queue::new()
    };
    transfer(
        &q,
        shape,
        items,
        |q, k| q.put(k).unwrap(),
        |q| q.get().unwrap(),
    )
}

fn crossbeam_run(shape: Shape, items: u64) -> Duration {
    let q = if shape.bounded {
        crossbeam_channel::bounded(CAP)
    } else {
        crossbeam_channel::unbounded()
    };
    transfer(
        &q,
        shape,
        items,
        |q, k| q.0.send(k).unwrap(),
        |q| q.1.recv().unwrap(),
    )
}

/// The sending half of either std channel.
enum StdSender {
    Bounded(mpsc::SyncSender<u64>),
    Unbounded(mpsc::Sender<u64>),
}

fn std_run(shape: Shape, items: u64) -> Duration {
    let (tx, rx) = if shape.bounded {
        let (tx, rx) = mpsc::sync_channel(CAP);
        (StdSender::Bounded(tx), rx)
    } else {
        let (tx, rx) = mpsc::channel();
        (StdSender::Unbounded(tx), rx)
    };
    let rx = Mutex::new(rx);
    let per = share(items, shape.producers);
    timed_threads(shape.producers + shape.consumers, |i| {
        if i < shape.producers {
            for k in 0..per {
                match &tx {
                    StdSender::Bounded(tx) => tx.send(k).unwrap(),
                    StdSender::Unbounded(tx) => tx.send(k).unwrap(),
                }
            }
        } else if shape.consumers == 1 {
            let rx = rx.lock().unwrap(); // the only consumer: hold the receiver throughout
            black_box((0..per).fold(0u64, |s, _| s.wrapping_add(rx.recv().unwrap())));
        } else {
            let next = || rx.lock().unwrap().recv().unwrap();
            black_box((0..per).fold(0u64, |s, _| s.wrapping_add(next())));
        }
    })
}

fn group(g: &mut BenchmarkGroup<'_, WallTime>, shape: Shape) {
    g.bench_function("synclab", |b| b.iter_custom(|n| synclab_run(shape, n)));
    g.bench_function("crossbeam", |b| b.iter_custom(|n| crossbeam_run(shape, n)));
    g.bench_function("std_mpsc", |b| b.iter_custom(|n| std_run(shape, n)));
}

fn queues(c: &mut Criterion) {
    for bounded in [true, false] {
        for (producers, consumers) in [(1, 1), (2, 2), (4, 4)] {
            let kind = if bounded { "bounded1024" } else { "unbounded" };
            let name = if producers == 1 {
                format!("queue/{kind}_spsc")
            } else {
                format!("queue/{kind}_mpmc{producers}p{consumers}c")
            };
            let mut g = c.benchmark_group(name);
            group(
                &mut g,
                Shape {
                    producers,
                    consumers,
                    bounded,
                },
            );
            g.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = queues
}
criterion_main!(benches);
