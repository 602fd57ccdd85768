//! Unit tests of `Barrier`'s state changes (the behaviour is tested in `tests/barrier.rs`,
//! `tests/stress.rs` and the loom models in `tests/loom_barrier.rs`).

use super::*;

#[test]
fn reset_with_waiters_inside_drains_them_first() {
    let b = Barrier::new(3);
    b.state.lock().count = 2; // as if two threads waited
    b.reset();
    {
        let s = b.state.lock();
        assert_eq!((s.generation, s.count, s.draining), (1, 0, 2));
    }
    assert!(!b.is_broken());
    assert_eq!(b.n_waiting(), 0);
    // A reset with nobody inside only clears `broken`.
    b.state.lock().draining = 0;
    b.abort();
    b.reset();
    let s = b.state.lock();
    assert_eq!((s.generation, s.broken), (1, false));
}

#[test]
fn abort_leaves_a_completed_generation_alone() {
    let b = Barrier::new(2);
    b.state.lock().generation = 7; // a waiter of generation 6 has not woken yet
    b.abort();
    let s = b.state.lock();
    assert_eq!((s.generation, s.broken, s.draining), (7, true, 0));
}

#[test]
fn has_completed_reads_the_leaders_word_in_wrapping_order() {
    let b = Barrier::new(2);
    let at = |completed: u32, g: u32| {
        b.completed.store(completed, Release);
        b.has_completed(g)
    };
    assert!(
        !at(5, 5),
        "generation 5 is running: the last leader stored 5"
    );
    assert!(!at(3, 5), "two resets since the last completion");
    assert!(at(6, 5), "generation 5 completed");
    assert!(at(9, 5), "and three more after it, without this waiter");
    assert!(at(0, u32::MAX), "the generation counter wrapped");
    assert!(!at(u32::MAX, u32::MAX));
}

#[test]
fn a_leader_stores_the_next_generation() {
    let b = Barrier::new(1);
    b.wait().unwrap();
    b.wait().unwrap();
    assert_eq!(b.completed.load(Acquire), 2);
    b.reset(); // nobody inside: neither the generation nor `completed` moves
    assert_eq!(
        (b.state.lock().generation, b.completed.load(Acquire)),
        (2, 2)
    );
}
