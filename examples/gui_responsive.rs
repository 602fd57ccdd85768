//! GUI-like work. The notes: "If you have a GUI: multithreading so your UI thread doesn't get
//! locked up."
//!
//! ```text
//! cargo run --release --example gui_responsive
//! cargo run --release --example gui_responsive -- --limit 5000000
//! ```
//!
//! A GUI toolkit runs an *event loop* on one thread, the UI thread: it handles input and redraws
//! the window, about every 16 ms for 60 frames a second. Anything slow done on that thread stops
//! the redraws, and the window "freezes". Here the window is a progress line
//! (`[#####     ] 50%`) and the slow job is counting the primes below `--limit`.
//!
//! 1. **worker thread**: a worker counts and sends its progress through a `synclab::Queue`;
//!    the UI thread takes whatever progress has arrived, redraws, and waits one frame on an
//!    `Event` that the worker sets when it is done.
//! 2. **UI thread**: the same count, done by the UI thread itself, as a button handler would
//!    if nobody moved it to a thread: no redraw can happen until it returns.
//!
//! Both record the longest gap between two redraws: one frame with the worker, the whole
//! computation without it.

use std::io::{IsTerminal, Write};
use std::thread;
use std::time::{Duration, Instant};

use synclab::{Event, Queue};

mod common;
use common::arg;

/// 60 frames a second.
const FRAME: Duration = Duration::from_millis(16);

/// Counts the primes below `limit` by trial division (slow on purpose: it is the "heavy job"),
/// calling `progress` with the percentage done, once per percent.
fn count_primes(limit: u64, mut progress: impl FnMut(u32)) -> u64 {
    let step = (limit / 100).max(1);
    let mut count = 0;
    for n in 2..limit {
        if n % step == 0 {
            progress((n / step).min(100) as u32);
        }
        if (2..).take_while(|d| d * d <= n).all(|d| n % d != 0) {
            count += 1;
        }
    }
    progress(100);
    count
}

/// The "window": draws the progress line (only when stdout is a terminal) and measures the
/// time between redraws.
struct Window {
    tty: bool,
    last: Option<Instant>,
    longest_gap: Duration,
    frames: u32,
}

impl Window {
    fn new() -> Window {
        Window {
            tty: std::io::stdout().is_terminal(),
            last: None,
            longest_gap: Duration::ZERO,
            frames: 0,
        }
    }

    fn redraw(&mut self, percent: u32, label: &str) {
        let now = Instant::now();
        if let Some(last) = self.last {
            self.longest_gap = self.longest_gap.max(now - last);
        }
        self.last = Some(now);
        self.frames += 1;
        if self.tty {
            let filled = (percent / 10) as usize;
            print!(
                "\r{label}: [{}{}] {percent:>3}%",
                "#".repeat(filled),
                " ".repeat(10 - filled)
            );
            let _ = std::io::stdout().flush();
        }
    }

    /// Ends the progress line and reports.
    fn close(&self, label: &str, primes: u64) {
        if self.tty {
            println!();
        }
        println!(
            "{label}: {primes} primes; {} redraws, longest gap between two redraws {:.0} ms",
            self.frames,
            self.longest_gap.as_secs_f64() * 1e3
        );
    }
}

// ANCHOR: worker
/// The responsive version: the count runs on a worker thread; the UI thread only redraws.
fn with_worker(limit: u64) -> (u64, Window) {
    let progress = Queue::new();
    let done = Event::new();
    let mut window = Window::new();
    let primes = thread::scope(|s| {
        let worker = s.spawn(|| {
            let primes = count_primes(limit, |percent| progress.put(percent).unwrap());
            done.set();
            primes
        });

        // The event loop: take the progress that arrived, redraw, sleep one frame.
        let mut percent = 0;
        loop {
            let finished = done.is_set(); // read before draining: no progress is left behind
            while let Ok(p) = progress.try_get() {
                percent = p;
            }
            window.redraw(percent, "worker thread");
            if finished {
                break;
            }
            done.wait_timeout(FRAME); // one frame, or less if the worker finishes
        }
        worker.join().unwrap()
    });
    (primes, window)
}
// ANCHOR_END: worker

// ANCHOR: frozen
/// The frozen version: the UI thread runs the count itself, so it cannot redraw meanwhile.
fn on_ui_thread(limit: u64) -> (u64, Window) {
    let mut window = Window::new();
    window.redraw(0, "UI thread    "); // the window as the user clicks "count"
    // The click handler: the progress is computed, but nobody is free to draw it.
    let primes = count_primes(limit, |_percent| {});
    window.redraw(100, "UI thread    "); // the next redraw comes only now
    (primes, window)
}
// ANCHOR_END: frozen

fn main() {
    let limit = arg("--limit", 2_000_000);
    println!(
        "counting the primes below {limit}, redrawing every {} ms",
        FRAME.as_millis()
    );

    let (primes_worker, worker) = with_worker(limit);
    worker.close("worker thread", primes_worker);
    let (primes_ui, frozen) = on_ui_thread(limit);
    frozen.close("UI thread    ", primes_ui);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "TOUR|gui_responsive|GUI: do the work on a thread so the UI thread does not lock up|longest gap between redraws: {:.0} ms with a worker thread ({} redraws), {:.0} ms with the work on the UI thread (frozen)",
        ms(worker.longest_gap),
        worker.frames,
        ms(frozen.longest_gap)
    );
    if primes_worker != primes_ui {
        eprintln!("BUG: the two counts differ ({primes_worker} vs {primes_ui})");
        std::process::exit(1);
    }
}
