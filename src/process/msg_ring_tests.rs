//! Unit tests of the message ring, in one process: the ring's words in a `Vec`, threads for the
//! other processes. No memfd, mmap or fork, so they also run under Miri.

use super::*;

/// A ring of `cap` words, outside any shared region.
fn ring(cap: usize) -> (Box<MessageRing>, Vec<AtomicU64>) {
    (
        Box::new(MessageRing::new()),
        (0..cap).map(|_| AtomicU64::new(0)).collect(),
    )
}

fn msg(seed: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| (seed * 31 + i * 7) as u8).collect()
}

const NOW: Patience = Patience::None;

#[test]
fn records_of_every_length_wrap_around_and_free_every_word() {
    let (r, w) = ring(7);
    let mut out = Vec::new();
    for round in 0..if cfg!(miri) { 20 } else { 200 } {
        let len = round % (max_message(7) + 1);
        r.put_with(&w, msg(round, len), NOW).unwrap();
        if round % 3 == 0 && len <= 16 {
            // A second, small one behind it when it fits.
            let _ = r.put_with(&w, msg(round + 1, 1), NOW);
        }
        r.get_with(&w, &mut out, NOW).unwrap();
        assert_eq!(out, msg(round, len), "round {round}");
        while r.get_with(&w, &mut out, NOW).is_ok() {}
        assert_eq!(r.used(7), Some(0), "every word free again");
    }
}

#[test]
fn a_message_larger_than_the_ring_comes_back() {
    let (r, w) = ring(4);
    let big = vec![7u8; 25]; // 1 + 4 words > 4
    match r.put_with(&w, big.clone(), Patience::Until(None)) {
        Err(PutMessageError::TooLarge { message, max }) => {
            assert_eq!(message, big);
            assert_eq!(max, 24);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    r.put_with(&w, vec![1u8; 24], NOW).unwrap(); // the largest that fits
    assert_eq!(
        r.put_with(&w, &b"x"[..], NOW),
        Err(PutMessageError::Full(&b"x"[..]))
    );
}

#[test]
fn a_garbage_commit_word_is_an_error_for_put_and_get() {
    let (r, w) = ring(8);
    r.put_with(&w, b"ok", NOW).unwrap();
    for garbage in [u64::MAX, 8 << 32, 9, (3 << 32) | 100] {
        r.lock().state.store(garbage, Relaxed);
        let mut out = Vec::new();
        assert_eq!(
            r.get_with(&w, &mut out, NOW),
            Err(GetMessageError::Corrupt {
                what: "the commit word",
                word: garbage
            })
        );
        assert_eq!(
            r.put_with(&w, b"m", NOW),
            Err(PutMessageError::Corrupt(b"m"))
        );
        assert_eq!(r.len(&w), 0);
    }
}

#[test]
fn a_garbage_length_word_is_an_error_not_a_long_copy() {
    let (r, w) = ring(8);
    r.put_with(&w, b"hello", NOW).unwrap();
    let mut out = Vec::new();
    // A length that claims more than the committed words, with a matching complement...
    let len: u32 = 1000;
    w[0].store((u64::from(!len) << 32) | u64::from(len), Relaxed);
    assert!(matches!(
        r.get_with(&w, &mut out, NOW),
        Err(GetMessageError::Corrupt { .. })
    ));
    // ...and a short one whose check half is wrong.
    w[0].store(5, Relaxed);
    assert!(matches!(
        r.get_with(&w, &mut out, NOW),
        Err(GetMessageError::Corrupt { .. })
    ));
    assert!(out.len() <= 8, "no copy beyond the ring");
    assert_eq!(r.used(8), Some(2), "nothing was taken");
}

#[test]
fn random_garbage_anywhere_never_panics() {
    let (r, w) = ring(13);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::new();
    for _ in 0..if cfg!(miri) { 50 } else { 5000 } {
        match next() % 4 {
            0 => w[next() as usize % 13].store(next(), Relaxed),
            1 => r.lock().state.store(next() % (1 << 34), Relaxed),
            2 => {
                let _ = r.put_with(&w, msg(3, next() as usize % 40), NOW);
            }
            _ => {
                if r.get_with(&w, &mut out, NOW).is_ok() {
                    assert!(out.len() <= max_message(13));
                }
            }
        }
        let _ = r.len(&w);
    }
}

#[test]
fn garbage_in_the_free_words_is_never_seen() {
    // A put killed half-way leaves words outside `head..head+used` half-written: the next put
    // writes over them and no get ever reads them.
    let (r, w) = ring(8);
    r.put_with(&w, b"first", NOW).unwrap();
    for word in &w[2..] {
        word.store(u64::MAX, Relaxed);
    }
    r.put_with(&w, b"second!!", NOW).unwrap();
    let mut out = Vec::new();
    r.get_with(&w, &mut out, NOW).unwrap();
    assert_eq!(out, b"first");
    r.get_with(&w, &mut out, NOW).unwrap();
    assert_eq!(out, b"second!!");
    assert_eq!(r.get_with(&w, &mut out, NOW), Err(GetMessageError::Empty));
}

#[test]
fn threads_pass_every_message_once_and_whole() {
    let (r, w) = ring(16);
    let n = if cfg!(miri) { 15 } else { 3000 };
    std::thread::scope(|s| {
        for p in 0..2 {
            let (r, w) = (&r, &w);
            s.spawn(move || {
                for i in 0..n {
                    let m = [&[p as u8][..], &msg(i, i % 50)].concat();
                    r.put_with(w, m, Patience::Until(None)).unwrap();
                }
            });
        }
        let mut next = [0usize; 2];
        let mut out = Vec::new();
        for _ in 0..2 * n {
            r.get_with(&w, &mut out, Patience::Until(None)).unwrap();
            let p = out[0] as usize;
            let i = next[p];
            assert_eq!(&out[1..], msg(i, i % 50), "producer {p}'s message {i}");
            next[p] += 1;
        }
        assert_eq!(next, [n, n]);
    });
    assert_eq!(r.used(16), Some(0));
}

#[test]
fn join_waits_for_every_task_done() {
    let (r, w) = ring(32);
    let n = if cfg!(miri) { 5 } else { 200 };
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut out = Vec::new();
            while r.get_with(&w, &mut out, Patience::Until(None)).is_ok() {
                r.task_done().unwrap();
            }
        });
        for i in 0..n {
            r.put_with(&w, msg(i, 3), Patience::Until(None)).unwrap();
        }
        assert!(r.join_until(None));
        assert_eq!(r.lock().unfinished, 0);
        r.shutdown();
    });
    assert_eq!(r.task_done(), Err(TaskDoneError));
}

#[test]
fn shutdown_wakes_a_blocked_getter_and_drains_first() {
    let (r, w) = ring(8);
    std::thread::scope(|s| {
        let h = s.spawn(|| {
            let mut out = Vec::new();
            r.get_with(&w, &mut out, Patience::Until(None))
        });
        while r.lock().getters.registered() == 0 {
            std::thread::yield_now();
        }
        r.shutdown();
        assert_eq!(h.join().unwrap(), Err(GetMessageError::ShutDown));
    });
    assert_eq!(
        r.put_with(&w, b"late", NOW),
        Err(PutMessageError::ShutDown(b"late"))
    );
}
