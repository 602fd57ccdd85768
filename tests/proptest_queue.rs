//! Property tests of `Queue`, `LifoQueue` and `PriorityQueue`: random operation sequences
//! checked step by step against a model (`VecDeque` FIFO, `Vec` stack, min-first
//! `BinaryHeap`), then random producer/consumer runs checked for lost or duplicated items.
//!
//! Skipped under Miri: proptest's runner is too slow under the interpreter; the plain queue
//! tests (`tests/queue.rs`) run under Miri instead.
#![cfg(not(miri))]

mod common;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::thread;
use std::time::Duration;

use proptest::prelude::*;
use synclab::{GetError, LifoQueue, PriorityQueue, PutError, Queue};

/// The queue under test, seen through one interface.
trait Q: Sync {
    fn make(capacity: Option<usize>) -> Self;
    fn try_put(&self, v: u32) -> Result<(), PutError<u32>>;
    fn try_get(&self) -> Result<u32, GetError>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool;
    fn is_full(&self) -> bool;
    fn capacity(&self) -> Option<usize>;
    fn task_done(&self) -> bool;
    fn join_now(&self) -> bool;
    fn shutdown(&self);
    fn shutdown_now(&self) -> Vec<u32>;
    fn is_shutdown(&self) -> bool;
    fn put(&self, v: u32) -> bool;
    fn get(&self) -> Option<u32>;
}

macro_rules! impl_q {
    ($Q:ident) => {
        impl Q for $Q<u32> {
            fn make(capacity: Option<usize>) -> Self {
                match capacity {
                    Some(c) => $Q::bounded(c),
                    None => $Q::new(),
                }
            }
            fn try_put(&self, v: u32) -> Result<(), PutError<u32>> {
                $Q::try_put(self, v)
            }
            fn try_get(&self) -> Result<u32, GetError> {
                $Q::try_get(self)
            }
            fn len(&self) -> usize {
                $Q::len(self)
            }
            fn is_empty(&self) -> bool {
                $Q::is_empty(self)
            }
            fn is_full(&self) -> bool {
                $Q::is_full(self)
            }
            fn capacity(&self) -> Option<usize> {
                $Q::capacity(self)
            }
            fn task_done(&self) -> bool {
                $Q::task_done(self).is_ok()
            }
            fn join_now(&self) -> bool {
                $Q::join_timeout(self, Duration::ZERO)
            }
            fn shutdown(&self) {
                $Q::shutdown(self)
            }
            fn shutdown_now(&self) -> Vec<u32> {
                $Q::shutdown_now(self)
            }
            fn is_shutdown(&self) -> bool {
                $Q::is_shutdown(self)
            }
            fn put(&self, v: u32) -> bool {
                $Q::put(self, v).is_ok()
            }
            fn get(&self) -> Option<u32> {
                $Q::get(self).ok()
            }
        }
    };
}
impl_q!(Queue);
impl_q!(LifoQueue);
impl_q!(PriorityQueue);

/// The order a model hands items out in.
trait Order: Default {
    fn push(&mut self, v: u32);
    fn pop(&mut self) -> Option<u32>;
    fn len(&self) -> usize;
}

#[derive(Default)]
struct Fifo(VecDeque<u32>);
impl Order for Fifo {
    fn push(&mut self, v: u32) {
        self.0.push_back(v)
    }
    fn pop(&mut self) -> Option<u32> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[derive(Default)]
struct Lifo(Vec<u32>);
impl Order for Lifo {
    fn push(&mut self, v: u32) {
        self.0.push(v)
    }
    fn pop(&mut self) -> Option<u32> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[derive(Default)]
struct Prio(BinaryHeap<Reverse<u32>>);
impl Order for Prio {
    fn push(&mut self, v: u32) {
        self.0.push(Reverse(v))
    }
    fn pop(&mut self) -> Option<u32> {
        self.0.pop().map(|Reverse(v)| v)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// The whole observable state of a queue.
struct Model<O> {
    items: O,
    capacity: Option<usize>,
    shut: bool,
    /// Items ever accepted.
    pushed: usize,
    /// `task_done` calls plus items discarded by `shutdown_now` (at most `pushed`).
    done: usize,
}

#[derive(Debug, Clone)]
enum Op {
    Put(u32),
    Get,
    Len,
    IsEmpty,
    IsFull,
    TaskDone,
    Shutdown,
    ShutdownNow,
}

fn op() -> impl Strategy<Value = Op> {
    // Weighted so that bounded queues fill and drain, and a shutdown comes after about 20
    // operations on average: most sequences shut down, with plenty of steps on either side.
    prop_oneof![
        16 => (0u32..20).prop_map(Op::Put),
        12 => Just(Op::Get),
        2 => Just(Op::Len),
        2 => Just(Op::IsEmpty),
        2 => Just(Op::IsFull),
        6 => Just(Op::TaskDone),
        1 => Just(Op::Shutdown),
        1 => Just(Op::ShutdownNow),
    ]
}

fn capacity() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![Just(None), (1usize..8).prop_map(Some)]
}

/// Runs `ops` on a fresh queue and on the model, comparing every result.
fn check<Qu: Q, O: Order>(cap: Option<usize>, ops: &[Op]) -> Result<(), TestCaseError> {
    let q = Qu::make(cap);
    let mut m = Model {
        items: O::default(),
        capacity: cap,
        shut: false,
        pushed: 0,
        done: 0,
    };
    prop_assert_eq!(q.capacity(), cap);
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Put(v) => {
                let got = q.try_put(v);
                let want = if m.shut {
                    Err(PutError::ShutDown(v))
                } else if m.capacity.is_some_and(|c| m.items.len() >= c) {
                    Err(PutError::Full(v))
                } else {
                    m.items.push(v);
                    m.pushed += 1;
                    Ok(())
                };
                prop_assert_eq!(got, want, "step {}: {:?}", step, op);
            }
            Op::Get => {
                let want = match m.items.pop() {
                    Some(v) => Ok(v),
                    None if m.shut => Err(GetError::ShutDown),
                    None => Err(GetError::Empty),
                };
                prop_assert_eq!(q.try_get(), want, "step {}: {:?}", step, op);
            }
            Op::Len => prop_assert_eq!(q.len(), m.items.len(), "step {}", step),
            Op::IsEmpty => prop_assert_eq!(q.is_empty(), m.items.len() == 0, "step {}", step),
            Op::IsFull => {
                let full = m.capacity.is_some_and(|c| m.items.len() >= c);
                prop_assert_eq!(q.is_full(), full, "step {}", step);
            }
            Op::TaskDone => {
                let ok = m.done < m.pushed;
                if ok {
                    m.done += 1;
                }
                prop_assert_eq!(q.task_done(), ok, "step {}: {:?}", step, op);
            }
            Op::Shutdown => {
                q.shutdown();
                m.shut = true;
            }
            Op::ShutdownNow => {
                let mut want = Vec::new();
                while let Some(v) = m.items.pop() {
                    want.push(v);
                }
                m.shut = true;
                m.done += want.len().min(m.pushed - m.done);
                prop_assert_eq!(q.shutdown_now(), want, "step {}: {:?}", step, op);
            }
        }
        // After every step: the cheap observers and the task count agree with the model.
        prop_assert_eq!(q.len(), m.items.len(), "len after step {}", step);
        prop_assert_eq!(q.is_shutdown(), m.shut, "is_shutdown after step {}", step);
        prop_assert_eq!(q.join_now(), m.done == m.pushed, "join after step {}", step);
    }
    // Finally drain: exactly the model's items, in its order, then `ShutDown`.
    q.shutdown();
    while let Some(v) = m.items.pop() {
        prop_assert_eq!(q.try_get(), Ok(v));
    }
    prop_assert_eq!(q.try_get(), Err(GetError::ShutDown));
    Ok(())
}

const CASES: u32 = if cfg!(miri) { 4 } else { 256 };

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn queue_matches_fifo_model(cap in capacity(), ops in prop::collection::vec(op(), 0..64)) {
        check::<Queue<u32>, Fifo>(cap, &ops)?;
    }

    #[test]
    fn lifo_queue_matches_stack_model(cap in capacity(), ops in prop::collection::vec(op(), 0..64)) {
        check::<LifoQueue<u32>, Lifo>(cap, &ops)?;
    }

    #[test]
    fn priority_queue_matches_heap_model(cap in capacity(), ops in prop::collection::vec(op(), 0..64)) {
        check::<PriorityQueue<u32>, Prio>(cap, &ops)?;
    }
}

/// `producers` threads put `per` items each (`p * per + i`, in order) with blocking `put`;
/// `consumers` threads `get` until shutdown. Returns what each consumer got, in order.
fn run_mpmc<Qu: Q>(
    name: &str,
    cap: Option<usize>,
    producers: usize,
    consumers: usize,
    per: usize,
) -> Vec<Vec<u32>> {
    common::guarded(name, |status| {
        let q = Qu::make(cap);
        let q = &q;
        thread::scope(|s| {
            let cons: Vec<_> = (0..consumers)
                .map(|c| {
                    s.spawn(move || {
                        let mut got = Vec::new();
                        while let Some(v) = q.get() {
                            got.push(v);
                        }
                        status.set(format!("consumer {c}"), "done");
                        got
                    })
                })
                .collect();
            let prods: Vec<_> = (0..producers)
                .map(|p| {
                    s.spawn(move || {
                        for i in 0..per {
                            assert!(q.put((p * per + i) as u32), "put refused before shutdown");
                        }
                        status.set(format!("producer {p}"), "done");
                    })
                })
                .collect();
            for p in prods {
                p.join().unwrap();
            }
            // Every item is in; gets drain the rest and then fail.
            q.shutdown();
            cons.into_iter().map(|c| c.join().unwrap()).collect()
        })
    })
}

fn mpmc_params() -> impl Strategy<Value = (Option<usize>, usize, usize, usize)> {
    (capacity(), 1usize..=4, 1usize..=4, 0usize..200)
}

/// Every item sent was received exactly once.
fn check_multiset(got: &[Vec<u32>], producers: usize, per: usize) -> Result<(), TestCaseError> {
    let mut all: Vec<u32> = got.iter().flatten().copied().collect();
    all.sort_unstable();
    let want: Vec<u32> = (0..(producers * per) as u32).collect();
    prop_assert_eq!(all, want);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn queue_mpmc_loses_nothing_and_keeps_producer_order((cap, n, m, per) in mpmc_params()) {
        let got = run_mpmc::<Queue<u32>>("queue_mpmc", cap, n, m, per);
        check_multiset(&got, n, per)?;
        // FIFO: each consumer sees each producer's items in the order they were put.
        for seq in &got {
            let mut last = vec![None; n];
            for &v in seq {
                let p = v as usize / per;
                prop_assert!(last[p] < Some(v), "producer {}: {:?} after {}", p, last[p], v);
                last[p] = Some(v);
            }
        }
    }

    #[test]
    fn lifo_queue_mpmc_loses_nothing((cap, n, m, per) in mpmc_params()) {
        let got = run_mpmc::<LifoQueue<u32>>("lifo_queue_mpmc", cap, n, m, per);
        check_multiset(&got, n, per)?;
    }

    #[test]
    fn priority_queue_mpmc_loses_nothing((cap, n, m, per) in mpmc_params()) {
        let got = run_mpmc::<PriorityQueue<u32>>("priority_queue_mpmc", cap, n, m, per);
        check_multiset(&got, n, per)?;
    }
}
