//! `Select` over synclab queues against crossbeam-channel's `select!`, in the same run: two
//! queues, one producer on each, one selector taking every item from whichever is ready.
//!
//! ```text
//! cargo bench --bench select
//! ```
//!
//! One iteration is one item through the select, so the figures are time per item. Two shapes:
//! `bounded1024` (the producers rarely block, the selector often finds an item at once) and
//! `bounded1` (capacity 1: nearly every item makes someone sleep and wake, so this measures the
//! register, sleep and wake path).
//!
//! Three runs on the busy 2-core machine (load 2.5–6), synclab's median time per item over
//! crossbeam's in the same run: `bounded1024` 0.21×, 0.24×, 0.07×; `bounded1` 0.93×, 0.05×,
//! 0.61× (the sleeping shape swings with the load). crossbeam's `select!` builds its operation
//! list and shuffles it on every call; `Select` is built once and its fast path is one
//! `try_get` per queue.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::{share, timed_threads};

/// Two producers (one per queue), one selector; `items` items in all.
fn synclab_run(cap: usize, items: u64) -> Duration {
    let (a, b) = (synclab::Queue::bounded(cap), synclab::Queue::bounded(cap));
    let per = share(items, 2);
    timed_threads(3, |i| match i {
        0 => (0..per).for_each(|k| a.put(k).unwrap()),
        1 => (0..per).for_each(|k| b.put(k).unwrap()),
        _ => {
            let mut sel = synclab::Select::new().queue(&a).queue(&b);
            let mut sum = 0u64;
            for _ in 0..2 * per {
                sum = sum.wrapping_add(sel.get().unwrap().1);
            }
            black_box(sum);
        }
    })
}

fn crossbeam_run(cap: usize, items: u64) -> Duration {
    let (ta, ra) = crossbeam_channel::bounded(cap);
    let (tb, rb) = crossbeam_channel::bounded(cap);
    let per = share(items, 2);
    timed_threads(3, |i| match i {
        0 => (0..per).for_each(|k| ta.send(k).unwrap()),
        1 => (0..per).for_each(|k| tb.send(k).unwrap()),
        _ => {
            let mut sum = 0u64;
            for _ in 0..2 * per {
                let k = crossbeam_channel::select! {
                    recv(ra) -> k => k.unwrap(),
                    recv(rb) -> k => k.unwrap(),
                };
                sum = sum.wrapping_add(k);
            }
            black_box(sum);
        }
    })
}

fn selects(c: &mut Criterion) {
    for cap in [1024, 1] {
        let mut g = c.benchmark_group(format!("select/2q2p1s_bounded{cap}"));
        g.bench_function("synclab", |b| b.iter_custom(|n| synclab_run(cap, n)));
        g.bench_function("crossbeam", |b| b.iter_custom(|n| crossbeam_run(cap, n)));
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = selects
}
criterion_main!(benches);
