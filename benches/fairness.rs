//! How fair is each lock under contention? Not a speed benchmark: for `Lock` (with and without
//! `LockGuard::unlock_fair`), the three-state `FutexLock` it used before issue 14, std's `Mutex`
//! and parking_lot's `Mutex`, with 4 and 8 threads hammering one lock for a while, it measures
//!
//! - each thread's **share** of the acquisitions (the least and the most any thread got, as a
//!   multiple of the fair share `1 / threads`: 1.00 is perfectly even, 0.00 a starved thread);
//! - how long a thread **waited** for the lock: the longest single wait of the run, and the
//!   99th and 99.99th percentiles of all waits (from a log-scale histogram, so within a factor
//!   of 2);
//! - the acquisitions per second, to see what the fairness costs.
//!
//! ```text
//! cargo bench --bench fairness                       # 4 and 8 threads, 3 rounds of 1 s each
//! FAIR_MS=500 FAIR_ROUNDS=5 cargo bench --bench fairness -- 8
//! ```
//!
//! The locks take turns within every round (the order rotates), so all five see the same
//! machine; the report gives the median over rounds of each figure and the worst wait of all.
//! A wait is timed with two `Instant::now()` calls around `lock()` (some 40 ns, the same for
//! every lock).

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

mod common;
use common::{Futex, busy};

/// Rounds of `busy` inside the "long" critical section, as in `benches/lock.rs`.
const LONG: u32 = 32;

trait FairLock: Sync + Send + Default + 'static {
    const NAME: &'static str;
    fn with(&self, f: impl FnOnce(&mut u64));
}

impl FairLock for synclab::Lock<u64> {
    const NAME: &'static str = "synclab";
    #[inline]
    fn with(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.lock());
    }
}

impl FairLock for std::sync::Mutex<u64> {
    const NAME: &'static str = "std";
    #[inline]
    fn with(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.lock().unwrap());
    }
}

/// `Lock` with `LockGuard::unlock_fair` on every release: a parked thread, if any, is handed
/// the lock.
#[derive(Default)]
struct Fair(synclab::Lock<u64>);

impl FairLock for Fair {
    const NAME: &'static str = "synclab, unlock_fair";
    #[inline]
    fn with(&self, f: impl FnOnce(&mut u64)) {
        let mut g = self.0.lock();
        f(&mut g);
        synclab::LockGuard::unlock_fair(g);
    }
}

/// The three-state `FutexLock`, `Lock`'s raw lock until issue 14 (tuning log, entry 22).
impl FairLock for Futex {
    const NAME: &'static str = "synclab FutexLock";
    #[inline]
    fn with(&self, f: impl FnOnce(&mut u64)) {
        Futex::with(self, f);
    }
}

impl FairLock for parking_lot::Mutex<u64> {
    const NAME: &'static str = "parking_lot";
    #[inline]
    fn with(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.lock());
    }
}

/// What one thread saw: its acquisitions and a histogram of its waits (bucket `b` holds the
/// waits of `2^b ..= 2^(b+1) - 1` nanoseconds).
struct Seen {
    count: u64,
    longest: Duration,
    buckets: [u64; 64],
}

/// The figures of one lock in one round.
#[derive(Clone, Copy)]
struct Round {
    min_share: f64,
    max_share: f64,
    longest: Duration,
    p99: Duration,
    p9999: Duration,
    per_sec: f64,
}

fn run<L: FairLock>(threads: usize, rounds: u32, length: Duration) -> Round {
    let lock = Arc::new(L::default());
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (lock, stop, start) = (lock.clone(), stop.clone(), start.clone());
            thread::spawn(move || {
                let mut seen = Seen {
                    count: 0,
                    longest: Duration::ZERO,
                    buckets: [0; 64],
                };
                start.wait();
                while !stop.load(Relaxed) {
                    let asked = Instant::now();
                    lock.with(|n| {
                        let waited = asked.elapsed();
                        *n += 1;
                        busy(n, rounds);
                        seen.count += 1;
                        seen.longest = seen.longest.max(waited);
                        let nanos = waited.as_nanos().max(1) as u64;
                        seen.buckets[63 - nanos.leading_zeros() as usize] += 1;
                    });
                }
                seen
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    thread::sleep(length);
    stop.store(true, Relaxed);
    let seen: Vec<Seen> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let elapsed = began.elapsed();

    let total: u64 = seen.iter().map(|s| s.count).sum();
    let fair = total as f64 / threads as f64;
    let share = |s: &Seen| s.count as f64 / fair;
    let mut buckets = [0u64; 64];
    for s in &seen {
        for (all, mine) in buckets.iter_mut().zip(s.buckets) {
            *all += mine;
        }
    }
    // The upper edge of the bucket that holds the q-th quantile.
    let quantile = |q: f64| {
        let want = (total as f64 * q).ceil() as u64;
        let mut sum = 0;
        for (b, n) in buckets.iter().enumerate() {
            sum += n;
            if sum >= want {
                return Duration::from_nanos((2u64 << b).saturating_sub(1));
            }
        }
        Duration::MAX
    };
    Round {
        min_share: seen.iter().map(share).fold(f64::MAX, f64::min),
        max_share: seen.iter().map(share).fold(0.0, f64::max),
        longest: seen.iter().map(|s| s.longest).max().unwrap_or_default(),
        p99: quantile(0.99),
        p9999: quantile(0.9999),
        per_sec: total as f64 / elapsed.as_secs_f64(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn show(d: Duration) -> String {
    if d >= Duration::from_millis(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    }
}

fn main() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let length = Duration::from_millis(env("FAIR_MS", 1000));
    let rounds = env("FAIR_ROUNDS", 3) as usize;
    // cargo bench passes `--bench`; any other argument is a filter on "threads_section".
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    type Runner = fn(usize, u32, Duration) -> Round;
    let locks: [(&str, Runner); 5] = [
        (synclab::Lock::<u64>::NAME, run::<synclab::Lock<u64>>),
        (std::sync::Mutex::<u64>::NAME, run::<std::sync::Mutex<u64>>),
        (
            parking_lot::Mutex::<u64>::NAME,
            run::<parking_lot::Mutex<u64>>,
        ),
        (Fair::NAME, run::<Fair>),
        (Futex::NAME, run::<Futex>),
    ];
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "lock fairness: {rounds} rounds of {} ms per lock and case, load average {}",
        length.as_millis(),
        load.split_whitespace().next().unwrap_or("?")
    );
    println!();
    println!(
        "| threads, section | lock | least share | most share | longest wait (worst round) | p99 wait | p99.99 wait | acquisitions/s |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for threads in [4, 8] {
        for (section, work) in [("short", 0), ("long", LONG)] {
            let case = format!("{threads}_{section}");
            if !filters.is_empty() && !filters.iter().any(|f| case.contains(f.as_str())) {
                continue;
            }
            let mut results: Vec<Vec<Round>> = vec![Vec::new(); locks.len()];
            for r in 0..rounds {
                for k in 0..locks.len() {
                    let i = (k + r) % locks.len();
                    results[i].push((locks[i].1)(threads, work, length));
                }
            }
            for (i, (name, _)) in locks.iter().enumerate() {
                let rs = &results[i];
                let med = |f: fn(&Round) -> f64| median(rs.iter().map(f).collect());
                let worst = rs.iter().map(|r| r.longest).max().unwrap_or_default();
                println!(
                    "| {threads}, {section} | {name} | {:.2} | {:.2} | {} | {} | {} | {:.1} M |",
                    med(|r| r.min_share),
                    med(|r| r.max_share),
                    show(worst),
                    show(Duration::from_secs_f64(med(|r| r.p99.as_secs_f64()))),
                    show(Duration::from_secs_f64(med(|r| r.p9999.as_secs_f64()))),
                    med(|r| r.per_sec) / 1e6,
                );
            }
        }
    }
}
