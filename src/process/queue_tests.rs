//! Unit tests of `process::Queue` (in-process: threads, no shared region).

use super::*;
use crate::ShutDown;

#[test]
fn fifo_and_wraps_around() {
    let q = Queue::<u32, 3>::new();
    for round in 0..5 {
        for i in 0..3 {
            q.try_put(round * 10 + i).unwrap();
        }
        assert_eq!(q.try_put(99), Err(PutError::Full(99)));
        for i in 0..3 {
            assert_eq!(q.try_get(), Ok(round * 10 + i));
        }
        assert_eq!(q.try_get(), Err(GetError::Empty));
    }
}

#[test]
fn threads_pass_every_item_once() {
    let q = Box::new(Queue::<u64, 4>::new());
    let n = if cfg!(miri) { 20 } else { 10_000 };
    let sum = std::thread::scope(|s| {
        for p in 0..2u64 {
            let q = &q;
            s.spawn(move || {
                for i in 0..n {
                    q.put(p * n + i).unwrap();
                }
            });
        }
        let mut sum = 0;
        for _ in 0..2 * n {
            sum += q.get().unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..2 * n).sum::<u64>());
    assert!(q.is_empty());
}

#[test]
fn shutdown_wakes_a_blocked_getter() {
    let q = Queue::<u8, 1>::new();
    std::thread::scope(|s| {
        let h = s.spawn(|| q.get());
        while q.getters.asleep() == 0 {
            std::thread::yield_now();
        }
        q.shutdown();
        assert_eq!(h.join().unwrap(), Err(ShutDown(())));
    });
}
