//! The learner's side of `cargo xtask check`, end to end: a scratch copy of the workspace, an
//! exercise solved in it as a learner would (the solution copied over the stub, so no
//! `todo!()` is left), and the real `xtask` binary run on it with `SYNCLAB_ROOT`.
//!
//! The scratch copy builds into its own target directory. It must not share the workspace's:
//! cargo names a workspace crate's artifacts by its path *relative to the workspace root*, so a
//! solved stub built from the copy would overwrite the learner binary of the real tree and look
//! fresh there (tried: `cargo test --features learner --test forced_interleaving` then passed
//! against the unsolved stub). Only `libc`, `synclab` and one exercise are compiled: seconds.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The exercise this test solves: small, quick to build, and the one the report was about.
const NAME: &str = "forced_interleaving";
const PATH: &str = "part1/forced_interleaving.rs";

/// What the copy needs to be a workspace cargo can load and the checker accepts.
const TREE: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "src",
    "benches",
    "examples",
    "tests",
    "exercises",
    "xtask",
    "book/src",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// `<target>/debug/xtask` → `<target>`.
fn target_dir() -> PathBuf {
    let exe = Path::new(env!("CARGO_BIN_EXE_xtask"));
    exe.ancestors()
        .nth(2)
        .expect("the binary lies in <target>/<profile>/")
        .to_path_buf()
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        if from.file_name().is_some_and(|n| n == "target") {
            return;
        }
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(from, to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
}

/// A scratch workspace, removed when the test ends well (kept for a look when it fails).
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(label: &str) -> Scratch {
        let dir = target_dir().join(format!("xtask-scratch-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let (root, ws) = (repo_root(), dir.join("ws"));
        for part in TREE {
            copy_tree(&root.join(part), &ws.join(part));
        }
        Scratch { dir }
    }

    fn ws(&self) -> PathBuf {
        self.dir.join("ws")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.args(args)
            .env("SYNCLAB_ROOT", self.ws())
            .env("CARGO_TARGET_DIR", self.dir.join("target"));
        cmd
    }

    fn xtask(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().expect("xtask runs");
        eprintln!(
            "--- xtask {}: {}\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The progress line of `name`: `<hints shown> <passed>`.
    fn progress(&self, name: &str) -> Option<String> {
        let text = fs::read_to_string(self.ws().join("target/xtask/progress")).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ').map(str::to_owned))
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_solved_stub_passes_the_checker_and_is_remembered() {
    let scratch = Scratch::new("check");

    // Unsolved: the check runs the tests, fails with a non-zero exit and shows the first hint
    // only.
    let out = scratch.xtask(&["check", NAME]);
    assert!(!out.status.success());
    let text = stdout(&out);
    assert!(text.contains("test result: FAILED"), "{text}");
    assert!(text.contains("hint 1 of"), "{text}");
    assert!(!text.contains("hint 2 of"), "{text}");
    assert_eq!(scratch.progress(NAME).as_deref(), Some("1 0"));

    // The learner asks for the next hint.
    let out = scratch.xtask(&["hint", NAME]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("hint 2 of"));
    assert_eq!(scratch.progress(NAME).as_deref(), Some("2 0"));

    // Solved as a learner solves it: no `todo!()` and no `// TODO` left in the stub.
    let ws = scratch.ws();
    let solution = fs::read_to_string(ws.join("exercises/solutions").join(PATH)).unwrap();
    assert!(!solution.contains("todo!()"));
    fs::write(ws.join("exercises").join(PATH), solution).unwrap();

    let out = scratch.xtask(&["check", NAME]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("test result: ok"), "{text}");
    assert!(
        text.contains(&format!("ok: exercise `{NAME}` passes")),
        "{text}"
    );
    assert_eq!(scratch.progress(NAME).as_deref(), Some("2 1"));

    // The other commands still accept the tree: `hint` with no name moves on to the first
    // exercise that has not passed (the catalogue's first, which this test did not solve).
    let out = scratch.xtask(&["hint"]);
    assert!(out.status.success());
    assert!(!stdout(&out).contains(&format!("`{NAME}`")));

    // The authors' direction still applies the stub rules, and the solved stub breaks them.
    let out = scratch.xtask(&["check", "--verify-stubs", NAME]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("todo!()"));

    fs::remove_dir_all(&scratch.dir).unwrap();
}

/// The lines a child prints, read on a thread so that the test can wait for one of them.
struct Lines {
    rx: mpsc::Receiver<String>,
    seen: String,
}

impl Lines {
    /// Waits for a line that contains `text`. The limit only keeps a broken `watch` from
    /// hanging the suite; nothing is asserted about how long it takes.
    fn wait_for(&mut self, text: &str) {
        loop {
            match self.rx.recv_timeout(Duration::from_secs(300)) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                    if line.contains(text) {
                        return;
                    }
                }
                Err(e) => panic!(
                    "no line with `{text}` ({e:?}); watch printed:\n{}",
                    self.seen
                ),
            }
        }
    }
}

/// A failed assertion must not leave `watch` running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn watch_rechecks_on_save_and_takes_keys() {
    let scratch = Scratch::new("watch");
    let mut child = KillOnDrop(
        scratch
            .command(&["watch", NAME])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("xtask watch starts"),
    );
    let (tx, rx) = mpsc::channel();
    let stdout = child.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Lines {
        rx,
        seen: String::new(),
    };
    let mut keys = child.0.stdin.take().unwrap();

    lines.wait_for(&format!("exercise `{NAME}` does not pass yet"));
    lines.wait_for("hint 1 of");
    lines.wait_for("save the file to check again");
    writeln!(keys, "h").unwrap();
    lines.wait_for("hint 2 of");
    lines.wait_for("(next hint: `h`, then Enter)");

    // Saved the way many editors save: a new file renamed over the stub.
    let ws = scratch.ws();
    let fresh = ws.join("exercises/part1/.forced_interleaving.rs.new");
    fs::copy(ws.join("exercises/solutions").join(PATH), &fresh).unwrap();
    fs::rename(&fresh, ws.join("exercises").join(PATH)).unwrap();
    lines.wait_for(&format!("ok: exercise `{NAME}` passes"));
    lines.wait_for("progress: 1/");

    writeln!(keys, "q").unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{}", lines.seen);
    assert_eq!(scratch.progress(NAME).as_deref(), Some("2 1"));
    fs::remove_dir_all(&scratch.dir).unwrap();
}
