//! Any bytes as a saved backtest history and as an incidents file: reading never panics,
//! and a history that reads is replayed through the specs of `slos/` (refused or
//! evaluated, never a panic or an unbounded loop: histories span at most a year and a day).
#![no_main]

#[path = "../exercise.rs"]
#[allow(dead_code)]
mod exercise;

use std::sync::OnceLock;

fn services() -> &'static Vec<slo_spec::Service> {
    static S: OnceLock<Vec<slo_spec::Service>> = OnceLock::new();
    S.get_or_init(|| {
        let slos = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../slos");
        slo_gen::load(&[slos]).expect("slos/ loads").checked.services
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| exercise::backtest(data, services()));
