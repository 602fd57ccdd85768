//! The plain-data `process::Queue` with children SIGKILLed at random moments: a putter and a
//! getter, each holding its own side's lock most of the time, killed in either order, 200
//! rounds. Every acknowledged item arrives exactly once and whole, and the ring keeps all its
//! slots. The test binary starts itself again as the children (see `tests/process.rs`). Linux
//! only; skipped under Miri (no memfd, no spawning: the queue's in-process tests run there).
#![cfg(target_os = "linux")]

mod common;

use std::hash::{BuildHasher, RandomState};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use common::guarded;
use synclab::process::{self, Child, Command, Queue, Shared};

/// Item `id`: four words that depend on the id, so that an item made of two puts' halves, or
/// of a put's half and stale bytes, fails [`check`].
fn item(id: u64) -> [u64; 4] {
    [
        id,
        id.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        !id,
        id ^ 0x5a5a_5a5a,
    ]
}

/// The id of a whole item; panics on a torn one.
fn check(got: [u64; 4]) -> u64 {
    assert_eq!(got, item(got[0]), "torn item");
    got[0]
}

/// Eight slots: the ring fills and wraps many times a round, so kills land anywhere in it.
type Ring = Queue<[u64; 4], 8>;

/// At most this many items per round (the putter then waits to be killed).
const IDS: usize = 65_536;

/// What the children report: puts acknowledged, and which ids the getter took.
struct Log {
    /// Puts that returned `Ok` (ids `0..acked`).
    acked: AtomicU64,
    /// Set by a getter that took an id twice.
    duplicate: AtomicU64,
    /// Bit `id`: the getter took item `id` (and said so).
    taken: [AtomicU64; IDS / 64],
}

// SAFETY: atomics only: every bit pattern valid, no Drop, Sync.
unsafe impl process::Shareable for Log {}

fn mark(log: &Log, id: u64) -> bool {
    let bit = 1u64 << (id % 64);
    log.taken[id as usize / 64].fetch_or(bit, SeqCst) & bit != 0
}

fn spawn_child(role: &str, share: impl FnOnce(&mut Command)) -> Child {
    let mut cmd = Command::new(role);
    cmd.args([KILL_TEST, "--exact", "--nocapture", "--test-threads=1"]);
    share(&mut cmd);
    cmd.stdout(Stdio::null());
    cmd.spawn().expect("spawn the child")
}

const KILL_TEST: &str = "a_putter_and_a_getter_killed_anywhere_lose_no_acknowledged_item";

#[test]
#[cfg_attr(miri, ignore)]
fn a_putter_and_a_getter_killed_anywhere_lose_no_acknowledged_item() {
    match process::role().as_deref() {
        Some("putter") => {
            let q = Shared::<Ring>::inherited(0).unwrap();
            let log = Shared::<Log>::inherited(1).unwrap();
            for id in 0..IDS as u64 {
                q.put(item(id)).unwrap();
                log.acked.store(id + 1, SeqCst);
            }
            std::thread::sleep(Duration::from_secs(3600)); // until killed
            return;
        }
        Some("getter") => {
            let q = Shared::<Ring>::inherited(0).unwrap();
            let log = Shared::<Log>::inherited(1).unwrap();
            while let Ok(got) = q.get() {
                if mark(&log, check(got)) {
                    log.duplicate.store(1, SeqCst);
                }
            }
            return;
        }
        _ => {}
    }
    guarded("queue_killed_while_putting_and_getting", |status| {
        let rounds: u64 = 200;
        let (mut mid_stream, mut getter_losses) = (0, 0);
        for round in 0..rounds {
            status.set("parent", format!("round {round}"));
            let q = Shared::new(Ring::new()).unwrap();
            let log = Shared::new(Log {
                acked: AtomicU64::new(0),
                duplicate: AtomicU64::new(0),
                taken: std::array::from_fn(|_| AtomicU64::new(0)),
            })
            .unwrap();
            let share = |c: &mut Command| {
                c.share(&q).share(&log);
            };
            let mut putter = spawn_child("putter", share);
            let mut getter = spawn_child("getter", share);
            let started = std::time::Instant::now();
            while log.acked.load(SeqCst) == 0 {
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "the putter never put"
                );
                std::thread::yield_now();
            }
            let r = RandomState::new().hash_one(round);
            std::thread::sleep(Duration::from_micros(r % 3000));
            // Half the rounds kill the getter first, while items still stream to it.
            let (first, second) = if r >> 40 & 1 == 0 {
                (&mut putter, &mut getter)
            } else {
                (&mut getter, &mut putter)
            };
            first.kill().unwrap();
            std::thread::sleep(Duration::from_micros((r >> 16) % 1000));
            second.kill().unwrap();
            assert!(!putter.join().unwrap().success());
            assert!(!getter.join().unwrap().success());

            // Drain what is left (taking either lock over from a dead holder): every item
            // whole, none twice.
            while let Ok(got) = q.try_get() {
                assert!(!mark(&log, check(got)), "round {round}: an item twice");
            }
            assert_eq!(
                log.duplicate.load(SeqCst),
                0,
                "round {round}: got one twice"
            );
            let acked = log.acked.load(SeqCst) as usize;
            let missing: Vec<usize> = (0..acked)
                .filter(|&id| log.taken[id / 64].load(SeqCst) & (1 << (id % 64)) == 0)
                .collect();
            // The getter may have been killed after its get took an item and before it marked
            // it: that one item is lost with it, as with any queue. No other.
            assert!(
                missing.len() <= 1,
                "round {round}: acknowledged items {missing:?} never arrived"
            );
            getter_losses += missing.len();
            mid_stream += usize::from(acked > 0 && acked < IDS);
            // No slot was lost: all eight take an item again, and give it back.
            for id in 0..8 {
                q.try_put(item(id)).unwrap();
            }
            assert!(
                q.try_put(item(8)).is_err(),
                "round {round}: more than 8 slots"
            );
            for id in 0..8 {
                assert_eq!(q.try_get().map(check), Ok(id));
            }
        }
        eprintln!(
            "{rounds} rounds: {mid_stream} killed mid-stream, {getter_losses} in-flight gets lost"
        );
        assert!(
            mid_stream as u64 > rounds / 2,
            "the kills did not land while items flowed"
        );
    });
}
