//! loom models of `Pool` (run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test
//! --release --test loom_pool`). Under loom the workers are loom threads (the `thread` facade
//! in `src/sync.rs`), and the pool's job queue, result slots and exit event are synclab's own
//! primitives, so the model covers their use by the pool end to end. One worker and one task:
//! the state space grows fast with either.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use loom_model::model;
use synclab::{Pool, TaskError};

#[test]
fn apply_async_get_close_join() {
    // The sleeps: the worker on the empty queue, `get` on the result's event, `join` on the
    // exit event. The task's write is Relaxed: only the result's Release/Acquire can publish it.
    model(|| {
        let pool = Pool::new(1);
        let seen = Arc::new(AtomicUsize::new(0));
        let task = seen.clone();
        let r = pool.apply_async(move || {
            task.store(1, Relaxed);
            7
        });
        assert_eq!(r.get(), Ok(7));
        assert_eq!(seen.load(Relaxed), 1);
        pool.close();
        pool.join();
        assert_eq!(pool.apply_async(|| 8).get(), Err(TaskError::Closed));
    });
}

#[test]
fn terminate_races_the_worker() {
    // The worker may take the task before `terminate` drops it, or not: either way the result
    // is delivered exactly once, and `join` returns.
    model(|| {
        let pool = Pool::new(1);
        let runs = Arc::new(AtomicUsize::new(0));
        let task = runs.clone();
        let r = pool.apply_async(move || {
            task.fetch_add(1, Relaxed);
        });
        pool.terminate();
        let outcome = r.get();
        pool.join();
        match outcome {
            Ok(()) => assert_eq!(runs.load(Relaxed), 1),
            Err(e) => {
                assert_eq!(e, TaskError::Terminated);
                assert_eq!(runs.load(Relaxed), 0);
            }
        }
    });
}
