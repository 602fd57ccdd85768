//! Compile-fail tests (trybuild): each file in `tests/ui/` must be rejected by the compiler
//! with the error recorded next to it in its `.stderr` snapshot.
//!
//! The snapshots depend on the compiler version (CI pins stable 1.95). To regenerate them
//! after a toolchain change: `TRYBUILD=overwrite cargo test --test compile_fail`, then review
//! the diff.

#[test]
#[cfg_attr(miri, ignore = "trybuild runs rustc")]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
