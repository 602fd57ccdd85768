//! How `process::Lock` finds a dead holder: a holder SIGKILLed while others sleep, a zombie
//! holder (killed, not yet reaped by its parent), a holder whose pid now belongs to another
//! process, and the `kill(pid, 0)` polling fallback. Correctness only: who gets `OwnerDied`,
//! what they see; never how fast (the `owner_died_latency` example measures that).
//! Linux only; skipped under Miri (no spawning).
#![cfg(target_os = "linux")]

mod common;

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::guarded;
use synclab::process::{self, Child, Command, Event, Lock, Shared};

type LockAndFlag = (Lock<u64>, Event);

/// The child's side of every test here: take the lock, half-update the data, say so, hang.
fn hold_until_killed() {
    let shared = Shared::<LockAndFlag>::inherited(0).unwrap();
    let mut guard = shared.0.lock().unwrap();
    *guard = 41;
    shared.1.set();
    std::thread::sleep(Duration::from_secs(3600));
    unreachable!();
}

/// Starts this test binary again as a holder, running only `test`, and waits until it holds.
fn spawn_holder(test: &str, shared: &Shared<LockAndFlag>) -> Child {
    let mut cmd = Command::new("holder");
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    cmd.share(shared).stdout(Stdio::null());
    let child = cmd.spawn().expect("spawn the holder");
    assert!(
        shared.1.wait_timeout(Duration::from_secs(20)),
        "the child never took the lock"
    );
    assert_eq!(shared.0.owner_pid(), Some(child.pid()));
    child
}

/// SIGKILL without reaping: the child stays a zombie until `join`.
fn sigkill(pid: u32) {
    // SAFETY: kill has no memory preconditions; `pid` is our own child, not yet reaped.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) }, 0);
}

/// Fields of `/proc/PID/stat`: (state, start time). The name is in parentheses and may hold
/// spaces, so fields are counted after the last `)`.
fn stat(pid: u32) -> Option<(char, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((fields[0].chars().next()?, fields[19].parse().ok()?))
}

fn wait_until_zombie(pid: u32) {
    while stat(pid).map(|s| s.0) != Some('Z') {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The lock of a dead holder: `Err(OwnerDied)` naming it, with its half-done write.
fn expect_owner_died(got: process::LockResult<process::LockGuard<'_, u64>>, pid: u32) {
    let died = match got {
        Err(died) => died,
        Ok(_) => panic!("took the lock cleanly: the death was not reported"),
    };
    assert_eq!(died.owner_pid(), pid);
    let mut guard = died.into_inner();
    assert_eq!(
        *guard, 41,
        "the dead holder's write is there, to be repaired"
    );
    *guard = 0;
}

#[test]
#[cfg_attr(miri, ignore)]
fn holder_sigkilled_while_two_sleep_one_gets_owner_died_the_other_the_lock() {
    if process::role().as_deref() == Some("holder") {
        hold_until_killed();
    }
    let name = "holder_sigkilled_while_two_sleep_one_gets_owner_died_the_other_the_lock";
    guarded(name, |status| {
        let shared = Shared::new((Lock::new(0u64), Event::new())).unwrap();
        let child = spawn_holder(name, &shared);
        let pid = child.pid();
        let (died, clean) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for i in 0..2 {
                let (shared, died, clean, status) = (&shared, &died, &clean, status.clone());
                s.spawn(move || {
                    status.set(format!("waiter {i}"), "blocked in lock()");
                    match shared.0.lock() {
                        Err(e) => {
                            expect_owner_died(Err(e), pid);
                            died.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(guard) => {
                            assert_eq!(*guard, 0, "the taker repaired the data first");
                            clean.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    status.set(format!("waiter {i}"), "done");
                });
            }
            // Let both go to sleep on the word (not needed for correctness), then kill.
            std::thread::sleep(Duration::from_millis(100));
            status.set("parent", "killed the holder");
            sigkill(pid);
        });
        assert_eq!(died.load(Ordering::Relaxed), 1, "exactly one takes over");
        assert_eq!(
            clean.load(Ordering::Relaxed),
            1,
            "the other gets it from the taker"
        );
        assert!(!child.join().unwrap().success());
        assert!(shared.0.lock().is_ok());
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_zombie_holder_is_dead() {
    if process::role().as_deref() == Some("holder") {
        hold_until_killed();
    }
    guarded("a_zombie_holder_is_dead", |status| {
        let shared = Shared::new((Lock::new(0u64), Event::new())).unwrap();
        let child = spawn_holder("a_zombie_holder_is_dead", &shared);
        let pid = child.pid();
        sigkill(pid);
        status.set("parent", "waiting for the holder to be a zombie");
        wait_until_zombie(pid);
        status.set("parent", "locking");
        expect_owner_died(shared.0.lock(), pid);
        // Nobody reaped it: it was judged dead as a zombie, not because its pid was gone.
        assert_eq!(stat(pid).map(|s| s.0), Some('Z'));
        assert!(!child.join().unwrap().success());
        assert!(shared.0.try_lock().unwrap().is_ok());
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn try_lock_judges_a_zombie_holder_at_once() {
    if process::role().as_deref() == Some("holder") {
        hold_until_killed();
    }
    guarded("try_lock_judges_a_zombie_holder_at_once", |status| {
        let shared = Shared::new((Lock::new(0u64), Event::new())).unwrap();
        let child = spawn_holder("try_lock_judges_a_zombie_holder_at_once", &shared);
        let pid = child.pid();
        assert!(shared.0.try_lock().is_none(), "a live holder is alive");
        sigkill(pid);
        status.set("parent", "waiting for the holder to be a zombie");
        wait_until_zombie(pid);
        expect_owner_died(shared.0.try_lock().expect("the zombie's lock"), pid);
        assert!(!child.join().unwrap().success());
    });
}

/// A live process that is not a holder: `sleep`, killed and reaped when dropped.
struct Bystander(std::process::Child);

impl Bystander {
    fn start() -> Bystander {
        let child = std::process::Command::new("sleep")
            .arg("3600")
            .spawn()
            .expect("start `sleep`");
        Bystander(child)
    }
    fn pid(&self) -> u32 {
        self.0.id()
    }
    /// Its start time, once `/proc` shows it (`sleep` has exec'd or not: the start stays).
    fn start_time(&self) -> u64 {
        stat(self.pid()).expect("/proc/PID/stat of a live child").1
    }
}

impl Drop for Bystander {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lock records (pid, start time). A holder that died and whose pid went to another,
/// living process is staged with `__forge_holder` (a real reuse needs the pid range to wrap):
/// the recorded start time is not the living process's, so the holder is dead.
#[test]
#[cfg_attr(miri, ignore)]
fn a_reused_pid_does_not_make_a_dead_holder_look_alive() {
    guarded(
        "a_reused_pid_does_not_make_a_dead_holder_look_alive",
        |status| {
            let other = Bystander::start();
            let (pid, start) = (other.pid(), other.start_time());
            let mut lock = Lock::new(41u64);

            // Control: the recorded holder *is* the living process: alive.
            lock.__forge_holder(pid, Some(start));
            assert!(
                lock.try_lock().is_none(),
                "the living holder was judged dead"
            );
            assert!(lock.lock_timeout(Duration::from_millis(30)).is_none());
            // An unknown start time (a holder that had not stored it yet): judged by pid, alive.
            lock.__forge_holder(pid, None);
            assert!(lock.try_lock().is_none());

            // The recorded holder started at another time: it died, and its pid was reused.
            lock.__forge_holder(pid, Some(start + 1));
            expect_owner_died(lock.try_lock().expect("the reused pid's lock"), pid);
            // The same through a sleeping `lock()`, the way a waiter meets it.
            lock.__forge_holder(pid, Some(start.wrapping_sub(1)));
            *lock.get_mut() = 41;
            status.set("main", "lock() on a reused pid");
            expect_owner_died(lock.lock(), pid);
            drop(other);
        },
    );
}

/// The same for our own pid: an earlier process with our pid held the lock and died.
#[test]
#[cfg_attr(miri, ignore)]
fn our_own_pid_in_the_word_is_dead_when_the_start_time_is_another() {
    let me = std::process::id();
    let start = stat(me).expect("/proc/self/stat").1;
    let lock = Lock::new(41u64);
    lock.__forge_holder(me, Some(start));
    assert!(lock.try_lock().is_none(), "ourselves, alive");
    lock.__forge_holder(me, Some(start + 1));
    expect_owner_died(lock.try_lock().expect("the earlier process's lock"), me);
}

/// Forced polling (`kill(pid, 0)` after each 50 ms slice, as on kernels without pidfds): a
/// holder killed and reaped is found, and so is a reused pid; the data is intact.
#[test]
#[cfg_attr(miri, ignore)]
fn the_polling_fallback_finds_a_killed_holder_and_a_reused_pid() {
    if process::role().as_deref() == Some("holder") {
        hold_until_killed();
    }
    let name = "the_polling_fallback_finds_a_killed_holder_and_a_reused_pid";
    guarded(name, |status| {
        process::__force_owner_polling(true);
        let shared = Shared::new((Lock::new(0u64), Event::new())).unwrap();
        let child = spawn_holder(name, &shared);
        let pid = child.pid();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                process::__force_owner_polling(true);
                shared.0.lock().map(|_| ()).map_err(|e| {
                    expect_owner_died(Err(e), pid);
                })
            });
            std::thread::sleep(Duration::from_millis(100));
            status.set("parent", "killed and reaped the holder");
            sigkill(pid);
            assert!(!child.join().unwrap().success()); // polling cannot see a zombie: reap it
            assert!(waiter.join().unwrap().is_err(), "the waiter got OwnerDied");
        });
        let other = Bystander::start();
        let lock = Lock::new(41u64);
        lock.__forge_holder(other.pid(), Some(other.start_time()));
        assert!(lock.try_lock().is_none());
        lock.__forge_holder(other.pid(), Some(other.start_time() + 1));
        expect_owner_died(lock.try_lock().expect("the reused pid's lock"), other.pid());
        process::__force_owner_polling(false);
    });
}
