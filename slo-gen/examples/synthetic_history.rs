//! Writes a deterministic synthetic backtest history for a spec set, so `slo-gen
//! backtest --history` can be tried (and benchmarked) without a Prometheus:
//!
//! `cargo run -q -p slo-gen --example synthetic_history -- slos 30 /tmp/history.json`
//!
//! The history ends at 2026-11-01T00:00:00Z; see `slo_gen::backtest::synthetic`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [specs, days, out] = args.as_slice() else {
        eprintln!("usage: synthetic_history SPECS DAYS OUT.json");
        return ExitCode::from(2);
    };
    let Ok(days) = days.parse::<i64>() else {
        eprintln!("DAYS must be a whole number of days, not `{days}`");
        return ExitCode::from(2);
    };
    let loaded = match slo_gen::load(&[PathBuf::from(specs)]) {
        Ok(l) if !l.checked.has_errors() => l,
        Ok(_) => {
            eprintln!("{specs}: the specs have errors; run `slo-gen validate {specs}`");
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let to =
        slo_gen::backtest::history::parse_rfc3339("2026-11-01T00:00:00Z").expect("a valid time");
    let history = slo_gen::backtest::synthetic::history(&loaded.checked.services, to, days);
    if let Err(e) = std::fs::write(out, history.to_json()) {
        eprintln!("{out}: {e}");
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
