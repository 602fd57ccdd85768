//! What the explorer found: outcomes, their histogram, and one schedule drawn as the notes'
//! table (one column per thread, one per shared variable, the lost updates marked).

use std::fmt::{self, Debug, Display, Write as _};

pub use super::outcome::Outcome;

/// One access to a shared variable, for the table's value columns and the lost-update mark.
pub(crate) struct Access {
    pub(crate) cell: String,
    pub(crate) read: bool,
    pub(crate) write: bool,
    pub(crate) before: String,
    pub(crate) after: String,
}

/// One step of a trace: which thread did what.
pub(crate) struct Step {
    pub(crate) thread: usize,
    pub(crate) text: String,
    pub(crate) access: Option<Access>,
}

/// One schedule: its replay key and its trace, printable as the notes' table.
///
/// ```
/// use synclab::explore::{self, Shared};
///
/// let report = explore::run(|| {
///     let x = Shared::new("x", 0);
///     let x1 = x.clone();
///     explore::spawn("t1", move || x1.store(1)).join();
///     x.peek()
/// })
/// .unwrap();
/// let schedule = report.find(|_| true).unwrap();
/// assert_eq!(schedule.key(), ""); // one thread at a time: no choice was made
/// assert!(schedule.table().contains("x = 1"));
/// ```
#[derive(Clone, Debug)]
pub struct Schedule {
    pub(super) key: String,
    pub(super) threads: Vec<String>,
    /// `(variable, value before the first step)`, in order of first access.
    pub(super) initial: Vec<(String, String)>,
    pub(super) rows: Vec<Row>,
    pub(super) outcome: String,
}

#[derive(Clone, Debug)]
pub(super) struct Row {
    pub(super) thread: usize,
    pub(super) text: String,
    /// `(cell, value after the step)`.
    pub(super) value: Option<(String, String)>,
    /// The lost-update mark, and the step whose write this one overwrote.
    pub(super) lost: Option<(String, usize)>,
}

impl Schedule {
    pub(crate) fn new(
        key: String,
        threads: Vec<String>,
        steps: Vec<Step>,
        outcome: String,
    ) -> Self {
        let mut rows: Vec<Row> = Vec::with_capacity(steps.len());
        // (thread, cell) -> index of that thread's last read of the cell
        let mut last_read: Vec<((usize, String), usize)> = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let mut lost = None;
            if let Some(a) = &step.access {
                let key = (step.thread, a.cell.clone());
                let read_at = last_read.iter().find(|(k, _)| *k == key).map(|p| p.1);
                if a.write && !a.read {
                    // A write based on an old read: did another thread write in between (and
                    // change the value: writing what was there loses nothing)?
                    let overwritten = read_at.and_then(|r| {
                        (r + 1..i).rev().find(|&j| {
                            let s = &steps[j];
                            s.thread != step.thread
                                && s.access.as_ref().is_some_and(|b| {
                                    b.write && b.cell == a.cell && b.before != b.after
                                })
                        })
                    });
                    lost = overwritten.map(|j| {
                        let by = &threads[steps[j].thread];
                        let v = &steps[j].access.as_ref().expect("a write").after;
                        let mark = format!("lost update: {by}'s {} = {v} is overwritten", a.cell);
                        (mark, j)
                    });
                }
                if a.read {
                    last_read.retain(|(k, _)| *k != key);
                    last_read.push((key, i));
                }
            }
            rows.push(Row {
                thread: step.thread,
                text: step.text.clone(),
                value: step
                    .access
                    .as_ref()
                    .map(|a| (a.cell.clone(), a.after.clone())),
                lost,
            });
        }
        // Each variable's column starts with the value its first access found.
        let mut initial: Vec<(String, String)> = Vec::new();
        for a in steps.iter().filter_map(|s| s.access.as_ref()) {
            if !initial.iter().any(|(c, _)| *c == a.cell) {
                initial.push((a.cell.clone(), a.before.clone()));
            }
        }
        Schedule {
            key,
            threads,
            initial,
            rows,
            outcome,
        }
    }

    /// The replay key: one character per choice, the number of the thread that went next
    /// (`0` main, `1` the first spawned thread, ...). [`replay`](super::replay) runs it again.
    ///
    /// ```
    /// use synclab::explore::{self, Shared};
    /// let report = explore::run(|| {
    ///     let x = Shared::new("x", 0);
    ///     let x1 = x.clone();
    ///     let t1 = explore::spawn("t1", move || x1.store(1));
    ///     x.store(2);
    ///     t1.join();
    ///     x.peek()
    /// })
    /// .unwrap();
    /// // one choice: main's store first (`0`, so t1 writes last) or t1's (`1`)
    /// let last = report.find(|o| o.returned() == Some(&1)).unwrap();
    /// assert_eq!(last.key(), "0");
    /// ```
    pub fn key(&self) -> &str {
        &self.key
    }

    /// How this schedule ended, in words.
    ///
    /// ```
    /// use synclab::explore;
    /// let report = explore::run(|| 42).unwrap();
    /// assert_eq!(report.find(|_| true).unwrap().outcome(), "returned 42");
    /// ```
    pub fn outcome(&self) -> &str {
        &self.outcome
    }

    /// How many of its writes overwrote another thread's write that the writer never read.
    ///
    /// ```
    /// use synclab::explore;
    /// let report = explore::run(|| ()).unwrap();
    /// assert_eq!(report.find(|_| true).unwrap().lost_updates(), 0);
    /// ```
    pub fn lost_updates(&self) -> usize {
        self.rows.iter().filter(|r| r.lost.is_some()).count()
    }

    /// The notes' table: a step per row, a column per thread and per shared variable (its
    /// value after the step), the lost updates marked, then the outcome.
    ///
    /// ```
    /// use synclab::explore::{self, Shared};
    /// let report = explore::run(|| {
    ///     let x = Shared::new("x", 0);
    ///     let x1 = x.clone();
    ///     explore::spawn("t1", move || x1.store(x1.load() + 1)).join();
    ///     x.peek()
    /// })
    /// .unwrap();
    /// let table = report.find(|_| true).unwrap().table();
    /// assert!(table.contains("reads x = 0"));
    /// assert!(table.ends_with("returned 1\n"));
    /// ```
    pub fn table(&self) -> String {
        let names = &self.threads;
        let cells: Vec<(&str, &str)> = self
            .initial
            .iter()
            .map(|(c, v)| (c.as_str(), v.as_str()))
            .collect();
        let used: Vec<usize> = (0..names.len())
            .filter(|&t| self.rows.iter().any(|r| r.thread == t))
            .collect();
        let mut values: Vec<String> = cells.iter().map(|c| c.1.to_string()).collect();
        let mut table: Vec<Vec<String>> = vec![];
        let mut header = vec!["step".to_string()];
        header.extend(used.iter().map(|&t| names[t].clone()));
        header.extend(cells.iter().map(|c| c.0.to_string()));
        table.push(header);
        for (i, row) in self.rows.iter().enumerate() {
            if let Some((cell, v)) = &row.value {
                if let Some(k) = cells.iter().position(|c| c.0 == cell) {
                    values[k] = v.clone();
                }
            }
            let mut line = vec![(i + 1).to_string()];
            line.extend(used.iter().map(|&t| {
                if t == row.thread {
                    row.text.clone()
                } else {
                    String::new()
                }
            }));
            line.extend(values.iter().cloned());
            line.push(
                row.lost
                    .as_ref()
                    .map_or(String::new(), |l| format!("<- {}", l.0)),
            );
            table.push(line);
        }
        let widths: Vec<usize> = (0..table[0].len())
            .map(|c| {
                table
                    .iter()
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        if !cells.is_empty() {
            let init: Vec<String> = cells.iter().map(|(c, v)| format!("{c} = {v}")).collect();
            let _ = writeln!(out, "initially {}", init.join(", "));
        }
        for line in &table {
            let mut text = String::new();
            for (c, cell) in line.iter().enumerate() {
                let w = widths.get(c).copied().unwrap_or(0);
                match c {
                    0 => text.push_str(&format!("{cell:>w$}")),
                    _ if c < widths.len() => text.push_str(&format!(" | {cell:<w$}")),
                    _ if !cell.is_empty() => text.push_str(&format!(" {cell}")),
                    _ => {}
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        let _ = writeln!(out, "outcome: {}", self.outcome);
        out
    }
}

/// One distinct outcome, how many schedules ended there, and the first of them.
#[derive(Clone, Debug)]
struct Class<T> {
    outcome: Outcome<T>,
    count: usize,
    first: Schedule,
}

/// What [`run`](super::run) (or a sampling run) found: every outcome, how many schedules ended
/// there, and the first schedule of each.
///
/// ```
/// use synclab::explore;
/// let report = explore::run(|| 1 + 1).unwrap();
/// assert_eq!(report.schedules(), 1);
/// assert_eq!(report.count(|o| o.returned() == Some(&2)), 1);
/// ```
#[derive(Clone, Debug)]
pub struct Report<T> {
    how: String,
    schedules: usize,
    classes: Vec<Class<T>>,
}

impl<T: Debug + PartialEq> Report<T> {
    pub(crate) fn new(how: String) -> Self {
        Report {
            how,
            schedules: 0,
            classes: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, outcome: Outcome<T>, schedule: Schedule) {
        self.schedules += 1;
        match self.classes.iter_mut().find(|c| c.outcome == outcome) {
            Some(c) => c.count += 1,
            None => self.classes.push(Class {
                outcome,
                count: 1,
                first: schedule,
            }),
        }
    }

    /// How many schedules were run.
    ///
    /// ```
    /// assert_eq!(synclab::explore::run(|| ()).unwrap().schedules(), 1);
    /// ```
    pub fn schedules(&self) -> usize {
        self.schedules
    }

    /// Each distinct outcome with its number of schedules, in the order they were found.
    ///
    /// ```
    /// let report = synclab::explore::run(|| 'x').unwrap();
    /// let all: Vec<_> = report.outcomes().collect();
    /// assert_eq!(all, [(&synclab::explore::Outcome::Returned('x'), 1)]);
    /// ```
    pub fn outcomes(&self) -> impl Iterator<Item = (&Outcome<T>, usize)> {
        self.classes.iter().map(|c| (&c.outcome, c.count))
    }

    /// How many schedules ended with an outcome for which `pred` is true.
    ///
    /// ```
    /// let report = synclab::explore::run(|| 3).unwrap();
    /// assert_eq!(report.count(|o| o.returned() != Some(&3)), 0);
    /// ```
    pub fn count(&self, pred: impl Fn(&Outcome<T>) -> bool) -> usize {
        self.classes
            .iter()
            .filter(|c| pred(&c.outcome))
            .map(|c| c.count)
            .sum()
    }

    /// The first schedule (in the order they were run) whose outcome satisfies `pred`.
    ///
    /// ```
    /// let report = synclab::explore::run(|| 3).unwrap();
    /// assert!(report.find(|o| o.returned() == Some(&4)).is_none());
    /// ```
    pub fn find(&self, pred: impl Fn(&Outcome<T>) -> bool) -> Option<&Schedule> {
        // The first matching schedule is the first of its class, so the classes suffice.
        self.classes
            .iter()
            .find(|c| pred(&c.outcome))
            .map(|c| &c.first)
    }

    /// The outcome histogram, one line per outcome (also what `Display` prints).
    ///
    /// ```
    /// let report = synclab::explore::run(|| 3).unwrap();
    /// assert!(report.histogram().contains("returned 3"));
    /// ```
    pub fn histogram(&self) -> String {
        let mut out = format!("{} schedules ({})\n", self.schedules, self.how);
        let width = self
            .classes
            .iter()
            .map(|c| c.outcome.to_string().len())
            .max();
        for c in &self.classes {
            let bar = "#".repeat((c.count * 40).div_ceil(self.schedules.max(1)));
            let _ = writeln!(
                out,
                "  {:<w$}  {:>6}  {bar}",
                c.outcome.to_string(),
                c.count,
                w = width.unwrap_or(0)
            );
        }
        out
    }
}

impl<T: Debug + PartialEq> Display for Report<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.histogram())
    }
}
