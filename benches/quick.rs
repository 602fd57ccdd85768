//! Placeholder until the quick comparison benchmarks land.
fn main() {}
