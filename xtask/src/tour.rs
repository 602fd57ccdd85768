//! `cargo xtask tour`: run every Part I scenario on this machine and put what the notes say
//! happens in Python beside what happened here.
//!
//! Each scenario program under `examples/` ends by printing lines of the form
//! `TOUR|<scenario>|<what the notes say happens in Python>|<what happened here>`; the tour
//! collects them. With `--python` it also runs the notes' own snippets (`book/python/*.py`) with
//! `python3`, timed, and shows their figures beside ours; and again under a free-threaded
//! CPython (`python3.14t`, `python3.13t`) when one is on the PATH, beside the GIL build's.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::{Result, root};

/// Scenario programs in the order of Part I; any other example that prints `TOUR|` lines runs
/// after them.
const ORDER: &[&str] = &[
    "io_bound",
    "gui_responsive",
    "countdown",
    "bank",
    "bank_interleaving",
    "explore_bank",
    "queue_workers",
    "mp_queue",
    "pool",
    "mp_pool",
    "fork_deadlock",
    "primitives_at_work",
    "mp_throughput",
];

/// One row of the tour's table.
#[derive(Debug, PartialEq)]
struct Row {
    scenario: String,
    python: String,
    here: String,
}

fn parse_rows(stdout: &str) -> Vec<Row> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("TOUR|"))
        .filter_map(|l| {
            let mut f = l.splitn(3, '|');
            Some(Row {
                scenario: f.next()?.trim().to_string(),
                python: f.next()?.trim().to_string(),
                here: f.next()?.trim().to_string(),
            })
        })
        .collect()
}

/// The scenario programs present: `ORDER` first, then any other example printing TOUR lines.
fn scenarios(root: &Path) -> Vec<String> {
    let mut found: Vec<String> = fs::read_dir(root.join("examples"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let stem = name.strip_suffix(".rs")?.to_string();
                    let text = fs::read_to_string(e.path()).ok()?;
                    text.contains("TOUR|").then_some(stem)
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|s| {
        (
            ORDER.iter().position(|o| o == s).unwrap_or(usize::MAX),
            s.clone(),
        )
    });
    found
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs every scenario (and the Python snippets with `python`); returns the results page.
pub fn run_scenarios(root: &Path, python: bool) -> Result<String> {
    let names = scenarios(root);
    println!("tour: building {} scenarios (release)...", names.len());
    let status = cargo()
        .current_dir(root)
        .args(["build", "--release", "--examples", "-p", "synclab"])
        .args(["--features", "serde"]) // mp_queue, mp_throughput: the typed MessageQueue
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !status.success() {
        return Err("building the examples failed".into());
    }
    let mut rows = Vec::new();
    for (i, name) in names.iter().enumerate() {
        println!("tour: [{}/{}] {name}", i + 1, names.len());
        let start = Instant::now();
        let out = cargo()
            .current_dir(root)
            .args(["run", "--quiet", "--release", "--example", name])
            .args(["--features", "serde"])
            .output()
            .map_err(|e| format!("could not run example {name}: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "scenario `{name}` failed:\n{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let found = parse_rows(&stdout);
        if found.is_empty() {
            return Err(format!("scenario `{name}` printed no TOUR line"));
        }
        println!("      {:.1} s", start.elapsed().as_secs_f64());
        rows.extend(found);
    }
    let (python_rows, free) = if python {
        run_python(root)?
    } else {
        (Vec::new(), None)
    };
    let page = results_page(&rows, &python_rows, free.as_ref());
    println!("\n{}", table(&rows));
    if !python_rows.is_empty() {
        println!("\n{}", python_table(&python_rows, free.as_ref()));
    }
    Ok(page)
}

/// The free-threaded interpreters the tour looks for, newest first.
const FREE_THREADED: &[&str] = &["python3.14t", "python3.13t"];

/// The first of `candidates` that runs and reports its GIL disabled
/// (`sys._is_gil_enabled()` is `False`), or `None`.
fn free_threaded(candidates: &[&str]) -> Option<String> {
    candidates.iter().find_map(|c| {
        let out = Command::new(c)
            .args(["-c", "import sys; print(sys._is_gil_enabled())"])
            .output()
            .ok()?;
        let says = String::from_utf8_lossy(&out.stdout);
        (out.status.success() && says.trim() == "False").then(|| c.to_string())
    })
}

/// Runs `file` with `python`: `(seconds, last line of output)`.
fn time_snippet(python: &str, file: &Path, dir: &Path) -> Result<(f64, String)> {
    let start = Instant::now();
    let out = Command::new(python)
        .arg(file)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("--python needs {python} on PATH: {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    Ok((secs, stdout.lines().last().unwrap_or("").to_string()))
}

/// `(snippet, seconds, last line of output)` for each `book/python/*.py` under `python3`,
/// with the same under the free-threaded interpreter when one was found (its name first).
type PythonRuns = (
    Vec<(String, f64, String)>,
    Option<(String, Vec<(f64, String)>)>,
);

fn run_python(root: &Path) -> Result<PythonRuns> {
    let mut files: Vec<_> = fs::read_dir(root.join("book/python"))
        .map_err(|e| format!("book/python: {e}"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .collect();
    files.sort();
    let dir = root.join("book/python");
    let free = free_threaded(FREE_THREADED);
    match &free {
        Some(ft) => println!("tour: free-threaded CPython found: {ft}"),
        None => println!(
            "tour: no free-threaded CPython on PATH (looked for {}): GIL build only",
            FREE_THREADED.join(", ")
        ),
    }
    let (mut rows, mut free_rows) = (Vec::new(), Vec::new());
    for file in files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        println!("tour: python3 {name}");
        let (secs, last) = time_snippet("python3", &file, &dir)?;
        rows.push((name.clone(), secs, last));
        if let Some(ft) = &free {
            println!("tour: {ft} {name}");
            free_rows.push(time_snippet(ft, &file, &dir)?);
        }
    }
    Ok((rows, free.map(|ft| (ft, free_rows))))
}

fn table(rows: &[Row]) -> String {
    let mut t = String::from(
        "| scenario | what the notes say happens in Python | what happened here |\n|---|---|---|\n",
    );
    for r in rows {
        t.push_str(&format!("| {} | {} | {} |\n", r.scenario, r.python, r.here));
    }
    t
}

fn python_table(
    rows: &[(String, f64, String)],
    free: Option<&(String, Vec<(f64, String)>)>,
) -> String {
    let mut t =
        String::from("| the notes' snippet | wall time (python3) | its last line of output |");
    match free {
        Some((ft, _)) => t.push_str(&format!(
            " wall time ({ft}, no GIL) | its last line |\n|---|---|---|---|---|\n"
        )),
        None => t.push_str("\n|---|---|---|\n"),
    }
    for (i, (name, secs, last)) in rows.iter().enumerate() {
        t.push_str(&format!("| `{name}` | {secs:.2} s | `{last}` |"));
        if let Some((ft_secs, ft_last)) = free.and_then(|(_, r)| r.get(i)) {
            t.push_str(&format!(" {ft_secs:.2} s | `{ft_last}` |"));
        }
        t.push('\n');
    }
    if free.is_none() {
        t.push_str(&format!(
            "\nNo free-threaded CPython was on the PATH (looked for {}), so only the GIL build ran.\n",
            FREE_THREADED.join(", ")
        ));
    }
    t
}

fn results_page(
    rows: &[Row],
    python: &[(String, f64, String)],
    free: Option<&(String, Vec<(f64, String)>)>,
) -> String {
    let mut page = String::from(
        "# Results on this machine\n\n\
         This page was written by `cargo xtask book`, which ran every Part I scenario on the \
         machine that rendered the book. Run it again on yours to get your figures.\n\n",
    );
    page.push_str(&table(rows));
    if !python.is_empty() {
        page.push_str("\n## The notes' Python, on the same machine\n\n");
        page.push_str(&python_table(python, free));
    }
    page
}

/// What the results page says before the tour has run.
pub fn placeholder_results() -> String {
    "# Results on this machine\n\nRun `cargo xtask book` (or `cargo xtask tour`) to fill this \
     page with the figures of every Part I scenario measured on your machine.\n"
        .to_string()
}

/// `cargo xtask tour [--python]`.
pub fn run(args: &[String]) -> Result<String> {
    let python = args.iter().any(|a| a == "--python");
    run_scenarios(&root(), python)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tour_lines_and_ignores_the_rest() {
        let out = "hello\nTOUR|bank|prints 0 or not|9 of 10 nonzero\nTOUR|bad\n";
        assert_eq!(
            parse_rows(out),
            [Row {
                scenario: "bank".into(),
                python: "prints 0 or not".into(),
                here: "9 of 10 nonzero".into()
            }]
        );
    }

    #[test]
    fn a_free_threaded_interpreter_is_one_that_says_its_gil_is_off() {
        let dir = std::env::temp_dir().join(format!("synclab-tour-ft-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let fake = |name: &str, says: &str| {
            let path = dir.join(name);
            fs::write(&path, format!("#!/bin/sh\necho {says}\n")).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
            }
            path.to_string_lossy().into_owned()
        };
        let (gil, nogil) = (fake("python3.13", "True"), fake("python3.14t", "False"));
        let missing = dir.join("python3.99t").to_string_lossy().into_owned();
        assert_eq!(
            free_threaded(&[&missing, &gil, &nogil]),
            Some(nogil.clone())
        );
        assert_eq!(free_threaded(&[&missing, &gil]), None);
        let rows = [("countdown.py".to_string(), 1.5, "done".to_string())];
        let with = python_table(&rows, Some(&(nogil, vec![(0.8, "done".into())])));
        assert!(
            with.contains("| `countdown.py` | 1.50 s | `done` | 0.80 s | `done` |"),
            "{with}"
        );
        let without = python_table(&rows, None);
        assert!(
            without.contains("No free-threaded CPython was on the PATH"),
            "{without}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_scenario_prints_a_tour_line_in_its_source() {
        let names = scenarios(&crate::root());
        assert!(names.contains(&"bank".to_string()), "{names:?}");
    }
}
