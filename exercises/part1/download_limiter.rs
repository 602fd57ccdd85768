//! # Exercise `download_limiter` — Part I, "Event, Semaphore and Condition at work"
//!
//! Two of the chapter's jobs in one function. `download_all(n, limit, gun, download)` starts
//! one thread per download; every thread waits for the starting gun (an `Event` the caller
//! fires), then takes one of `limit` permits of a `Semaphore`, so that at most `limit`
//! downloads run at once, calls `download(i)`, and gives the permit back. It returns the
//! largest number of downloads it saw in flight at the same time (count them with an atomic
//! and `fetch_max`).
//!
//! Check your work: `cargo xtask check download_limiter`

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use synclab::{Event, Semaphore};

/// Runs `download(0)` to `download(n - 1)`, each on its own thread, once `gun` is set, with at
/// most `limit` of them at once. Returns the peak number of downloads in flight.
///
/// # Panics
///
/// If `limit` is 0 (nothing could ever run).
pub fn download_all<F>(n: usize, limit: usize, gun: &Event, download: F) -> usize
where
    F: Fn(usize) + Sync,
{
    // TODO: a `Semaphore` with `limit` permits, and two `AtomicUsize`s: downloads in flight
    // now, and the most seen so far.
    //
    // TODO: in a `std::thread::scope`, spawn one thread per download. Each waits for the
    // `gun`, takes a permit (`slots.permit()` gives it back when dropped), counts itself in
    // (`fetch_add`, then `fetch_max` into the peak), runs `download(i)`, and counts itself
    // out. Does it matter whether it counts itself out before or after the permit goes back?
    //
    // TODO: after the scope, return the peak.
    todo!()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::Duration;

    #[test]
    fn nothing_starts_before_the_gun() {
        common::guarded("download_limiter_gun", |status| {
            let gun = Event::new();
            let runs: Vec<AtomicUsize> = (0..6).map(|_| AtomicUsize::new(0)).collect();
            std::thread::scope(|s| {
                s.spawn(|| {
                    status.set("download_all", "running");
                    download_all(6, 2, &gun, |i| {
                        runs[i].fetch_add(1, SeqCst);
                    });
                    status.set("download_all", "returned");
                });
                std::thread::sleep(Duration::from_millis(50));
                let started: usize = runs.iter().map(|r| r.load(SeqCst)).sum();
                assert_eq!(started, 0, "a download started before the gun");
                status.set("main", "fire!");
                gun.set();
            });
            for (i, r) in runs.iter().enumerate() {
                assert_eq!(r.load(SeqCst), 1, "download {i} must run exactly once");
            }
        });
    }

    #[test]
    fn at_most_limit_at_once_and_limit_when_there_is_enough_work() {
        // The first `limit` downloads to start wait until `limit` are in flight together: a
        // limiter that lets fewer through hangs here (the watchdog reports it after 20 s).
        common::watchdog("download_limiter_peak", Duration::from_secs(20), |status| {
            for (n, limit) in [(12, 3), (8, 1), (10, 4), (2, 5)] {
                status.set("main", format!("{n} downloads, limit {limit}"));
                let most = limit.min(n); // what the peak must reach
                let (in_flight, peak, arrived) = (
                    AtomicUsize::new(0),
                    AtomicUsize::new(0),
                    AtomicUsize::new(0),
                );
                let runs: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
                let all_in = Event::new();
                let gun = Event::new();
                gun.set();
                let reported = download_all(n, limit, &gun, |i| {
                    runs[i].fetch_add(1, SeqCst);
                    let now = in_flight.fetch_add(1, SeqCst) + 1;
                    peak.fetch_max(now, SeqCst);
                    if arrived.fetch_add(1, SeqCst) + 1 >= most {
                        all_in.set();
                    }
                    all_in.wait();
                    std::thread::sleep(Duration::from_millis(2)); // the transfer
                    in_flight.fetch_sub(1, SeqCst);
                });
                let seen = peak.load(SeqCst);
                assert!(
                    seen <= limit,
                    "{seen} downloads at once with a limit of {limit}"
                );
                assert_eq!(seen, most, "{n} downloads, limit {limit}");
                assert_eq!(reported, most, "the peak download_all reports");
                for (i, r) in runs.iter().enumerate() {
                    assert_eq!(r.load(SeqCst), 1, "download {i} must run exactly once");
                }
            }
        });
    }
}
