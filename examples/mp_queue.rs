//! The notes' `mp_queue.py` with real processes: ten children each sleep 1-3 units at random,
//! put their pid and their greeting `[i] Hello!` into a `synclab::process::MessageQueue` in
//! shared memory, as one message (a `(u32, String)`, as Python's queue pickles a tuple), and
//! print the greeting; the parent joins them all, drains the queue and prints `Done!`, the
//! count and the list of pids with their greetings.
//!
//! ```text
//! cargo run --release --features serde --example mp_queue              # units of 100 ms
//! cargo run --release --features serde --example mp_queue -- --seconds # the notes' 1-3 s sleeps
//! ```
//!
//! The children are this same program started again by `process::Command` (Python's `spawn`
//! start method); `process::role()` tells `main` which part to play.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use synclab::process::{self, Command, MessageQueue};

/// What each child sends: its pid and its greeting, one message.
type Greeting = (u32, String);

/// Ten greetings of ~16 bytes fit many times over, like Python's unbounded queue.
const RING_BYTES: usize = 4096;

// ANCHOR: child
/// The notes' `hello(n)`, in a child process.
fn hello(n: usize, unit: Duration) {
    let q = MessageQueue::<Greeting>::inherited(0).expect("started by the parent with the queue");
    let units = 1 + (RandomState::new().hash_one(n) % 3) as u32; // random.randint(1,3)
    std::thread::sleep(unit * units); // time.sleep(...)
    let greeting = format!("[{n}] Hello!");
    q.put((std::process::id(), greeting.clone())).unwrap(); // q.put((os.getpid(), greeting))
    println!("{greeting}"); // print("[{0}] Hello!".format(n))
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
    let q = MessageQueue::<Greeting>::new(RING_BYTES).expect("shared memory (Linux only)");
    let mut children = Vec::new();
    for i in 0..10 {
        let mut cmd = Command::new("hello");
        cmd.env("HELLO_N", i.to_string()).share(q.region());
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

    let mut sorted: Vec<u32> = mylist.iter().map(|(pid, _)| *pid).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut expected = pids.clone();
    expected.sort_unstable();
    let greetings_ok = mylist.iter().all(|(pid, g)| {
        pids.iter()
            .position(|p| p == pid)
            .map(|n| format!("[{n}] Hello!"))
            == Some(g.clone())
    });
    let ok = sorted == expected && greetings_ok;
    println!(
        "TOUR|mp_queue|10 processes put their pid (and greeting) into a multiprocessing.Queue; the parent prints Done!, 10 and the pids|processes: {} distinct pids of 10 children, each with its greeting, as one typed message, in {:.2} s",
        sorted.len(),
        start.elapsed().as_secs_f64()
    );
    if !ok {
        eprintln!("BUG: the pids or greetings received are not the children's");
        std::process::exit(1);
    }
}
