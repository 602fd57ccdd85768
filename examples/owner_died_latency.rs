//! How long after a lock holder's SIGKILL its waiter gets `OwnerDied`, both ways: the death
//! watcher (pidfd) and the polling fallback (`kill(pid, 0)` after each 50 ms slice, what every
//! waiter did before; forced with `synclab::process::__force_owner_polling`).
//!
//! Each round starts a child that takes a `process::Lock` and hangs, lets a waiter thread go to
//! sleep on it for 20 to 69 ms (spread over rounds, so that the kills fall at every point of a
//! polling slice), SIGKILLs the child, reaps it (polling cannot see a zombie), and
//! records the time from the kill to the waiter's `OwnerDied`.
//!
//! ```text
//! cargo run --release --example owner_died_latency            # 100 kills each way
//! cargo run --release --example owner_died_latency -- 20      # 20 kills each way
//! ```
//! Linux only.

use std::time::{Duration, Instant};

use synclab::process::{self, Command, Event, Lock, Shared};

type LockAndFlag = (Lock<u64>, Event);

fn main() -> Result<(), process::ProcessError> {
    if process::role().as_deref() == Some("holder") {
        let shared = Shared::<LockAndFlag>::inherited(0)?;
        let _guard = shared.0.lock().unwrap();
        shared.1.set();
        std::thread::sleep(Duration::from_secs(3600));
        return Ok(());
    }
    if cfg!(not(target_os = "linux")) {
        println!("Linux only");
        return Ok(());
    }
    let kills: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "{kills} kills each way; load average before: {}",
        load.trim()
    );
    for (name, polling) in [
        ("polling (kill(pid, 0) every 50 ms)", true),
        ("pidfd watcher", false),
    ] {
        let mut micros = Vec::with_capacity(kills);
        for i in 0..kills {
            let asleep = Duration::from_millis(20 + (i as u64 * 37) % 50);
            micros.push(one_kill(polling, asleep)?.as_secs_f64() * 1e6);
        }
        micros.sort_by(f64::total_cmp);
        println!(
            "{name:36} median {:>9.0} µs   min {:>9.0} µs   max {:>9.0} µs",
            micros[micros.len() / 2],
            micros[0],
            micros[micros.len() - 1]
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average after: {}", load.trim());
    Ok(())
}

/// One round: the time from the holder's SIGKILL to the waiter's `OwnerDied`.
fn one_kill(polling: bool, asleep: Duration) -> Result<Duration, process::ProcessError> {
    let shared = Shared::new((Lock::new(0u64), Event::new()))?;
    let child = Command::new("holder").share(&shared).spawn()?;
    assert!(
        shared.1.wait_timeout(Duration::from_secs(20)),
        "the holder never locked"
    );
    let pid = child.pid();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            process::__force_owner_polling(polling);
            let got = shared.0.lock();
            let at = Instant::now();
            assert!(got.is_err(), "the waiter was not told the holder died");
            at
        });
        std::thread::sleep(asleep); // the waiter is asleep by now
        let killed = Instant::now();
        // SAFETY: kill has no memory preconditions; `pid` is our child, not yet reaped.
        assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) }, 0);
        child.join()?;
        Ok(waiter.join().unwrap().duration_since(killed))
    })
}
