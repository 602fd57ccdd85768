//! Multi-process tests of `process::wait_any`: children put on one of two shared queues (or set
//! an event, or shut a queue down), the parent waits on all of them at once. The test binary
//! starts itself again as the child, as in `tests/process.rs`. Linux only; skipped under Miri.
#![cfg(target_os = "linux")]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::guarded;
use synclab::GetError;
use synclab::process::{self, Child, Command, Event, Queue, Shared, wait_any, wait_any_timeout};

/// Two small queues (small, so the children block on full queues too) and an event.
type Pair = (Queue<u64, 4>, Queue<u64, 4>, Event);

/// Starts this test binary again as `role`, running only `test`, sharing `shared` as region 0.
fn spawn_child(test: &str, role: &str, index: usize, shared: &Shared<Pair>) -> Child {
    let mut cmd = Command::new(role);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    cmd.env("SELECT_CHILD", index.to_string());
    cmd.share(shared);
    cmd.stdout(Stdio::null());
    cmd.spawn().expect("spawn the child")
}

fn child_index() -> usize {
    std::env::var("SELECT_CHILD").unwrap().parse().unwrap()
}

fn join(mut child: Child) {
    let status = match child.join_timeout(Duration::from_secs(30)).unwrap() {
        Some(status) => status,
        None => {
            child.kill().unwrap();
            panic!("child {} hung; killed", child.pid());
        }
    };
    assert!(status.success(), "a child failed: {status:?}");
}

const CHILDREN: usize = 4;
const PER: u64 = 2_000;

#[test]
#[cfg_attr(miri, ignore)]
fn children_put_on_two_queues_the_parent_waits_on_both() {
    const NAME: &str = "children_put_on_two_queues_the_parent_waits_on_both";
    if process::role().as_deref() == Some("putter") {
        let shared = Shared::<Pair>::inherited(0).unwrap();
        let k = child_index();
        let q = if k % 2 == 0 { &shared.0 } else { &shared.1 };
        for i in 0..PER {
            q.put(k as u64 * PER + i).unwrap();
        }
        return;
    }
    guarded(NAME, |status| {
        let shared = Shared::new((Queue::new(), Queue::new(), Event::new())).unwrap();
        let children: Vec<Child> = (0..CHILDREN)
            .map(|k| spawn_child(NAME, "putter", k, &shared))
            .collect();
        let total = CHILDREN * PER as usize;
        let mut seen = vec![0u8; total];
        let mut got = 0;
        while got < total {
            status.set("parent", format!("{got} of {total} items"));
            let ready = wait_any(&[&shared.0, &shared.1]);
            assert!(!ready.is_empty() && ready.iter().all(|&i| i < 2));
            for at in ready {
                let q = if at == 0 { &shared.0 } else { &shared.1 };
                while let Ok(item) = q.try_get() {
                    let k = (item / PER) as usize;
                    assert_eq!(k % 2, at, "item {item} came out of the wrong queue");
                    seen[item as usize] += 1;
                    got += 1;
                }
            }
        }
        assert!(seen.iter().all(|&c| c == 1), "an item was lost or doubled");
        children.into_iter().for_each(join);
        assert!(shared.0.is_empty() && shared.1.is_empty());
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn an_event_set_or_a_shutdown_in_a_child_wakes_the_parent() {
    const NAME: &str = "an_event_set_or_a_shutdown_in_a_child_wakes_the_parent";
    if process::role().as_deref() == Some("signaller") {
        let shared = Shared::<Pair>::inherited(0).unwrap();
        std::thread::sleep(Duration::from_millis(30)); // let the parent sleep first, likely
        match child_index() {
            0 => shared.2.set(),
            _ => shared.1.shutdown(),
        }
        return;
    }
    guarded(NAME, |status| {
        for k in 0..2 {
            let shared = Shared::new((Queue::new(), Queue::new(), Event::new())).unwrap();
            let child = spawn_child(NAME, "signaller", k, &shared);
            status.set("parent", format!("waiting for signal {k}"));
            let ready = wait_any(&[&shared.0, &shared.1, &shared.2]);
            if k == 0 {
                assert_eq!(ready, [2]);
                assert!(shared.2.is_set());
            } else {
                assert_eq!(ready, [1]);
                assert_eq!(shared.1.try_get(), Err(GetError::ShutDown));
            }
            join(child);
        }
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn timeouts_zero_and_max() {
    const NAME: &str = "timeouts_zero_and_max";
    if process::role().as_deref() == Some("late") {
        let shared = Shared::<Pair>::inherited(0).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        shared.0.put(7).unwrap();
        return;
    }
    guarded(NAME, |_| {
        let shared = Shared::new((Queue::new(), Queue::new(), Event::new())).unwrap();
        let objects: [&dyn process::Waitable; 3] = [&shared.0, &shared.1, &shared.2];
        assert!(wait_any_timeout(&objects, Duration::from_millis(20)).is_empty());
        assert!(wait_any_timeout(&objects, Duration::ZERO).is_empty());
        assert!(wait_any_timeout(&[], Duration::MAX).is_empty());
        let child = spawn_child(NAME, "late", 0, &shared);
        assert_eq!(wait_any_timeout(&objects, Duration::MAX), [0]);
        assert_eq!(shared.0.try_get(), Ok(7));
        join(child);
        // Nothing stays registered: a plain get on the same queue still sleeps and wakes.
        std::thread::scope(|s| {
            s.spawn(|| shared.0.put(8).unwrap());
            assert_eq!(shared.0.get(), Ok(8));
        });
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn futex_waitv_is_woken_from_another_process() {
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use synclab::futex::shared;
    const NAME: &str = "futex_waitv_is_woken_from_another_process";
    type Words = (AtomicU32, AtomicU32);
    if process::role().as_deref() == Some("waker") {
        let w = Shared::<Words>::inherited(0).unwrap();
        std::thread::sleep(Duration::from_millis(30)); // let the parent sleep first, likely
        w.1.store(1, SeqCst);
        shared::wake_all(&w.1);
        return;
    }
    guarded(NAME, |status| {
        let w = Shared::new((AtomicU32::new(0), AtomicU32::new(0))).unwrap();
        let mut cmd = Command::new("waker");
        cmd.args([NAME, "--exact", "--nocapture", "--test-threads=1"]);
        cmd.share(&w);
        cmd.stdout(Stdio::null());
        let child = cmd.spawn().unwrap();
        status.set("parent", "in futex_waitv, no deadline");
        // No deadline and no SLICE here: only the child's shared wake (or its store, seen
        // before the sleep) ends this wait.
        while w.1.load(SeqCst) == 0 {
            if shared::wait_any(&[(&w.0, 0), (&w.1, 0)], None).is_none() {
                eprintln!("no futex_waitv on this kernel: skipped");
                break;
            }
        }
        join(child);
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_byte_queue_and_a_plain_queue_together() {
    use synclab::process::ByteQueue;
    const NAME: &str = "a_byte_queue_and_a_plain_queue_together";
    const MESSAGES: usize = 500;
    if process::role().as_deref() == Some("bytes") {
        let shared = Shared::<Pair>::inherited(0).unwrap();
        let bytes = ByteQueue::inherited(1).unwrap();
        for i in 0..MESSAGES {
            if i % 2 == 0 {
                bytes.put(format!("message {i}")).unwrap();
            } else {
                shared.0.put(i as u64).unwrap();
            }
        }
        return;
    }
    guarded(NAME, |status| {
        let shared: Shared<Pair> = Shared::new((Queue::new(), Queue::new(), Event::new())).unwrap();
        let bytes = ByteQueue::new(256).unwrap();
        let mut cmd = Command::new("bytes");
        cmd.args([NAME, "--exact", "--nocapture", "--test-threads=1"]);
        cmd.share(&shared);
        cmd.share(bytes.region());
        cmd.stdout(Stdio::null());
        let child = cmd.spawn().unwrap();
        let mut seen = vec![false; MESSAGES];
        let mut got = 0;
        while got < MESSAGES {
            status.set("parent", format!("{got} of {MESSAGES}"));
            for at in wait_any(&[&bytes, &shared.0]) {
                if at == 0 {
                    while let Ok(msg) = bytes.try_get() {
                        let text = String::from_utf8(msg).unwrap();
                        let i: usize = text.strip_prefix("message ").unwrap().parse().unwrap();
                        assert!(i % 2 == 0 && !seen[i]);
                        seen[i] = true;
                        got += 1;
                    }
                } else {
                    while let Ok(i) = shared.0.try_get() {
                        assert!(i % 2 == 1 && !seen[i as usize]);
                        seen[i as usize] = true;
                        got += 1;
                    }
                }
            }
        }
        join(child);
    });
}
