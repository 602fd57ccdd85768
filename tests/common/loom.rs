//! The loom tests' shared helper, included by each `tests/loom_*.rs` with `#[path]` (those files
//! compile only under `--cfg loom`).

// ANCHOR: model_helper
/// `loom::model`, then a check that some execution really slept in the futex model, so the
/// model covers the sleep/wake protocol and not only the paths in front of it.
pub fn model(f: impl Fn() + Sync + Send + 'static) {
    ::loom::model(f);
    assert!(
        synclab::futex::loom_sleeps() > 0,
        "no execution of this model ever slept"
    );
}
// ANCHOR_END: model_helper
