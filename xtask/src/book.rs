//! `cargo xtask book`: check the book, run the tour, render it.
//!
//! The checks fail the build on what mdBook itself only warns about, or does not see:
//!
//! - an `{{#include}}` whose file or anchor does not exist;
//! - a relative link to a file that does not exist;
//! - a Part I or Part II chapter that shows no exercise, or an exercise its chapter does not show;
//! - a `rust,ignore` block that holds anything but an include (inline Rust must be a doctest);
//! - a chapter that `src/book_doctests.rs` does not hand to rustdoc;
//! - any rule of the exercise catalogue, the solutions or the wiring
//!   (`exercises::verify_catalogue`; not the stub rules, which a learner breaks by solving an
//!   exercise: `cargo xtask check --verify-stubs` and xtask's unit tests apply those).

use std::fs;
use std::path::{Path, PathBuf};

use crate::exercises;
use crate::{Result, root, tour};

/// Chapters listed in `SUMMARY.md`, as paths relative to `book/src`.
pub fn chapters(src: &Path) -> Result<Vec<String>> {
    let summary = fs::read_to_string(src.join("SUMMARY.md"))
        .map_err(|e| format!("book/src/SUMMARY.md: {e}"))?;
    Ok(links(&summary)
        .into_iter()
        .filter(|l| l.ends_with(".md"))
        .collect())
}

/// The targets of the Markdown links `[text](target)` in `text`.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        if let Some(end) = rest.find(')') {
            let target = rest[..end].split_whitespace().next().unwrap_or("");
            out.push(target.to_string());
            rest = &rest[end..];
        }
    }
    out
}

/// `(path, anchor)` of every `{{#include path[:anchor]}}` / `{{#rustdoc_include …}}`.
fn includes(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for directive in ["{{#include ", "{{#rustdoc_include "] {
        let mut rest = text;
        while let Some(i) = rest.find(directive) {
            rest = &rest[i + directive.len()..];
            let Some(end) = rest.find("}}") else { break };
            let arg = rest[..end].trim();
            let mut parts = arg.splitn(2, ':');
            let path = parts.next().unwrap_or("").to_string();
            let anchor = parts
                .next()
                .filter(|a| !a.chars().next().is_some_and(|c| c.is_ascii_digit()))
                .map(str::to_string);
            out.push((path, anchor));
        }
    }
    out
}

/// The fenced code blocks of a chapter: `(info string, body)`.
fn code_blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            let mut body = String::new();
            for l in lines.by_ref() {
                if l.trim_start().starts_with("```") {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            out.push((info.trim().to_string(), body));
        }
    }
    out
}

/// Every check of the module docs; one message per problem.
pub fn check(root: &Path) -> Result<Vec<String>> {
    let src = root.join("book/src");
    let mut problems = Vec::new();
    let chapters = chapters(&src)?;
    let exercises = exercises::load(root)?;
    problems.extend(exercises::verify_catalogue(root, &exercises));
    let doctests = fs::read_to_string(root.join("src/book_doctests.rs")).unwrap_or_default();

    for chapter in &chapters {
        let path = src.join(chapter);
        if chapter == "part1/results.md" {
            continue; // written by the tour when the book is rendered
        }
        let Ok(text) = fs::read_to_string(&path) else {
            problems.push(format!("SUMMARY.md lists {chapter}, which does not exist"));
            continue;
        };
        let dir = path.parent().unwrap_or(&src).to_path_buf();
        for (file, anchor) in includes(&text) {
            let target = dir.join(&file);
            match fs::read_to_string(&target) {
                Err(_) => problems.push(format!("{chapter}: include of missing file {file}")),
                Ok(body) => {
                    if let Some(anchor) = anchor
                        && !body.contains(&format!("ANCHOR: {anchor}"))
                    {
                        problems.push(format!("{chapter}: {file} has no anchor `{anchor}`"));
                    }
                }
            }
        }
        for link in links(&text) {
            if link.starts_with("http://")
                || link.starts_with("https://")
                || link.starts_with("mailto:")
                || link.starts_with('#')
                || link.is_empty()
            {
                continue;
            }
            let file = link.split('#').next().unwrap_or("");
            if !dir.join(file).exists() {
                problems.push(format!("{chapter}: broken link to {link}"));
            }
        }
        for (info, body) in code_blocks(&text) {
            let only_includes = body.lines().all(|l| {
                let l = l.trim();
                l.is_empty() || l.starts_with("{{#include ") || l.starts_with("{{#rustdoc_include ")
            });
            if info.starts_with("rust") && info.contains("ignore") && !only_includes {
                problems.push(format!(
                    "{chapter}: a `{info}` block holds code that nothing compiles; \
                     make it a doctest (```rust) or include real source"
                ));
            }
        }
        let stem = chapter.trim_end_matches(".md");
        let is_lesson =
            (stem.starts_with("part1/") || stem.starts_with("part2/")) && stem != "part1/results";
        if is_lesson {
            let shown: Vec<_> = exercises.iter().filter(|e| e.chapter == stem).collect();
            if shown.is_empty() {
                problems.push(format!("{chapter}: no exercise (see exercises/info.toml)"));
            }
            for ex in shown {
                let command = format!("cargo xtask check {}", ex.name);
                if !text.contains(&command) || !text.contains(&ex.path) {
                    problems.push(format!(
                        "{chapter}: must show exercise `{}` (include exercises/{} and give `{command}`)",
                        ex.name, ex.path
                    ));
                }
            }
        }
        if text.contains("```rust\n") && !doctests.contains(&format!("book/src/{chapter}")) {
            problems.push(format!(
                "{chapter} has Rust code blocks but src/book_doctests.rs does not include it"
            ));
        }
    }
    Ok(problems)
}

pub fn run(args: &[String]) -> Result {
    let root = root();
    let problems = check(&root)?;
    if !problems.is_empty() {
        return Err(format!(
            "the book has {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ));
    }
    println!("book checks: ok");
    fs::create_dir_all(root.join("book/src/part1")).map_err(|e| format!("book/src/part1: {e}"))?;
    if !args.iter().any(|a| a == "--no-tour") {
        let python = args.iter().any(|a| a == "--python");
        let results = tour::run_scenarios(&root, python)?;
        fs::write(root.join("book/src/part1/results.md"), results)
            .map_err(|e| format!("book/src/part1/results.md: {e}"))?;
    } else if !root.join("book/src/part1/results.md").exists() {
        fs::write(
            root.join("book/src/part1/results.md"),
            tour::placeholder_results(),
        )
        .map_err(|e| format!("book/src/part1/results.md: {e}"))?;
    }
    let index = render(&root)?;
    println!("The book is at {}", index.display());
    Ok(())
}

/// Renders `book/` with mdBook; returns the path of `index.html`.
pub fn render(root: &Path) -> Result<PathBuf> {
    let book_dir = root.join("book");
    let book = mdbook_driver::MDBook::load(&book_dir).map_err(|e| format!("mdBook: {e:#}"))?;
    book.build().map_err(|e| format!("mdBook: {e:#}"))?;
    let index = book_dir.join("book/index.html");
    if !index.exists() {
        return Err(format!("mdBook did not write {}", index.display()));
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_links_includes_and_blocks() {
        let md = "See [x](../a.md#b) and [y](https://e.org).\n\
                  ```rust,ignore\n{{#include ../../examples/bank.rs:racy}}\n```\n\
                  ```text\nout\n```\n{{#include f.rs:3:9}}";
        assert_eq!(links(md), ["../a.md#b", "https://e.org"]);
        assert_eq!(
            includes(md),
            [
                (
                    "../../examples/bank.rs".to_string(),
                    Some("racy".to_string())
                ),
                ("f.rs".to_string(), None)
            ]
        );
        let blocks = code_blocks(md);
        assert_eq!(blocks[0].0, "rust,ignore");
        assert_eq!(blocks[1], ("text".to_string(), "out\n".to_string()));
    }

    #[test]
    fn the_real_book_passes_its_checks() {
        let problems = check(&crate::root()).expect("the book's files can be read");
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
