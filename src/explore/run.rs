//! Running the model: one execution ([`execute`]), the exhaustive walk, sampling and replay.

use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};

use super::ExploreError;
use super::plan::{Plan, SplitMix64, Strategy, next_prefix, parse_key};
use super::report::{Outcome, Report, Schedule};
use super::sched::{Abort, Ended, Exec, Pending, current, panic_message, set_current};

/// Settings for exploring a model; [`run`](super::run) and [`replay`](super::replay) use the
/// defaults.
///
/// | setting | default | what happens at the limit |
/// |---|---|---|
/// | [`preemption_bound`](Explorer::preemption_bound) | none | schedules with more preemptions are skipped |
/// | [`max_schedules`](Explorer::max_schedules) | 100 000 | [`ExploreError::TooManySchedules`] |
/// | [`max_steps`](Explorer::max_steps) | 10 000 per schedule | that schedule's outcome is [`Outcome::StepLimit`] |
///
/// ```
/// use synclab::explore::Explorer;
///
/// let report = Explorer::new().preemption_bound(1).run(|| ()).unwrap();
/// assert_eq!(report.schedules(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct Explorer {
    preemption_bound: Option<usize>,
    max_schedules: usize,
    max_steps: usize,
}

impl Default for Explorer {
    fn default() -> Self {
        Explorer {
            preemption_bound: None,
            max_schedules: 100_000,
            max_steps: 10_000,
        }
    }
}

/// The result of one execution.
struct Execution<T> {
    outcome: Outcome<T>,
    schedule: Schedule,
    plan: Plan,
}

fn execute<T: Debug, F: Fn() -> T>(
    plan: Plan,
    max_steps: usize,
    setup: &F,
) -> Result<Execution<T>, ExploreError> {
    assert!(
        current().is_none(),
        "explore::run cannot be called inside a model"
    );
    let exec = Exec::new(plan, max_steps);
    set_current(Some((Arc::clone(&exec), 0)));
    let result = panic::catch_unwind(AssertUnwindSafe(setup));
    set_current(None);
    let value = {
        let mut st = exec.lock();
        match result {
            Ok(v) => {
                exec.finish(&mut st, 0);
                Some(v)
            }
            Err(p) if p.is::<Abort>() => {
                exec.finish(&mut st, 0); // aborted: only marks main finished
                None
            }
            Err(p) => {
                exec.panicked(&mut st, 0, panic_message(&*p));
                None
            }
        }
    };
    let mut st = exec.wait_all();
    let mut plan = std::mem::replace(
        &mut st.plan,
        Plan::new(Strategy::Random(SplitMix64::new(0))),
    );
    if let Some(e) = plan.error.take() {
        return Err(e);
    }
    if st.ended.is_none() {
        plan.check_used_up()?;
    }
    let outcome = match (st.ended.take(), value) {
        (Some(Ended::Deadlock(b)), _) => Outcome::Deadlock(b),
        (Some(Ended::StepLimit(n)), _) => Outcome::StepLimit(n),
        (Some(Ended::Panicked { thread, message }), _) => Outcome::Panicked { thread, message },
        (None, Some(v)) => Outcome::Returned(v),
        (None, None) => unreachable!("main unwound without an end"),
    };
    let threads = st.threads.iter().map(|t| t.name.clone()).collect();
    let trace = std::mem::take(&mut st.trace);
    let schedule = Schedule::new(plan.key.clone(), threads, trace, outcome.to_string());
    Ok(Execution {
        outcome,
        schedule,
        plan,
    })
}

impl Explorer {
    /// The default settings.
    ///
    /// ```
    /// let explorer = synclab::explore::Explorer::new();
    /// assert_eq!(explorer.run(|| 5).unwrap().schedules(), 1);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Explore only schedules with at most `bound` preemptions (switches away from a thread
    /// that could have gone on). Two threads of `a` and `b` steps have 2 schedules with bound
    /// 0, `a + b` with bound 1, and all `C(a + b, a)` without a bound.
    ///
    /// ```
    /// use synclab::explore::{self, Explorer, Shared};
    /// let model = || {
    ///     let x = Shared::new("x", 0);
    ///     let ts: Vec<_> = (0..2)
    ///         .map(|i| {
    ///             let x = x.clone();
    ///             explore::spawn(&format!("t{i}"), move || (0..3).for_each(|_| x.store(i)))
    ///         })
    ///         .collect();
    ///     ts.into_iter().for_each(|t| t.join());
    /// };
    /// assert_eq!(Explorer::new().preemption_bound(0).run(model).unwrap().schedules(), 2);
    /// assert_eq!(Explorer::new().preemption_bound(1).run(model).unwrap().schedules(), 6);
    /// assert_eq!(Explorer::new().run(model).unwrap().schedules(), 20);
    /// ```
    pub fn preemption_bound(mut self, bound: usize) -> Self {
        self.preemption_bound = Some(bound);
        self
    }

    /// Stop with [`ExploreError::TooManySchedules`] rather than run more than `n` schedules.
    ///
    /// ```
    /// use synclab::explore::{self, ExploreError, Explorer, Shared};
    /// let err = Explorer::new().max_schedules(1).run(|| {
    ///     let x = Shared::new("x", 0);
    ///     let x1 = x.clone();
    ///     let t = explore::spawn("t1", move || x1.store(1));
    ///     x.store(2);
    ///     t.join();
    /// });
    /// assert_eq!(err.unwrap_err(), ExploreError::TooManySchedules { limit: 1, explored: 1 });
    /// ```
    pub fn max_schedules(mut self, n: usize) -> Self {
        self.max_schedules = n;
        self
    }

    /// End a schedule as [`Outcome::StepLimit`] after `n` steps.
    ///
    /// ```
    /// use synclab::explore::{Explorer, Outcome, Shared};
    /// let report = Explorer::new().max_steps(5).run(|| {
    ///     let flag = Shared::new("flag", false);
    ///     while !flag.load() {} // nobody ever sets it
    /// });
    /// assert_eq!(report.unwrap().count(|o| *o == Outcome::StepLimit(5)), 1);
    /// ```
    pub fn max_steps(mut self, n: usize) -> Self {
        self.max_steps = n;
        self
    }

    /// Runs `model` once for every schedule (depth first) and reports every outcome.
    ///
    /// ```
    /// let report = synclab::explore::Explorer::new().run(|| "done").unwrap();
    /// assert_eq!(report.count(|o| o.returned() == Some(&"done")), 1);
    /// ```
    pub fn run<T: Debug + PartialEq, F: Fn() -> T>(
        &self,
        model: F,
    ) -> Result<Report<T>, ExploreError> {
        let how = match self.preemption_bound {
            Some(b) => format!("every schedule with at most {b} preemptions"),
            None => "every schedule".to_string(),
        };
        let mut report = Report::new(how);
        let (mut prefix, mut expected) = (Vec::new(), Vec::new());
        loop {
            let strategy = Strategy::Prefix {
                choices: prefix,
                expected,
                strict: false,
            };
            let ex = execute(Plan::new(strategy), self.max_steps, &model)?;
            report.add(ex.outcome, ex.schedule);
            match next_prefix(&ex.plan.decisions, self.preemption_bound) {
                None => return Ok(report),
                Some(_) if report.schedules() >= self.max_schedules => {
                    return Err(ExploreError::TooManySchedules {
                        limit: self.max_schedules,
                        explored: report.schedules(),
                    });
                }
                Some((p, e)) => (prefix, expected) = (p, e),
            }
        }
    }

    /// Runs `schedules` random schedules (each choice uniform among the enabled threads),
    /// reproducible from `seed`: for models too large to enumerate.
    ///
    /// ```
    /// let r = synclab::explore::Explorer::new().sample(7, 10, || ()).unwrap();
    /// assert_eq!(r.schedules(), 10);
    /// ```
    pub fn sample<T: Debug + PartialEq, F: Fn() -> T>(
        &self,
        seed: u64,
        schedules: usize,
        model: F,
    ) -> Result<Report<T>, ExploreError> {
        let mut rng = SplitMix64::new(seed);
        self.sampled(format!("random, seed {seed}"), schedules, &model, |_| {
            Strategy::Random(SplitMix64::new(rng.next_u64()))
        })
    }

    /// Runs `schedules` PCT schedules of bug depth `depth` (random priorities and `depth - 1`
    /// priority changes; Burckhardt et al., ASPLOS 2010), reproducible from `seed`. PCT finds
    /// a bug that needs `depth` ordered events with a probability it guarantees, where random
    /// choices may need far more tries.
    ///
    /// ```
    /// let r = synclab::explore::Explorer::new().sample_pct(7, 10, 2, || ()).unwrap();
    /// assert_eq!(r.schedules(), 10);
    /// ```
    pub fn sample_pct<T: Debug + PartialEq, F: Fn() -> T>(
        &self,
        seed: u64,
        schedules: usize,
        depth: usize,
        model: F,
    ) -> Result<Report<T>, ExploreError> {
        let mut rng = SplitMix64::new(seed);
        let how = format!("PCT depth {depth}, seed {seed}");
        self.sampled(how, schedules, &model, |horizon| {
            let mut rng = SplitMix64::new(rng.next_u64());
            let change_at = (1..depth.max(1)).map(|_| rng.below(horizon)).collect();
            Strategy::Pct {
                rng,
                priority: Vec::new(),
                change_at,
            }
        })
    }

    fn sampled<T: Debug + PartialEq, F: Fn() -> T>(
        &self,
        how: String,
        schedules: usize,
        model: &F,
        mut strategy: impl FnMut(usize) -> Strategy,
    ) -> Result<Report<T>, ExploreError> {
        let mut report = Report::new(how);
        let mut horizon = 1; // the most choices one schedule has made so far
        for _ in 0..schedules {
            let ex = execute(Plan::new(strategy(horizon)), self.max_steps, model)?;
            horizon = horizon.max(ex.plan.decisions.len());
            report.add(ex.outcome, ex.schedule);
        }
        Ok(report)
    }

    /// Runs `model` once more along the schedule `key` (from [`Schedule::key`]).
    ///
    /// ```
    /// let (outcome, schedule) = synclab::explore::Explorer::new().replay("", || 1).unwrap();
    /// assert_eq!(outcome.returned(), Some(&1));
    /// assert_eq!(schedule.key(), "");
    /// ```
    pub fn replay<T: Debug, F: Fn() -> T>(
        &self,
        key: &str,
        model: F,
    ) -> Result<(Outcome<T>, Schedule), ExploreError> {
        let choices = parse_key(key)?;
        let strategy = Strategy::Prefix {
            choices,
            expected: Vec::new(),
            strict: true,
        };
        let ex = execute(Plan::new(strategy), self.max_steps, &model)?;
        Ok((ex.outcome, ex.schedule))
    }
}

/// Starts a model thread called `name` running `f`; only inside [`run`](super::run) (or a
/// sampling run or replay). The new thread does nothing until the explorer chooses it.
///
/// ```
/// use synclab::explore;
/// let report = explore::run(|| explore::spawn("t1", || 6 * 7).join()).unwrap();
/// assert_eq!(report.count(|o| o.returned() == Some(&42)), 1);
/// ```
pub fn spawn<R: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> R + Send + 'static,
) -> JoinHandle<R> {
    let (exec, me) = current().expect("explore::spawn outside explore::run");
    let slot = Arc::new(Mutex::new(None));
    let result = Arc::clone(&slot);
    let body = Box::new(move || {
        let r = f();
        *result.lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
    });
    let thread = exec.spawn(me, name.to_string(), body);
    JoinHandle { thread, slot }
}

/// Waits for a model thread started by [`spawn`] (Python's `t.join()`).
///
/// ```
/// use synclab::explore;
/// let report = explore::run(|| {
///     let t = explore::spawn("t1", || "hi");
///     t.join()
/// })
/// .unwrap();
/// assert_eq!(report.count(|o| o.returned() == Some(&"hi")), 1);
/// ```
#[derive(Debug)]
pub struct JoinHandle<R> {
    thread: usize,
    slot: Arc<Mutex<Option<R>>>,
}

impl<R> JoinHandle<R> {
    /// Waits until the thread has returned and gives its value. (If it panicked, the whole
    /// schedule ended there with [`Outcome::Panicked`], so `join` never sees a panic.)
    ///
    /// ```
    /// use synclab::explore;
    /// let r = explore::run(|| explore::spawn("t", || 1).join() + 1).unwrap();
    /// assert_eq!(r.count(|o| o.returned() == Some(&2)), 1);
    /// ```
    pub fn join(self) -> R {
        let (exec, me) = current().expect("JoinHandle::join outside explore::run");
        exec.point(me, Pending::Join(self.thread));
        let value = self
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        value.expect("a joined thread has stored its result")
    }
}
