//! The report of `cargo xtask bench`: the Markdown table (with the machine, date and commit it
//! was measured on) and the SVG chart, hand-written (no plotting dependency).

use std::fmt::Write as _;
use std::fs;
use std::process::Command;
use std::time::SystemTime;

use super::Row;
use crate::root;

/// A ratio with two significant digits at least (0.0042, 0.031, 0.85, 1.68).
pub(super) fn ratio_text(x: f64) -> String {
    match x {
        x if x < 0.01 => format!("{x:.4}"),
        x if x < 0.1 => format!("{x:.3}"),
        x => format!("{x:.2}"),
    }
}

/// Nanoseconds, readably.
fn time(ns: f64) -> String {
    match ns {
        n if n < 1.0 => format!("{:.0} ps", n * 1000.0),
        n if n < 1_000.0 => format!("{n:.1} ns"),
        n if n < 1_000_000.0 => format!("{:.2} µs", n / 1_000.0),
        n => format!("{:.2} ms", n / 1_000_000.0),
    }
}

pub(super) fn markdown(rows: &[Row], machine: &str, settings: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<!-- written by `cargo xtask bench`; do not edit by hand -->\n"
    );
    let _ = writeln!(
        s,
        "Measured {} on {machine}, code at commit {}; criterion settings: {settings}.\n",
        today(),
        commit()
    );
    s.push_str("| benchmark | synclab median | best peer (median) | synclab ÷ best peer | target | met? |\n");
    s.push_str("|---|---:|---|---:|---|---|\n");
    for r in rows {
        let peer = r
            .best_peer
            .as_ref()
            .map_or("—".into(), |(n, ns)| format!("{n} ({})", time(*ns)));
        let ratio = r.ratio().map_or("—".into(), ratio_text);
        let (target, met) = match r.target {
            None => ("—".to_string(), "—".to_string()),
            Some((label, ratio, met)) => {
                let yes = if met { "yes" } else { "**no**" };
                if r.group == "countdown" {
                    (label.to_string(), format!("{yes} ({:.2}×)", 1.0 / ratio))
                } else {
                    (label.to_string(), format!("{yes} ({})", ratio_text(ratio)))
                }
            }
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {peer} | {ratio} | {target} | {met} |",
            r.group,
            time(r.subject_ns)
        );
    }
    s
}

/// The short hash of `HEAD`, with `+changes` when `src/` or `benches/` differ from it.
fn commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root())
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let Some(hash) = git(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown".into();
    };
    match git(&["status", "--porcelain", "--", "src", "benches"]) {
        Some(changes) if !changes.is_empty() => format!("`{hash}`+changes"),
        _ => format!("`{hash}`"),
    }
}

/// CPU model, core count and the load average when the run started (Linux; less elsewhere).
pub(super) fn machine(load: Option<&str>) -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("an unknown CPU".to_string(), |m| m.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut s = format!("{model}, {cores} cores available, {}", std::env::consts::OS);
    if let Some(first) = load.and_then(|l| l.split_whitespace().next()) {
        let _ = write!(s, ", load average {first} when the run started");
    }
    s
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock (Howard Hinnant's civil-from-days).
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// A horizontal bar per benchmark: synclab ÷ best peer on a log₂ axis, bars starting at 1.0.
pub(super) fn svg(rows: &[Row]) -> String {
    let rows: Vec<(&Row, f64)> = rows.iter().filter_map(|r| Some((r, r.ratio()?))).collect();
    let (label_w, plot_w, row_h, top) = (260.0, 440.0, 18.0, 40.0);
    let span = rows
        .iter()
        .map(|(_, x)| x.log2().abs().ceil())
        .fold(1.0f64, f64::max)
        .min(6.0); // the axis runs 2^-span ..= 2^span
    let x_of = |ratio: f64| label_w + plot_w / 2.0 * (1.0 + ratio.log2().clamp(-span, span) / span);
    let height = top + row_h * rows.len() as f64 + 30.0;
    let width = label_w + plot_w + 60.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="16" text-anchor="middle" font-size="13">synclab's median ÷ best peer's (log scale; left of 1 = synclab faster)</text>"#,
        width / 2.0
    );
    let bottom = top + row_h * rows.len() as f64;
    for k in -(span as i32)..=(span as i32) {
        let x = x_of(2f64.powi(k));
        let tick = if k >= 0 {
            format!("{}", 1u64 << k)
        } else {
            format!("1/{}", 1u64 << -k)
        };
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom}" stroke="#ddd"/>"##
        );
        let _ = writeln!(
            s,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{tick}</text>"#,
            bottom + 14.0
        );
    }
    for (i, (row, ratio)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let (x0, x1) = (x_of(1.0), x_of(*ratio));
        let colour = match row.target {
            Some((_, _, false)) => "#d9534f",
            _ if *ratio <= 1.0 => "#5cb85c",
            _ => "#f0ad4e",
        };
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            label_w - 6.0,
            y + 12.5,
            row.group
        );
        let _ = writeln!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"/>"#,
            x0.min(x1),
            y + 3.0,
            (x1 - x0).abs().max(1.0),
            row_h - 6.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}">{ratio:.2}</text>"#,
            x0.max(x1) + 4.0,
            y + 12.5
        );
    }
    let x = x_of(1.0);
    let _ = writeln!(
        s,
        r#"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{bottom}" stroke="black" stroke-width="1.5"/>"#,
        top - 4.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(today().len(), 10);
        assert_eq!(ratio_text(0.00423), "0.0042");
        assert_eq!(ratio_text(0.031), "0.031");
        assert_eq!(ratio_text(1.678), "1.68");
        assert_eq!(time(0.287), "287 ps");
        assert_eq!(time(62_150.0), "62.15 µs");
    }
}
