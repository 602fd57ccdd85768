//! Multi-process tests of the message queues (`process::ByteQueue`, `process::MessageQueue`):
//! children SIGKILLed at random moments while they put and get messages, and garbage written
//! into the ring. The test binary starts itself again as the child (see `tests/process.rs`).
//! Skipped under Miri (no memfd, no spawning: the ring's in-process tests run there); Linux only.
#![cfg(target_os = "linux")]

mod common;

use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use common::guarded;
use common::kills::{KILL_IDS, KillLog, KillTally, kill_both, spawn_child};
use synclab::process::{self, ByteQueue, Command, Event, GetMessageError, Shared};

/// Message `id`: its id, then `id % 61` bytes that depend on the id, then a checksum byte. A
/// torn message (half of one, half of another, or garbage) fails [`check`].
fn message(id: u32) -> Vec<u8> {
    let mut m = id.to_le_bytes().to_vec();
    m.extend((0..id % 61).map(|i| (id.wrapping_mul(2_654_435_761) >> (i % 24)) as u8 ^ i as u8));
    let sum = m.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    m.push(sum ^ 0x5a);
    m
}

/// The id of a whole message; panics on a torn one.
fn check(m: &[u8]) -> u32 {
    assert!(m.len() >= 5, "torn message: {m:?}");
    let id = u32::from_le_bytes(m[..4].try_into().unwrap());
    assert_eq!(m, message(id), "torn message {id}");
    id
}

const KILL_TEST: &str = "children_killed_while_putting_and_getting_lose_no_acknowledged_message";

#[test]
#[cfg_attr(miri, ignore)]
fn children_killed_while_putting_and_getting_lose_no_acknowledged_message() {
    match process::role().as_deref() {
        Some("putter") => {
            let q = ByteQueue::inherited(0).unwrap();
            let log = Shared::<KillLog>::inherited(1).unwrap();
            for id in 0..KILL_IDS as u32 {
                q.put(message(id)).unwrap();
                log.acked.store(u64::from(id) + 1, SeqCst);
            }
            std::thread::sleep(Duration::from_secs(3600)); // until killed
            return;
        }
        Some("getter") => {
            let q = ByteQueue::inherited(0).unwrap();
            let log = Shared::<KillLog>::inherited(1).unwrap();
            let mut buf = Vec::new();
            while q.get_into(&mut buf).is_ok() {
                if log.mark(check(&buf).into()) {
                    log.duplicate.store(1, SeqCst);
                }
            }
            return;
        }
        _ => {}
    }
    guarded("killed_while_putting_and_getting", |status| {
        let mut tally = KillTally::default();
        for round in 0..200 {
            status.set("parent", format!("round {round}"));
            // A small ring: it fills and wraps many times a round, so kills land mid-record.
            let q = ByteQueue::new(256).unwrap();
            let log = Shared::new(KillLog::new()).unwrap();
            let share = |c: &mut Command| {
                c.share(q.region()).share(&log);
            };
            let putter = spawn_child(KILL_TEST, "putter", share);
            let getter = spawn_child(KILL_TEST, "getter", share);
            kill_both(round, &log, putter, getter);
            // Drain what is left: every message whole, none twice.
            while let Ok(m) = q.try_get() {
                assert!(
                    !log.mark(check(&m).into()),
                    "round {round}: a message twice"
                );
            }
            tally.check(round, &log);
            // No space was lost: the whole ring takes its largest message again.
            assert!(q.is_empty());
            q.try_put(vec![7u8; q.max_message()]).unwrap();
            assert_eq!(q.try_get().unwrap().len(), q.max_message());
        }
        tally.finish();
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_putter_killed_half_way_through_a_record_leaves_nothing_torn() {
    if process::role().as_deref() == Some("stalled-putter") {
        let q = ByteQueue::inherited(0).unwrap();
        let ready = Shared::<Event>::inherited(1).unwrap();
        process::__stall_puts_half_written();
        ready.set();
        let _ = q.put(message(9999)); // writes half the record, then hangs holding the lock
        unreachable!();
    }
    guarded("putter_killed_half_way", |status| {
        let q = ByteQueue::new(512).unwrap();
        let ready = Shared::new(Event::new()).unwrap();
        q.put(message(1)).unwrap();
        let mut child = spawn_child(
            "a_putter_killed_half_way_through_a_record_leaves_nothing_torn",
            "stalled-putter",
            |c| {
                c.share(q.region()).share(&ready);
            },
        );
        status.set("parent", "waiting for the child to stall inside put");
        assert!(ready.wait_timeout(Duration::from_secs(20)));
        std::thread::sleep(Duration::from_millis(300));
        child.kill().unwrap();
        child.join().unwrap();
        status.set("parent", "checking the ring after the kill");
        assert_eq!(q.len(), 1, "the half-written record became visible");
        assert_eq!(check(&q.try_get().unwrap()), 1);
        assert_eq!(q.try_get(), Err(GetMessageError::Empty));
        for round in 0..3 {
            q.try_put(vec![round; q.max_message()]).unwrap(); // every byte usable
            assert_eq!(q.try_get().unwrap(), vec![round; q.max_message()]);
        }
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn garbage_in_a_shared_ring_is_an_error_not_a_crash() {
    guarded("garbage_in_a_shared_ring", |_| {
        let q = ByteQueue::new(128).unwrap();
        q.put(b"fine").unwrap();
        // What a misbehaving process could do: the length word claims 4 GiB.
        q.region().tail()[0].store(u64::from(u32::MAX), SeqCst);
        assert!(matches!(q.try_get(), Err(GetMessageError::Corrupt { .. })));
        assert_eq!(q.len(), 0);
        for w in q.region().tail() {
            w.store(u64::MAX, SeqCst);
        }
        assert!(matches!(q.get(), Err(GetMessageError::Corrupt { .. })));
    });
}

#[cfg(feature = "serde")]
#[test]
#[cfg_attr(miri, ignore)]
fn a_child_sends_its_pid_and_greeting_as_one_typed_message() {
    use synclab::process::MessageQueue;
    if process::role().as_deref() == Some("greeter") {
        let q = MessageQueue::<(u32, String)>::inherited(0).unwrap();
        q.put((std::process::id(), "[0] Hello!".to_string()))
            .unwrap();
        return;
    }
    guarded("typed_message", |_| {
        let q = MessageQueue::<(u32, String)>::new(1024).unwrap();
        let child = spawn_child(
            "a_child_sends_its_pid_and_greeting_as_one_typed_message",
            "greeter",
            |c| {
                c.share(q.region());
            },
        );
        let pid = child.pid();
        let got = q.get_timeout(Duration::from_secs(20)).unwrap();
        assert_eq!(got, (pid, "[0] Hello!".to_string()));
        assert!(child.join().unwrap().success());
        // Another type's bytes are a decode error, not garbage.
        q.as_bytes().put([0x80u8; 12]).unwrap();
        assert!(matches!(q.try_get(), Err(GetMessageError::Decode { .. })));
    });
}
