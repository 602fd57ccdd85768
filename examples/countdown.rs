//! The notes' CPU-bound countdown (`single_threaded.py`, `multi_threaded.py`): count a number
//! down to zero on one thread, on two threads (half each), on two threads under a **toy GIL**,
//! and on a pool of two workers.
//!
//! ```text
//! cargo run --release --example countdown                  # count 200,000,000, best of 3
//! cargo run --release --example countdown -- --count 50000000 --runs 5
//! ```
//!
//! Rust counts some 70 times faster than CPython, so the notes' `COUNT = 50000000` takes only
//! about 20 ms here: too short to measure threads well (starting a thread can take a
//! millisecond or more on a busy machine, and only a few 5 ms GIL intervals fit). The default
//! is therefore four times the notes' count; `--count 50000000` gives theirs.
//!
//! In CPython the two-thread version is no faster than the single-threaded one: both threads
//! need the Global Interpreter Lock to run a single bytecode, so only one counts at a time. Rust
//! has no GIL, so two threads on two cores take half the time. The third measurement puts a GIL
//! back: [`Gil`] rebuilds CPython's scheduling (`Python/ceval_gil.c`, the "new GIL" of 3.2+)
//! from a `synclab::Lock` and two `synclab::Condition`s, with the same 5 ms switch interval
//! (`sys.getswitchinterval()`) and the same drop request, and the speed-up disappears again.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::thread;
use std::time::{Duration, Instant};

use synclab::{Condition, Lock, Pool};

mod common;
use common::arg;

/// The notes' `COUNT = 50000000`.
const NOTES_COUNT: u64 = 50_000_000;

// ANCHOR: countdown
/// The notes' `countdown(n)`: `while n > 0: n -= 1`.
///
/// The loop computes nothing anybody reads, so in a release build the optimizer would delete it
/// (it can see that the loop only ends with `n == 0` and skip straight there): we would be timing
/// an empty function. `black_box(n)` tells the compiler "assume something reads `n` here and may
/// have changed it", so every one of the `n` iterations really runs, as every bytecode does in
/// Python. It costs a store and a load per iteration, nothing more.
///
/// `#[inline(never)]`: every measurement below calls this one copy of the machine code. Inlined
/// into each caller, the loop could compile slightly differently in each, and we would be
/// comparing code layouts instead of threads.
#[inline(never)]
fn countdown(n: u64) {
    let mut n = n;
    while black_box(n) > 0 {
        n -= 1;
    }
}
// ANCHOR_END: countdown

// ANCHOR: threads
/// `multi_threaded.py`: two threads, `COUNT / 2` each, started and joined.
fn two_threads(count: u64) {
    thread::scope(|s| {
        s.spawn(|| countdown(count / 2));
        s.spawn(|| countdown(count / 2));
    }); // the scope joins both threads: t1.join(); t2.join()
}
// ANCHOR_END: threads

// ANCHOR: gil_state
/// A toy Global Interpreter Lock, scheduled like CPython's (`Python/ceval_gil.c`).
///
/// - A thread must hold the GIL to "run bytecode" (here: to count).
/// - A thread that wants the GIL waits on `released` for at most one *switch interval*
///   (CPython: 5 ms). If the interval passes and the same holder still has it, the waiter sets
///   `drop_request`.
/// - The holder checks `drop_request` at every loop iteration (CPython checks its "eval breaker"
///   at backward jumps and calls), and when it is set, releases the GIL and waits on `switched`
///   until another thread has taken it, so that it cannot grab it straight back (CPython's
///   `FORCE_SWITCHING`). Then it queues up for the GIL like everyone else.
struct Gil {
    /// Who may run: the GIL itself, plus a count of how often it changed hands.
    state: Lock<GilState>,
    /// Notified when the GIL is released (CPython: `gil->cond`).
    released: Condition,
    /// Notified when a thread takes the GIL (CPython: `gil->switch_cond`).
    switched: Condition,
    /// "Please let go": set by a waiter after a whole interval, read by the holder without
    /// taking `state` (CPython: `gil_drop_request`, part of the eval breaker). Relaxed is
    /// enough: it is only a hint, and every real hand-over goes through `state`.
    drop_request: AtomicBool,
    /// How long a waiter waits before it asks the holder to let go.
    interval: Duration,
    /// How many times a holder let go because it was asked to.
    forced_switches: AtomicU64,
}

struct GilState {
    locked: bool,
    /// Incremented by every take (CPython: `gil->switch_number`).
    switch_number: u64,
}

// ANCHOR_END: gil_state

// ANCHOR: gil_methods
impl Gil {
    fn new(interval: Duration) -> Gil {
        Gil {
            state: Lock::new(GilState {
                locked: false,
                switch_number: 0,
            }),
            released: Condition::new(),
            switched: Condition::new(),
            drop_request: AtomicBool::new(false),
            interval,
            forced_switches: AtomicU64::new(0),
        }
    }

    /// CPython's `take_gil`.
    fn take(&self) {
        let mut state = self.state.lock();
        while state.locked {
            let seen = state.switch_number;
            let (guard, result) = self.released.wait_timeout(state, self.interval);
            state = guard;
            if result.timed_out() && state.locked && state.switch_number == seen {
                // A whole interval and the same holder: ask it to drop the GIL.
                self.drop_request.store(true, Relaxed);
            }
        }
        state.locked = true;
        state.switch_number += 1;
        self.drop_request.store(false, Relaxed);
        self.switched.notify_all(); // a holder waiting in `hand_over` may go on
    }

    /// CPython's `drop_gil`, when a thread is done.
    fn release(&self) {
        self.state.lock().locked = false;
        self.released.notify_one();
    }

    /// The holder saw `drop_request`: drop the GIL, wait until another thread has it, then
    /// wait for it again (CPython's eval breaker: `drop_gil` with `FORCE_SWITCHING`, then
    /// `take_gil`).
    fn hand_over(&self) {
        let mut state = self.state.lock();
        state.locked = false;
        let seen = state.switch_number;
        self.released.notify_one();
        drop(self.switched.wait_while(state, |s| s.switch_number == seen));
        self.forced_switches.fetch_add(1, Relaxed);
        self.take();
    }
}

// ANCHOR_END: gil_methods

// ANCHOR: gil_countdown
/// `countdown(n)` as CPython runs it: holding the GIL, and letting go when asked.
#[inline(never)]
fn countdown_under_gil(gil: &Gil, n: u64) {
    gil.take();
    let mut n = n;
    while black_box(n) > 0 {
        n -= 1;
        // The loop's backward jump: where CPython looks at its eval breaker.
        if gil.drop_request.load(Relaxed) {
            gil.hand_over();
        }
    }
    gil.release();
}

/// `single_threaded.py` under the toy GIL: the same loop as below, but nobody ever asks for
/// the GIL. This, not `countdown`, is the fair baseline for the two threads under the GIL: the
/// check in the loop changes the machine code the compiler makes of it.
fn one_thread_under_gil(count: u64, interval: Duration) {
    countdown_under_gil(&Gil::new(interval), count);
}

/// `multi_threaded.py` under the toy GIL. Returns how often the GIL was handed over.
fn two_threads_under_gil(count: u64, interval: Duration) -> u64 {
    let gil = Gil::new(interval);
    thread::scope(|s| {
        s.spawn(|| countdown_under_gil(&gil, count / 2));
        s.spawn(|| countdown_under_gil(&gil, count / 2));
    });
    gil.forced_switches.load(Relaxed)
}
// ANCHOR_END: gil_countdown

// ANCHOR: pool
/// `mp_pool.py` with synclab's `Pool`: two worker threads, two jobs (the `pool` example times
/// the same program on its own, and checks its results).
fn pool_of_two(count: u64) {
    let pool = Pool::new(2); //                                  Pool(processes=2)
    let r1 = pool.apply_async(move || countdown(count / 2)); // apply_async(countdown, [COUNT//2])
    let r2 = pool.apply_async(move || countdown(count / 2)); // apply_async(countdown, [COUNT//2])
    pool.close(); //                                             close(): no more jobs
    pool.join(); //                                              join()
    r1.get().unwrap(); // Err only if the job panicked
    r2.get().unwrap();
}
// ANCHOR_END: pool

/// The fastest of several timed runs: the one least disturbed by whatever else the machine
/// was doing. Each variant runs once per round, so a busy moment hurts one run of each rather
/// than every run of one.
struct Best {
    time: Duration,
    /// What the fastest run returned (the number of hand-overs, for the toy GIL).
    value: u64,
}

impl Best {
    fn new() -> Best {
        Best {
            time: Duration::MAX,
            value: 0,
        }
    }

    fn time(&mut self, f: impl FnOnce() -> u64) {
        let start = Instant::now();
        let value = f();
        let time = start.elapsed();
        if time < self.time {
            *self = Best { time, value };
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let count = arg("--count", 4 * NOTES_COUNT);
    let runs = arg("--runs", 3);
    let interval = Duration::from_millis(arg("--interval-ms", 5));
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "countdown of {count} ({:.0}x the notes' COUNT; best of {runs} runs, {cores} cores available)",
        count as f64 / NOTES_COUNT as f64
    );

    let [mut one, mut two, mut pool, mut one_gil, mut two_gil] = [(); 5].map(|()| Best::new());
    for _ in 0..runs.max(1) {
        one.time(|| {
            countdown(count);
            0
        });
        two.time(|| {
            two_threads(count);
            0
        });
        pool.time(|| {
            pool_of_two(count);
            0
        });
        one_gil.time(|| {
            one_thread_under_gil(count, interval);
            0
        });
        two_gil.time(|| two_threads_under_gil(count, interval));
    }
    let (one, two, pool, one_gil) = (one.time, two.time, pool.time, one_gil.time);
    let (two_gil, switches) = (two_gil.time, two_gil.value);

    let speed = |base: Duration, t: Duration| base.as_secs_f64() / t.as_secs_f64();
    println!("  one thread                       : {:>9}", ms(one));
    println!(
        "  two threads, COUNT/2 each        : {:>9}   {:.2}x the speed of one thread",
        ms(two),
        speed(one, two)
    );
    println!(
        "  pool of two (synclab::Pool)      : {:>9}   {:.2}x",
        ms(pool),
        speed(one, pool)
    );
    println!(
        "  one thread, toy GIL loop         : {:>9}   (nobody asks it to let go)",
        ms(one_gil)
    );
    println!(
        "  two threads under the toy GIL    : {:>9}   {:.2}x the speed of one thread under it ({switches} forced hand-overs, {} ms switch interval)",
        ms(two_gil),
        speed(one_gil, two_gil),
        interval.as_millis()
    );

    println!(
        "TOUR|countdown: two threads|CPython: two threads are no faster than one (only the GIL holder runs)|1 thread {}, 2 threads {}: {:.2}x the speed",
        ms(one),
        ms(two),
        speed(one, two)
    );
    println!(
        "TOUR|countdown: toy GIL|CPython: one GIL, a 5 ms switch interval, so no speed-up|toy GIL ({} ms interval): 1 thread {}, 2 threads {}: {:.2}x the speed, {switches} forced hand-overs",
        interval.as_millis(),
        ms(one_gil),
        ms(two_gil),
        speed(one_gil, two_gil)
    );
    println!(
        "TOUR|countdown: pool of two|multiprocessing.Pool(2): two processes, two GILs, about 2x on 2 cores|synclab::Pool of 2 threads: {}, {:.2}x the speed of 1 thread",
        ms(pool),
        speed(one, pool)
    );
}
