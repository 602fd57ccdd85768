//! The notes' ten workers and a queue (`mp_queue.py`), with threads instead of processes (real
//! processes come with `synclab::process`), and the two traps hidden in that program.
//!
//! ```text
//! cargo run --release --example queue_workers             # sleeps of 10-30 ms
//! cargo run --release --example queue_workers -- --seconds # the notes' 1-3 s sleeps
//! ```
//!
//! 1. **The notes' program.** Ten workers each sleep a random 1, 2 or 3 units
//!    (`random.randint(1,3)`; a unit is 10 ms here, 1 s with `--seconds`), put their id into a
//!    `synclab::Queue` and print `[i] Hello!`. The main thread joins them all, then empties the
//!    queue with `while not q.empty(): q.get()` and prints `Done!`, the count and the list.
//! 2. **`empty()` is a snapshot.** Draining with `while !q.is_empty()` while the workers still
//!    run stops at the first moment the queue happens to be empty, and misses what comes later.
//! 3. **Joining before draining.** With a bounded queue smaller than what the workers put, the
//!    workers block in `put` until someone takes items, and the main thread blocks in `join`
//!    until the workers finish: a deadlock (Python's docs warn about the same with
//!    `multiprocessing.Queue`, whose children cannot exit before their items are flushed). A
//!    watchdog notices it, says so, and breaks it with `shutdown_now`; then the fix: drain first.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::thread::{self, ThreadId};
use std::time::Duration;

use synclab::{Event, Lock, Queue, ShutDown};

/// `random.randint(1, 3)`, from std's randomly seeded hasher (no `rand` crate needed).
fn randint_1_to_3(seed: usize) -> u32 {
    1 + (RandomState::new().hash_one(seed) % 3) as u32
}

// ANCHOR: hello
/// The notes' `hello(n)`: sleep 1-3 units, put an id into the queue, say hello.
fn hello(n: usize, q: &Queue<(usize, ThreadId)>, unit: Duration) {
    thread::sleep(unit * randint_1_to_3(n)); // time.sleep(random.randint(1,3))
    q.put((n, thread::current().id())).unwrap(); // q.put(os.getpid())
    println!("[{n}] Hello!"); // print("[{0}] Hello!".format(n))
}

/// The notes' main program, with threads.
fn notes_program(unit: Duration) -> Vec<(usize, ThreadId)> {
    let q = Queue::new();
    thread::scope(|s| {
        let q = &q;
        let workers: Vec<_> = (0..10)
            .map(|i| s.spawn(move || hello(i, q, unit)))
            .collect();
        for worker in workers {
            worker.join().unwrap(); // for one_process in processes: one_process.join()
        }
    });
    let mut mylist = Vec::new();
    while !q.is_empty() {
        mylist.push(q.get().unwrap()); // safe here: every worker has finished
    }
    mylist
}
// ANCHOR_END: hello

// ANCHOR: snapshot
/// Drains with `while !q.is_empty()` while the workers are still running. Returns how many
/// items the loop saw, and how many were in the queue once every worker had finished.
fn drain_while_running(unit: Duration) -> (usize, usize) {
    let q = Queue::new();
    let seen = thread::scope(|s| {
        for i in 0..10 {
            let q = &q;
            s.spawn(move || hello_quietly(i, q, unit));
        }
        let mut seen = vec![q.get().unwrap()]; // wait for the first item, then:
        while !q.is_empty() {
            seen.push(q.get().unwrap());
        }
        // The loop stopped at a moment when the queue was empty; workers still asleep put
        // their items later.
        seen.len()
    }); // the scope joins the workers here
    (seen, seen + q.len())
}
// ANCHOR_END: snapshot

/// `hello` without the printing (for the trap demonstrations).
fn hello_quietly(n: usize, q: &Queue<(usize, ThreadId)>, unit: Duration) {
    thread::sleep(unit * randint_1_to_3(n));
    q.put((n, thread::current().id())).unwrap();
}

// ANCHOR: deadlock
/// Joins the workers first, with a bounded queue of 4 and ten workers that put one item each.
/// A watchdog thread waits `patience` for the joins to finish; when they do not, it reports the
/// deadlock and breaks it with `shutdown_now` (Python's `shutdown(immediate=True)`), which
/// hands back the queued items and makes every blocked `put` return its item as an error.
/// Returns (workers still blocked when the watchdog fired, items accounted for).
fn join_before_drain(patience: Duration) -> (usize, usize) {
    let q = Queue::bounded(4);
    let finished = AtomicUsize::new(0);
    let joined = Event::new();
    let handed_back = Lock::new(Vec::new()); // items that blocked puts got back
    let mut drained = Vec::new(); // items the watchdog took out of the queue
    let mut stuck = 0;

    thread::scope(|s| {
        let workers: Vec<_> = (0..10)
            .map(|i| {
                let (q, finished, handed_back) = (&q, &finished, &handed_back);
                s.spawn(move || {
                    if let Err(ShutDown(item)) = q.put(i) {
                        handed_back.lock().push(item); // nothing is lost: the item comes back
                    }
                    finished.fetch_add(1, Relaxed);
                })
            })
            .collect();

        s.spawn(|| {
            if !joined.wait_timeout(patience) {
                stuck = 10 - finished.load(Relaxed);
                println!(
                    "watchdog: main has been in join() for {} ms; {stuck} workers are blocked in put() \
                     on a full queue ({} of {} slots) that nobody drains. Deadlock. Breaking it with shutdown_now().",
                    patience.as_millis(),
                    q.len(),
                    q.capacity().unwrap()
                );
                drained = q.shutdown_now();
            }
        });

        for worker in workers {
            worker.join().unwrap(); // the trap: join before draining
        }
        joined.set();
    });
    let handed_back = handed_back.into_inner();
    println!(
        "after shutdown_now: {} items drained from the queue + {} handed back to blocked put()s",
        drained.len(),
        handed_back.len()
    );
    (stuck, drained.len() + handed_back.len())
}

/// The fix: drain first (we know how many items are coming), then join.
fn drain_then_join() -> usize {
    let q = Queue::bounded(4);
    thread::scope(|s| {
        let q = &q;
        let workers: Vec<_> = (0..10)
            .map(|i| s.spawn(move || q.put(i).unwrap()))
            .collect();
        let items: Vec<usize> = (0..10).map(|_| q.get().unwrap()).collect(); // drain first
        for worker in workers {
            worker.join().unwrap(); // then join: every put has completed
        }
        items.len()
    })
}
// ANCHOR_END: deadlock

fn main() {
    let unit = if std::env::args().any(|a| a == "--seconds") {
        Duration::from_secs(1)
    } else {
        Duration::from_millis(10)
    };
    let mut ok = true;

    // 1. The notes' program.
    let mylist = notes_program(unit);
    println!("Done!");
    println!("{}", mylist.len());
    println!("{:?}", mylist.iter().map(|(_, id)| id).collect::<Vec<_>>());
    let mut ids: Vec<usize> = mylist.iter().map(|&(n, _)| n).collect();
    ids.sort_unstable();
    ok &= ids == (0..10).collect::<Vec<_>>();

    // 2. empty() is a snapshot.
    println!("\nDraining with `while !q.is_empty()` while the workers still run:");
    let rounds: Vec<(usize, usize)> = (0..5).map(|_| drain_while_running(unit)).collect();
    for (seen, total) in &rounds {
        println!(
            "  the loop saw {seen} of 10 items; {} more arrived after it stopped",
            total - seen
        );
    }
    ok &= rounds.iter().all(|&(_, total)| total == 10);
    let seen: Vec<String> = rounds.iter().map(|(seen, _)| seen.to_string()).collect();

    // 3. Joining before draining.
    println!(
        "\nJoining before draining, with Queue::bounded(4) and 10 workers putting 1 item each:"
    );
    let (stuck, accounted) = join_before_drain(Duration::from_millis(300));
    let fixed = drain_then_join();
    println!("draining first, then joining: {fixed} of 10 items, no wait");
    ok &= stuck > 0 && accounted == 10 && fixed == 10;

    println!(
        "TOUR|queue_workers|10 workers put their id into a Queue; after join the main thread drains 10 items|threads: {} of 10 ids drained after join",
        mylist.len()
    );
    println!(
        "TOUR|queue_workers: empty() snapshot|Python docs: empty() is not reliable while others put|draining with while !is_empty() as workers ran saw {} of 10 items in 5 rounds",
        seen.join(", ")
    );
    println!(
        "TOUR|queue_workers: join before drain|Python docs: joining a process before draining the queue it put into can deadlock|bounded(4), 10 workers, join first: {stuck} workers stuck in put (watchdog after 300 ms, {accounted} of 10 items recovered); drain first: {fixed} of 10"
    );
    if !ok {
        eprintln!("BUG: an item was lost or the deadlock did not happen as expected");
        std::process::exit(1);
    }
}
