//! The plain-data `process::Queue` with children SIGKILLed at random moments: a putter and a
//! getter, each holding its own side's lock most of the time, killed in either order, 200
//! rounds. Every acknowledged item arrives exactly once and whole, and the ring keeps all its
//! slots. The test binary starts itself again as the children (see `tests/process.rs`). Linux
//! only; skipped under Miri (no memfd, no spawning: the queue's in-process tests run there).
#![cfg(target_os = "linux")]

use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

mod common;

use common::guarded;
use common::kills::{KillLog, KillTally, kill_both, spawn_child};
use synclab::process::{self, Command, Queue, Shared};

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

const KILL_TEST: &str = "a_putter_and_a_getter_killed_anywhere_lose_no_acknowledged_item";

#[test]
#[cfg_attr(miri, ignore)]
fn a_putter_and_a_getter_killed_anywhere_lose_no_acknowledged_item() {
    match process::role().as_deref() {
        Some("putter") => {
            let q = Shared::<Ring>::inherited(0).unwrap();
            let log = Shared::<KillLog>::inherited(1).unwrap();
            for id in 0..common::kills::KILL_IDS as u64 {
                q.put(item(id)).unwrap();
                log.acked.store(id + 1, SeqCst);
            }
            std::thread::sleep(Duration::from_secs(3600)); // until killed
            return;
        }
        Some("getter") => {
            let q = Shared::<Ring>::inherited(0).unwrap();
            let log = Shared::<KillLog>::inherited(1).unwrap();
            while let Ok(got) = q.get() {
                if log.mark(check(got)) {
                    log.duplicate.store(1, SeqCst);
                }
            }
            return;
        }
        _ => {}
    }
    guarded("queue_killed_while_putting_and_getting", |status| {
        let mut tally = KillTally::default();
        for round in 0..200 {
            status.set("parent", format!("round {round}"));
            let q = Shared::new(Ring::new()).unwrap();
            let log = Shared::new(KillLog::new()).unwrap();
            let share = |c: &mut Command| {
                c.share(&q).share(&log);
            };
            let putter = spawn_child(KILL_TEST, "putter", share);
            let getter = spawn_child(KILL_TEST, "getter", share);
            kill_both(round, &log, putter, getter);
            // Drain what is left (taking either lock over from a dead holder): every item
            // whole, none twice.
            while let Ok(got) = q.try_get() {
                assert!(!log.mark(check(got)), "round {round}: an item twice");
            }
            tally.check(round, &log);
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
        tally.finish();
    });
}
