//! The baton: real OS threads that run one at a time.
//!
//! One [`Exec`] is one execution of the model. Every model thread is a real OS thread, but only
//! the thread named by `State::active` runs; the others wait on the condition variable. Before
//! each instrumented operation a thread calls [`point`]: it records what it is about to do
//! (its *pending* operation) and, unless it was just chosen to do exactly that, asks the plan
//! ([`super::plan`]) which enabled thread goes next, hands over the baton and waits for it to
//! come back. A thread is *enabled* when its pending operation could complete now (a lock that
//! is free, a semaphore with a permit, a joined thread that has finished).
//!
//! | thread state | `pending` | `finished` | enabled |
//! |---|---|---|---|
//! | spawned, not started | `Start` | no | yes (choosing it runs it up to and through its first operation) |
//! | before a load/store/release | `Op` | no | yes |
//! | before `lock()` / `acquire()` | `Acquire` / `Permit` | no | when the lock is free / a permit is left |
//! | in `join()` | `Join(t)` | no | when `t` has finished |
//! | in `Condition::wait`, lock released | `Notified` | no | once notified, when the lock is free |
//! | returned, panicked or aborted | any | yes | no |
//!
//! When an execution must stop (a deadlock, the step limit, a panic, a bad replay key) it is
//! *aborted*: every waiting thread wakes and unwinds with the private [`Abort`] payload, which its
//! wrapper catches, so each OS thread ends and the next execution starts clean.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use super::condition::CondCore;
use super::plan::Plan;
use super::report::Step;
use super::semaphore::SemCore;
use super::types::LockCore;

/// The unwinding payload of an aborted execution; never seen by user code that does not catch
/// panics itself.
pub(crate) struct Abort;

/// What a model thread is about to do.
pub(crate) enum Pending {
    /// Spawned, its code not started yet.
    Start,
    /// A load, store, release or other operation that can always go ahead.
    Op,
    /// `Lock::lock`: waits for the lock.
    Acquire(Arc<LockCore>),
    /// `Semaphore::acquire`: waits for a permit.
    Permit(Arc<SemCore>),
    /// `JoinHandle::join` of thread `.0`.
    Join(usize),
    /// `Condition::wait`, after releasing the lock: waits to be notified, then for the lock.
    Notified(Arc<CondCore>, Arc<LockCore>),
}

/// One model thread's bookkeeping.
pub(crate) struct ThreadRec {
    pub(crate) name: String,
    pending: Pending,
    finished: bool,
    /// The last decision chose this thread for its pending operation (consumed by `point`).
    chosen: bool,
}

/// Why an execution ended early.
pub(crate) enum Ended {
    Deadlock(Vec<String>),
    StepLimit(usize),
    Panicked { thread: String, message: String },
}

/// The state of one execution, behind `Exec::state`.
pub(crate) struct State {
    pub(crate) threads: Vec<ThreadRec>,
    /// The thread that holds the baton.
    active: usize,
    pub(crate) plan: Plan,
    pub(crate) aborted: bool,
    pub(crate) ended: Option<Ended>,
    steps: usize,
    max_steps: usize,
    pub(crate) trace: Vec<Step>,
    /// Spawned OS threads that have not left their wrapper yet.
    live: usize,
    handles: Vec<JoinHandle<()>>,
}

/// One execution of the model.
pub(crate) struct Exec {
    state: Mutex<State>,
    baton: Condvar,
}

thread_local! {
    static CURRENT: RefCell<Option<(Arc<Exec>, usize)>> = const { RefCell::new(None) };
}

/// The execution this OS thread belongs to, and its model thread id.
pub(crate) fn current() -> Option<(Arc<Exec>, usize)> {
    CURRENT.with(|c| c.borrow().clone())
}

pub(crate) fn set_current(ctx: Option<(Arc<Exec>, usize)>) {
    CURRENT.with(|c| *c.borrow_mut() = ctx);
}

fn abort_unwind() -> ! {
    panic::resume_unwind(Box::new(Abort))
}

/// The text of a panic payload.
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_string()
    }
}

impl State {
    fn enabled(&self, t: usize) -> bool {
        let rec = &self.threads[t];
        !rec.finished
            && match &rec.pending {
                Pending::Start | Pending::Op => true,
                Pending::Acquire(lock) => lock.owner().is_none(),
                Pending::Permit(sem) => sem.available() > 0,
                Pending::Join(u) => self.threads[*u].finished,
                Pending::Notified(cond, lock) => !cond.is_waiting(t) && lock.owner().is_none(),
            }
    }

    fn describe_blocked(&self) -> Vec<String> {
        let name = |t: usize| self.threads[t].name.clone();
        (0..self.threads.len())
            .filter(|&t| !self.threads[t].finished)
            .map(|t| match &self.threads[t].pending {
                Pending::Acquire(l) => {
                    let holder = l.owner().map_or("nobody".into(), name);
                    format!("{} waits for lock {} (held by {holder})", name(t), l.name)
                }
                Pending::Permit(s) => format!("{} waits for a permit of {}", name(t), s.name),
                Pending::Join(u) => format!("{} waits in join({})", name(t), name(*u)),
                Pending::Notified(c, _) if c.is_waiting(t) => {
                    format!("{} waits in {}.wait() for a notify", name(t), c.name)
                }
                Pending::Notified(_, l) => {
                    let holder = l.owner().map_or("nobody".into(), name);
                    format!(
                        "{} was notified, waits for lock {} (held by {holder})",
                        name(t),
                        l.name
                    )
                }
                Pending::Start | Pending::Op => format!("{} is runnable", name(t)),
            })
            .collect()
    }

    fn end(&mut self, why: Ended) {
        if self.ended.is_none() && !self.aborted {
            self.ended = Some(why);
        }
        self.aborted = true;
    }

    /// Picks the next thread, or `None` when the execution is over (finished or aborted).
    /// `current` is the deciding thread when it could go on itself (a switch away from it is a
    /// preemption).
    fn decide(&mut self, current: Option<usize>) -> Option<usize> {
        let enabled: Vec<usize> = (0..self.threads.len())
            .filter(|&t| self.enabled(t))
            .collect();
        if enabled.is_empty() {
            if self.threads.iter().any(|t| !t.finished) {
                let blocked = self.describe_blocked();
                self.end(Ended::Deadlock(blocked));
            }
            return None;
        }
        if enabled.len() == 1 {
            return Some(enabled[0]); // forced: not a choice, not in the key
        }
        match self.plan.choose(&enabled, current) {
            Ok(t) => Some(t),
            Err(e) => {
                self.plan.error = Some(e);
                self.aborted = true;
                None
            }
        }
    }
}

impl Exec {
    pub(crate) fn new(plan: Plan, max_steps: usize) -> Arc<Exec> {
        let main = ThreadRec {
            name: "main".into(),
            pending: Pending::Op,
            finished: false,
            chosen: true,
        };
        Arc::new(Exec {
            state: Mutex::new(State {
                threads: vec![main],
                active: 0,
                plan,
                aborted: false,
                ended: None,
                steps: 0,
                max_steps,
                trace: Vec::new(),
                live: 0,
                handles: Vec::new(),
            }),
            baton: Condvar::new(),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic never happens while this mutex is held, but unwinding code must not
        // panic again, so a poisoned state is used as it is.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait_for_turn<'a>(&self, mut st: MutexGuard<'a, State>, me: usize) -> MutexGuard<'a, State> {
        while st.active != me && !st.aborted {
            st = self.baton.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
        st
    }

    /// Hands the baton to `next` (or wakes everyone when the execution is over).
    fn pass(&self, st: &mut State, next: Option<usize>) {
        if let Some(next) = next {
            st.active = next;
            st.threads[next].chosen = true;
        }
        self.baton.notify_all();
    }

    /// The scheduling point before an operation of thread `me`. Returns when `me` may do it.
    /// While unwinding (a guard dropped by a panic or an abort) it schedules nothing: the
    /// operation simply happens, so a drop never panics twice.
    pub(crate) fn point(&self, me: usize, op: Pending) {
        if std::thread::panicking() {
            return;
        }
        let mut st = self.lock();
        if st.aborted {
            drop(st);
            abort_unwind();
        }
        // `join` of a finished thread changes nothing another thread can see: no choice.
        let local = matches!(op, Pending::Join(_));
        st.threads[me].pending = op;
        let go_on = st.enabled(me) && (st.threads[me].chosen || local);
        st.threads[me].chosen = false;
        if !go_on {
            let current = st.enabled(me).then_some(me);
            let next = st.decide(current);
            self.pass(&mut st, next);
            st = self.wait_for_turn(st, me);
            if st.aborted {
                drop(st);
                abort_unwind();
            }
        }
        st.threads[me].chosen = false;
        st.threads[me].pending = Pending::Op;
        if !local {
            st.steps += 1;
            if st.steps > st.max_steps {
                let limit = st.max_steps;
                st.end(Ended::StepLimit(limit));
                self.baton.notify_all();
                drop(st);
                abort_unwind();
            }
        }
    }

    /// The name of model thread `t`.
    pub(crate) fn thread_name(&self, t: usize) -> String {
        self.lock().threads[t].name.clone()
    }

    /// Appends one step to the trace.
    /// A guard dropped while unwinding (an aborted schedule, a panic) was not scheduled, so
    /// it is not a step either: a deadlock's trace ends where the threads got stuck.
    pub(crate) fn record(&self, step: Step) {
        if std::thread::panicking() {
            return;
        }
        let mut st = self.lock();
        if !st.aborted {
            st.trace.push(step);
        }
    }

    /// Registers a new model thread and starts its OS thread, which waits to be chosen.
    /// `parent`'s next operation needs a decision again: the new thread may go first.
    pub(crate) fn spawn(
        self: &Arc<Self>,
        parent: usize,
        name: String,
        body: Box<dyn FnOnce() + Send>,
    ) -> usize {
        let mut st = self.lock();
        st.threads[parent].chosen = false;
        let me = st.threads.len();
        assert!(me < 36, "explore: at most 36 model threads");
        st.threads.push(ThreadRec {
            name: name.clone(),
            pending: Pending::Start,
            finished: false,
            chosen: false,
        });
        st.live += 1;
        let exec = Arc::clone(self);
        let handle = std::thread::Builder::new()
            .name(format!("explore:{name}"))
            .spawn(move || exec.thread_main(me, body))
            .expect("explore: could not start an OS thread");
        st.handles.push(handle);
        me
    }

    fn thread_main(self: Arc<Self>, me: usize, body: Box<dyn FnOnce() + Send>) {
        set_current(Some((Arc::clone(&self), me)));
        let st = self.wait_for_turn(self.lock(), me);
        let aborted = st.aborted;
        drop(st);
        let result = if aborted {
            Err(Box::new(Abort) as Box<dyn std::any::Any + Send>)
        } else {
            panic::catch_unwind(AssertUnwindSafe(body))
        };
        set_current(None);
        let mut st = self.lock();
        match result {
            Ok(()) => self.finish(&mut st, me),
            Err(p) if p.is::<Abort>() => st.threads[me].finished = true,
            Err(p) => self.panicked(&mut st, me, panic_message(&*p)),
        }
        st.live -= 1;
        self.baton.notify_all();
    }

    /// Thread `me` returned: wake a thread joining it at once (its `join` is local), or decide.
    pub(crate) fn finish(&self, st: &mut State, me: usize) {
        st.threads[me].finished = true;
        if st.aborted {
            self.baton.notify_all();
            return;
        }
        let joiner = (0..st.threads.len()).find(|&t| {
            !st.threads[t].finished && matches!(st.threads[t].pending, Pending::Join(u) if u == me)
        });
        let next = joiner.or_else(|| st.decide(None));
        self.pass(st, next);
    }

    /// Thread `me` panicked: the execution ends with that panic.
    pub(crate) fn panicked(&self, st: &mut State, me: usize, message: String) {
        st.threads[me].finished = true;
        let thread = st.threads[me].name.clone();
        st.end(Ended::Panicked { thread, message });
        self.baton.notify_all();
    }

    /// The main thread's last act: wait until every spawned OS thread has left, then join them.
    pub(crate) fn wait_all(&self) -> MutexGuard<'_, State> {
        let mut st = self.lock();
        while st.live > 0 {
            st = self.baton.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
        for h in st.handles.drain(..) {
            // Every wrapper catches its thread's panic, so join only fails on a bug here.
            h.join()
                .expect("explore: a model thread's wrapper panicked");
        }
        st
    }
}
