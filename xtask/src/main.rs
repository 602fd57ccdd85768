//! `cargo xtask <command>`: the workbook's helper commands (the alias lives in
//! `.cargo/config.toml`).
//!
//! | command | what it does |
//! |---|---|
//! | `book [--no-tour] [--python]` | checks the book, runs the tour, renders `book/` and prints where `index.html` is |
//! | `serve [--port N]` | renders the book and serves it on `http://127.0.0.1:N` (default 3000) |
//! | `tour [--python]` | runs every Part I scenario and prints what the notes say beside what happened here |
//! | `check [--solutions]` | runs every exercise against your code (or the reference solutions), with one hint per failing exercise and the progress; exits non-zero unless all pass |
//! | `check NAME` | one exercise: its test output and its current hint (the first, until `hint` shows more) |
//! | `check NAME --miri` | the same under Miri (needs `rustup +nightly component add miri`): it reports the data races that wrong orderings allow, which a native run on x86 rarely shows |
//! | `hint [NAME]` | the next hint of NAME (default: the first exercise that has not passed) |
//! | `watch [NAME]` | re-checks the current exercise each time its file is saved; keys: hint, next, list, reset, solution, quit |
//! | `check --verify-stubs [NAME...]` | (authors, CI) the stub rules, and proof that every unsolved stub fails every one of its tests |
//! | `bench [--quick] [--no-run] [FILTER]` | runs the criterion suite (`--no-run`: only reports stored results), prints synclab ÷ peer ratios against the targets, writes the book's table and chart |
//! | `wire` | regenerates `exercises/tests/*.rs` from `exercises/info.toml` |
//!
//! Hints shown and exercises passed are remembered in `target/xtask/progress`. The environment
//! variable `SYNCLAB_ROOT` points the commands at another checkout (xtask's own tests use it on
//! a scratch workspace).

mod bench;
mod book;
mod check;
mod exercises;
mod progress;
mod serve;
mod tour;
mod watch;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The repository root: `$SYNCLAB_ROOT` if set, else the parent of `xtask/`.
pub fn root() -> PathBuf {
    if let Some(dir) = std::env::var_os("SYNCLAB_ROOT") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// The result of a command: `Err` carries the message to print.
pub type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask <book [--no-tour] [--python] | serve [--port N] | tour [--python] | check [NAME] [--solutions] [--miri] | check --verify-stubs [NAME...] | hint [NAME] | watch [NAME] | bench [--quick] [--no-run] [FILTER] | wire>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or(&[]);
    let result = match args.first().map(String::as_str) {
        Some("book") => book::run(rest),
        Some("serve") => serve::run(rest),
        Some("tour") => tour::run(rest).map(|_| ()),
        Some("check") => check::run(rest),
        Some("hint") => check::hint(rest),
        Some("watch") => watch::run(rest),
        Some("bench") => bench::run(rest),
        Some("wire") => exercises::wire(&root()),
        Some("-h" | "--help" | "help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
