//! I/O-bound work: a loopback "crawler". The notes: "If your code has a lot of I/O or Network
//! usage: multithreading is your best bet" — even in CPython, because a thread waiting for the
//! network does not hold the GIL.
//!
//! ```text
//! cargo run --release --example io_bound
//! cargo run --release --example io_bound -- --pages 40 --workers 8 --delay-ms 100
//! ```
//!
//! A local server on `127.0.0.1` (an OS-chosen port, a thread per connection) answers every
//! request after a fixed delay, like a slow web site. The crawler fetches `--pages` pages one
//! after the other, then again with `--workers` threads that take page numbers from a
//! `synclab::Queue` and exit when the queue is shut down and empty. Nothing leaves the machine,
//! and the server stops by itself when the crawl is over.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use synclab::{Event, Lock, Queue};

mod common;
use common::arg;

/// How long a client waits for the server before giving up (so nothing can hang).
const IO_TIMEOUT: Duration = Duration::from_secs(10);

// ANCHOR: server
/// The slow web site: reads one request line (`GET /page/7`), sleeps `delay`, answers with the
/// page's text and closes the connection. One thread per connection, so requests that arrive
/// together are answered together, like a real server. Returns when `stop` is set (the
/// crawler then makes one last connection to wake up `accept`).
fn serve(listener: &TcpListener, delay: Duration, stop: &Event) {
    thread::scope(|s| {
        for conn in listener.incoming() {
            if stop.is_set() {
                break;
            }
            let Ok(conn) = conn else { continue };
            s.spawn(move || {
                let mut request = String::new();
                let mut reader = BufReader::new(&conn);
                if reader.read_line(&mut request).is_err() {
                    return;
                }
                thread::sleep(delay); // the network and the remote server, simulated
                let page = request.trim().trim_start_matches("GET /page/");
                let _ = (&conn).write_all(format!("<html>page {page}</html>").as_bytes());
            });
        }
    });
}
// ANCHOR_END: server

// ANCHOR: fetch
/// Downloads one page: connect, send the request line, read the answer until the server closes.
fn fetch(addr: SocketAddr, page: usize) -> std::io::Result<String> {
    let mut conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    conn.write_all(format!("GET /page/{page}\n").as_bytes())?;
    let mut body = String::new();
    conn.read_to_string(&mut body)?;
    Ok(body)
}
// ANCHOR_END: fetch

// ANCHOR: sequential
/// One page after the other: the total is pages × delay.
fn crawl_sequential(addr: SocketAddr, pages: usize) -> Vec<(usize, std::io::Result<String>)> {
    (0..pages).map(|page| (page, fetch(addr, page))).collect()
}
// ANCHOR_END: sequential

// ANCHOR: threaded
/// `workers` threads take page numbers from a queue. While one waits for its answer, the
/// others wait for theirs: the waits overlap.
fn crawl_threaded(
    addr: SocketAddr,
    pages: usize,
    workers: usize,
) -> Vec<(usize, std::io::Result<String>)> {
    let jobs = Queue::new();
    for page in 0..pages {
        jobs.put(page).unwrap();
    }
    jobs.shutdown(); // no more jobs: a worker's get() fails once the queue is empty
    let results = Lock::new(Vec::new());
    thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                while let Ok(page) = jobs.get() {
                    let body = fetch(addr, page);
                    results.lock().push((page, body));
                }
            });
        }
    });
    results.into_inner()
}
// ANCHOR_END: threaded

/// Counts the pages that came back with the right text; prints the first error, if any.
fn check(results: &[(usize, std::io::Result<String>)]) -> usize {
    let mut good = 0;
    for (page, body) in results {
        match body {
            Ok(text) if *text == format!("<html>page {page}</html>") => good += 1,
            Ok(text) => eprintln!("page {page}: unexpected answer {text:?}"),
            Err(e) => eprintln!("page {page}: {e}"),
        }
    }
    good
}

fn main() {
    let pages = arg("--pages", 20) as usize;
    let workers = (arg("--workers", 10) as usize).max(1);
    let delay = Duration::from_millis(arg("--delay-ms", 50));

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().unwrap();
    let stop = Event::new();
    println!(
        "server on {addr}: each answer takes {} ms; {pages} pages to fetch",
        delay.as_millis()
    );

    let (seq, seq_good, thr, thr_good) = thread::scope(|s| {
        s.spawn(|| serve(&listener, delay, &stop));

        let start = Instant::now();
        let seq_results = crawl_sequential(addr, pages);
        let seq = start.elapsed();

        let start = Instant::now();
        let thr_results = crawl_threaded(addr, pages, workers);
        let thr = start.elapsed();

        stop.set();
        let _ = TcpStream::connect(addr); // wake the server's accept() so it sees `stop`
        (seq, check(&seq_results), thr, check(&thr_results))
    });

    let speedup = seq.as_secs_f64() / thr.as_secs_f64();
    let ideal = |waves: usize| delay * waves as u32;
    println!(
        "sequential          : {:>7.1} ms  ({seq_good}/{pages} pages; ideal {} x {} ms = {} ms)",
        seq.as_secs_f64() * 1e3,
        pages,
        delay.as_millis(),
        ideal(pages).as_millis()
    );
    println!(
        "{workers:>2} worker threads   : {:>7.1} ms  ({thr_good}/{pages} pages; ideal {} waves x {} ms = {} ms)",
        thr.as_secs_f64() * 1e3,
        pages.div_ceil(workers),
        delay.as_millis(),
        ideal(pages.div_ceil(workers)).as_millis()
    );
    println!("speed-up            : {speedup:.1}x");
    println!(
        "TOUR|io_bound|I/O-bound work: use threads, they wait for the network together (the GIL is released while waiting)|{pages} pages x {} ms over loopback: sequential {:.0} ms, {workers} threads {:.0} ms, {speedup:.1}x faster",
        delay.as_millis(),
        seq.as_secs_f64() * 1e3,
        thr.as_secs_f64() * 1e3
    );
    if seq_good != pages || thr_good != pages {
        eprintln!("BUG: some pages were not fetched correctly");
        std::process::exit(1);
    }
}
