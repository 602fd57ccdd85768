//! A thread's job in the process pool's kill tests (`serde` feature, so not in `common`, which
//! the exercises' tests include too).

use std::time::Duration;

/// A process pool's workers SIGKILLed from outside, `kills` times, one every `every`: the pids
/// it killed.
pub fn kill_workers(pool: &synclab::process::Pool, kills: usize, every: Duration) -> Vec<u32> {
    let mut killed = Vec::new();
    for round in 0..kills {
        std::thread::sleep(every);
        let pids = pool.pids();
        let Some(&victim) = pids.get(round % pids.len().max(1)) else {
            continue;
        };
        // SAFETY: `kill` only sends a signal, to a worker of this pool.
        unsafe { libc::kill(victim as libc::pid_t, libc::SIGKILL) };
        killed.push(victim);
    }
    killed
}
