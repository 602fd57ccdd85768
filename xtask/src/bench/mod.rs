//! `cargo xtask bench [--quick] [--no-run] [FILTER]`: runs the criterion suite, reads criterion's results
//! from `target/criterion/`, prints the table of ratios against the peers and, on a full
//! (unfiltered) run, writes `book/src/part3/bench-results.md` and `bench-chart.svg`.
//!
//! criterion 0.8 keeps, for each benchmark, `target/criterion/<group>/<function>/new/`:
//! `benchmark.json` names it (`group_id`, `function_id`) and `estimates.json` holds the
//! estimates in nanoseconds (`median.point_estimate` is the one used here).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use crate::{Result, root};

mod report;
use report::{machine, markdown, svg};

/// The bench targets of the suite (`benches/*.rs` with `harness = false`).
const BENCHES: [&str; 4] = ["lock", "signal", "queue", "pool"];

/// A goal from DESIGN.md: synclab's median ÷ `peer`'s median ≤ `max`.
struct Target {
    /// Groups whose id starts with this.
    prefix: &'static str,
    /// The function that plays synclab (`"synclab"`, or `"2_threads"` for the countdown).
    subject: &'static str,
    peer: &'static str,
    max: f64,
    /// How the table states it.
    label: &'static str,
}

const TARGETS: [Target; 7] = [
    Target {
        prefix: "lock/uncontended",
        subject: "synclab",
        peer: "std",
        max: 1.05,
        label: "≤ 1.05× std",
    },
    Target {
        prefix: "lock/contended",
        subject: "synclab",
        peer: "parking_lot",
        max: 1.0,
        label: "≤ 1.0× parking_lot",
    },
    Target {
        prefix: "condition/notify_no_waiter",
        subject: "synclab",
        peer: "std",
        max: 0.2,
        label: "≤ 0.2× std",
    },
    Target {
        prefix: "event/ping_pong",
        subject: "synclab",
        peer: "std",
        max: 1.0,
        label: "≤ 1.0× std",
    },
    Target {
        prefix: "barrier/2threads",
        subject: "synclab",
        peer: "std",
        max: 1.0,
        label: "≤ 1.0× std",
    },
    Target {
        prefix: "queue/",
        subject: "synclab",
        peer: "crossbeam",
        max: 1.0,
        label: "≤ 1.0× crossbeam",
    },
    Target {
        prefix: "countdown",
        subject: "2_threads",
        peer: "1_thread",
        max: 1.0 / 1.8,
        label: "≥ 1.8× speed-up",
    },
];

/// One benchmark as criterion stored it.
struct Measured {
    group: String,
    function: String,
    median_ns: f64,
}

/// One row of the table.
struct Row {
    group: String,
    subject_ns: f64,
    best_peer: Option<(String, f64)>,
    /// Label, ratio to the target's peer, met.
    target: Option<(&'static str, f64, bool)>,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        self.best_peer.as_ref().map(|(_, ns)| self.subject_ns / ns)
    }
}

pub fn run(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--quick");
    // `--no-run`: report what criterion already stored, from any earlier run.
    let no_run = args.iter().any(|a| a == "--no-run");
    let filter = args.iter().find(|a| !a.starts_with("--")).cloned();
    let root = root();
    let load = if no_run {
        None
    } else {
        fs::read_to_string("/proc/loadavg").ok()
    };
    let started = if no_run {
        SystemTime::UNIX_EPOCH
    } else {
        SystemTime::now()
    };

    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(&root).args(["bench", "-p", "synclab"]);
    for b in BENCHES {
        cmd.args(["--bench", b]);
    }
    cmd.arg("--");
    if quick {
        cmd.args([
            "--warm-up-time",
            "0.2",
            "--measurement-time",
            "0.5",
            "--sample-size",
            "10",
        ]);
    }
    cmd.args(filter.iter());
    if !no_run {
        println!("running: {cmd:?}");
        let status = cmd.status().map_err(|e| format!("cargo bench: {e}"))?;
        if !status.success() {
            return Err(format!("cargo bench failed ({status})"));
        }
    }

    let mut measured = Vec::new();
    collect(&root.join("target/criterion"), started, &mut measured)?;
    if measured.is_empty() {
        return Err("criterion wrote no results (does the filter match any benchmark?)".into());
    }
    let rows = rows(measured);
    let settings = if quick {
        "`--quick` (0.2 s warm-up, 0.5 s, 10 samples)"
    } else {
        "full (0.5 s warm-up, 1.5 s, 20 samples)"
    };
    let table = markdown(&rows, &machine(load.as_deref()), settings);
    println!("\n{table}");
    if filter.is_some() {
        println!(
            "(a filtered run: book/src/part3/bench-results.md and bench-chart.svg left as they were)"
        );
        return Ok(());
    }
    let dir = root.join("book/src/part3");
    fs::write(dir.join("bench-results.md"), &table)
        .map_err(|e| format!("bench-results.md: {e}"))?;
    fs::write(dir.join("bench-chart.svg"), svg(&rows))
        .map_err(|e| format!("bench-chart.svg: {e}"))?;
    println!("wrote book/src/part3/bench-results.md and book/src/part3/bench-chart.svg");
    Ok(())
}

/// Every `new/benchmark.json` under `dir` written since `since`, with its median.
fn collect(dir: &Path, since: SystemTime, out: &mut Vec<Measured>) -> Result {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, since, out)?;
            continue;
        }
        let in_new = path
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == "new");
        if !in_new || path.file_name().is_none_or(|n| n != "benchmark.json") {
            continue;
        }
        let fresh = fs::metadata(&path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= since);
        if !fresh {
            continue;
        }
        let id = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let est_path = path.with_file_name("estimates.json");
        let est =
            fs::read_to_string(&est_path).map_err(|e| format!("{}: {e}", est_path.display()))?;
        let (Some(group), Some(function), Some(median_ns)) = (
            json_str(&id, "group_id"),
            json_str(&id, "function_id"),
            median(&est),
        ) else {
            return Err(format!("{}: not criterion 0.8's format", path.display()));
        };
        out.push(Measured {
            group,
            function,
            median_ns,
        });
    }
    Ok(())
}

/// The string value of `"key":"..."` in a flat JSON object (criterion's ids hold no escapes).
fn json_str(json: &str, key: &str) -> Option<String> {
    let rest = &json[json.find(&format!("\"{key}\":\""))? + key.len() + 4..];
    Some(rest[..rest.find('"')?].to_string())
}

/// `median.point_estimate` of criterion's `estimates.json`.
fn median(json: &str) -> Option<f64> {
    let rest = &json[json.find("\"median\":")?..];
    let rest = &rest[rest.find("\"point_estimate\":")? + 17..];
    let end = rest.find([',', '}'])?;
    rest[..end].trim().parse().ok()
}

fn rows(mut measured: Vec<Measured>) -> Vec<Row> {
    measured.sort_by(|a, b| a.group.cmp(&b.group).then(a.function.cmp(&b.function)));
    let mut groups: Vec<String> = measured.iter().map(|m| m.group.clone()).collect();
    groups.dedup();
    let mut rows = Vec::new();
    for group in groups {
        let of_group: Vec<&Measured> = measured.iter().filter(|m| m.group == group).collect();
        let target = TARGETS.iter().find(|t| group.starts_with(t.prefix));
        let subject_name = target.map_or("synclab", |t| t.subject);
        let Some(subject) = of_group.iter().find(|m| m.function == subject_name) else {
            continue;
        };
        let best_peer = of_group
            .iter()
            // A `synclab_*` function is a candidate design of ours, never a peer.
            .filter(|m| m.function != subject_name && !m.function.starts_with("synclab"))
            .min_by(|a, b| a.median_ns.total_cmp(&b.median_ns))
            .map(|m| (m.function.clone(), m.median_ns));
        let target = target.and_then(|t| {
            let peer = of_group.iter().find(|m| m.function == t.peer)?;
            let ratio = subject.median_ns / peer.median_ns;
            Some((t.label, ratio, ratio <= t.max))
        });
        rows.push(Row {
            group,
            subject_ns: subject.median_ns,
            best_peer,
            target,
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_json() {
        let id = r#"{"group_id":"lock/uncontended","function_id":"std","value_str":null}"#;
        assert_eq!(
            json_str(id, "group_id").as_deref(),
            Some("lock/uncontended")
        );
        assert_eq!(json_str(id, "function_id").as_deref(), Some("std"));
        let est = r#"{"mean":{"point_estimate":9.0},"median":{"confidence_interval":{"lower_bound":1.0},"point_estimate":2.5,"standard_error":0.1}}"#;
        assert_eq!(median(est), Some(2.5));
    }

    #[test]
    fn ratios_and_targets() {
        let m = |g: &str, f: &str, ns| Measured {
            group: g.into(),
            function: f.into(),
            median_ns: ns,
        };
        let rows = rows(vec![
            m("lock/uncontended", "synclab", 10.0),
            m("lock/uncontended", "std", 9.0),
            m("lock/uncontended", "parking_lot", 8.0),
            m("countdown", "1_thread", 20.0),
            m("countdown", "2_threads", 10.0),
        ]);
        let lock = rows.iter().find(|r| r.group == "lock/uncontended").unwrap();
        assert_eq!(lock.best_peer.as_ref().unwrap().0, "parking_lot");
        assert!((lock.ratio().unwrap() - 1.25).abs() < 1e-9);
        let (_, ratio, met) = lock.target.unwrap();
        assert!((ratio - 10.0 / 9.0).abs() < 1e-9 && !met); // 1.11 > 1.05
        let countdown = rows.iter().find(|r| r.group == "countdown").unwrap();
        assert!(countdown.target.unwrap().2); // 2.0× ≥ 1.8×
        assert!(svg(&rows).contains("lock/uncontended"));
    }
}
