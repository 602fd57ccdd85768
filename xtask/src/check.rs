//! `cargo xtask check`: run the exercises' tests against the learner's code.
//!
//! Each exercise is its own test target, so one stub that does not compile yet fails only its
//! own exercise. `--verify-stubs` is the CI direction: every unsolved stub must fail, and *no
//! single test* may pass against a stub (a test that passes on a `todo!()` checks nothing).

use std::process::Command;

use crate::exercises::{self, Exercise};
use crate::{Result, root};

/// The outcome of running one exercise's tests.
struct Outcome {
    passed: bool,
    /// Names of the tests that printed `... ok`.
    ok_tests: Vec<String>,
    output: String,
}

fn run_exercise(ex: &Exercise, learner: bool) -> Result<Outcome> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root())
        .args(["test", "-p", "synclab-exercises", "--test", &ex.name]);
    if learner {
        cmd.args(["--features", "learner"]);
    }
    cmd.args(["--", "--color", "never"]);
    let out = cmd
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let ok_tests = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test ")?.strip_suffix(" ... ok"))
        .map(str::to_owned)
        .collect();
    Ok(Outcome {
        passed: out.status.success(),
        ok_tests,
        output: format!("{stderr}{stdout}"),
    })
}

/// The first paragraph of a hint, and whether more follows.
fn first_hint(hint: &str) -> (&str, bool) {
    let hint = hint.trim();
    match hint.split_once("\n\n") {
        Some((first, _)) => (first, true),
        None => (hint, false),
    }
}

pub fn run(args: &[String]) -> Result {
    let root = root();
    let all = exercises::load(&root)?;
    let problems = exercises::verify(&root, &all);
    if !problems.is_empty() {
        return Err(format!(
            "the exercises break the workbook's rules:\n  {}",
            problems.join("\n  ")
        ));
    }
    let solutions = args.iter().any(|a| a == "--solutions");
    if args.iter().any(|a| a == "--verify-stubs") {
        return verify_stubs(&all);
    }
    let wanted: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    if let Some(name) = wanted.first() {
        let ex = all
            .iter()
            .find(|e| &e.name == *name)
            .ok_or_else(|| format!("no exercise named `{name}`; see exercises/info.toml"))?;
        return check_one(ex, !solutions, true);
    }

    let mut done = 0;
    for (i, ex) in all.iter().enumerate() {
        let outcome = run_exercise(ex, !solutions)?;
        if outcome.passed {
            done += 1;
            println!("  ok      {:<28} ({})", ex.name, ex.path);
        } else {
            println!("  FAILED  {:<28} ({})", ex.name, ex.path);
            let (hint, more) = first_hint(&ex.hint);
            for line in hint.lines() {
                println!("          hint: {line}");
            }
            if more {
                println!(
                    "          (more hints: `cargo xtask check {}` shows them all)",
                    ex.name
                );
            }
        }
        println!("  progress: {done}/{} after {} checked", all.len(), i + 1);
    }
    println!("\n{done} of {} exercises pass.", all.len());
    if done == all.len() {
        println!("All done: every exercise passes.");
    }
    Ok(())
}

/// One exercise, with its full test output and every hint.
fn check_one(ex: &Exercise, learner: bool, verbose: bool) -> Result {
    let outcome = run_exercise(ex, learner)?;
    if verbose {
        println!("{}", outcome.output);
    }
    if outcome.passed {
        println!("ok: exercise `{}` passes.", ex.name);
        Ok(())
    } else {
        println!("exercise `{}` does not pass yet. Hints:\n", ex.name);
        for (i, para) in ex.hint.trim().split("\n\n").enumerate() {
            println!("{}. {}\n", i + 1, para.trim());
        }
        Err(format!(
            "exercise `{}` failed (edit exercises/{})",
            ex.name, ex.path
        ))
    }
}

/// CI: every stub fails, and none of its tests passes.
fn verify_stubs(all: &[Exercise]) -> Result {
    let mut bad = Vec::new();
    for ex in all {
        let stub = run_exercise(ex, true)?;
        let solution = run_exercise(ex, false)?;
        let verdict = if stub.passed {
            bad.push(format!("{}: the unsolved stub PASSES its tests", ex.name));
            "STUB PASSES"
        } else if !stub.ok_tests.is_empty() {
            bad.push(format!(
                "{}: these tests pass against the unsolved stub: {}",
                ex.name,
                stub.ok_tests.join(", ")
            ));
            "A TEST PASSES ON THE STUB"
        } else if !solution.passed {
            bad.push(format!(
                "{}: the reference solution fails:\n{}",
                ex.name, solution.output
            ));
            "SOLUTION FAILS"
        } else {
            "ok (stub fails every test, solution passes)"
        };
        println!("  {:<28} {verdict}", ex.name);
    }
    if bad.is_empty() {
        println!(
            "{} exercises: every stub fails, every solution passes.",
            all.len()
        );
        Ok(())
    } else {
        Err(bad.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::first_hint;

    #[test]
    fn first_hint_is_the_first_paragraph() {
        assert_eq!(first_hint("a\nb\n\nc"), ("a\nb", true));
        assert_eq!(first_hint("  only  "), ("only", false));
    }
}
