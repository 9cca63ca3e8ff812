//! The fuzz corpora replayed as a regression test: every input libFuzzer kept for the
//! `load` and `backtest` targets (`fuzz/corpus/`, minimized with `-merge=1`) goes through
//! the same assertions as the targets (`fuzz/exercise.rs`), in CI, without libFuzzer.

#[path = "../../fuzz/exercise.rs"]
mod exercise;

use std::path::{Path, PathBuf};

/// The inputs of one target's corpus, sorted.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_load_input_the_fuzzer_kept_still_passes() {
    let files = corpus("load");
    assert!(
        files.len() >= 100,
        "the load corpus has {} inputs",
        files.len()
    );
    for f in &files {
        exercise::load(&std::fs::read(f).unwrap());
    }
}

#[test]
fn every_backtest_input_the_fuzzer_kept_still_passes() {
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("../slos");
    let services = slo_gen::load(&[slos]).unwrap().checked.services;
    let files = corpus("backtest");
    assert!(
        files.len() >= 100,
        "the backtest corpus has {} inputs",
        files.len()
    );
    for f in &files {
        exercise::backtest(&std::fs::read(f).unwrap(), &services);
    }
}
