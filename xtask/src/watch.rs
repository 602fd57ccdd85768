//! `cargo xtask watch [NAME]`: the rustlings way of working. Checks the current exercise (NAME,
//! or the first that has not passed yet), then again each time its file is saved, and reads
//! one-letter commands from the terminal: `h` the next hint, `n` the next exercise (once this
//! one passes), `l` the list, `r` reset the file to its committed version, `s` the reference
//! solution (once this one passes), `c` check again, `q` quit.
//!
//! Saves are seen through the `notify` crate (inotify on Linux), not by polling. The watcher
//! covers `exercises/`, so an editor that saves by writing a new file and renaming it over the
//! old one is seen too.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use notify::{EventKind, RecursiveMode, Watcher};

use crate::check::{self, run_exercise};
use crate::exercises::Exercise;
use crate::progress::{self, Progress};
use crate::{Result, root};

/// What wakes the loop up.
enum Input {
    /// A file under `exercises/` was written.
    Changed(PathBuf),
    /// A line typed on the terminal.
    Key(String),
    /// The terminal closed (end of input).
    Closed,
}

/// Whether `changed` is the stub of `ex`.
fn is_stub(changed: &Path, ex: &Exercise) -> bool {
    changed.ends_with(Path::new("exercises").join(&ex.path))
}

/// The exercise after `current` that has not passed yet, in reading order, wrapping round.
fn next_unpassed<'a>(
    all: &'a [Exercise],
    progress: &Progress,
    current: &Exercise,
) -> Option<&'a Exercise> {
    let at = all.iter().position(|e| e.name == current.name).unwrap_or(0);
    all.iter()
        .cycle()
        .skip(at + 1)
        .take(all.len())
        .find(|e| !progress.get(&e.name).passed)
}

fn menu(passed: bool) {
    if passed {
        println!(
            "[h]int  [n]ext exercise  [s]olution  [l]ist  [r]eset  [c]heck again  [q]uit  (then Enter)"
        );
    } else {
        println!(
            "save the file to check again, or: [h]int  [l]ist  [r]eset  [c]heck again  [q]uit  (then Enter)"
        );
    }
}

/// Checks `ex`, prints the outcome and the progress, remembers it; returns whether it passed.
fn check_and_show(
    root: &Path,
    all: &[Exercise],
    ex: &Exercise,
    progress: &mut Progress,
) -> Result<bool> {
    println!("\n--- checking `{}` (exercises/{}) ...", ex.name, ex.path);
    let outcome = run_exercise(root, ex, true)?;
    progress.set_passed(&ex.name, outcome.passed);
    if outcome.passed {
        println!("ok: exercise `{}` passes.", ex.name);
    } else {
        println!("{}", outcome.output.trim_end());
        println!("\nexercise `{}` does not pass yet.", ex.name);
        let n = progress.current_hint(&ex.name, progress::hints(ex).len());
        progress::print_hint(ex, n, "", progress::NextHint::Key);
    }
    progress.save()?;
    println!(
        "progress: {}/{} exercises pass",
        progress.passed(all),
        all.len()
    );
    menu(outcome.passed);
    Ok(outcome.passed)
}

/// `cargo xtask watch [NAME]`.
pub fn run(args: &[String]) -> Result {
    let root = root()
        .canonicalize()
        .map_err(|e| format!("the repository root: {e}"))?;
    let all = check::catalogue(&root)?;
    let mut progress = Progress::load(&root);
    let mut current = match args.iter().find(|a| !a.starts_with("--")) {
        Some(name) => check::find(&all, name)?,
        None => match progress.current(&all) {
            Some(ex) => ex,
            None => {
                println!("every exercise has passed. `cargo xtask watch NAME` watches one anyway.");
                return Ok(());
            }
        },
    };

    let (tx, rx) = mpsc::channel();
    let files = tx.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res
            && matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_))
        {
            for path in event.paths {
                let _ = files.send(Input::Changed(path));
            }
        }
    })
    .map_err(|e| format!("cannot watch files: {e}"))?;
    watcher
        .watch(&root.join("exercises"), RecursiveMode::Recursive)
        .map_err(|e| format!("cannot watch exercises/: {e}"))?;
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(Input::Key(line)).is_err() {
                return;
            }
        }
        let _ = tx.send(Input::Closed);
    });

    let mut passed = check_and_show(&root, &all, current, &mut progress)?;
    let mut pending = std::collections::VecDeque::new();
    let mut confirm_reset = false;
    loop {
        let input = match pending.pop_front() {
            Some(input) => input,
            None => rx.recv().map_err(|_| "the watcher stopped".to_string())?,
        };
        let mut recheck = false;
        match input {
            Input::Changed(path) => recheck = is_stub(&path, current),
            Input::Closed => return Ok(()),
            Input::Key(key) => {
                let key = key.trim().to_lowercase();
                if std::mem::take(&mut confirm_reset) {
                    if key == "y" {
                        reset(&root, current)?;
                        recheck = true;
                    } else {
                        println!("not reset.");
                    }
                    if !recheck {
                        menu(passed);
                    }
                } else {
                    match key.as_str() {
                        "q" => return Ok(()),
                        "c" => recheck = true,
                        "h" => {
                            let n =
                                progress.next_hint(&current.name, progress::hints(current).len());
                            progress::print_hint(current, n, "", progress::NextHint::Key);
                            progress.save()?;
                            menu(passed);
                        }
                        "l" => {
                            for ex in &all {
                                let mark = if progress.get(&ex.name).passed {
                                    "ok  "
                                } else {
                                    "    "
                                };
                                let here = if ex.name == current.name {
                                    "  <- current"
                                } else {
                                    ""
                                };
                                println!("  {mark} {:<28} {}{here}", ex.name, ex.path);
                            }
                            menu(passed);
                        }
                        "r" => {
                            println!(
                                "reset exercises/{} to its committed version, losing your edits since? [y/N]",
                                current.path
                            );
                            confirm_reset = true;
                        }
                        "s" if passed => {
                            let path = root.join("exercises/solutions").join(&current.path);
                            let text = std::fs::read_to_string(&path)
                                .map_err(|e| format!("{}: {e}", path.display()))?;
                            println!(
                                "--- the reference solution, exercises/solutions/{}:\n{text}",
                                current.path
                            );
                            menu(passed);
                        }
                        "n" if passed => match next_unpassed(&all, &progress, current) {
                            Some(next) => {
                                current = next;
                                recheck = true;
                            }
                            None => {
                                println!("All done: every exercise passes.");
                                return Ok(());
                            }
                        },
                        "s" | "n" => {
                            println!(
                                "`{}` does not pass yet: that comes once it does.",
                                current.name
                            );
                            menu(passed);
                        }
                        _ => menu(passed),
                    }
                }
            }
        }
        if recheck {
            passed = check_and_show(&root, &all, current, &mut progress)?;
            // The saves that arrived while the tests ran are seen by this check already; keep
            // what was typed.
            while let Ok(input) = rx.try_recv() {
                if !matches!(input, Input::Changed(_)) {
                    pending.push_back(input);
                }
            }
        }
    }
}

/// Puts the committed version of the stub back (`git checkout HEAD -- <stub>`).
fn reset(root: &Path, ex: &Exercise) -> Result {
    let stub = format!("exercises/{}", ex.path);
    let status = std::process::Command::new("git")
        .current_dir(root)
        .args(["checkout", "HEAD", "--", &stub])
        .status()
        .map_err(|e| format!("could not run git: {e}"))?;
    if status.success() {
        println!("{stub} is back to its committed version.");
        Ok(())
    } else {
        Err(format!("git could not reset {stub}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(name: &str) -> Exercise {
        Exercise {
            name: name.into(),
            path: format!("part2/{name}.rs"),
            chapter: "part2/lock".into(),
            hint: "h".into(),
            mutants: Vec::new(),
        }
    }

    #[test]
    fn only_the_current_stub_triggers_a_check() {
        let spin = ex("spin");
        assert!(is_stub(Path::new("/r/exercises/part2/spin.rs"), &spin));
        assert!(!is_stub(
            Path::new("/r/exercises/solutions/part2/spin.rs"),
            &spin
        ));
        assert!(!is_stub(Path::new("/r/exercises/part2/spin.rs~"), &spin));
        assert!(!is_stub(Path::new("/r/exercises/part2/lock.rs"), &spin));
    }

    #[test]
    fn next_skips_what_passed_and_wraps_round() {
        let all = [ex("a"), ex("b"), ex("c")];
        let dir = std::env::temp_dir().join(format!("xtask-watch-{}", std::process::id()));
        let mut p = Progress::load(&dir);
        p.set_passed("b", true);
        assert_eq!(
            next_unpassed(&all, &p, &all[0]).map(|e| &*e.name),
            Some("c")
        );
        assert_eq!(
            next_unpassed(&all, &p, &all[2]).map(|e| &*e.name),
            Some("a")
        );
        p.set_passed("a", true);
        p.set_passed("c", true);
        assert!(next_unpassed(&all, &p, &all[0]).is_none());
    }
}
