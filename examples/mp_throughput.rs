//! How fast items travel between processes: 10 child processes send 10,000 `u64` each to the
//! parent, once through a `synclab::process::Queue` in shared memory and once through pipes
//! (each child writes its items to its stdout, the parent reads them), in the same run.
//!
//! ```text
//! cargo run --release --example mp_throughput
//! cargo run --release --example mp_throughput -- --runs 7 --items 10000
//! ```
//!
//! Python's `multiprocessing.Queue` is the pipe kind: a feeder thread pickles each item and
//! writes it into a pipe. The shared queue copies 8 bytes into a ring and makes a system call
//! only when a side has to sleep (queue empty or full).

use std::io::{BufWriter, Read, Write};
use std::os::fd::AsFd;
use std::process::Stdio;
use std::time::{Duration, Instant};

use synclab::process::{self, Command, Queue, Shared};

mod common;
use common::arg;

/// How many producer processes (`--producers`, default 10).
fn producers() -> u64 {
    arg("--producers", 10u64)
}
type Ring = Queue<u64, 1024>;

fn items() -> u64 {
    arg("--items", 10_000u64)
}

/// Through the shared queue: returns the time from the first spawn to the last item.
fn via_queue(n: u64) -> (Duration, u64) {
    let q = Shared::new(Ring::new()).expect("Linux only");
    let start = Instant::now();
    let children: Vec<_> = (0..producers())
        .map(|p| {
            Command::new("queue-producer")
                .args(["--items", &n.to_string()])
                .env("PRODUCER", p.to_string())
                .share(&q)
                .spawn()
                .unwrap()
        })
        .collect();
    let mut sum = 0u64;
    for _ in 0..producers() * n {
        sum = sum.wrapping_add(q.get().unwrap());
    }
    let elapsed = start.elapsed();
    for c in children {
        assert!(c.join().unwrap().success());
    }
    (elapsed, sum)
}

/// Through pipes: each child writes its items to stdout (`pipe-producer`: buffered, 8 KiB
/// writes; `pipe-producer-unbuffered`: one `write` per item, as `multiprocessing.Queue` sends
/// each item on its own), the parent reads them all.
fn via_pipes(n: u64, role: &str) -> (Duration, u64) {
    let start = Instant::now();
    let mut children: Vec<_> = (0..producers())
        .map(|p| {
            Command::new(role)
                .args(["--items", &n.to_string()])
                .env("PRODUCER", p.to_string())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
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
    for c in children {
        assert!(c.join().unwrap().success());
    }
    (elapsed, sum)
}

fn item(p: u64, i: u64) -> u64 {
    p << 32 | i
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
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
    let (mut tq, mut tp, mut tu) = (Vec::new(), Vec::new(), Vec::new());
    let mut ok = true;
    for _ in 0..runs {
        let (t, sum) = via_queue(n);
        ok &= sum == expected;
        tq.push(t);
        let (t, sum) = via_pipes(n, "pipe-producer");
        ok &= sum == expected;
        tp.push(t);
        let (t, sum) = via_pipes(n, "pipe-producer-unbuffered");
        ok &= sum == expected;
        tu.push(t);
    }
    let total = (producers() * n) as f64;
    let (mq, mp, mu) = (median(tq), median(tp), median(tu));
    let rate = |d: Duration| total / d.as_secs_f64();
    println!(
        "{} processes x {n} u64 items to the parent (median of {runs} runs, spawn included)",
        producers()
    );
    println!(
        "  shared queue (1024 slots): {:>8.1} ms  {:>12.0} items/s",
        mq.as_secs_f64() * 1e3,
        rate(mq)
    );
    println!(
        "  pipes (child stdout)     : {:>8.1} ms  {:>12.0} items/s",
        mp.as_secs_f64() * 1e3,
        rate(mp)
    );
    println!(
        "  pipes, 1 write per item  : {:>8.1} ms  {:>12.0} items/s",
        mu.as_secs_f64() * 1e3,
        rate(mu)
    );
    println!(
        "TOUR|mp_throughput|multiprocessing.Queue pickles every item through a pipe|{}x{n} u64: shared queue {:.0} items/s; pipes {:.0} items/s buffered, {:.0} items/s one write per item",
        producers(),
        rate(mq),
        rate(mp),
        rate(mu)
    );
    if !ok {
        eprintln!("BUG: items lost or changed");
        std::process::exit(1);
    }
}
