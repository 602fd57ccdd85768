//! The process `Pool`'s result log (`src/process/pool/log.rs`): batches far larger than the
//! log (it fills and is reused), results larger than the whole log, and workers killed at
//! random moments while their records sit in the log: every task that returned is answered
//! from what it committed and **runs exactly once**, never again because its worker died
//! later in the batch. Linux only, `serde` feature; the workers are this binary started again
//! with the name of the test [`pool_worker`].
#![cfg(all(target_os = "linux", feature = "serde"))]

mod common;
#[path = "common/pool_killer.rs"]
mod pool_killer;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::Duration;

use common::guarded;
use pool_killer::kill_workers;
use synclab::TaskError;
use synclab::process::{Pool, Shared};

/// The workers' entry: a no-op in the test run itself, a worker's whole life in a worker.
#[test]
fn pool_worker() {
    synclab::process::init();
}

fn pool(workers: usize) -> Pool {
    Pool::builder(workers)
        .worker_args(["pool_worker", "--exact", "--nocapture", "-q"])
        .spawn()
        .expect("start the pool")
}

fn scrambled(n: u32) -> u32 {
    n.rotate_left(7) ^ 0x5555_5555
}

/// Item `n`'s result: `n` bytes of `n as u8` times a size that makes some of them fill the
/// log and two of them larger than the whole log (256 KiB).
fn sized(n: u32) -> Vec<u8> {
    let len = match n {
        5 => 300_000,
        20 => 2 * 1024 * 1024,
        n => n as usize * 3_000,
    };
    vec![n as u8; len]
}

#[test]
#[cfg_attr(miri, ignore)]
fn batches_larger_than_the_log_and_results_larger_than_the_log_arrive_in_order() {
    guarded("log_sizes", |_| {
        let pool = pool(1);
        // 50,000 tasks per batch at two log words each: the log fills three times a batch.
        let n = 200_000;
        let got = pool.map(0..n, scrambled).unwrap();
        assert!(got.iter().copied().eq((0..n).map(scrambled)));
        let got = pool.map(0..40, sized).unwrap();
        for (n, v) in (0..40).zip(&got) {
            assert_eq!(v, &sized(n), "item {n}");
        }
        // The same worker served it all: a full log is a pause, not a death.
        assert_eq!(pool.workers_started(), 1);
        let mut each: Vec<_> = pool
            .imap_unordered(0..40, sized)
            .map(Result::unwrap)
            .collect();
        each.sort_by_key(|v| v.len());
        assert_eq!(each.len(), 40);
        assert_eq!(each[39].len(), 2 * 1024 * 1024);
    });
}

/// How many tasks the kill test runs, and how many counters its region holds.
const TASKS: usize = 3_000;
/// The kill test's workers killed, one every 15 ms.
const KILLS: usize = 40;

/// Item `(region, n)`: counts one run of task `n` in the named region (before anything else,
/// so that a task its worker died in counts too), takes a little time, returns `n`.
fn counted_run((region, n): (String, u32)) -> u32 {
    static RUNS: OnceLock<Shared<[AtomicU32; TASKS]>> = OnceLock::new();
    let runs = RUNS.get_or_init(|| Shared::open_named(&region).expect("the test's region"));
    runs[n as usize].fetch_add(1, Relaxed);
    std::thread::sleep(Duration::from_micros(100));
    n
}

#[test]
#[cfg_attr(miri, ignore)]
fn workers_killed_while_their_records_sit_in_the_log_run_no_task_twice() {
    guarded("log_kills", |status| {
        let name = format!("synclab-pool-log-{}", std::process::id());
        let runs = Shared::create_named(&name, [const { AtomicU32::new(0) }; TASKS]).unwrap();
        let pool = pool(2);
        let items: Vec<(String, u32)> = (0..TASKS as u32).map(|n| (name.clone(), n)).collect();
        std::thread::scope(|s| {
            let results = pool.imap_unordered(items, counted_run);
            let killer = s.spawn(|| kill_workers(&pool, KILLS, Duration::from_millis(15)));
            let (mut ok, mut died) = (Vec::new(), Vec::new());
            for r in results {
                match r {
                    Ok(n) => ok.push(n as usize),
                    Err(TaskError::WorkerDied(d)) => died.push(d),
                    Err(other) => panic!("unexpected: {other}"),
                }
                status.set("main", format!("{} ok, {} died", ok.len(), died.len()));
            }
            let killed = killer.join().unwrap();
            assert_eq!(ok.len() + died.len(), TASKS, "one outcome per task");
            assert!(
                died.len() <= killed.len(),
                "{} > {}",
                died.len(),
                killed.len()
            );
            assert!(!died.is_empty(), "some kill landed mid-batch");
            for d in &died {
                assert_eq!(d.signal(), Some(libc::SIGKILL), "{d}");
            }
            ok.sort_unstable();
            ok.dedup();
            assert_eq!(ok.len() + died.len(), TASKS, "no task answered twice");
            // Every task that was answered ran exactly once; the few its worker died in ran
            // at most once (a worker can die between two tasks).
            let twice: Vec<_> = (0..TASKS).filter(|&n| runs[n].load(Relaxed) > 1).collect();
            assert!(
                twice.is_empty(),
                "{} tasks ran twice, the first: {:?}",
                twice.len(),
                &twice[..twice.len().min(10)]
            );
            assert!(ok.iter().all(|&n| runs[n].load(Relaxed) == 1));
        });
        Shared::<[AtomicU32; TASKS]>::unlink_named(&name).unwrap();
        assert_eq!(pool.pids().len(), 2, "the pool keeps its size");
    });
}
