//! `cargo xtask <command>`: the workbook's helper commands (the alias lives in
//! `.cargo/config.toml`).
//!
//! | command | what it does |
//! |---|---|
//! | `book [--no-tour] [--python]` | checks the book, runs the tour, renders `book/` and prints where `index.html` is |
//! | `serve [--port N]` | renders the book and serves it on `http://127.0.0.1:N` (default 3000) |
//! | `tour [--python]` | runs every Part I scenario and prints what the notes say beside what happened here |
//! | `check [NAME] [--solutions]` | runs the exercises against your code (or the reference solutions) |
//! | `check --verify-stubs` | (CI) proves that every unsolved stub fails every one of its tests |
//! | `bench [--quick] [--no-run] [FILTER]` | runs the criterion suite (`--no-run`: only reports stored results), prints synclab ÷ peer ratios against the targets, writes the book's table and chart |
//! | `wire` | regenerates `exercises/tests/*.rs` from `exercises/info.toml` |

mod bench;
mod book;
mod check;
mod exercises;
mod serve;
mod tour;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// The result of a command: `Err` carries the message to print.
pub type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask <book [--no-tour] [--python] | serve [--port N] | tour [--python] | check [NAME] [--solutions | --verify-stubs] | bench [--quick] [--no-run] [FILTER] | wire>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or(&[]);
    let result = match args.first().map(String::as_str) {
        Some("book") => book::run(rest),
        Some("serve") => serve::run(rest),
        Some("tour") => tour::run(rest).map(|_| ()),
        Some("check") => check::run(rest),
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
