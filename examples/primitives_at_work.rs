//! Event, Semaphore and Condition at work: the primitives of the article the notes link to
//! ("synchronization primitives in Python": queue, Event, Semaphore, Condition), each doing the
//! job it is made for.
//!
//! ```text
//! cargo run --release --example primitives_at_work
//! ```
//!
//! 1. **An `Event` as a starting gun.** Eight runners need different times to get ready (0 to
//!    7 ms). Without a gun each starts when it is ready, so their starts spread over the whole
//!    7 ms; with one, each waits for the gun, and they start within a fraction of a millisecond.
//! 2. **A `Semaphore` limiting concurrent downloads.** Twelve downloads of 10 ms each, at most
//!    three at a time (`Semaphore(3)`): the program counts how many run at once and checks that
//!    the count never passes three.
//! 3. **Producer/consumer on a `Lock` + `Condition`.** Two producers and two consumers share a
//!    four-slot buffer: the way Python's own `queue.Queue` is built (a lock and the conditions
//!    `not_empty` and `not_full`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::thread;
use std::time::{Duration, Instant};

use synclab::{Condition, Event, Lock, Semaphore};

const RUNNERS: usize = 8;

// ANCHOR: starting_gun
/// Each runner gets ready (`i` ms), then starts; returns the start instants' spread (last
/// start minus first start). With `gun`, runners wait for it after getting ready, and the main
/// thread fires it once all are ready.
fn race(gun: Option<&Event>) -> Duration {
    let ready = Semaphore::new(0); // counts runners that are ready
    let starts = Lock::new(Vec::new());
    thread::scope(|s| {
        for i in 0..RUNNERS {
            let (ready, starts) = (&ready, &starts);
            s.spawn(move || {
                thread::sleep(Duration::from_millis(i as u64)); // lacing shoes
                ready.release().unwrap();
                if let Some(gun) = gun {
                    gun.wait(); // on your marks...
                }
                starts.lock().push(Instant::now()); // go!
            });
        }
        if let Some(gun) = gun {
            for _ in 0..RUNNERS {
                ready.acquire(); // wait until every runner is ready
            }
            gun.set(); // bang: every waiting runner wakes
        }
    });
    let starts = starts.into_inner();
    let first = starts.iter().min().unwrap();
    let last = starts.iter().max().unwrap();
    *last - *first
}
// ANCHOR_END: starting_gun

// ANCHOR: downloads
/// Twelve "downloads" of 10 ms, at most `limit` at a time. Returns the most that ran at once
/// and the total time.
fn downloads(limit: usize) -> (usize, Duration) {
    let slots = Semaphore::new(limit);
    let in_flight = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let start = Instant::now();
    thread::scope(|s| {
        for _ in 0..12 {
            s.spawn(|| {
                let _permit = slots.permit(); // with slots:
                let now = in_flight.fetch_add(1, Relaxed) + 1;
                most.fetch_max(now, Relaxed);
                thread::sleep(Duration::from_millis(10)); // the download
                in_flight.fetch_sub(1, Relaxed);
            }); // the permit is dropped here: the next download may start
        }
    });
    (most.into_inner(), start.elapsed())
}
// ANCHOR_END: downloads

// ANCHOR: buffer
/// A bounded buffer built like Python's `queue.Queue`: one lock, two conditions.
struct Buffer<T> {
    state: Lock<BufferState<T>>,
    not_empty: Condition,
    not_full: Condition,
    capacity: usize,
}

struct BufferState<T> {
    items: VecDeque<T>,
    producers_left: usize,
    /// How many times a producer found the buffer full, and a consumer found it empty.
    full_waits: usize,
    empty_waits: usize,
}

impl<T> Buffer<T> {
    fn put(&self, item: T) {
        let mut state = self.state.lock();
        if state.items.len() == self.capacity {
            state.full_waits += 1;
        }
        let mut state = self
            .not_full
            .wait_while(state, |s| s.items.len() == self.capacity);
        state.items.push_back(item);
        drop(state);
        self.not_empty.notify_one(); // one item: one consumer can go on
    }

    /// `None` once the buffer is empty and every producer has finished.
    fn get(&self) -> Option<T> {
        let mut state = self.state.lock();
        if state.items.is_empty() && state.producers_left > 0 {
            state.empty_waits += 1;
        }
        let mut state = self
            .not_empty
            .wait_while(state, |s| s.items.is_empty() && s.producers_left > 0);
        let item = state.items.pop_front();
        drop(state);
        if item.is_some() {
            self.not_full.notify_one(); // one free slot: one producer can go on
        }
        item
    }

    fn producer_done(&self) {
        self.state.lock().producers_left -= 1;
        self.not_empty.notify_all(); // consumers re-check: maybe nothing more will come
    }
}
// ANCHOR_END: buffer

/// Two producers put 1..=1000 each; two consumers sum what they get.
fn producer_consumer() -> (u64, usize, usize, usize) {
    let buffer = Buffer {
        state: Lock::new(BufferState {
            items: VecDeque::new(),
            producers_left: 2,
            full_waits: 0,
            empty_waits: 0,
        }),
        not_empty: Condition::new(),
        not_full: Condition::new(),
        capacity: 4,
    };
    let (sum, count) = thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for i in 1..=1000u64 {
                    buffer.put(i);
                }
                buffer.producer_done();
            });
        }
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let (mut sum, mut count) = (0, 0);
                    while let Some(i) = buffer.get() {
                        sum += i;
                        count += 1;
                    }
                    (sum, count)
                })
            })
            .collect();
        consumers
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    let state = buffer.state.into_inner();
    (sum, count, state.full_waits, state.empty_waits)
}

fn main() {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut ok = true;

    // 1. The starting gun.
    let without = race(None);
    let gun = Event::new();
    let with = race(Some(&gun));
    println!(
        "starting gun: {RUNNERS} runners, 0-{} ms to get ready",
        RUNNERS - 1
    );
    println!("  without a gun: starts spread over {:.3} ms", ms(without));
    println!("  with an Event: starts spread over {:.3} ms", ms(with));

    // 2. The download limit.
    let (most, took) = downloads(3);
    println!("downloads: 12 x 10 ms with Semaphore(3)");
    println!(
        "  at most {most} in flight at once; all done in {:.0} ms (12 / 3 x 10 ms = 40 ms)",
        ms(took)
    );
    ok &= most <= 3;

    // 3. Producer/consumer.
    let (sum, count, full_waits, empty_waits) = producer_consumer();
    println!(
        "producer/consumer: 2 producers x 1000 items through a 4-slot Lock + Condition buffer"
    );
    println!(
        "  consumed {count} items, sum {sum} (expected 2000 and {}); producers found it full {full_waits} times, consumers empty {empty_waits} times",
        2 * 500_500
    );
    ok &= count == 2000 && sum == 2 * 500_500;

    println!(
        "TOUR|primitives: Event|an Event releases every waiting thread at once: a starting gun|{RUNNERS} runners ready after 0-{} ms: start spread {:.2} ms without the gun, {:.3} ms with an Event",
        RUNNERS - 1,
        ms(without),
        ms(with)
    );
    println!(
        "TOUR|primitives: Semaphore|Semaphore(3) lets at most 3 threads into a section (a download limit)|12 downloads x 10 ms: at most {most} in flight, {:.0} ms in all",
        ms(took)
    );
    println!(
        "TOUR|primitives: Condition|producer/consumer on a lock and conditions (how queue.Queue is built)|2 producers, 2 consumers, 4 slots: {count} of 2000 items, sum ok: {}; {full_waits} waits on full, {empty_waits} on empty",
        sum == 2 * 500_500
    );
    if !ok {
        eprintln!("BUG: a limit was exceeded or an item was lost");
        std::process::exit(1);
    }
}
