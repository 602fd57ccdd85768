//! The parent's side: one supervisor thread per worker process. It takes a job from the
//! pool's queue, sends the job's tasks down the worker's pipe as one batch, and takes one
//! record per task back: from the worker's result log when the batch's `L` frame arrives (or
//! down the pipe, see `wire.rs`). When the worker's result pipe reaches end-of-file before the
//! batch is done, it takes the records the worker committed to its log, and the worker died
//! in the next task of the batch: that task gets
//! [`TaskError::WorkerDied`] with the wait status, a fresh worker is started, and the rest of
//! the job goes to it.
//!
//! A worker's pid is in [`Shared::pids`] exactly while it is an unreaped child of this
//! process: a supervisor removes it (under the lock) before `waitpid`, and `terminate` signals
//! only under that lock, so it can never kill a process that reused the pid.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Acquire, Ordering::Relaxed};
use std::time::{Duration, Instant};

use super::child::{self, WORKER_ROLE};
use super::job::Job;
use super::log::{LOG_WORDS, LogReader};
use super::pipe::{FrameReader, Next, pipe};
use super::wire::{self, Record};
use crate::futex::deadline_after;
use crate::process::{Child, Command, ProcessError, Shared as Region};
use crate::{Lock, Queue, TaskError, TaskPanicked, WorkerDied};

/// The frame that tells a worker its full log was taken (`log.rs`).
const ACK_FRAME: [u8; 5] = [1, 0, 0, 0, wire::ACK];

/// How long a fresh worker may take to say hello.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The pool's settings (see [`PoolBuilder`](super::PoolBuilder)).
#[derive(Debug, Clone)]
pub(super) struct Config {
    pub(super) workers: usize,
    pub(super) args: Vec<OsString>,
    /// Tasks a worker runs before it is replaced (`usize::MAX`: no limit).
    pub(super) max_tasks: usize,
    pub(super) task_timeout: Option<Duration>,
}

/// What the pool and its supervisors share.
pub(super) struct Shared {
    pub(super) jobs: Queue<Job>,
    /// Set by `terminate` before it kills the workers: a worker that dies after it was killed,
    /// not by its task.
    pub(super) terminated: AtomicBool,
    /// Slot `i`: the pid of supervisor `i`'s worker, 0 while it has none.
    pub(super) pids: Lock<Vec<u32>>,
    /// Workers started so far, replacements included.
    pub(super) started: AtomicUsize,
    pub(super) config: Config,
}

/// A worker process, the supervisor's ends of its pipes, and its result log.
pub(super) struct Worker {
    child: Child,
    tasks: File,
    results: FrameReader,
    log: Region<AtomicU64>,
    /// The last batch number used in the log (0 before the first).
    log_batch: u32,
    /// Tasks it has finished (for `max_tasks`).
    done: usize,
}

impl Worker {
    /// Whether its result pipe is quiet, as it is between batches: no end-of-file (it died)
    /// and no bytes (nothing was asked of it). One `poll`, no waiting.
    fn idle_and_alive(&mut self) -> bool {
        matches!(self.results.next(Some(Instant::now())), Ok(Next::TimedOut))
    }

    /// A number for the next batch that uses the log: never 0, never the last one.
    fn next_log_batch(&mut self) -> u32 {
        self.log_batch = self.log_batch.checked_add(1).unwrap_or(1);
        self.log_batch
    }
}

/// Starts a worker; [`greet`] then waits for its hello.
pub(super) fn launch(config: &Config) -> Result<Worker, ProcessError> {
    let (task_read, task_write) = pipe()?;
    let (result_read, result_write) = pipe()?;
    let log = Region::with_tail(AtomicU64::new(0), LOG_WORDS)?;
    let child = Command::new(WORKER_ROLE)
        .args(&config.args)
        .pass_fd(task_read.as_raw_fd())
        .pass_fd(result_write.as_raw_fd())
        .share(&log)
        .spawn()?;
    // Dropping our copies of the child's ends now: from here on, only the child holds the
    // write end of its result pipe, so end-of-file there means the child is gone.
    drop((task_read, result_write));
    Ok(Worker {
        child,
        tasks: File::from(task_write),
        results: FrameReader::new(result_read),
        log,
        log_batch: 0,
        done: 0,
    })
}

/// Waits for a launched worker's hello and checks that it runs this executable image.
pub(super) fn greet(mut worker: Worker) -> Result<Worker, ProcessError> {
    let fail = |why: &str| Err(ProcessError::Io(std::io::Error::other(why.to_owned())));
    match worker.results.next(deadline_after(START_TIMEOUT))? {
        Next::Frame => match child::hello(worker.results.payload()) {
            Some(offset) if offset == child::probe_offset() => Ok(worker),
            Some(_) => fail(
                "a pool worker runs another build of this executable (was it rebuilt while \
                 this program ran?)",
            ),
            None => fail("a pool worker's first message was not its hello"),
        },
        Next::Closed => fail(
            "a pool worker exited before it served: call `synclab::process::init()` first in \
             `main` (in a test binary, `PoolBuilder::worker_args` must name a test that calls it)",
        ),
        Next::TimedOut => fail("a pool worker did not start serving within 30 s"),
        Next::Garbled(_) => fail("a pool worker wrote something else than its hello"),
    }
}

impl Shared {
    /// Records `worker` as slot `slot`'s; `false` (and the worker killed) if the pool was
    /// terminated meanwhile.
    pub(super) fn register(&self, slot: usize, worker: &mut Worker) -> bool {
        let mut pids = self.pids.lock();
        // Acquire: pairs with `terminate`'s Release store, made before it takes this lock.
        if self.terminated.load(Acquire) {
            drop(pids);
            let _ = worker.child.kill();
            return false;
        }
        pids[slot] = worker.child.pid();
        self.started.fetch_add(1, Relaxed); // a statistic, read on its own
        true
    }

    /// Forgets slot `slot`'s worker and reaps it, killing it first if `kill`: how it ended.
    fn reap(&self, slot: usize, mut worker: Worker, kill: bool) -> WorkerDied {
        let pid = worker.child.pid();
        self.pids.lock()[slot] = 0;
        if kill {
            let _ = worker.child.kill();
        }
        drop(worker.tasks); // a worker still reading sees end-of-file and exits
        match worker.child.join() {
            Ok(status) => WorkerDied::new(pid, status.signal(), status.code()),
            Err(_) => WorkerDied::new(pid, None, None),
        }
    }

    /// Kills every worker (`terminate`), under the pid lock.
    pub(super) fn kill_all(&self) {
        for &pid in self.pids.lock().iter().filter(|&&pid| pid != 0) {
            // SAFETY: `kill` only sends a signal. `pid` is an unreaped child of ours (see the
            // module docs), so it names no other process.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }

    fn respawn(&self, slot: usize) -> Result<Option<Worker>, ProcessError> {
        let mut worker = greet(launch(&self.config)?)?;
        Ok(self.register(slot, &mut worker).then_some(worker))
    }

    /// A worker to replace one that died or retired, started at once so that the pool keeps
    /// its size; `None` after `terminate`, or if it could not be started (the next job tries
    /// again and reports why to its tasks).
    fn replacement(&self, slot: usize) -> Option<Worker> {
        // Acquire: pairs with `terminate`'s store.
        if self.terminated.load(Acquire) {
            return None;
        }
        self.respawn(slot).ok().flatten()
    }
}

/// How a batch ended early.
enum End {
    Died,
    /// Died before it read the batch: no task of it ran.
    DiedBeforeStarting,
    TimedOut(Duration),
    Garbled(String),
}

// ANCHOR: supervise
/// Supervisor `slot`'s thread: jobs until the queue is shut down and empty, then the worker is
/// retired (or killed, after `terminate`).
pub(super) fn supervise(slot: usize, shared: &Shared, mut worker: Option<Worker>) {
    let (mut frame, mut scratch) = (Vec::new(), Vec::new());
    while let Ok(job) = shared.jobs.get() {
        run_job(slot, shared, &mut worker, job, (&mut frame, &mut scratch));
    }
    if let Some(worker) = worker {
        let terminated = shared.terminated.load(Acquire);
        shared.reap(slot, worker, terminated);
    }
}

/// Runs every task of `job` on `worker`, replacing the worker as often as it dies.
fn run_job(
    slot: usize,
    shared: &Shared,
    worker: &mut Option<Worker>,
    mut job: Job,
    (frame, scratch): (&mut Vec<u8>, &mut Vec<u8>),
) {
    while job.pending() > 0 {
        // Acquire: pairs with `terminate`'s store; its dropped jobs report `Terminated`.
        if shared.terminated.load(Acquire) {
            return;
        }
        let w = match worker {
            Some(w) => w,
            None => match shared.respawn(slot) {
                Ok(Some(w)) => worker.insert(w),
                Ok(None) => return,
                Err(e) => {
                    job.fail_all(&TaskError::Spawn(e.to_string()));
                    return;
                }
            },
        };
        if !w.idle_and_alive() {
            // It died (or spoke) between batches, with no task of ours: the OOM killer, a
            // stray `kill`. Replaced without blaming the task that would have gone next.
            let dead = worker.take().expect("just matched");
            shared.reap(slot, dead, true);
            continue;
        }
        let count = job.pending().min(shared.config.max_tasks - w.done);
        // With a task timeout each record must arrive as its task ends: down the pipe.
        let log_batch = match shared.config.task_timeout {
            Some(_) => 0,
            None => w.next_log_batch(),
        };
        job.batch(count, log_batch, frame);
        // A worker that died already makes this fail (EPIPE); its end-of-file says the rest.
        let _ = w.tasks.write_all(frame);
        let mut log = LogReader::new(&w.log, w.log.tail(), log_batch);
        let mut delivered = 0;
        let mut end = None;
        while delivered < count && end.is_none() {
            let deadline = shared.config.task_timeout.and_then(deadline_after);
            let next = w.results.next(deadline);
            let (taken, ended) = match next {
                Ok(Next::Frame) => match wire::parse_record(w.results.payload()) {
                    Ok(Record::Logged(upto)) if log_batch != 0 => {
                        let took =
                            take_logged(&mut job, &mut log, upto, count - delivered, scratch);
                        if took.1.is_none() && delivered + took.0 < count {
                            // Its log was full: every record is taken, it may start again.
                            log.rotate();
                            let _ = w.tasks.write_all(&ACK_FRAME); // if dead, end-of-file says so
                        }
                        took
                    }
                    Ok(record) => match deliver(&mut job, record) {
                        None => (1, None),
                        ended => (0, ended),
                    },
                    Err(garbled) => (0, Some(End::Garbled(format!("{garbled:?}")))),
                },
                Ok(Next::Closed) if log_batch != 0 && !log.started() => {
                    (0, Some(End::DiedBeforeStarting))
                }
                Ok(Next::Closed) => {
                    // Dead: what it committed to the log is whole, and the task after it is
                    // the one it died in.
                    let upto = if log_batch == 0 { 0 } else { log.committed() };
                    match take_logged(&mut job, &mut log, upto, count - delivered, scratch) {
                        (taken, None) => (taken, Some(End::Died)),
                        garbled => garbled,
                    }
                }
                Ok(Next::TimedOut) => (0, shared.config.task_timeout.map(End::TimedOut)),
                Ok(Next::Garbled(garbled)) => (0, Some(End::Garbled(format!("{garbled:?}")))),
                Err(e) => (
                    0,
                    Some(End::Garbled(format!("reading its pipe failed: {e}"))),
                ),
            };
            delivered += taken;
            w.done += taken;
            end = ended;
        }
        let dead = worker.take().expect("the worker ran this batch");
        let Some(end) = end else {
            if dead.done < shared.config.max_tasks {
                *worker = Some(dead);
            } else {
                shared.reap(slot, dead, false); // maxtasksperchild: retired and replaced
                *worker = shared.replacement(slot);
            }
            continue;
        };
        let error = match end {
            End::DiedBeforeStarting => {
                // Killed between batches after all, its end-of-file racing our `write`.
                shared.reap(slot, dead, false);
                *worker = shared.replacement(slot);
                continue;
            }
            End::Died => {
                let died = shared.reap(slot, dead, false);
                // Acquire: as above; a worker killed by `terminate` is not its task's fault.
                if shared.terminated.load(Acquire) {
                    TaskError::Terminated
                } else {
                    TaskError::WorkerDied(died)
                }
            }
            End::TimedOut(limit) => {
                shared.reap(slot, dead, true);
                TaskError::TimedOut(limit)
            }
            End::Garbled(what) => {
                shared.reap(slot, dead, true);
                TaskError::Codec(format!(
                    "the worker sent bytes that are not the pool's records ({what}); it was \
                     killed and replaced"
                ))
            }
        };
        // The replacement first: when a task's `get` says its worker died, the pool has its
        // size again.
        *worker = shared.replacement(slot);
        job.deliver_next(Err(error));
    }
}
// ANCHOR_END: supervise

/// Delivers one record to the job's next item; how the batch ends if it is no task's record.
fn deliver(job: &mut Job, record: Record<'_>) -> Option<End> {
    match record {
        Record::Ok(bytes) => job.deliver_next(Ok(bytes)),
        Record::Panicked(message) => job.deliver_next(Err(TaskError::Panicked(
            TaskPanicked::from_message(message),
        ))),
        Record::Codec(why) => job.deliver_next(Err(TaskError::Codec(why))),
        Record::Hello(_) => return Some(End::Garbled("a second hello".into())),
        Record::Logged(_) => return Some(End::Garbled("a log count out of place".into())),
    }
    None
}

/// Delivers the log's records up to record `upto` of the batch, at most `left` of them: how
/// many, and how the batch ends if the log or the count is garbage.
fn take_logged(
    job: &mut Job,
    log: &mut LogReader<'_>,
    upto: u32,
    left: usize,
    scratch: &mut Vec<u8>,
) -> (usize, Option<End>) {
    let from = log.taken();
    if upto < from || upto > log.committed() || (upto - from) as usize > left {
        let what = format!(
            "it counted {upto} records in its log, which holds {} and had {from} taken",
            log.committed()
        );
        return (0, Some(End::Garbled(what)));
    }
    while log.taken() < upto {
        let taken = (log.taken() - from) as usize;
        if let Err(garbled) = log.take(scratch) {
            return (taken, Some(End::Garbled(format!("its log: {garbled:?}"))));
        }
        let ended = match wire::parse_record(scratch) {
            Ok(record) => deliver(job, record),
            Err(garbled) => Some(End::Garbled(format!("its log: {garbled:?}"))),
        };
        if ended.is_some() {
            return (taken, ended);
        }
    }
    ((upto - from) as usize, None)
}
