//! `process::RobustSemaphore`: permits taken over from holders that died, children SIGKILLed at
//! random while they hold permits, and the count back where it started. The test binary starts
//! itself again as the child (see `tests/process.rs`). Linux only; skipped under Miri (no
//! spawning), except the one-process tests.
#![cfg(target_os = "linux")]

mod common;

use std::hash::{BuildHasher, RandomState};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use common::guarded;
use synclab::process::{self, Child, Command, RobustSemaphore, Shared};

fn spawn_child(test: &str, role: &str, share: impl FnOnce(&mut Command)) -> Child {
    let mut cmd = Command::new(role);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    share(&mut cmd);
    cmd.stdout(Stdio::null());
    cmd.spawn().expect("spawn the child")
}

#[test]
fn permits_count_and_belong_to_their_process() {
    let sem = RobustSemaphore::<3>::new();
    assert_eq!(sem.available(), 3);
    for _ in 0..3 {
        assert_eq!(sem.acquire(), Ok(()));
    }
    assert_eq!(sem.held_by_me(), 3);
    assert_eq!(sem.try_acquire(), None, "all three held by a live process");
    assert_eq!(sem.acquire_timeout(Duration::ZERO), None);
    assert_eq!(sem.acquire_timeout(Duration::from_millis(1)), None);
    assert_eq!(sem.reclaim(), 0, "nothing to reclaim from a live holder");
    for _ in 0..3 {
        sem.release().unwrap();
    }
    let err = sem.release().unwrap_err();
    assert!(err.to_string().contains(&std::process::id().to_string()));
    assert_eq!(sem.available(), 3, "a refused release changes nothing");
    assert_eq!(sem.acquire_timeout(Duration::MAX), Some(Ok(())));
    sem.release().unwrap();
}

const EXITED_TEST: &str = "a_permit_of_a_process_that_exited_holding_it_is_taken_over";

#[test]
#[cfg_attr(miri, ignore)]
fn a_permit_of_a_process_that_exited_holding_it_is_taken_over() {
    if process::role().as_deref() == Some("leaver") {
        let sem = Shared::<RobustSemaphore<1>>::inherited(0).unwrap();
        sem.acquire().unwrap();
        return; // exits holding the permit: no release, no destructor gives it back
    }
    guarded("robust_exited", |_| {
        let sem = Shared::new(RobustSemaphore::<1>::new()).unwrap();
        let child = spawn_child(EXITED_TEST, "leaver", |c| {
            c.share(&sem);
        });
        let pid = child.pid();
        assert!(child.join().unwrap().success());
        assert_eq!(
            sem.available(),
            0,
            "the exited child's permit is still marked"
        );
        assert_eq!(sem.held_by_me(), 0);
        let got = sem.try_acquire().expect("the dead holder's permit");
        assert_eq!(got.unwrap_err().holder_pid(), pid);
        assert_eq!(sem.held_by_me(), 1);
        sem.release().unwrap();
        assert_eq!(sem.available(), 1);
    });
}

#[test]
fn threads_never_hold_more_than_the_permits() {
    guarded("robust_threads", |status| {
        let sem = RobustSemaphore::<2>::new();
        let inside = AtomicU32::new(0);
        let most = AtomicU32::new(0);
        std::thread::scope(|s| {
            for t in 0..6 {
                let (sem, inside, most, status) = (&sem, &inside, &most, &status);
                s.spawn(move || {
                    for i in 0..common::scaled(2_000) {
                        if i % 500 == 0 {
                            status.set(format!("thread {t}"), format!("round {i}"));
                        }
                        sem.acquire().unwrap();
                        let n = inside.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(n, SeqCst);
                        std::hint::spin_loop();
                        inside.fetch_sub(1, SeqCst);
                        sem.release().unwrap();
                    }
                });
            }
        });
        assert!(
            most.load(SeqCst) <= 2,
            "{} inside at once",
            most.load(SeqCst)
        );
        assert_eq!(sem.available(), 2);
    });
}

const WAITER_TEST: &str = "a_waiter_gets_the_permit_of_a_holder_killed_while_it_slept";

#[test]
#[cfg_attr(miri, ignore)]
fn a_waiter_gets_the_permit_of_a_holder_killed_while_it_slept() {
    if process::role().as_deref() == Some("holder") {
        let sem = Shared::<RobustSemaphore<1>>::inherited(0).unwrap();
        sem.acquire().unwrap();
        std::thread::sleep(Duration::from_secs(3600)); // until killed, holding the permit
        return;
    }
    guarded("robust_waiter", |status| {
        let sem = Shared::new(RobustSemaphore::<1>::new()).unwrap();
        let mut holder = spawn_child(WAITER_TEST, "holder", |c| {
            c.share(&sem);
        });
        status.set("parent", "waiting for the child to hold the permit");
        while sem.available() == 1 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let pid = holder.pid();
        // ANCHOR: waiter
        std::thread::scope(|s| {
            let waiter = s.spawn(|| sem.acquire());
            std::thread::sleep(Duration::from_millis(20)); // let it sleep
            status.set("parent", "killing the holder");
            holder.kill().unwrap();
            // A killed child stays a zombie (alive to `kill(pid, 0)`) until it is reaped.
            holder.join().unwrap();
            status.set("parent", "waiting for the waiter");
            let got = waiter.join().unwrap();
            assert_eq!(got.unwrap_err().holder_pid(), pid);
        });
        // ANCHOR_END: waiter
        assert_eq!(sem.held_by_me(), 1);
        sem.release().unwrap();
    });
}

fn random(n: u64) -> u64 {
    RandomState::new().hash_one(n)
}

/// What the children report.
struct Log {
    /// Acquisitions made by the children (all rounds).
    acquired: AtomicU64,
}

// SAFETY: atomics only.
unsafe impl process::Shareable for Log {}

const KILL_TEST: &str = "holders_killed_at_random_give_every_permit_back";

#[test]
#[cfg_attr(miri, ignore)]
fn holders_killed_at_random_give_every_permit_back() {
    if process::role().as_deref() == Some("worker") {
        let sem = Shared::<RobustSemaphore<2>>::inherited(0).unwrap();
        let log = Shared::<Log>::inherited(1).unwrap();
        loop {
            // A taken-over permit is as good as a free one here.
            let _ = sem.acquire();
            log.acquired.fetch_add(1, SeqCst);
            for _ in 0..200 {
                std::hint::spin_loop();
            }
            sem.release().unwrap();
        }
    }
    guarded("robust_kill", |status| {
        let sem = Shared::new(RobustSemaphore::<2>::new()).unwrap();
        let log = Shared::new(Log {
            acquired: AtomicU64::new(0),
        })
        .unwrap();
        let rounds: usize = 200;
        let mut died_holding = 0;
        for round in 0..rounds {
            status.set("parent", format!("round {round}"));
            let before = log.acquired.load(SeqCst);
            let share = |c: &mut Command| {
                c.share(&sem).share(&log);
            };
            let mut children = [
                spawn_child(KILL_TEST, "worker", share),
                spawn_child(KILL_TEST, "worker", share),
                spawn_child(KILL_TEST, "worker", share),
            ];
            while log.acquired.load(SeqCst) < before + 3 {
                std::thread::yield_now();
            }
            let r = random(round as u64);
            std::thread::sleep(Duration::from_micros(r % 2000));
            for (i, child) in children.iter_mut().enumerate() {
                child.kill().unwrap();
                std::thread::sleep(Duration::from_micros((r >> (16 + 8 * i)) % 300));
            }
            for child in children {
                assert!(!child.join().unwrap().success());
            }
            // Every child is dead and reaped: whatever they held comes back.
            let held = 2 - sem.available();
            died_holding += held;
            assert_eq!(sem.reclaim(), held, "round {round}");
            assert_eq!(sem.available(), 2, "round {round}: permits lost");
        }
        eprintln!("{rounds} rounds: {died_holding} permits held by killed children, all back");
        assert!(
            died_holding > rounds / 4,
            "the kills did not land while permits were held ({died_holding})"
        );
    });
}
