//! Multi-process tests of `synclab::process`: the test binary starts itself again as the child
//! (`process::Command` with the test's name and `--exact`), and `process::role()` tells the
//! test which side it is on. Skipped under Miri (no memfd, no spawning); Linux only.
// Linux only, so none of it runs under Wine: shared regions are memfds, the lock's holder check
// is a Linux pidfd or `kill`, and elsewhere every process constructor returns `Unsupported`.
#![cfg(target_os = "linux")]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::guarded;
use synclab::process::{self, Child, Command, Event, Lock, Queue, Shared};

/// Starts this test binary again as `role`, running only `test`, with the regions `share` adds.
///
/// The child's stdout (libtest's "running 1 test" and its own "test result" line) goes nowhere,
/// so the parent's test report counts only the parent's tests; its stderr, where a failing
/// child's panic message goes, is the parent's.
fn spawn_child(
    test: &str,
    role: &str,
    env: &[(&str, String)],
    share: impl FnOnce(&mut Command),
) -> Child {
    let mut cmd = Command::new(role);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    share(&mut cmd);
    cmd.stdout(Stdio::null());
    cmd.spawn().expect("spawn the child")
}

/// Joins `child`, killing it if it has not exited within `limit`.
fn join_or_kill(mut child: Child, limit: Duration) -> std::process::ExitStatus {
    match child.join_timeout(limit).expect("wait for the child") {
        Some(status) => status,
        None => {
            child.kill().unwrap();
            panic!("child {} hung for {limit:?}; killed", child.pid());
        }
    }
}

type LockAndFlag = (Lock<u64>, Event);

#[test]
#[cfg_attr(miri, ignore)]
fn lock_owner_killed_gives_owner_died() {
    if process::role().as_deref() == Some("holder") {
        let shared = Shared::<LockAndFlag>::inherited(0).unwrap();
        let mut guard = shared.0.lock().unwrap();
        *guard = 41; // a half-finished update...
        shared.1.set();
        std::thread::sleep(Duration::from_secs(3600)); // ...and the holder hangs, until killed
        unreachable!();
    }
    guarded("lock_owner_killed_gives_owner_died", |status| {
        let shared = Shared::new((Lock::new(0u64), Event::new())).unwrap();
        let mut child = spawn_child("lock_owner_killed_gives_owner_died", "holder", &[], |c| {
            c.share(&shared);
        });
        status.set("parent", "waiting for the child to hold the lock");
        assert!(
            shared.1.wait_timeout(Duration::from_secs(20)),
            "the child never took the lock"
        );
        assert_eq!(shared.0.owner_pid(), Some(child.pid()));
        // A waiter blocked while the holder is alive stays blocked.
        assert!(shared.0.lock_timeout(Duration::from_millis(120)).is_none());
        let pid = child.pid();
        child.kill().unwrap();
        let st = child.join().unwrap();
        assert!(!st.success());
        status.set("parent", "locking after the kill");
        let died = match shared.0.lock_timeout(Duration::from_secs(10)) {
            Some(Err(died)) => died,
            Some(Ok(_)) => panic!("took the lock cleanly: the death was not reported"),
            None => panic!("the lock of a dead holder was never taken over"),
        };
        assert_eq!(died.owner_pid(), pid);
        assert!(died.to_string().contains(&format!("pid {pid}")));
        let mut guard = died.into_inner();
        assert_eq!(*guard, 41); // the holder's write is there, to be repaired
        *guard = 0;
        drop(guard);
        assert_eq!(*shared.0.lock().unwrap(), 0); // clean again
    });
}

type Item = [u64; 8];
const CAP: usize = 4;
type PutQueue = (Queue<Item, CAP>, Event);

fn item(v: u64) -> Item {
    [v; 8]
}

#[test]
#[cfg_attr(miri, ignore)]
fn child_killed_mid_put_leaves_no_torn_item_and_no_lost_slot() {
    if process::role().as_deref() == Some("stalled-putter") {
        let shared = Shared::<PutQueue>::inherited(0).unwrap();
        process::__stall_puts_half_written();
        shared.1.set();
        let _ = shared.0.put(item(0xdead)); // writes half the item, then hangs holding the lock
        unreachable!();
    }
    guarded("child_killed_mid_put", |status| {
        let shared = Shared::new((Queue::<Item, CAP>::new(), Event::new())).unwrap();
        shared.0.put(item(1)).unwrap();
        shared.0.put(item(2)).unwrap();
        let mut child = spawn_child(
            "child_killed_mid_put_leaves_no_torn_item_and_no_lost_slot",
            "stalled-putter",
            &[],
            |c| {
                c.share(&shared);
            },
        );
        status.set("parent", "waiting for the child to stall inside put");
        assert!(shared.1.wait_timeout(Duration::from_secs(20)));
        // The child sets the event right before `put`, which takes the lock and writes half the
        // item within microseconds; give it ample time, then kill it there.
        std::thread::sleep(Duration::from_millis(300));
        child.kill().unwrap();
        child.join().unwrap();
        status.set("parent", "checking the queue after the kill");
        assert_eq!(shared.0.len(), 2, "the half-written item became visible");
        assert_eq!(shared.0.try_get(), Ok(item(1)));
        assert_eq!(shared.0.try_get(), Ok(item(2)));
        // All CAP slots are still usable, and nothing torn comes out.
        for round in 0..3u64 {
            for i in 0..CAP as u64 {
                shared.0.try_put(item(round * 100 + i)).unwrap();
            }
            assert!(shared.0.try_put(item(7)).unwrap_err().is_full());
            for i in 0..CAP as u64 {
                assert_eq!(shared.0.try_get(), Ok(item(round * 100 + i)));
            }
        }
    });
}

const PRODUCERS: u64 = 10;
const PER_PRODUCER: u64 = 10_000;

#[test]
#[cfg_attr(miri, ignore)]
fn ten_processes_put_ten_thousand_items_each_received_once() {
    if process::role().as_deref() == Some("producer") {
        let q = Shared::<Queue<u64, 256>>::inherited(0).unwrap();
        let me: u64 = std::env::var("PRODUCER").unwrap().parse().unwrap();
        for i in 0..PER_PRODUCER {
            q.put(me << 32 | i).unwrap();
        }
        return;
    }
    guarded("ten_processes", |status| {
        let q = Shared::new(Queue::<u64, 256>::new()).unwrap();
        let children: Vec<Child> = (0..PRODUCERS)
            .map(|p| {
                spawn_child(
                    "ten_processes_put_ten_thousand_items_each_received_once",
                    "producer",
                    &[("PRODUCER", p.to_string())],
                    |c| {
                        c.share(&q);
                    },
                )
            })
            .collect();
        let mut seen = vec![false; (PRODUCERS * PER_PRODUCER) as usize];
        let mut next = vec![0u64; PRODUCERS as usize];
        for n in 0..PRODUCERS * PER_PRODUCER {
            status.set("parent", format!("received {n} items"));
            let v = q
                .get_timeout(Duration::from_secs(30))
                .expect("the producers stopped producing");
            let (p, i) = (v >> 32, v & 0xffff_ffff);
            assert!(p < PRODUCERS && i < PER_PRODUCER, "garbage item {v:#x}");
            assert_eq!(i, next[p as usize], "producer {p}'s items out of order");
            next[p as usize] += 1;
            let k = (p * PER_PRODUCER + i) as usize;
            assert!(!seen[k], "item {v:#x} received twice");
            seen[k] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert!(q.is_empty());
        for child in children {
            assert!(join_or_kill(child, Duration::from_secs(30)).success());
        }
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn inherited_region_of_the_wrong_type_is_a_layout_mismatch() {
    if process::role().as_deref() == Some("wrong-type") {
        let r = Shared::<Queue<u32, 8>>::inherited(0);
        let ok = matches!(r, Err(process::ProcessError::LayoutMismatch { .. }));
        let r = Shared::<u64>::inherited(1);
        let missing = matches!(r, Err(process::ProcessError::NotInherited { index: 1 }));
        std::process::exit(if ok && missing { 0 } else { 3 });
    }
    let region = Shared::new(Queue::<u64, 8>::new()).unwrap();
    let child = spawn_child(
        "inherited_region_of_the_wrong_type_is_a_layout_mismatch",
        "wrong-type",
        &[],
        |c| {
            c.share(&region);
        },
    );
    assert!(join_or_kill(child, Duration::from_secs(30)).success());
}

#[test]
#[cfg_attr(miri, ignore)]
fn named_region_is_seen_by_another_mapping() {
    let name = format!("synclab-test-{}", std::process::id());
    let a = Shared::create_named(&name, (Event::new(), Lock::new(0u32))).unwrap();
    assert!(Shared::create_named(&name, (Event::new(), Lock::new(0u32))).is_err());
    let b = Shared::<(Event, Lock<u32>)>::open_named(&name).unwrap();
    assert!(matches!(
        Shared::<u64>::open_named(&name),
        Err(process::ProcessError::LayoutMismatch { .. })
    ));
    *a.1.lock().unwrap() = 5;
    a.0.set();
    assert!(b.0.is_set());
    assert_eq!(*b.1.lock().unwrap(), 5);
    Shared::<(Event, Lock<u32>)>::unlink_named(&name).unwrap();
    assert!(matches!(
        Shared::<u8>::open_named("bad/name"),
        Err(process::ProcessError::InvalidName { .. })
    ));
}

#[test]
fn lock_from_threads_in_one_process() {
    // In-process use (also under Miri): the lock in a Box, two threads.
    let lock = Box::new(Lock::new(0u64));
    let n = common::scaled(10_000) as u64;
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..n {
                    *lock.lock().unwrap() += 1;
                }
            });
        }
    });
    assert_eq!(*lock.lock().unwrap(), 2 * n);
    let g = lock.lock().unwrap();
    assert!(lock.try_lock().is_none()); // held by a live process (us): no take-over
    assert!(lock.lock_timeout(Duration::from_millis(60)).is_none()); // one slice and more
    drop(g);
    assert!(lock.lock_timeout(Duration::MAX).is_some());
}

#[test]
fn queue_from_threads_four_putters_four_getters_one_slot() {
    // In-process use (also under Miri): eight threads through one slot, so most operations find
    // the ring full or empty and sleep. Putters and getters wake only the sleepers no wake is on
    // its way to yet (`Sleepers` claims); every item must still come out exactly once, and
    // under the watchdog a lost wake shows up as a stall, each costing a 50 ms sleep slice.
    guarded("process queue, 4 putters 4 getters, 1 slot", |status| {
        let q = Box::new(Queue::<u64, 1>::new());
        let n = common::scaled(5_000) as u64;
        let mut got: Vec<u64> = std::thread::scope(|s| {
            for p in 0..4u64 {
                let (q, status) = (&q, status.clone());
                s.spawn(move || {
                    status.set(format!("putter {p}"), "putting");
                    for i in 0..n {
                        q.put(p * n + i).unwrap();
                    }
                    status.set(format!("putter {p}"), "done");
                });
            }
            let getters: Vec<_> = (0..4)
                .map(|g| {
                    let (q, status) = (&q, status.clone());
                    s.spawn(move || {
                        status.set(format!("getter {g}"), "getting");
                        let mine: Vec<u64> = (0..n).map(|_| q.get().unwrap()).collect();
                        status.set(format!("getter {g}"), "done");
                        mine
                    })
                })
                .collect();
            getters
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        got.sort_unstable();
        assert!(got.iter().copied().eq(0..4 * n), "each item exactly once");
        assert!(q.is_empty());
    });
}

/// Regression: the pid is cached per process, and a child made by a bare `fork` (a user's, not
/// synclab's) used to inherit the parent's cached pid, so a lock it took named its parent as the
/// holder and a SIGKILL of the child could never be detected. A `pthread_atfork` handler now
/// clears the cache in the child.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn lock_taken_in_a_forked_child_records_the_childs_pid() {
    let shared = Shared::new(Lock::new(0u32)).unwrap();
    drop(shared.lock().unwrap()); // the parent's pid is now cached
    assert!(shared.owner_pid().is_none());
    // SAFETY: the child only takes the lock (atomic operations, no allocation), compares two
    // integers and leaves with `_exit`, all async-signal-safe.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let guard = shared.lock();
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() } as u32;
        let ok = guard.is_ok() && shared.owner_pid() == Some(me);
        drop(guard);
        // SAFETY: ends the child at once, without running the parent's atexit handlers.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: `pid` is our child; `status` is a valid out-pointer.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the forked child's lock did not record the child's pid (status {status:#x})"
    );
}
