//! The synclab workbook's exercises.
//!
//! Each exercise is a learner stub in `exercises/<part>/<name>.rs` (edit it), a reference
//! solution in `exercises/solutions/<part>/<name>.rs` (don't peek too early) and tests at the
//! bottom of both files (identical). `exercises/info.toml` lists them in reading order with
//! their hints, and `exercises/tests/<name>.rs` wires each one up as its own test target.
//!
//! ```text
//! cargo xtask check            # every exercise, against your code, with a progress count
//! cargo xtask check spin_lock  # one exercise, with its test output and all its hints
//! cargo test -p synclab-exercises   # the reference solutions (what CI runs)
//! ```
