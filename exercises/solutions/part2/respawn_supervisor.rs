//! # Exercise `respawn_supervisor` — Part II, "Messages across processes"
//!
//! The heart of `process::Pool`'s supervisor. A worker process reads a batch of tasks from its
//! pipe and writes one result per task back, in order, as each task returns. When the result
//! pipe reaches end-of-file the worker is dead (SIGKILL, a segfault, the OOM killer): the
//! results read so far are the tasks that finished, and **the next task of the batch is the one
//! it died in**. Write `supervise`: send all the tasks as one batch, collect their results, and
//! when the worker dies
//!
//! - give the task it died in `Err(Died)` (reap the worker to learn how it died) — that task
//!   only, and do not run it again: it may kill every worker it meets;
//! - start a fresh worker at once (the pool keeps its size, even when no task is left), and
//!   send it the tasks that were not answered, as a new batch;
//! - run no task twice and skip none.
//!
//! Python's `multiprocessing.Pool` replaces the dead worker but never answers its task: the
//! caller's `get()` waits forever (bpo-22393).
//!
//! The tests' workers are threads playing processes: a worker "dies" by returning without
//! answering, which closes its result channel, and `recv` then returns `None`.
//!
//! Check your work: `cargo xtask check respawn_supervisor`

/// How a worker ended, as `waitpid` tells its parent: its pid and the signal that killed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Died {
    /// The dead worker's pid.
    pub pid: u32,
    /// The signal that killed it.
    pub signal: i32,
}

/// One worker, as its supervisor sees it: the write end of its task pipe and the read end of
/// its result pipe.
pub trait Worker {
    /// Writes a batch of tasks down the worker's task pipe. Never blocks; a dead worker's
    /// batch is lost.
    fn send(&mut self, tasks: &[u64]);
    /// The next result, in the order the tasks were sent; `None` at end-of-file: the worker
    /// is dead, and no result will ever come from it again.
    fn recv(&mut self) -> Option<u64>;
    /// Waits for a dead worker's exit (after `recv` returned `None`) and says how it died.
    fn reap(self) -> Died;
}

/// Runs every task of `tasks` on workers made by `spawn`: one worker at a time, started once
/// at the beginning and once after each death. Returns one outcome per task, in task order.
pub fn supervise<W: Worker>(tasks: &[u64], mut spawn: impl FnMut() -> W) -> Vec<Result<u64, Died>> {
    let mut outcomes = Vec::with_capacity(tasks.len());
    let mut worker = spawn();
    // `outcomes.len()` is the whole bookkeeping: the tasks before it are answered, the task
    // at it is the one the current worker runs (or died in).
    while outcomes.len() < tasks.len() {
        worker.send(&tasks[outcomes.len()..]);
        while outcomes.len() < tasks.len() {
            match worker.recv() {
                Some(result) => outcomes.push(Ok(result)),
                None => {
                    // The replacement first, then the dead worker's task gets its error.
                    let dead = std::mem::replace(&mut worker, spawn());
                    outcomes.push(Err(dead.reap()));
                    break; // the rest of the batch went down with it: send it again
                }
            }
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;

    /// A task of 1,000 or more kills its worker with signal `task - 1000`.
    const POISON: u64 = 1000;

    /// What the fake processes share: the next pid, every task run (by which pid), and a switch
    /// that kills whichever worker starts a task next (`kill -9` from outside).
    #[derive(Default)]
    struct World {
        next_pid: AtomicU32,
        ran: Mutex<Vec<(u32, u64)>>,
        kill_next: AtomicBool,
    }

    /// A worker thread: squares each task, dies on a poisoned one or when told to.
    struct FakeWorker {
        pid: u32,
        tasks: Option<Sender<Vec<u64>>>,
        results: Receiver<u64>,
        thread: Option<JoinHandle<Option<i32>>>,
    }

    fn spawn_in(world: &Arc<World>) -> FakeWorker {
        let pid = world.next_pid.fetch_add(1, SeqCst) + 100;
        let (task_tx, task_rx) = channel::<Vec<u64>>();
        let (result_tx, result_rx) = channel();
        let world = world.clone();
        let thread = std::thread::spawn(move || {
            for batch in task_rx {
                for task in batch {
                    if world.kill_next.swap(false, SeqCst) {
                        return Some(9); // killed from outside before it ran `task`
                    }
                    world.ran.lock().unwrap().push((pid, task));
                    if task >= POISON {
                        return Some((task - POISON) as i32); // died in `task`
                    }
                    if result_tx.send(task * task).is_err() {
                        return None;
                    }
                }
            }
            None // its task pipe closed: a normal exit
        });
        FakeWorker {
            pid,
            tasks: Some(task_tx),
            results: result_rx,
            thread: Some(thread),
        }
    }

    impl Worker for FakeWorker {
        fn send(&mut self, tasks: &[u64]) {
            let _ = self.tasks.as_ref().unwrap().send(tasks.to_vec());
        }
        fn recv(&mut self) -> Option<u64> {
            self.results.recv().ok()
        }
        fn reap(mut self) -> Died {
            let status = self.thread.take().unwrap().join().unwrap();
            let signal = status.expect("reap is only called on a worker that died");
            Died {
                pid: self.pid,
                signal,
            }
        }
    }

    impl Drop for FakeWorker {
        fn drop(&mut self) {
            drop(self.tasks.take()); // end-of-file on its task pipe: it exits
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }

    type Outcomes = Vec<Result<u64, Died>>;
    /// `(pid, task)` for every task run, in the order they ran.
    type Ran = Vec<(u32, u64)>;

    /// Runs `tasks` in a fresh world, under the watchdog (a supervisor that waits for a result
    /// that never comes, or retries a task that kills every worker, fails instead of hanging):
    /// the outcomes, how many workers were started, what ran.
    fn run(tasks: &[u64]) -> (Outcomes, u32, Ran) {
        let world = Arc::new(World::default());
        let outcomes = common::guarded("respawn_supervisor", |_| {
            supervise(tasks, || spawn_in(&world))
        });
        let ran = world.ran.lock().unwrap().clone();
        (outcomes, world.next_pid.load(SeqCst), ran)
    }

    #[test]
    fn without_deaths_one_worker_runs_everything_in_order() {
        let tasks: Vec<u64> = (0..50).collect();
        let (outcomes, started, ran) = run(&tasks);
        let squares: Vec<_> = tasks.iter().map(|t| Ok(t * t)).collect();
        assert_eq!(outcomes, squares);
        assert_eq!(started, 1, "one worker, never replaced");
        assert_eq!(ran.len(), 50);
    }

    #[test]
    fn only_the_task_a_worker_died_in_fails() {
        let tasks = [1, 2, POISON + 9, 4, 5];
        let (outcomes, started, _) = run(&tasks);
        assert_eq!(
            outcomes,
            [
                Ok(1),
                Ok(4),
                Err(Died {
                    pid: 100,
                    signal: 9
                }),
                Ok(16),
                Ok(25)
            ]
        );
        assert_eq!(started, 2, "the dead worker was replaced once");
    }

    #[test]
    fn no_task_runs_twice_and_a_killer_task_is_not_retried() {
        let tasks = [POISON + 11, 7, 8, POISON + 6, POISON + 9, 3];
        let (outcomes, _, ran) = run(&tasks);
        let mut tasks_run: Vec<u64> = ran.iter().map(|&(_, t)| t).collect();
        tasks_run.sort_unstable();
        let mut expected = tasks.to_vec();
        expected.sort_unstable();
        assert_eq!(tasks_run, expected, "every task ran exactly once");
        let signals: Vec<_> = outcomes
            .iter()
            .map(|o| o.as_ref().map_err(|d| d.signal))
            .collect();
        assert_eq!(signals, [Err(11), Ok(&49), Ok(&64), Err(6), Err(9), Ok(&9)]);
    }

    #[test]
    fn each_death_is_blamed_on_the_worker_that_died_and_the_pool_keeps_its_size() {
        let tasks = [POISON + 9, POISON + 9, 5, POISON + 9];
        let (outcomes, started, ran) = run(&tasks);
        let pids: Vec<_> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().err().map(|d| d.pid))
            .collect();
        assert_eq!(pids, [100, 101, 102], "three workers died, each once");
        // Every died-in task ran on the worker the error names.
        for (task, outcome) in tasks.iter().zip(&outcomes) {
            if let Err(d) = outcome {
                assert!(ran.contains(&(d.pid, *task)), "{d:?} / {ran:?}");
            }
        }
        assert_eq!(
            started, 4,
            "a replacement after every death, the last one too"
        );
    }

    #[test]
    fn workers_killed_from_outside_cost_only_their_tasks() {
        common::guarded("respawn_supervisor_kills", |status| {
            let world = Arc::new(World::default());
            let tasks: Vec<u64> = (0..POISON).collect(); // none of them poisoned
            let done = AtomicBool::new(false);
            world.kill_next.store(true, SeqCst); // the first kill is pending from the start
            let (outcomes, kills) = std::thread::scope(|s| {
                let killer = s.spawn(|| {
                    let mut kills = 1;
                    while !done.load(SeqCst) && kills < 40 {
                        // One kill at a time: wait until the last one was taken.
                        if !world.kill_next.load(SeqCst) {
                            world.kill_next.store(true, SeqCst);
                            kills += 1;
                        }
                        std::thread::yield_now();
                    }
                    kills
                });
                status.set(
                    "main",
                    "supervising 1,000 tasks while a thread kills workers",
                );
                // Stop the killer even if `supervise` panics, so that the test fails at once.
                let outcomes = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    supervise(&tasks, || spawn_in(&world))
                }));
                done.store(true, SeqCst);
                let kills = killer.join().unwrap();
                let outcomes = outcomes.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (outcomes, kills)
            });
            assert_eq!(outcomes.len(), tasks.len());
            let ran = world.ran.lock().unwrap().clone();
            let mut seen: Vec<u64> = ran.iter().map(|&(_, t)| t).collect();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), ran.len(), "no task ran twice");
            let mut deaths = 0;
            for (task, outcome) in tasks.iter().zip(&outcomes) {
                match outcome {
                    Ok(v) => assert_eq!(*v, task * task),
                    Err(d) => {
                        deaths += 1;
                        assert_eq!(d.signal, 9);
                        // Killed before it ran this task: it never ran anywhere.
                        assert!(!seen.contains(task), "task {task} ran and was blamed too");
                    }
                }
            }
            let pending = usize::from(world.kill_next.load(SeqCst)); // sent, never taken
            assert!(deaths >= 1, "the first task's worker was killed");
            assert_eq!(deaths, kills - pending, "one error per kill");
            let started = world.next_pid.load(SeqCst);
            assert_eq!(started as usize, deaths + 1, "one replacement per death");
        });
    }
}
