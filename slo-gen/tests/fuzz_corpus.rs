//! The fuzz corpora replayed as a regression test: every input libFuzzer kept for the
//! `load` and `backtest` targets (`fuzz/corpus/`, minimized with `-merge=1`) goes through
//! the same assertions as the targets (`fuzz/exercise.rs`), in CI, without libFuzzer.

#[path = "../../fuzz/exercise.rs"]
mod exercise;

use std::path::{Path, PathBuf};

/// Runs `check` on every input of one target's corpus, in order; a corpus that lost its
/// inputs fails rather than passing empty.
fn replay(target: &str, check: impl Fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 100,
        "the {target} corpus has {} inputs",
        files.len()
    );
    for f in &files {
        check(&std::fs::read(f).unwrap());
    }
}

#[test]
fn every_load_input_the_fuzzer_kept_still_passes() {
    replay("load", exercise::load);
}

#[test]
fn every_backtest_input_the_fuzzer_kept_still_passes() {
    let slos = crate::support::root().join("slos");
    let services = slo_gen::load(&[slos]).unwrap().checked.services;
    replay("backtest", |data| exercise::backtest(data, &services));
}
