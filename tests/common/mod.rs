//! Shared helpers for the integration tests: a watchdog that turns a deadlock into a failure
//! with a diagnostic instead of a hung CI job.
#![allow(dead_code)]

#[cfg(target_os = "linux")]
pub mod kills;
pub mod stress;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The default limit for one multi-threaded test. Generous: CI runs on 2 shared cores with
/// more threads than cores.
pub const LIMIT: Duration = Duration::from_secs(60);

// ANCHOR: scaled
/// Scales an iteration count down under Miri, which runs code thousands of times slower.
pub const fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        if n / 500 > 2 { n / 500 } else { 2 }
    } else {
        n
    }
}
// ANCHOR_END: scaled

/// Where each thread of a test says it is, for the watchdog's report.
#[derive(Clone, Default)]
pub struct Status(Arc<Mutex<BTreeMap<String, String>>>);

impl Status {
    /// Records that `who` is now doing `what` (e.g. "consumer 3", "blocked in get").
    pub fn set(&self, who: impl Into<String>, what: impl Into<String>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(who.into(), what.into());
    }
}

// ANCHOR: watchdog
/// Runs `f` (the test body, on this thread) under a watchdog: if it has not returned after
/// `limit`, the watchdog prints the test's name, how long it waited and every status line, then
/// exits the test process with a failure. Under Miri (which detects deadlocks itself and has a
/// virtual clock) `f` simply runs.
pub fn watchdog<R>(name: &str, limit: Duration, f: impl FnOnce(&Status) -> R) -> R {
    let status = Status::default();
    if cfg!(miri) {
        return f(&status);
    }
    let done = Arc::new(AtomicBool::new(false));
    // libtest runs each test on a thread named after it (`module::tests::the_test`): that is
    // the name a reader can find and rerun, so the report leads with it.
    let test = match std::thread::current().name() {
        Some(t) if t != "main" => format!("`{t}` (label `{name}`)"),
        _ => format!("`{name}`"),
    };
    let dog = {
        let done = done.clone();
        let status = status.clone();
        let name = name.to_string();
        std::thread::Builder::new()
            .name(format!("watchdog:{name}"))
            .spawn(move || {
                let give_up = Instant::now() + limit;
                while Instant::now() < give_up {
                    if done.load(Ordering::Acquire) {
                        return;
                    }
                    std::thread::park_timeout(Duration::from_millis(50));
                }
                if done.load(Ordering::Acquire) {
                    return;
                }
                // Straight to the file descriptor: the test harness captures `eprintln!`, and
                // that capture would be lost when we exit.
                let mut report = format!(
                    "\nWATCHDOG: test {test} still running after {limit:?}: deadlock or lost wakeup?\n"
                );
                for (who, what) in status.0.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                    report.push_str(&format!("  {who}: {what}\n"));
                }
                report.push_str(
                    "  The watchdog ends the whole test binary: the results of the other tests \
                     in it that had not finished, and the lines they printed, are lost. Rerun \
                     them on their own with `-- --exact NAME`.\n",
                );
                let _ = std::io::stderr().lock().write_all(report.as_bytes());
                std::process::exit(101);
            })
            .expect("spawn watchdog")
    };
    let r = f(&status);
    done.store(true, Ordering::Release);
    dog.thread().unpark();
    dog.join().ok();
    r
}
// ANCHOR_END: watchdog

// ANCHOR: guarded
/// Like [`watchdog`] with the default [`LIMIT`], or `SYNCLAB_WATCHDOG_SECS` seconds where that
/// is set (the workbook's check of wrong solutions sets 5: a hang is what it expects there).
pub fn guarded<R>(name: &str, f: impl FnOnce(&Status) -> R) -> R {
    let limit = std::env::var("SYNCLAB_WATCHDOG_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(LIMIT, Duration::from_secs);
    watchdog(name, limit, f)
}
// ANCHOR_END: guarded
