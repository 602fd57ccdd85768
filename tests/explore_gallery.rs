//! The "Exploring interleavings" chapter's claims, checked on every run: each bug is found,
//! each fix holds on every schedule (`figures` returns `Err` otherwise), and the book's copies
//! of the output and the pictures are what the example prints and draws.
#![cfg(not(miri))]

mod common;

use std::time::Duration;

#[path = "../examples/explore_gallery.rs"]
mod explore_gallery;

#[test]
fn the_books_copies_of_the_gallery_are_what_it_prints() {
    // Some 30 000 schedules of up to four OS threads each: minutes on a busy debug build.
    common::watchdog("explore_gallery", Duration::from_secs(600), |_| {
        let (figures, tour) = explore_gallery::figures().unwrap();
        assert_eq!(figures.len(), 5);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/part2");
        for f in &figures {
            let read = |ext: &str| {
                let path = dir.join(format!("exploring-{}.{ext}", f.name));
                std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            };
            let stale = "regenerate: cargo run --release --example explore_gallery -- --write-book";
            assert_eq!(read("txt"), f.text, "{}: {stale}", f.name);
            if let Some(svg) = &f.svg {
                assert_eq!(&read("svg"), svg, "{}: {stale}", f.name);
            }
        }
        assert!(tour.contains("4 of 6 schedules overdraw"), "{tour}");
        assert!(tour.contains("2 of 10 deadlock"), "{tour}");
    });
}
