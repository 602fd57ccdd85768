//! Scratch benchmarks for tuning (issue 7): synclab against its peers, *interleaved* in one run.
//!
//! ```text
//! cargo bench --bench perf_scratch -- [FILTER...] [--rounds N]
//! ```
//!
//! Not criterion: on a shared 2-core machine the load changes from second to second, so two
//! criterion benchmarks run a minute apart can see different machines. Here every round runs
//! synclab and the peer back to back (alternating which goes first) and the report is the median
//! over rounds of each time and of the per-round ratio.
//!
//! Groups (a FILTER is a substring of a name): `queue/{bounded,unbounded}/{spsc,2p2c,4p4c}`,
//! `lock/uncontended`, `lock/contended{2,4,8}`, `lock/contended{2,4,8}_long` (32 rounds of
//! `busy` under the lock), `cond/notify_no_waiter`, `event/pingpong`,
//! `process_sem/{uncontended,4threads_2permits}` (the robust process semaphore ÷ the plain one),
//! `process_lock/contended{2,4,8}` (`process::Lock` ÷ the in-process `Lock`, threads of one
//! process), `lockpol/contended{2,4,8}{,_long}` (copies of `FutexLock` that differ only in the wait
//! before sleeping, `benches/scratch/policy.rs`: tuning log entry 19).
//! Environment: `ITEMS`, `ONLY`, `START`, `PIN`, `RAW` (tuning log, entries 8 and 9); `BASE=name`
//! makes that contender the one the ratios divide (`BASE=futex`: the three-state lock; entry 17 used `BASE=queued` when the queued lock was the candidate).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- queues

trait Chan: Sync {
    fn make(cap: Option<usize>) -> Self;
    fn put(&self, v: u64);
    fn get(&self) -> u64;
}

struct Syn(synclab::Queue<u64>);
impl Chan for Syn {
    fn make(cap: Option<usize>) -> Self {
        Syn(match cap {
            Some(c) => synclab::Queue::bounded(c),
            None => synclab::Queue::new(),
        })
    }
    #[inline]
    fn put(&self, v: u64) {
        self.0.put(v).unwrap()
    }
    #[inline]
    fn get(&self) -> u64 {
        self.0.get().unwrap()
    }
}

struct Cb(
    crossbeam_channel::Sender<u64>,
    crossbeam_channel::Receiver<u64>,
);
impl Chan for Cb {
    fn make(cap: Option<usize>) -> Self {
        let (t, r) = match cap {
            Some(c) => crossbeam_channel::bounded(c),
            None => crossbeam_channel::unbounded(),
        };
        Cb(t, r)
    }
    #[inline]
    fn put(&self, v: u64) {
        self.0.send(v).unwrap()
    }
    #[inline]
    fn get(&self) -> u64 {
        self.1.recv().unwrap()
    }
}

/// With `PIN=split`, producers run on CPU 0 and consumers on CPU 1; with `PIN=one`, all on CPU 0.
fn pin(producer: bool) {
    let cpu = match std::env::var("PIN").as_deref() {
        Ok("split") => usize::from(!producer),
        Ok("one") => 0,
        _ => return,
    };
    // SAFETY: a zeroed `cpu_set_t` is a valid empty set; CPU_SET and sched_setaffinity only
    // read and write that set and this thread's affinity.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// `items` items from `p` producers to `c` consumers; wall time, spawning included. With
/// `START=barrier`: spawned first, released by a barrier, clock read by this thread after its
/// `wait` (what `benches/common`'s `timed_threads` did until tuning-log entry 9).
fn queue_run<Q: Chan>(cap: Option<usize>, p: usize, c: usize, items: u64) -> Duration {
    let q = Q::make(cap);
    let (per_p, per_c) = (items / p as u64, items / c as u64);
    let barrier = std::env::var("START").is_ok_and(|s| s == "barrier");
    let gate = std::sync::Barrier::new(p + c + 1);
    let wait = || {
        if barrier {
            gate.wait();
        }
    };
    let mut start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..p {
            s.spawn(|| {
                pin(true);
                wait();
                for i in 0..per_p {
                    q.put(i);
                }
            });
        }
        for _ in 0..c {
            s.spawn(|| {
                pin(false);
                wait();
                let mut sum = 0u64;
                for _ in 0..per_c {
                    sum = sum.wrapping_add(q.get());
                }
                black_box(sum);
            });
        }
        wait();
        if barrier {
            start = Instant::now();
        }
    });
    start.elapsed()
}

mod scratch;
use scratch::{
    cond_std, cond_synclab, event_std, event_synclab, lock_contended, lock_uncontended,
    process_sem_plain, process_sem_plain_contended, process_sem_robust,
    process_sem_robust_contended,
};

// ---------------------------------------------------------------- driver

type Run = Box<dyn Fn() -> Duration>;

struct Case {
    name: String,
    /// ns per `unit` divisor
    units: u64,
    contenders: Vec<(&'static str, Run)>,
}

/// The contended lock cases' shapes: `(threads, rounds of busy under the lock, iterations,
/// name suffix)` for 2, 4 and 8 threads, short and long. "Long" is 32 rounds of `busy` (some
/// 50–100 ns) and a quarter of the iterations, so that a run lasts about as long.
fn contended_shapes() -> impl Iterator<Item = (usize, u32, u64, &'static str)> {
    const CI: u64 = 4_000_000;
    [2usize, 4, 8]
        .into_iter()
        .flat_map(|t| [(t, 0, CI, ""), (t, 32, CI / 4, "_long")])
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    // Items per queue run: 200 000, or the `ITEMS` environment variable.
    let items: u64 = std::env::var("ITEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    for (kind, cap) in [("bounded", Some(1024)), ("unbounded", None)] {
        for (cfg, p, c) in [("spsc", 1, 1), ("2p2c", 2, 2), ("4p4c", 4, 4)] {
            v.push(Case {
                name: format!("queue/{kind}/{cfg}"),
                units: items,
                contenders: vec![
                    (
                        "synclab",
                        Box::new(move || queue_run::<Syn>(cap, p, c, items)) as Run,
                    ),
                    (
                        "crossbeam",
                        Box::new(move || queue_run::<Cb>(cap, p, c, items)),
                    ),
                ],
            });
        }
    }
    const LOCK_ITERS: u64 = 2_000_000;
    v.push(Case {
        name: "lock/uncontended".into(),
        units: LOCK_ITERS,
        contenders: vec![
            (
                "synclab",
                Box::new(|| lock_uncontended::<synclab::Lock<u64>>(LOCK_ITERS)) as Run,
            ),
            (
                "std",
                Box::new(|| lock_uncontended::<std::sync::Mutex<u64>>(LOCK_ITERS)),
            ),
            (
                "futex",
                Box::new(|| lock_uncontended::<scratch::Futex>(LOCK_ITERS)),
            ),
            (
                "parking_lot",
                Box::new(|| lock_uncontended::<parking_lot::Mutex<u64>>(LOCK_ITERS)),
            ),
        ],
    });
    for (t, rounds, ci, suffix) in contended_shapes() {
        v.push(Case {
            name: format!("lock/contended{t}{suffix}"),
            units: ci,
            contenders: vec![
                (
                    "synclab",
                    Box::new(move || lock_contended::<synclab::Lock<u64>>(t, rounds, ci)) as Run,
                ),
                (
                    "parking_lot",
                    Box::new(move || lock_contended::<parking_lot::Mutex<u64>>(t, rounds, ci)),
                ),
                (
                    "std",
                    Box::new(move || lock_contended::<std::sync::Mutex<u64>>(t, rounds, ci)),
                ),
                (
                    "counted",
                    Box::new(move || lock_contended::<scratch::Counted>(t, rounds, ci)),
                ),
                (
                    "futex",
                    Box::new(move || lock_contended::<scratch::Futex>(t, rounds, ci)),
                ),
            ],
        });
    }
    // Tuning log entry 19: candidate `FutexLock::spin` policies, interleaved with parking_lot.
    for (t, rounds, ci, suffix) in contended_shapes() {
        use scratch::policy::Policy;
        v.push(Case {
            name: format!("lockpol/contended{t}{suffix}"),
            units: ci,
            contenders: vec![
                (
                    "base",
                    Box::new(move || lock_contended::<Policy<{ u32::MAX }, 0>>(t, rounds, ci))
                        as Run,
                ),
                (
                    "y10",
                    Box::new(move || lock_contended::<Policy<0, 10>>(t, rounds, ci)),
                ),
                (
                    "p8y10",
                    Box::new(move || lock_contended::<Policy<8, 10>>(t, rounds, ci)),
                ),
                (
                    "p16y10",
                    Box::new(move || lock_contended::<Policy<16, 10>>(t, rounds, ci)),
                ),
                (
                    "synclab",
                    Box::new(move || lock_contended::<synclab::Lock<u64>>(t, rounds, ci)),
                ),
                (
                    "parking_lot",
                    Box::new(move || lock_contended::<parking_lot::Mutex<u64>>(t, rounds, ci)),
                ),
            ],
        });
    }
    for t in [2usize, 4, 8] {
        const CI: u64 = 2_000_000;
        v.push(Case {
            name: format!("process_lock/contended{t}"),
            units: CI,
            contenders: vec![
                (
                    "process",
                    Box::new(move || lock_contended::<synclab::process::Lock<u64>>(t, 0, CI))
                        as Run,
                ),
                (
                    "synclab",
                    Box::new(move || lock_contended::<synclab::Lock<u64>>(t, 0, CI)),
                ),
            ],
        });
    }
    const S: u64 = 2_000_000;
    v.push(Case {
        name: "process_sem/uncontended".into(),
        units: S,
        contenders: vec![
            ("robust", Box::new(|| process_sem_robust(S)) as Run),
            ("plain", Box::new(|| process_sem_plain(S))),
        ],
    });
    v.push(Case {
        name: "process_sem/4threads_2permits".into(),
        units: S,
        contenders: vec![
            (
                "robust",
                Box::new(|| process_sem_robust_contended(4, S)) as Run,
            ),
            ("plain", Box::new(|| process_sem_plain_contended(4, S))),
        ],
    });
    const N: u64 = 200_000;
    v.push(Case {
        name: "cond/notify_no_waiter".into(),
        units: N,
        contenders: vec![
            ("synclab", Box::new(|| cond_synclab(N)) as Run),
            ("std", Box::new(|| cond_std(N))),
        ],
    });
    const P: u64 = 20_000;
    v.push(Case {
        name: "event/pingpong".into(),
        units: P,
        contenders: vec![
            ("synclab", Box::new(|| event_synclab(P)) as Run),
            ("std", Box::new(|| event_std(P))),
        ],
    });
    v
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    let mut filters = Vec::new();
    let mut rounds = 7usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench" => {}
            "--rounds" => rounds = args.next().and_then(|s| s.parse().ok()).unwrap_or(7),
            _ => filters.push(a),
        }
    }
    let stop = AtomicBool::new(false);
    let only = std::env::var("ONLY").ok();
    let base = std::env::var("BASE").ok();
    for mut case in cases() {
        if let Some(o) = &only {
            case.contenders.retain(|(n, _)| n == o);
        }
        if let Some(b) = &base {
            // The ratios are "first contender ÷ each other": put the named one first.
            if let Some(i) = case.contenders.iter().position(|(n, _)| n == b) {
                let c = case.contenders.remove(i);
                case.contenders.insert(0, c);
            }
        }
        if !filters.is_empty() && !filters.iter().any(|f| case.name.contains(f.as_str())) {
            continue;
        }
        let k = case.contenders.len();
        let mut times = vec![Vec::new(); k];
        // one warm-up round
        for (_, run) in &case.contenders {
            run();
        }
        for r in 0..rounds {
            for j in 0..k {
                let i = (j + r) % k;
                times[i].push(case.contenders[i].1().as_secs_f64() * 1e9 / case.units as f64);
            }
        }
        let mut ratios: Vec<Vec<f64>> = (1..k)
            .map(|i| (0..rounds).map(|r| times[0][r] / times[i][r]).collect())
            .collect();
        print!("{:28}", case.name);
        for (i, (name, _)) in case.contenders.iter().enumerate() {
            print!(" {name} {:9.2} ns", median(&mut times[i].clone()));
        }
        for (i, r) in ratios.iter_mut().enumerate() {
            let lo = r.iter().cloned().fold(f64::MAX, f64::min);
            let hi = r.iter().cloned().fold(0.0, f64::max);
            print!(
                " | /{} {:.2}x [{:.2}-{:.2}]",
                case.contenders[i + 1].0,
                median(r),
                lo,
                hi
            );
        }
        println!();
        if std::env::var("RAW").is_ok() {
            // Every round's time per unit, sorted: the distribution behind the median.
            for (i, (name, _)) in case.contenders.iter().enumerate() {
                let mut t = times[i].clone();
                t.sort_by(f64::total_cmp);
                let t: Vec<String> = t.iter().map(|x| format!("{x:.0}")).collect();
                println!("    {name:12} {}", t.join(" "));
            }
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
}
