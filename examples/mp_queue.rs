//! The notes' `mp_queue.py` with real processes: ten children each sleep 1-3 units at random,
//! put their pid into a `synclab::process::Queue` in shared memory and print `[i] Hello!`; the
//! parent joins them all, drains the queue and prints `Done!`, the count and the list of pids.
//!
//! ```text
//! cargo run --release --example mp_queue              # units of 100 ms
//! cargo run --release --example mp_queue -- --seconds # the notes' 1-3 s sleeps
//! ```
//!
//! The children are this same program started again by `process::Command` (Python's `spawn`
//! start method); `process::role()` tells `main` which part to play.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use synclab::process::{self, Command, Queue, Shared};

/// Ten pids fit; the ring is a little larger than needed, like Python's unbounded queue.
type PidQueue = Queue<u32, 16>;

// ANCHOR: child
/// The notes' `hello(n)`, in a child process.
fn hello(n: usize, unit: Duration) {
    let q = Shared::<PidQueue>::inherited(0).expect("started by the parent with the queue");
    let units = 1 + (RandomState::new().hash_one(n) % 3) as u32; // random.randint(1,3)
    std::thread::sleep(unit * units); // time.sleep(...)
    q.put(std::process::id()).unwrap(); // q.put(os.getpid())
    println!("[{n}] Hello!"); // print("[{0}] Hello!".format(n))
}
// ANCHOR_END: child

fn main() {
    let unit = if std::env::args().any(|a| a == "--seconds") {
        Duration::from_secs(1)
    } else {
        Duration::from_millis(100)
    };
    if process::role().as_deref() == Some("hello") {
        let n = std::env::var("HELLO_N").unwrap().parse().unwrap();
        return hello(n, unit);
    }

    // ANCHOR: parent
    let start = Instant::now();
    let q = Shared::new(PidQueue::new()).expect("shared memory (Linux only)");
    let mut children = Vec::new();
    for i in 0..10 {
        let mut cmd = Command::new("hello");
        cmd.env("HELLO_N", i.to_string()).share(&q);
        if unit == Duration::from_secs(1) {
            cmd.arg("--seconds");
        }
        children.push(cmd.spawn().expect("start a child")); // t.start()
    }
    let pids: Vec<u32> = children.iter().map(|c| c.pid()).collect();
    for child in children {
        assert!(child.join().unwrap().success()); // one_process.join()
    }
    let mut mylist = Vec::new();
    while !q.is_empty() {
        mylist.push(q.get().unwrap()); // mylist.append(q.get())
    }
    println!("Done!");
    println!("{}", mylist.len());
    println!("{mylist:?}");
    // ANCHOR_END: parent

    let mut sorted = mylist.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let mut expected = pids.clone();
    expected.sort_unstable();
    let ok = sorted == expected;
    println!(
        "TOUR|mp_queue|10 processes put their pid into a multiprocessing.Queue; the parent prints Done!, 10 and the pids|processes: {} distinct pids of 10 children in {:.2} s",
        sorted.len(),
        start.elapsed().as_secs_f64()
    );
    if !ok {
        eprintln!("BUG: the pids received are not the children's");
        std::process::exit(1);
    }
}
