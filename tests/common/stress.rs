//! The stress tests' shared pieces (`tests/stress.rs`, `tests/stress_kinds.rs`): thread count,
//! run length from `SYNCLAB_STRESS_MS`, iteration cap, status refresh, and the MPMC test that
//! every queue kind goes through.

use std::thread;
use std::time::{Duration, Instant};

use synclab::{LifoQueue, PriorityQueue, Queue, ShutDown};

use super::{Status, guarded};

/// Threads per test: 4× CI's 2 cores.
pub const THREADS: usize = 8;
/// Iteration cap per thread (per loop), whatever the run length.
pub const CAP: usize = 2_000_000;
/// Status lines are refreshed once every this many iterations.
pub const STATUS_EVERY: usize = 1024;

/// The run length: `SYNCLAB_STRESS_MS` (default 200 ms).
pub fn run_length() -> Duration {
    let ms = std::env::var("SYNCLAB_STRESS_MS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(200);
    Duration::from_millis(ms)
}

/// When a test's loops stop: at the deadline or after [`CAP`] iterations.
#[derive(Clone, Copy)]
pub struct Run {
    end: Instant,
}

impl Run {
    pub fn start() -> Run {
        Run {
            end: Instant::now() + run_length(),
        }
    }

    /// `true` while iteration `i` should run.
    pub fn more(&self, i: usize) -> bool {
        i < CAP && Instant::now() < self.end
    }
}

/// Refreshes `who`'s status line every [`STATUS_EVERY`] iterations.
// `is_multiple_of` is newer than synclab's `rust-version` (1.85); the exercises, which include
// this file too, have no `rust-version`, so clippy suggests it there.
#[allow(clippy::manual_is_multiple_of)]
pub fn every(status: &Status, who: &str, i: usize, what: &str) {
    if i % STATUS_EVERY == 0 {
        status.set(who, format!("iteration {i}: {what}"));
    }
}

/// The queue methods the MPMC stress test uses: `Queue`, `LifoQueue` and `PriorityQueue` have
/// them under the same names, but share no trait.
pub trait StressQueue: Sync {
    fn put(&self, x: u64) -> Result<(), ShutDown<u64>>;
    fn get(&self) -> Result<u64, ShutDown>;
    fn shutdown(&self);
    fn is_empty(&self) -> bool;
}

macro_rules! stress_queue {
    ($($t:ty),*) => {$(
        impl StressQueue for $t {
            fn put(&self, x: u64) -> Result<(), ShutDown<u64>> {
                <$t>::put(self, x)
            }
            fn get(&self) -> Result<u64, ShutDown> {
                <$t>::get(self)
            }
            fn shutdown(&self) {
                <$t>::shutdown(self)
            }
            fn is_empty(&self) -> bool {
                <$t>::is_empty(self)
            }
        }
    )*};
}
stress_queue!(Queue<u64>, LifoQueue<u64>, PriorityQueue<u64>);

/// What went through a queue: count, sum and sum of squares of the items.
type Tally = (u64, u64, u128);

fn add(a: Tally, b: Tally) -> Tally {
    (a.0 + b.0, a.1 + b.1, a.2 + b.2)
}

fn count(t: &mut Tally, x: u64) {
    *t = add(*t, (1, x, u128::from(x) * u128::from(x)));
}

/// MPMC through `q`: half the [`THREADS`] put unique numbers, half get until the queue is shut
/// down and drained. Every item comes out exactly once (the count, sum and sum of squares of
/// what went in and came out agree); with `fifo`, each producer's items also come out in the
/// order it put them.
pub fn mpmc(name: &str, q: &impl StressQueue, fifo: bool) {
    const PRODUCERS: usize = THREADS / 2;
    guarded(name, |status: &Status| {
        let run = Run::start();
        let (produced, consumed) = thread::scope(|s| {
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|t| {
                    let status = status.clone();
                    s.spawn(move || {
                        let who = format!("producer {t}");
                        let mut tally = (0, 0, 0);
                        let mut i = 0;
                        while run.more(i) {
                            every(&status, &who, i, "put");
                            let item = (t * CAP + i) as u64;
                            q.put(item).unwrap();
                            count(&mut tally, item);
                            i += 1;
                        }
                        status.set(who, "done");
                        tally
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..THREADS - PRODUCERS)
                .map(|t| {
                    let status = status.clone();
                    s.spawn(move || {
                        let who = format!("consumer {t}");
                        let mut tally = (0, 0, 0);
                        let mut last = [None::<u64>; PRODUCERS];
                        let mut i = 0;
                        loop {
                            every(&status, &who, i, "get");
                            let Ok(item) = q.get() else { break };
                            if fifo {
                                let from = item as usize / CAP;
                                if let Some(prev) = last[from] {
                                    assert!(item > prev, "producer {from}: {item} after {prev}");
                                }
                                last[from] = Some(item);
                            }
                            count(&mut tally, item);
                            i += 1;
                        }
                        status.set(who, "done");
                        tally
                    })
                })
                .collect();
            let p = producers
                .into_iter()
                .map(|h| h.join().unwrap())
                .fold((0, 0, 0), add);
            status.set("main", "producers joined: shutdown");
            q.shutdown();
            let c = consumers
                .into_iter()
                .map(|h| h.join().unwrap())
                .fold((0, 0, 0), add);
            status.set("main", "done");
            (p, c)
        });
        assert!(produced.0 > 0);
        assert_eq!(
            produced, consumed,
            "(count, sum, sum of squares) put vs got"
        );
        assert!(q.is_empty());
    });
}
