//! # Exercise `crawler_pool` — Part I, "Threads or processes?"
//!
//! The notes' first line: for I/O-bound work, threads are enough, because a thread that waits
//! lets the others run. Build the chapter's threaded crawler as a function you can reuse:
//! `crawl(urls, workers, fetch)` fetches every URL with `workers` threads that take jobs from a
//! `synclab::Queue`, so that up to `workers` fetches wait *at the same time*, and returns the
//! pages in the order of `urls`, whatever order the fetches finish in.
//!
//! `fetch` stands for the slow part (a request to a server); the tests pass fetches that wait
//! for each other, which only a crawler with several fetches in flight can satisfy.
//!
//! Check your work: `cargo xtask check crawler_pool`

use synclab::{Lock, Queue};

/// Fetches every URL of `urls` with `fetch`, running at most `workers` fetches at once, and
/// returns the pages in the order of `urls`.
///
/// # Panics
///
/// If `workers` is 0.
pub fn crawl<F>(urls: &[&str], workers: usize, fetch: F) -> Vec<String>
where
    F: Fn(&str) -> String + Sync,
{
    // TODO: put one job per URL into a `Queue`: the URL *and its index* in `urls`
    // (the pages will finish out of order, and the index is how a page finds its place).
    // Then `shutdown()` the queue: it still hands out what it holds, and only then makes
    // `get` fail.

    // TODO: in a `std::thread::scope`, start `workers` threads. Each loops
    // `while let Ok((i, url)) = jobs.get()`, calls `fetch(url)` and stores the page at index
    // `i` (a `Lock<Vec<Option<String>>>` works). Do not hold a lock while fetching:
    // the fetches must overlap.

    // TODO: once the scope has joined the workers, return the pages in the order of `urls`.
    todo!()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::Duration;
    use synclab::{Event, Lock};

    fn urls(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("http://127.0.0.1/page/{i}"))
            .collect()
    }

    fn page(url: &str) -> String {
        format!("<html>{url}</html>")
    }

    #[test]
    fn one_worker_fetches_every_page_in_order() {
        let owned = urls(5);
        let list: Vec<&str> = owned.iter().map(String::as_str).collect();
        let pages = crawl(&list, 1, page);
        assert_eq!(pages, list.iter().map(|u| page(u)).collect::<Vec<_>>());
        assert!(crawl(&[], 3, page).is_empty());
    }

    #[test]
    fn pages_come_back_in_input_order_whatever_order_they_finish_in() {
        // Page 0's fetch waits until page 1's has finished, so page 1 is done first. A crawler
        // with a single fetch in flight never gets there: a hang, reported by the watchdog.
        common::watchdog("crawler_pool_order", Duration::from_secs(10), |status| {
            let owned = urls(8);
            let list: Vec<&str> = owned.iter().map(String::as_str).collect();
            let page1_done = Event::new();
            let fetched = Lock::new(Vec::new());
            let pages = crawl(&list, 3, |url| {
                if url == list[0] {
                    status.set("fetch of page 0", "waiting for page 1 to finish");
                    page1_done.wait();
                    status.set("fetch of page 0", "done");
                }
                fetched.lock().push(url.to_string());
                if url == list[1] {
                    page1_done.set();
                }
                page(url)
            });
            assert_eq!(pages, list.iter().map(|u| page(u)).collect::<Vec<_>>());
            let mut fetched = fetched.into_inner();
            fetched.sort();
            let mut expected = owned.clone();
            expected.sort();
            assert_eq!(fetched, expected, "every URL must be fetched exactly once");
        });
    }

    #[test]
    fn fetches_overlap_but_never_exceed_the_workers() {
        common::guarded("crawler_pool_in_flight", |status| {
            for workers in [2, 4] {
                let owned = urls(5 * workers);
                let list: Vec<&str> = owned.iter().map(String::as_str).collect();
                let (in_flight, peak, arrived) = (
                    AtomicUsize::new(0),
                    AtomicUsize::new(0),
                    AtomicUsize::new(0),
                );
                let all_in = Event::new();
                status.set("main", format!("crawl with {workers} workers"));
                let pages = crawl(&list, workers, |url| {
                    let now = in_flight.fetch_add(1, SeqCst) + 1;
                    peak.fetch_max(now, SeqCst);
                    // The first `workers` fetches wait for each other: they can only all
                    // return if the crawler runs `workers` fetches at once.
                    if arrived.fetch_add(1, SeqCst) + 1 >= workers {
                        all_in.set();
                    }
                    all_in.wait();
                    std::thread::sleep(Duration::from_millis(2)); // the server's answer
                    in_flight.fetch_sub(1, SeqCst);
                    page(url)
                });
                assert_eq!(pages.len(), list.len());
                assert!(
                    peak.load(SeqCst) <= workers,
                    "{} fetches in flight with {workers} workers",
                    peak.load(SeqCst)
                );
                assert_eq!(peak.load(SeqCst), workers);
                assert_eq!(arrived.load(SeqCst), list.len(), "one fetch per URL");
            }
        });
    }
}
