//! The signalling primitives against what a Rust programmer would otherwise build:
//! `Event` and `Semaphore` against a `Mutex` + `Condvar` version of the same thing, `Condition`
//! against `std::sync::Condvar` and `parking_lot::Condvar`, `Barrier` against
//! `std::sync::Barrier`.
//!
//! ```text
//! cargo bench --bench signal
//! ```

use std::hint::black_box;
use std::sync::{Condvar, Mutex};

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::{share, timed_threads};

// ANCHOR: event
/// Python's `Event` as the benchmarks use it: `set`, `wait`, `clear`.
trait BenchEvent: Sync + Default {
    fn set(&self);
    fn wait(&self);
    fn clear(&self);
}

impl BenchEvent for synclab::Event {
    fn set(&self) {
        synclab::Event::set(self)
    }
    fn wait(&self) {
        synclab::Event::wait(self)
    }
    fn clear(&self) {
        synclab::Event::clear(self)
    }
}

/// The event a Rust programmer writes without synclab: a flag under a mutex and a condvar.
#[derive(Default)]
struct StdEvent {
    flag: Mutex<bool>,
    changed: Condvar,
}

impl BenchEvent for StdEvent {
    fn set(&self) {
        *self.flag.lock().unwrap() = true;
        self.changed.notify_all();
    }
    fn wait(&self) {
        let flag = self.flag.lock().unwrap();
        drop(self.changed.wait_while(flag, |set| !*set).unwrap());
    }
    fn clear(&self) {
        *self.flag.lock().unwrap() = false;
    }
}

/// The same with parking_lot's mutex and condvar.
#[derive(Default)]
struct PlEvent {
    flag: parking_lot::Mutex<bool>,
    changed: parking_lot::Condvar,
}

impl BenchEvent for PlEvent {
    fn set(&self) {
        *self.flag.lock() = true;
        self.changed.notify_all();
    }
    fn wait(&self) {
        let mut flag = self.flag.lock();
        self.changed.wait_while(&mut flag, |set| !*set);
    }
    fn clear(&self) {
        *self.flag.lock() = false;
    }
}

/// Ping-pong: thread 0 sets `ping` and waits for `pong`; thread 1 waits for `ping`, clears it
/// and sets `pong`. Each waiter clears its event before answering, so no signal is lost. One
/// iteration is one round trip: two wake-ups.
fn ping_pong<E: BenchEvent>(iters: u64) -> std::time::Duration {
    let (ping, pong) = (E::default(), E::default());
    timed_threads(2, |i| {
        for _ in 0..iters {
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
    })
}
// ANCHOR_END: event

fn events(c: &mut Criterion) {
    let mut g = c.benchmark_group("event/ping_pong");
    g.bench_function("synclab", |b| b.iter_custom(ping_pong::<synclab::Event>));
    g.bench_function("std", |b| b.iter_custom(ping_pong::<StdEvent>));
    g.bench_function("parking_lot", |b| b.iter_custom(ping_pong::<PlEvent>));
    g.finish();
}

/// A counting semaphore: `acquire` blocks while no permit is left.
trait BenchSem: Sync {
    fn with_permits(n: usize) -> Self;
    fn acquire(&self);
    fn release(&self);
}

impl BenchSem for synclab::Semaphore {
    fn with_permits(n: usize) -> Self {
        synclab::Semaphore::new(n)
    }
    fn acquire(&self) {
        synclab::Semaphore::acquire(self)
    }
    fn release(&self) {
        synclab::Semaphore::release(self).unwrap()
    }
}

/// The semaphore of the std documentation's era: a count under a mutex and a condvar.
struct StdSem {
    count: Mutex<usize>,
    freed: Condvar,
}

impl BenchSem for StdSem {
    fn with_permits(n: usize) -> Self {
        StdSem {
            count: Mutex::new(n),
            freed: Condvar::new(),
        }
    }
    fn acquire(&self) {
        let count = self.count.lock().unwrap();
        *self.freed.wait_while(count, |n| *n == 0).unwrap() -= 1;
    }
    fn release(&self) {
        *self.count.lock().unwrap() += 1;
        self.freed.notify_one();
    }
}

fn sem_contended<S: BenchSem>(iters: u64) -> std::time::Duration {
    let sem = S::with_permits(2);
    let per = share(iters, 4);
    timed_threads(4, |_| {
        for _ in 0..per {
            sem.acquire();
            black_box(&sem);
            sem.release();
        }
    })
}

fn semaphores(c: &mut Criterion) {
    let mut g = c.benchmark_group("semaphore/uncontended");
    fn once<S: BenchSem>(b: &mut criterion::Bencher) {
        let sem = S::with_permits(1);
        b.iter(|| {
            black_box(&sem).acquire();
            sem.release();
        });
    }
    g.bench_function("synclab", once::<synclab::Semaphore>);
    g.bench_function("std_mutex_condvar", once::<StdSem>);
    g.finish();

    let mut g = c.benchmark_group("semaphore/4threads_2permits");
    g.bench_function("synclab", |b| {
        b.iter_custom(sem_contended::<synclab::Semaphore>)
    });
    g.bench_function("std_mutex_condvar", |b| {
        b.iter_custom(sem_contended::<StdSem>)
    });
    g.finish();
}

// ANCHOR: condition
fn conditions(c: &mut Criterion) {
    // Nobody waits: synclab reads its waiter count and returns; std's futex condvar bumps its
    // counter and makes a FUTEX_WAKE system call every time.
    let mut g = c.benchmark_group("condition/notify_no_waiter");
    let cond = synclab::Condition::new();
    g.bench_function("synclab", |b| b.iter(|| black_box(&cond).notify_one()));
    let cond = Condvar::new();
    g.bench_function("std", |b| b.iter(|| black_box(&cond).notify_one()));
    let cond = parking_lot::Condvar::new();
    g.bench_function("parking_lot", |b| b.iter(|| black_box(&cond).notify_one()));
    g.finish();

    // Hand-off: two threads take turns through one lock and one condition (turn `n % 2`).
    // One iteration is one turn: a notify that wakes a sleeper, and a wait.
    let mut g = c.benchmark_group("condition/hand_off");
    g.bench_function("synclab", |b| {
        b.iter_custom(|iters| {
            let (turn, cond) = (synclab::Lock::new(0u64), synclab::Condition::new());
            let per = share(iters, 2);
            timed_threads(2, |me| {
                for _ in 0..per {
                    let mut t = cond.wait_while(turn.lock(), |t| *t % 2 != me as u64);
                    *t += 1;
                    drop(t);
                    cond.notify_one();
                }
            })
        })
    });
    g.bench_function("std", |b| {
        b.iter_custom(|iters| {
            let (turn, cond) = (Mutex::new(0u64), Condvar::new());
            let per = share(iters, 2);
            timed_threads(2, |me| {
                for _ in 0..per {
                    let t = turn.lock().unwrap();
                    let mut t = cond.wait_while(t, |t| *t % 2 != me as u64).unwrap();
                    *t += 1;
                    drop(t);
                    cond.notify_one();
                }
            })
        })
    });
    g.bench_function("parking_lot", |b| {
        b.iter_custom(|iters| {
            let (turn, cond) = (parking_lot::Mutex::new(0u64), parking_lot::Condvar::new());
            let per = share(iters, 2);
            timed_threads(2, |me| {
                for _ in 0..per {
                    let mut t = turn.lock();
                    cond.wait_while(&mut t, |t| *t % 2 != me as u64);
                    *t += 1;
                    drop(t);
                    cond.notify_one();
                }
            })
        })
    });
    g.finish();
}
// ANCHOR_END: condition

fn barriers(c: &mut Criterion) {
    // Two threads meet at the barrier `iters` times; one iteration is one generation.
    let mut g = c.benchmark_group("barrier/2threads");
    g.bench_function("synclab", |b| {
        b.iter_custom(|iters| {
            let barrier = synclab::Barrier::new(2);
            timed_threads(2, |_| {
                for _ in 0..iters {
                    barrier.wait().unwrap();
                }
            })
        })
    });
    g.bench_function("std", |b| {
        b.iter_custom(|iters| {
            let barrier = std::sync::Barrier::new(2);
            timed_threads(2, |_| {
                for _ in 0..iters {
                    barrier.wait();
                }
            })
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = events, semaphores, conditions, barriers
}
criterion_main!(benches);
