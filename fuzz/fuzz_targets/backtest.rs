//! Any bytes as a saved backtest history and as an incidents file: reading never panics,
//! and a history that reads is replayed through the specs of `slos/` (refused or
//! evaluated, never a panic or an unbounded loop: histories span at most a year and a day).
#![no_main]

use libfuzzer_sys::fuzz_target;
use slo_gen::backtest::{compare, history::History, replay, targets, Evaluation};
use std::sync::OnceLock;

fn services() -> &'static Vec<slo_spec::Service> {
    static S: OnceLock<Vec<slo_spec::Service>> = OnceLock::new();
    S.get_or_init(|| {
        let slos = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../slos");
        slo_gen::load(&[slos]).expect("slos/ loads").checked.services
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(h) = History::from_json(text) {
        let t = targets(services());
        if let Ok(run) = replay(&t, &h, Evaluation::Groups) {
            let _ = compare::diff(&run, &run);
        }
        let _ = h.to_json();
    }
    if let Ok(incidents) = compare::parse_incidents(text) {
        assert!(incidents.iter().all(|i| i.start <= i.end));
    }
});
