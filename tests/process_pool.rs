//! The process `Pool`: results, panics, workers that die in a task (SIGKILL, abort, segfault,
//! exit), `maxtasksperchild`, the task timeout, `terminate`, and workers killed from outside
//! mid-task, repeatedly. The workers are this test binary started again with the name of the
//! test [`pool_worker`], which calls `synclab::process::init()`. Linux only, `serde` feature;
//! skipped under Miri (no spawning: `job.rs`/`wire.rs` have the in-process tests).
#![cfg(all(target_os = "linux", feature = "serde"))]

mod common;
#[path = "common/pool_killer.rs"]
mod pool_killer;

use std::collections::BTreeMap;
use std::time::Duration;

use common::guarded;
use pool_killer::kill_workers;
use serde::{Serialize, Serializer};
use synclab::TaskError;
use synclab::process::{Pool, PoolBuilder};

/// The workers' entry: a no-op in the test run itself, a worker's whole life in a worker.
#[test]
fn pool_worker() {
    synclab::process::init();
}

fn builder(workers: usize) -> PoolBuilder {
    Pool::builder(workers).worker_args(["pool_worker", "--exact", "--nocapture", "-q"])
}

fn pool(workers: usize) -> Pool {
    builder(workers).spawn().expect("start the pool")
}

fn pid(_: ()) -> u32 {
    std::process::id()
}

fn die(how: &str, signal: i32) {
    eprintln!("(a test task kills its worker with {how} on purpose)");
    // SAFETY: `raise` only sends a signal to this process.
    unsafe { libc::raise(signal) };
}

/// A real segfault: a write to a page mapped without any access.
fn segfault() {
    eprintln!("(a test task segfaults on purpose)");
    // SAFETY: maps one fresh page (no access); the write below faults, and the fault kills
    // this worker process (the Rust runtime's SIGSEGV handler passes on faults outside a
    // stack guard page).
    unsafe {
        let page = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(page, libc::MAP_FAILED);
        page.cast::<u8>().write_volatile(1);
    }
}

/// Item `n`: `n * 2`, except for a few that kill their own worker in different ways.
fn doubled_or_dies(n: u32) -> u32 {
    match n {
        3 => die("SIGKILL", libc::SIGKILL),
        5 => std::process::abort(),
        7 => segfault(),
        9 => std::process::exit(7),
        _ => {}
    }
    n * 2
}

#[test]
#[cfg_attr(miri, ignore)]
fn results_in_order_from_every_method() {
    guarded("results_in_order_from_every_method", |_| {
        let pool = pool(2);
        assert_eq!(pool.workers(), 2);
        assert_eq!(pool.pids().len(), 2);
        let r = pool.apply_async(|s: String| format!("{s}!"), "hi".to_string());
        assert_eq!(r.get(), Ok("hi!".to_string()));
        let squares = pool.map(0..1000_u64, |n| n * n).unwrap();
        assert_eq!(squares, (0..1000_u64).map(|n| n * n).collect::<Vec<_>>());
        let mut sums: Vec<u64> = pool
            .imap_unordered(0..50_u64, |n| n + 1)
            .map(Result::unwrap)
            .collect();
        sums.sort_unstable();
        assert_eq!(sums, (1..=50).collect::<Vec<_>>());
        assert_eq!(pool.map(Vec::<u8>::new(), |n| n), Ok(vec![]));
        let pids: Vec<u32> = pool.map(vec![(); 100], pid).unwrap();
        assert!(
            pids.iter().all(|p| pool.pids().contains(p)),
            "tasks ran in the workers"
        );
        assert!(!pids.contains(&std::process::id()));
        pool.close();
        assert_eq!(pool.apply_async(|n: u8| n, 1).get(), Err(TaskError::Closed));
        assert_eq!(pool.map(0..3_u8, |n| n), Err(TaskError::Closed));
        pool.join();
        assert!(pool.pids().is_empty());
    });
}

fn panics_on_odd(n: u32) -> u32 {
    assert!(n % 2 == 0, "odd input {n}");
    n
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_panicking_task_is_an_err_with_its_message_and_the_worker_lives_on() {
    guarded("panicking_task", |_| {
        let pool = pool(1);
        let before = pool.pids();
        let err = pool.apply_async(panics_on_odd, 3).get().unwrap_err();
        assert_eq!(err.panic_message(), Some("odd input 3"));
        assert_eq!(err.to_string(), "task panicked: odd input 3");
        assert_eq!(pool.apply_async(panics_on_odd, 4).get(), Ok(4));
        assert_eq!(pool.pids(), before, "the same worker process");
        assert_eq!(pool.workers_started(), 1);
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_worker_that_dies_in_a_task_fails_only_that_task_and_is_replaced() {
    guarded("worker_dies", |_| {
        let pool = pool(2);
        let before = pool.pids();
        let results: Vec<_> = (0..20)
            .map(|n| pool.apply_async(doubled_or_dies, n))
            .collect();
        let mut deaths = BTreeMap::new();
        for (n, r) in (0..20).zip(results) {
            match r.get() {
                Ok(v) => assert_eq!(v, n * 2),
                Err(TaskError::WorkerDied(died)) => {
                    deaths.insert(n, (died.signal(), died.exit_code(), died.to_string()));
                }
                Err(other) => panic!("task {n}: {other}"),
            }
        }
        assert_eq!(deaths.keys().copied().collect::<Vec<_>>(), [3, 5, 7, 9]);
        assert_eq!(deaths[&3].0, Some(libc::SIGKILL));
        assert!(
            deaths[&3].2.ends_with("was killed by signal 9 (SIGKILL)"),
            "{}",
            deaths[&3].2
        );
        assert_eq!(deaths[&5].0, Some(libc::SIGABRT));
        assert_eq!(deaths[&7].0, Some(libc::SIGSEGV));
        assert_eq!((deaths[&9].0, deaths[&9].1), (None, Some(7)));
        assert!(deaths[&9].2.ends_with("exited with status 7"));
        let after = pool.pids();
        assert_eq!(after.len(), 2, "the pool keeps its size");
        assert!(after.iter().any(|p| !before.contains(p)), "fresh workers");
        assert_eq!(pool.workers_started(), 2 + 4);
        // In a map too: every other item completes.
        let err = pool.map(0..20, doubled_or_dies).unwrap_err();
        assert_eq!(
            err.to_string().split(" was ").nth(1),
            Some("killed by signal 9 (SIGKILL)")
        );
        let ok: Vec<_> = pool.imap_unordered(0..20, doubled_or_dies).collect();
        assert_eq!(ok.iter().filter(|r| r.is_ok()).count(), 16);
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_worker_that_dies_between_tasks_is_replaced_and_no_task_is_blamed() {
    guarded("idle_worker_dies", |_| {
        let pool = pool(1);
        assert_eq!(pool.apply_async(|n: u32| n + 1, 1).get(), Ok(2));
        let kill_idle_worker = || {
            let victim = pool.pids()[0];
            // SAFETY: `kill` only sends a signal, to this pool's idle worker.
            unsafe { libc::kill(victim as libc::pid_t, libc::SIGKILL) };
            victim
        };
        // Long dead (every thread of it gone): the supervisor's `poll` sees its end-of-file.
        let victim = kill_idle_worker();
        let task_dir = format!("/proc/{victim}/task");
        let stat = format!("/proc/{victim}/stat");
        while std::fs::read_dir(&task_dir).map_or(0, |d| d.count()) > 1
            || !std::fs::read_to_string(&stat).is_ok_and(|s| s.contains(") Z "))
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(pool.apply_async(|n: u32| n + 1, 2).get(), Ok(3));
        assert!(!pool.pids().contains(&victim));
        // Dying as the batch is sent: the `poll` may see it alive, but it never read the
        // batch (a SIGKILL is pending before `kill` returns), and its log says so.
        for round in 0..20 {
            let victim = kill_idle_worker();
            assert_eq!(pool.apply_async(|n: u32| n + 1, round).get(), Ok(round + 1));
            assert!(!pool.pids().contains(&victim));
        }
        assert_eq!(pool.map(0..10, |n: u32| n * 2).unwrap().len(), 10);
        assert_eq!(pool.workers_started(), 1 + 21);
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn max_tasks_per_child_replaces_workers() {
    guarded("max_tasks_per_child", |status| {
        let pool = builder(2).max_tasks_per_child(3).spawn().unwrap();
        let pids = pool.map(vec![(); 30], pid).unwrap();
        let mut per_pid = BTreeMap::<u32, usize>::new();
        for p in pids {
            *per_pid.entry(p).or_default() += 1;
        }
        assert!(per_pid.values().all(|&n| n <= 3), "{per_pid:?}");
        assert!(per_pid.len() >= 10, "{per_pid:?}");
        // A worker retired after its last batch is replaced after that batch's results are
        // delivered: `map` may return while a replacement is starting. A replacement that never
        // comes is the watchdog's to report.
        status.set("main", "waiting for the retired worker's replacement");
        while pool.pids().len() < 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(pool.pids().len(), 2, "the pool is back at its size");
    });
}

fn sleep_ms(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_task_past_its_timeout_is_killed_and_its_worker_replaced() {
    guarded("task_timeout", |_| {
        let pool = builder(2)
            .task_timeout(Duration::from_millis(500))
            .spawn()
            .unwrap();
        let results = pool.map([1, 60_000, 2, 3], sleep_ms);
        assert_eq!(
            results,
            Err(TaskError::TimedOut(Duration::from_millis(500)))
        );
        let mut each: Vec<_> = pool.imap_unordered([60_000, 1, 2], sleep_ms).collect();
        each.sort_by_key(|r| r.clone().unwrap_or(u64::MAX));
        assert_eq!(
            each,
            [
                Ok(1),
                Ok(2),
                Err(TaskError::TimedOut(Duration::from_millis(500)))
            ]
        );
        assert_eq!(pool.pids().len(), 2);
        assert_eq!(pool.apply_async(sleep_ms, 1).get(), Ok(1));
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn terminate_kills_the_workers_and_fails_the_unfinished_tasks() {
    guarded("terminate", |_| {
        let pool = pool(2);
        let long: Vec<_> = (0..6).map(|_| pool.apply_async(sleep_ms, 60_000)).collect();
        std::thread::sleep(Duration::from_millis(200));
        pool.terminate();
        pool.join();
        for r in long {
            assert_eq!(r.get(), Err(TaskError::Terminated));
        }
        assert!(pool.pids().is_empty());
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn dropping_the_pool_runs_the_queued_tasks() {
    guarded("drop_pool", |_| {
        let pool = pool(2);
        let results: Vec<_> = (0..10).map(|n| pool.apply_async(sleep_ms, n)).collect();
        drop(pool);
        for (n, r) in (0..10).zip(results) {
            assert_eq!(r.get_timeout(Duration::ZERO).ok(), Some(Ok(n)));
        }
    });
}

/// A value whose encoding always fails.
struct Unencodable;

impl Serialize for Unencodable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refused"))
    }
}

impl<'de> serde::Deserialize<'de> for Unencodable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <()>::deserialize(d).map(|()| Unencodable)
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn values_that_do_not_encode_are_errors_and_nothing_else_is_lost() {
    guarded("codec", |_| {
        let pool = pool(1);
        let err = pool.apply_async(|_: Unencodable| 1, Unencodable).get();
        assert!(matches!(err, Err(TaskError::Codec(m)) if m.contains("argument")));
        let err = pool.apply_async(|()| Unencodable, ()).get().map(|_| ());
        assert!(matches!(err, Err(TaskError::Codec(m)) if m.contains("result")));
        assert_eq!(pool.apply_async(|n: u8| n + 1, 1).get(), Ok(2));
        assert_eq!(pool.workers_started(), 1);
    });
}

fn slow_echo(n: u32) -> u32 {
    std::thread::sleep(Duration::from_millis(30));
    n
}

/// How many workers the kill test kills, one every 40 ms while 200 tasks of 30 ms run.
const KILLS: usize = 15;

#[test]
#[cfg_attr(miri, ignore)]
fn workers_killed_mid_task_repeatedly_cost_only_their_tasks() {
    guarded("workers_killed_mid_task", |status| {
        let pool = pool(2);
        let started = pool.workers_started();
        std::thread::scope(|s| {
            let results = pool.imap_unordered(0..200, slow_echo);
            let killer = s.spawn(|| kill_workers(&pool, KILLS, Duration::from_millis(40)));
            let mut ok = Vec::new();
            let mut died = Vec::new();
            for r in results {
                match r {
                    Ok(n) => ok.push(n),
                    Err(TaskError::WorkerDied(d)) => died.push(d),
                    Err(other) => panic!("unexpected: {other}"),
                }
                status.set("main", format!("{} ok, {} died", ok.len(), died.len()));
            }
            let killed = killer.join().unwrap();
            assert_eq!(ok.len() + died.len(), 200, "one result per task");
            ok.sort_unstable();
            ok.dedup();
            assert_eq!(ok.len() + died.len(), 200, "no task answered twice");
            assert!(
                !died.is_empty() && died.len() <= killed.len(),
                "{died:?} / {killed:?}"
            );
            for d in &died {
                assert_eq!(d.signal(), Some(libc::SIGKILL), "{d}");
                assert!(killed.contains(&d.pid()), "{d} was one the test killed");
            }
        });
        assert_eq!(pool.pids().len(), 2, "the pool keeps its size");
        assert!(pool.workers_started() > started);
        assert_eq!(
            pool.map(0..10, |n: u32| n + 1).unwrap(),
            (1..=10).collect::<Vec<_>>()
        );
    });
}
