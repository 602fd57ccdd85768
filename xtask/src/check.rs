//! `cargo xtask check` and `cargo xtask hint`: run the exercises' tests against the learner's
//! code, one hint at a time.
//!
//! Each exercise is its own test target, so one stub that does not compile yet fails only its
//! own exercise. The learner's runs apply only the rules a learner cannot break by editing a
//! stub (`exercises::verify_catalogue`): a solved stub has no `todo!()` left, and that is the
//! point. `--verify-stubs` is the authors' and CI's direction: the stub rules as well, every
//! unsolved stub must fail, and *no single test* may pass against a stub (a test that passes on
//! a `todo!()` checks nothing).

use std::path::Path;
use std::process::Command;

use crate::exercises::{self, Exercise};
use crate::progress::{self, Progress};
use crate::{Result, root};

/// The outcome of running one exercise's tests.
pub struct Outcome {
    /// Whether every test passed (and the code compiled).
    pub passed: bool,
    /// Names of the tests that printed `... ok`.
    pub ok_tests: Vec<String>,
    /// What cargo and the tests printed.
    pub output: String,
}

/// Runs the tests of `ex` against the learner's stub (`learner`) or the reference solution.
pub fn run_exercise(root: &Path, ex: &Exercise, learner: bool) -> Result<Outcome> {
    run_exercise_in(root, ex, learner, false)
}

/// The seconds the watchdog of `common::guarded` gives a test when a wrong solution runs: it
/// is expected to hang there, and every right one finishes in well under a second.
const MUTANT_WATCHDOG_SECS: &str = "5";

/// [`run_exercise`], natively or (`miri`) under Miri, which reports the data races that the
/// wrong orderings allow even on x86, where the native run passes with `Relaxed` everywhere.
fn run_exercise_in(root: &Path, ex: &Exercise, learner: bool, miri: bool) -> Result<Outcome> {
    run_tests(&mut test_command(root, ex, learner, miri), miri)
}

/// The `cargo test` (or `cargo miri test`) command line of one exercise.
fn test_command(root: &Path, ex: &Exercise, learner: bool, miri: bool) -> Command {
    let mut cmd = if miri {
        // `rustup run`, because the `cargo` that runs xtask is the stable toolchain's own
        // binary, which does not understand `+nightly`. Miri gets its own target directory:
        // its builds and the native ones must not overwrite each other.
        let mut cmd = Command::new("rustup");
        cmd.args(["run", "nightly", "cargo", "miri"])
            .env("MIRIFLAGS", "-Zmiri-strict-provenance")
            .env("CARGO_TARGET_DIR", root.join("target/miri"));
        cmd
    } else {
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
    };
    cmd.current_dir(root)
        .args(["test", "-p", "synclab-exercises", "--test", &ex.name]);
    if learner {
        cmd.args(["--features", "learner"]);
    }
    cmd.args(["--", "--color", "never"]);
    cmd
}

/// Runs a test command and reads which tests passed.
fn run_tests(cmd: &mut Command, miri: bool) -> Result<Outcome> {
    let out = cmd.output().map_err(|e| {
        if miri {
            format!("could not run `rustup run nightly cargo miri` ({e}): Miri needs rustup's nightly toolchain with the miri component")
        } else {
            format!("could not run cargo: {e}")
        }
    })?;
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

/// The catalogue, checked with the rules a learner's edits cannot break.
pub fn catalogue(root: &Path) -> Result<Vec<Exercise>> {
    let all = exercises::load(root)?;
    let problems = exercises::verify_catalogue(root, &all);
    if !problems.is_empty() {
        return Err(format!(
            "the exercise catalogue breaks the workbook's rules:\n  {}",
            problems.join("\n  ")
        ));
    }
    Ok(all)
}

/// Finds an exercise by name.
pub fn find<'a>(all: &'a [Exercise], name: &str) -> Result<&'a Exercise> {
    all.iter()
        .find(|e| e.name == name)
        .ok_or_else(|| format!("no exercise named `{name}`; see exercises/info.toml"))
}

/// `cargo xtask check [NAME] [--solutions] [--miri]`, `cargo xtask check --verify-stubs [NAME...]`.
pub fn run(args: &[String]) -> Result {
    let root = root();
    let all = catalogue(&root)?;
    let wanted: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    if args.iter().any(|a| a == "--verify-stubs") {
        if wanted.is_empty() {
            return verify_stubs(&root, &all);
        }
        let some = wanted
            .iter()
            .map(|name| find(&all, name).cloned())
            .collect::<Result<Vec<_>>>()?;
        return verify_stubs(&root, &some);
    }
    let learner = !args.iter().any(|a| a == "--solutions");
    let mut progress = Progress::load(&root);
    if let Some(name) = wanted.first() {
        let ex = find(&all, name)?;
        let miri = args.iter().any(|a| a == "--miri");
        return check_one(&root, ex, learner, miri, &mut progress);
    }

    let mut done = 0;
    for (i, ex) in all.iter().enumerate() {
        let outcome = run_exercise(&root, ex, learner)?;
        if learner {
            progress.set_passed(&ex.name, outcome.passed);
        }
        if outcome.passed {
            done += 1;
            println!("  ok      {:<28} ({})", ex.name, ex.path);
        } else {
            println!("  FAILED  {:<28} ({})", ex.name, ex.path);
            if learner {
                let n = progress.current_hint(&ex.name, progress::hints(ex).len());
                progress::print_hint(ex, n, "          ", progress::NextHint::Command);
            }
        }
        println!("  progress: {done}/{} after {} checked", all.len(), i + 1);
    }
    if learner {
        progress.save()?;
    }
    println!("\n{done} of {} exercises pass.", all.len());
    if done == all.len() {
        println!("All done: every exercise passes.");
        Ok(())
    } else {
        // Non-zero, like every checker, so that `cargo xtask check && git commit` stops here.
        Err(format!(
            "{} of {} exercises do not pass yet",
            all.len() - done,
            all.len()
        ))
    }
}

/// One exercise, with its full test output and the current hint.
fn check_one(
    root: &Path,
    ex: &Exercise,
    learner: bool,
    miri: bool,
    progress: &mut Progress,
) -> Result {
    let outcome = run_exercise_in(root, ex, learner, miri)?;
    println!("{}", outcome.output);
    if learner {
        progress.set_passed(&ex.name, outcome.passed);
    }
    let result = if outcome.passed {
        println!("ok: exercise `{}` passes.", ex.name);
        Ok(())
    } else {
        println!("exercise `{}` does not pass yet.", ex.name);
        if learner {
            let n = progress.current_hint(&ex.name, progress::hints(ex).len());
            progress::print_hint(ex, n, "", progress::NextHint::Command);
        }
        Err(format!(
            "exercise `{}` failed (edit exercises/{})",
            ex.name, ex.path
        ))
    };
    if learner {
        progress.save()?;
    }
    result
}

/// `cargo xtask hint [NAME]`: the next hint of NAME (default: the first exercise that has not
/// passed yet).
pub fn hint(args: &[String]) -> Result {
    let root = root();
    let all = catalogue(&root)?;
    let mut progress = Progress::load(&root);
    let ex = match args.iter().find(|a| !a.starts_with("--")) {
        Some(name) => find(&all, name)?,
        None => progress
            .current(&all)
            .ok_or("every exercise has passed: no hint needed (name one to see its hints)")?,
    };
    let n = progress.next_hint(&ex.name, progress::hints(ex).len());
    println!("exercise `{}` (exercises/{}):", ex.name, ex.path);
    progress::print_hint(ex, n, "", progress::NextHint::Command);
    progress.save()
}

/// How many times a wrong solution is run before it counts as not caught: some mistakes only
/// show when two threads meet in a window of a few nanoseconds.
const MUTANT_RUNS: usize = 3;

/// Puts the reference solution back when dropped, even if a run fails or panics.
struct Restore<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        if let Err(e) = std::fs::write(self.path, self.text) {
            eprintln!("could not restore {}: {e}", self.path.display());
        }
    }
}

/// Runs the tests against the reference solution with `mutant`'s mistake written into it (then
/// puts the solution back): `Ok(Ok(()))` when a test fails, as it must.
fn run_mutant(root: &Path, ex: &Exercise, mutant: &exercises::Mutant) -> Result<Result> {
    let path = root.join("exercises/solutions").join(&ex.path);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let wrong = match mutant.apply(&text) {
        Ok(wrong) => wrong,
        Err(problem) => return Ok(Err(problem)),
    };
    let _restore = Restore {
        path: &path,
        text: &text,
    };
    std::fs::write(&path, wrong).map_err(|e| format!("{}: {e}", path.display()))?;
    for _ in 0..MUTANT_RUNS {
        let outcome = run_tests(
            test_command(root, ex, false, false).env("SYNCLAB_WATCHDOG_SECS", MUTANT_WATCHDOG_SECS),
            false,
        )?;
        if outcome.output.contains("could not compile") {
            return Ok(Err(format!(
                "the wrong solution `{}` does not compile, so it proves nothing:\n{}",
                mutant.why, outcome.output
            )));
        }
        if !outcome.passed {
            return Ok(Ok(()));
        }
    }
    Ok(Err(format!(
        "the wrong solution `{}` passes every test ({MUTANT_RUNS} runs)",
        mutant.why
    )))
}

/// CI: the stub rules hold, every stub fails, none of its tests passes, and every listed wrong
/// solution is caught by a test.
fn verify_stubs(root: &Path, all: &[Exercise]) -> Result {
    let problems = exercises::verify_stubs(root, all, exercises::stub_in_tree(root));
    if !problems.is_empty() {
        return Err(format!(
            "the stubs break the workbook's authoring rules:\n  {}",
            problems.join("\n  ")
        ));
    }
    let mut bad = Vec::new();
    for ex in all {
        let stub = run_exercise(root, ex, true)?;
        let solution = run_exercise(root, ex, false)?;
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
        for mutant in &ex.mutants {
            let verdict = match run_mutant(root, ex, mutant)? {
                Ok(()) => "caught".to_string(),
                Err(problem) => {
                    bad.push(format!("{}: {problem}", ex.name));
                    "NOT CAUGHT".to_string()
                }
            };
            println!("    wrong solution: {:<56} {verdict}", mutant.why);
        }
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
