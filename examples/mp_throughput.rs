//! How fast items travel between processes: 10 child processes send 10,000 items each to the
//! parent, in one run, through
//!
//! - a `synclab::process::Queue<u64, 1024>` in shared memory (plain data, copied as is);
//! - a `synclab::process::MessageQueue` carrying a `u64`, and one carrying a ~100-byte `String`
//!   (encoded with postcard, length-prefixed records in a byte ring);
//! - pipes (each child writes its items to its stdout, the parent reads them): buffered, and
//!   with one `write` per item;
//! - Python's `multiprocessing.Queue` with an `int` and with a ~100-character `str`
//!   (`book/python/mp_throughput.py`), when `python3` is installed;
//!
//! and prints each as items/s and as ratios within the run (medians of `--runs`).
//!
//! Then the process pools, on `map` of `--tasks` (10,000) tiny tasks over 2 workers, each pool
//! started and warmed up before the clock starts: `synclab::process::Pool::map`, the `procspawn`
//! crate's `Pool` (one `spawn` per task, then every handle joined: it has no `map`), and
//! Python's `multiprocessing.Pool(2).map` with its default chunksize
//! (`book/python/mp_pool_map.py`).
//!
//! ```text
//! cargo run --release --features serde --example mp_throughput
//! cargo run --release --features serde --example mp_throughput -- --runs 7 --items 10000
//! cargo run --release --features serde --example mp_throughput -- --only 0   # the plain queue
//! cargo run --release --features serde --example mp_throughput -- --only 7   # synclab's Pool
//! ```
//!
//! Python's `multiprocessing.Queue` is the pipe kind: a feeder thread pickles each item and
//! writes it into a pipe. The shared queues copy bytes into a ring and make a system call only
//! when a side has to sleep (queue empty or full).

use std::io::{BufWriter, Read, Write};
use std::os::fd::AsFd;
use std::process::Stdio;
use std::time::{Duration, Instant};

use synclab::process::{self, Command, MessageQueue, Queue, Shared};

mod common;
use common::arg;

/// How many producer processes (`--producers`, default 10).
fn producers() -> u64 {
    arg("--producers", 10u64)
}
type Ring = Queue<u64, 1024>;

/// The message queues' ring: as many bytes as the plain queue's 1024 slots hold...
const U64_RING: usize = 1024 * 8;
/// ...and for the strings, room for about as many ~100-byte messages.
const STRING_RING: usize = 1024 * 112;

fn items() -> u64 {
    arg("--items", 10_000u64)
}

/// The ~100-byte string item: `pp-iiiiii-` and padding, as the Python script sends.
fn string_item(p: u64, i: u64) -> String {
    format!("{p:02}-{i:06}-{}", "x".repeat(88))
}

/// The value a consumer adds up for a string item (its producer and index, as `item` does).
fn string_value(s: &str) -> u64 {
    let p: u64 = s[..2].parse().unwrap();
    let i: u64 = s[3..9].parse().unwrap();
    item(p, i)
}

/// Spawns the producers as `role`, each handed `share`'s region.
fn spawn(role: &str, n: u64, share: impl Fn(&mut Command)) -> Vec<process::Child> {
    (0..producers())
        .map(|p| {
            let mut c = Command::new(role);
            c.args(["--items", &n.to_string()])
                .env("PRODUCER", p.to_string());
            share(&mut c);
            c.spawn().unwrap()
        })
        .collect()
}

fn join(children: Vec<process::Child>) {
    for c in children {
        assert!(c.join().unwrap().success());
    }
}

/// Through the shared queue: returns the time from the first spawn to the last item.
fn via_queue(n: u64) -> (Duration, u64) {
    let q = Shared::new(Ring::new()).expect("Linux only");
    let start = Instant::now();
    let children = spawn("queue-producer", n, |c| {
        c.share(&q);
    });
    let mut sum = 0u64;
    for _ in 0..producers() * n {
        sum = sum.wrapping_add(q.get().unwrap());
    }
    let elapsed = start.elapsed();
    join(children);
    (elapsed, sum)
}

/// Through a message queue of `u64` or of `String` (`strings`).
fn via_messages(n: u64, strings: bool) -> (Duration, u64) {
    let start;
    let mut sum = 0u64;
    let children;
    if strings {
        let q = MessageQueue::<String>::new(STRING_RING).expect("Linux only");
        start = Instant::now();
        children = spawn("string-producer", n, |c| {
            c.share(q.region());
        });
        for _ in 0..producers() * n {
            sum = sum.wrapping_add(string_value(&q.get().unwrap()));
        }
    } else {
        let q = MessageQueue::<u64>::new(U64_RING).expect("Linux only");
        start = Instant::now();
        children = spawn("message-producer", n, |c| {
            c.share(q.region());
        });
        for _ in 0..producers() * n {
            sum = sum.wrapping_add(q.get().unwrap());
        }
    }
    let elapsed = start.elapsed();
    join(children);
    (elapsed, sum)
}

/// Through pipes: each child writes its items to stdout (`pipe-producer`: buffered, 8 KiB
/// writes; `pipe-producer-unbuffered`: one `write` per item, as `multiprocessing.Queue` sends
/// each item on its own), the parent reads them all.
fn via_pipes(n: u64, role: &str) -> (Duration, u64) {
    let start = Instant::now();
    let mut children = spawn(role, n, |c| {
        c.stdout(Stdio::piped());
    });
    // One reader thread per pipe, as the queue has one consumer but must not stall a child.
    let sum = std::thread::scope(|s| {
        let readers: Vec<_> = children
            .iter_mut()
            .map(|c| {
                let mut out = c.take_stdout().unwrap();
                s.spawn(move || {
                    let mut buf = Vec::new();
                    out.read_to_end(&mut buf).unwrap();
                    buf.chunks_exact(8)
                        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
                        .fold(0u64, u64::wrapping_add)
                })
            })
            .collect();
        readers
            .into_iter()
            .map(|r| r.join().unwrap())
            .fold(0u64, u64::wrapping_add)
    });
    let elapsed = start.elapsed();
    join(children);
    (elapsed, sum)
}

/// Python's `multiprocessing.Queue` on the same workload (`kind`: `int` or `str`), if
/// `python3` runs; killed after `limit`.
fn via_python(n: u64, kind: &str, limit: Duration) -> Option<Duration> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/book/python/mp_throughput.py");
    let mut child = std::process::Command::new("python3")
        .args([script, &producers().to_string(), &n.to_string(), kind])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + limit;
    while child.try_wait().ok()?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            eprintln!("python3 mp_throughput.py {kind}: killed after {limit:?}");
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    let secs: f64 = out.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_secs_f64(secs))
}

/// The pools' tiny task.
fn tiny(n: u64) -> u64 {
    n * 2 + 1
}

fn tasks() -> u64 {
    arg("--tasks", 10_000u64)
}

/// The sum of `tiny` over `0..tasks`, which every pool must return.
fn pool_expected() -> u64 {
    (0..tasks()).map(tiny).sum()
}

/// `synclab::process::Pool::map` of `--tasks` tiny tasks over 2 workers.
fn via_pool() -> (Duration, u64) {
    let pool = process::Pool::new(2).expect("Linux only");
    pool.map(0..2, tiny).unwrap(); // both workers up and serving
    let start = Instant::now();
    let results = pool.map(0..tasks(), tiny).unwrap();
    let elapsed = start.elapsed();
    (elapsed, results.into_iter().sum())
}

/// The procspawn crate's pool: one `spawn` per task (it has no `map`), each handle joined.
fn via_procspawn() -> (Duration, u64) {
    let pool = procspawn::Pool::new(2).unwrap();
    for h in (0..2).map(|n| pool.spawn(n, tiny)).collect::<Vec<_>>() {
        h.join().unwrap(); // both workers up and serving
    }
    let start = Instant::now();
    // At most `WINDOW` tasks in flight: each holds two ipc channels (4 descriptors) until it
    // is joined, and 10,000 at once run past the descriptor limit.
    const WINDOW: usize = 256;
    let mut in_flight = std::collections::VecDeque::with_capacity(WINDOW);
    let mut sum = 0;
    for n in 0..tasks() {
        if in_flight.len() == WINDOW {
            let h: procspawn::JoinHandle<u64> = in_flight.pop_front().unwrap();
            sum += h.join().unwrap();
        }
        in_flight.push_back(pool.spawn(n, tiny));
    }
    sum += in_flight
        .into_iter()
        .map(|h| h.join().unwrap())
        .sum::<u64>();
    let elapsed = start.elapsed();
    pool.shutdown();
    (elapsed, sum)
}

/// Python's `multiprocessing.Pool(2).map` on the same tasks, if `python3` runs.
fn via_python_pool(limit: Duration) -> Option<(Duration, u64)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/book/python/mp_pool_map.py");
    let mut child = std::process::Command::new("python3")
        .args([script, &tasks().to_string(), "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + limit;
    while child.try_wait().ok()?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            eprintln!("python3 mp_pool_map.py: killed after {limit:?}");
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut out = String::new();
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    let mut words = out.split_whitespace();
    let secs: f64 = words.next()?.parse().ok()?;
    let sum: u64 = words.next()?.parse().ok()?;
    Some((Duration::from_secs_f64(secs), sum))
}

fn item(p: u64, i: u64) -> u64 {
    p << 32 | i
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    process::init(); // a synclab pool worker stops here
    procspawn::init(); // and a procspawn one here
    let n = items();
    match process::role().as_deref() {
        Some("queue-producer") => {
            let q = Shared::<Ring>::inherited(0).unwrap();
            let p: u64 = std::env::var("PRODUCER").unwrap().parse().unwrap();
            for i in 0..n {
                q.put(item(p, i)).unwrap();
            }
            return;
        }
        Some("message-producer") => {
            let q = MessageQueue::<u64>::inherited(0).unwrap();
            let p: u64 = std::env::var("PRODUCER").unwrap().parse().unwrap();
            for i in 0..n {
                q.put(item(p, i)).unwrap();
            }
            return;
        }
        Some("string-producer") => {
            let q = MessageQueue::<String>::inherited(0).unwrap();
            let p: u64 = std::env::var("PRODUCER").unwrap().parse().unwrap();
            for i in 0..n {
                q.put(string_item(p, i)).unwrap();
            }
            return;
        }
        Some("pipe-producer-unbuffered") => {
            let p: u64 = std::env::var("PRODUCER").unwrap().parse().unwrap();
            // A copy of fd 1 as a File: no buffer at all, one `write` system call per item.
            let mut raw =
                std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned().unwrap());
            for i in 0..n {
                raw.write_all(&item(p, i).to_le_bytes()).unwrap();
            }
            return;
        }
        Some("pipe-producer") => {
            let p: u64 = std::env::var("PRODUCER").unwrap().parse().unwrap();
            let mut out = BufWriter::new(std::io::stdout().lock());
            for i in 0..n {
                out.write_all(&item(p, i).to_le_bytes()).unwrap();
            }
            out.flush().unwrap();
            return;
        }
        _ => {}
    }
    let runs = arg("--runs", 5).max(1);
    let expected = (0..producers())
        .flat_map(|p| (0..n).map(move |i| item(p, i)))
        .fold(0u64, u64::wrapping_add);
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let names = [
        "process::Queue<u64, 1024>",
        "MessageQueue<u64>",
        "MessageQueue<String> ~100 B",
        "pipes, buffered",
        "pipes, 1 write per item",
        "Python mp.Queue, int",
        "Python mp.Queue, str ~100 B",
        "process::Pool map, 2 workers",
        "procspawn Pool, 2 workers",
        "Python Pool(2).map",
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    let mut ok = true;
    let pool_expected = pool_expected();
    // Each measurement with the sum its results must add up to.
    let mut checked = |(t, sum): (Duration, u64), expected: u64| {
        ok &= sum == expected;
        t
    };
    // `--only 0`: one of them (by its place in `names`), e.g. under `perf stat`.
    let only: usize = arg("--only", usize::MAX);
    let want = |i: usize| only == usize::MAX || only == i;
    for _ in 0..runs {
        if want(0) {
            times[0].push(checked(via_queue(n), expected));
        }
        if want(1) {
            times[1].push(checked(via_messages(n, false), expected));
        }
        if want(2) {
            times[2].push(checked(via_messages(n, true), expected));
        }
        if want(3) {
            times[3].push(checked(via_pipes(n, "pipe-producer"), expected));
        }
        if want(4) {
            times[4].push(checked(via_pipes(n, "pipe-producer-unbuffered"), expected));
        }
        if python && (want(5) || want(6)) {
            let limit = Duration::from_secs(60);
            times[5].extend(via_python(n, "int", limit));
            times[6].extend(via_python(n, "str", limit));
        }
        if want(7) {
            times[7].push(checked(via_pool(), pool_expected));
        }
        if want(8) {
            times[8].push(checked(via_procspawn(), pool_expected));
        }
        if python && want(9) {
            let m = via_python_pool(Duration::from_secs(60));
            times[9].extend(m.map(|m| checked(m, pool_expected)));
        }
    }
    let total = (producers() * n) as f64;
    let rates: Vec<Option<f64>> = times
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let total = if i >= 7 { tasks() as f64 } else { total };
            (!t.is_empty()).then(|| total / median(t).as_secs_f64())
        })
        .collect();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    println!(
        "{} processes x {n} items to the parent (median of {runs} runs, spawn included; load average {load})",
        producers()
    );
    for (i, (name, rate)) in names.iter().zip(&rates).enumerate() {
        if i == 7 {
            println!("{} tiny tasks, map over 2 worker processes:", tasks());
        }
        match rate {
            Some(r) => println!("  {name:<28}: {r:>12.0} items/s"),
            None => println!("  {name:<28}: (not run, or python3 not found)"),
        }
    }
    let ratio = |a: usize, b: usize| match (rates[a], rates[b]) {
        (Some(a), Some(b)) => format!("{:.2}x", a / b),
        _ => "n/a".into(),
    };
    let (q_pipe, q_py, s_py) = (ratio(0, 4), ratio(0, 5), ratio(2, 6));
    println!("  ratios in this run: plain queue / pipes 1 write per item {q_pipe} (target >= 1x)");
    println!("                      plain queue / Python int {q_py} (target >= 10x)");
    println!("                      MessageQueue<String> / Python str {s_py} (target >= 5x)");
    let (p_ps, p_py) = (ratio(7, 8), ratio(7, 9));
    println!("                      process::Pool map / procspawn Pool {p_ps} (target > 1x)");
    println!("                      process::Pool map / Python Pool.map {p_py} (target > 1x)");
    println!(
        "TOUR|mp_throughput|multiprocessing.Queue pickles every item through a pipe|{}x{n} items: plain queue {q_pipe} pipes (1 write per item) and {q_py} Python; MessageQueue<String> {s_py} Python with str",
        producers(),
    );
    println!(
        "TOUR|mp_throughput|Pool(2).map of {0} tiny tasks, chunked|process::Pool map {p_ps} procspawn's Pool and {p_py} Python's Pool.map",
        tasks(),
    );
    if !ok {
        eprintln!("BUG: items lost or changed");
        std::process::exit(1);
    }
}
