//! The learner's progress, kept between runs in `target/xtask/progress` (under `target/`, so
//! git ignores it and `cargo clean` forgets it): per exercise, how many hints were shown and
//! whether it passed the last time it was checked.
//!
//! One line per exercise: `<name> <hints shown> <passed: 0 or 1>`. A line that does not parse
//! is skipped (the file is a cache of what the learner did, not a source of truth).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::Result;
use crate::exercises::Exercise;

/// What the checker remembers of one exercise.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Hints shown so far (0: none yet).
    pub hints_shown: usize,
    /// Whether the last check of it passed.
    pub passed: bool,
}

/// Every exercise's [`Entry`], and where they are stored.
#[derive(Debug)]
pub struct Progress {
    path: PathBuf,
    entries: BTreeMap<String, Entry>,
}

/// The hints of an exercise, one per paragraph, in the order they are shown.
pub fn hints(ex: &Exercise) -> Vec<&str> {
    ex.hint
        .trim()
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

impl Progress {
    /// Reads `<root>/target/xtask/progress`; a missing file is a fresh start.
    pub fn load(root: &Path) -> Progress {
        let path = root.join("target/xtask/progress");
        let text = fs::read_to_string(&path).unwrap_or_default();
        let entries = text
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                let name = words.next()?.to_string();
                let hints_shown = words.next()?.parse().ok()?;
                let passed = words.next()? == "1";
                Some((
                    name,
                    Entry {
                        hints_shown,
                        passed,
                    },
                ))
            })
            .collect();
        Progress { path, entries }
    }

    /// Writes the file back.
    pub fn save(&self) -> Result {
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let text: String = self
            .entries
            .iter()
            .map(|(name, e)| format!("{name} {} {}\n", e.hints_shown, u8::from(e.passed)))
            .collect();
        fs::write(&self.path, text).map_err(|e| format!("{}: {e}", self.path.display()))
    }

    /// What is remembered of `name` (nothing yet: the default).
    pub fn get(&self, name: &str) -> Entry {
        self.entries.get(name).copied().unwrap_or_default()
    }

    /// Records the outcome of a check.
    pub fn set_passed(&mut self, name: &str, passed: bool) {
        self.entries.entry(name.to_string()).or_default().passed = passed;
    }

    /// The hint to show after a failed check: the latest one shown, or the first if none was.
    /// Returns its number, from 1 (0 only for an exercise with no hint).
    pub fn current_hint(&mut self, name: &str, total: usize) -> usize {
        let e = self.entries.entry(name.to_string()).or_default();
        e.hints_shown = e.hints_shown.clamp(1, total.max(1)).min(total);
        e.hints_shown
    }

    /// Reveals the next hint (`cargo xtask hint`); stays on the last one when all were shown.
    /// Returns its number, from 1 (0 only for an exercise with no hint).
    pub fn next_hint(&mut self, name: &str, total: usize) -> usize {
        let e = self.entries.entry(name.to_string()).or_default();
        e.hints_shown = (e.hints_shown + 1).min(total);
        e.hints_shown
    }

    /// The first exercise, in reading order, that has not passed yet.
    pub fn current<'a>(&self, all: &'a [Exercise]) -> Option<&'a Exercise> {
        all.iter().find(|ex| !self.get(&ex.name).passed)
    }

    /// How many exercises passed the last time they were checked.
    pub fn passed(&self, all: &[Exercise]) -> usize {
        all.iter().filter(|ex| self.get(&ex.name).passed).count()
    }
}

/// Prints hint number `n` of `ex` (from 1), and says how to see the next or where the answer
/// is.
/// How the learner asks for the next hint where the hint is printed: `cargo xtask hint NAME`
/// from a shell, or the `h` key inside `cargo xtask watch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHint {
    Command,
    Key,
}

pub fn print_hint(ex: &Exercise, n: usize, indent: &str, next: NextHint) {
    let all = hints(ex);
    let Some(text) = n.checked_sub(1).and_then(|i| all.get(i)) else {
        return;
    };
    println!("{indent}hint {n} of {}:", all.len());
    for line in text.lines() {
        println!("{indent}  {line}");
    }
    if n < all.len() {
        match next {
            NextHint::Command => println!("{indent}(next hint: `cargo xtask hint {}`)", ex.name),
            NextHint::Key => println!("{indent}(next hint: `h`, then Enter)"),
        }
    } else {
        println!(
            "{indent}(that was the last hint; the reference solution is exercises/solutions/{})",
            ex.path
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(hint: &str) -> Exercise {
        Exercise {
            name: "spin".into(),
            path: "part2/spin.rs".into(),
            chapter: "part2/lock".into(),
            hint: hint.into(),
            mutants: Vec::new(),
        }
    }

    #[test]
    fn hints_are_the_paragraphs() {
        assert_eq!(hints(&ex("a\nb\n\nc\n\n\n d ")), ["a\nb", "c", "d"]);
        assert_eq!(hints(&ex("  only  ")), ["only"]);
    }

    #[test]
    fn hints_are_revealed_one_at_a_time_and_survive_a_reload() {
        let dir = std::env::temp_dir().join(format!("xtask-progress-{}", std::process::id()));
        let mut p = Progress::load(&dir);
        assert_eq!(p.get("spin"), Entry::default());
        // A failed check shows the first hint, and keeps showing it.
        assert_eq!(p.current_hint("spin", 3), 1);
        assert_eq!(p.current_hint("spin", 3), 1);
        // `hint` reveals the next ones, and stays on the last.
        assert_eq!(p.next_hint("spin", 3), 2);
        assert_eq!(p.current_hint("spin", 3), 2);
        assert_eq!(p.next_hint("spin", 3), 3);
        assert_eq!(p.next_hint("spin", 3), 3);
        p.set_passed("spin", true);
        p.save().unwrap();
        let again = Progress::load(&dir);
        assert_eq!(
            again.get("spin"),
            Entry {
                hints_shown: 3,
                passed: true
            }
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_line_is_skipped() {
        let dir = std::env::temp_dir().join(format!("xtask-progress-bad-{}", std::process::id()));
        fs::create_dir_all(dir.join("target/xtask")).unwrap();
        fs::write(dir.join("target/xtask/progress"), "spin x 1\nlock 2 1\n").unwrap();
        let p = Progress::load(&dir);
        assert_eq!(p.get("spin"), Entry::default());
        assert_eq!(p.get("lock").hints_shown, 2);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn current_is_the_first_that_has_not_passed() {
        let dir = std::env::temp_dir().join(format!("xtask-progress-cur-{}", std::process::id()));
        let mut p = Progress::load(&dir);
        let mut a = ex("h");
        a.name = "a".into();
        let mut b = ex("h");
        b.name = "b".into();
        let all = [a, b];
        assert_eq!(p.current(&all).map(|e| e.name.as_str()), Some("a"));
        p.set_passed("a", true);
        assert_eq!(p.current(&all).map(|e| e.name.as_str()), Some("b"));
        assert_eq!(p.passed(&all), 1);
        p.set_passed("b", true);
        assert!(p.current(&all).is_none());
    }
}
