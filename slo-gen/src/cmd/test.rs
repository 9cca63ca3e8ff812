//! `slo-gen test`: generated promtool unit tests per SLO, run by the real promtool.

use super::{load_valid, Error, Outcome, Result};
use crate::cli::TestArgs;
use crate::promtool::{self, Outcome as SloOutcome};
use crate::rules::Options;
use slo_spec::names::format_duration;
use std::io::Write;
use std::time::Duration;

pub fn run(args: &TestArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result {
    let loaded = load_valid(&args.specs.paths, "fix them first", err)?;
    let mut temp = None;
    let dir = match &args.keep {
        Some(d) => d.clone(),
        None => {
            let t = tempfile::Builder::new()
                .prefix("slo-gen-test-")
                .tempdir()
                .map_err(|e| Error::Usage(format!("cannot create a temporary directory: {e}")))?;
            temp.insert(t).path().to_path_buf()
        }
    };
    let outcomes = promtool::run(
        &loaded.checked.services,
        &dir,
        &args.promtool,
        &Options::default(),
    )?;
    let mut failed = 0;
    for o in &outcomes {
        report(out, o)?;
        failed += usize::from(!o.passed);
    }
    writeln!(
        err,
        "{} SLOs tested with promtool, {} failed",
        outcomes.len(),
        failed
    )?;
    if failed == 0 {
        return Ok(Outcome::Clean);
    }
    if let Some(t) = temp {
        // Keep failing suites for inspection.
        writeln!(err, "slo-gen: failing tests kept in {}", t.keep().display())?;
    }
    Ok(Outcome::Findings)
}

/// One SLO's line: what was checked and how fast each tier detects its burn.
fn report(out: &mut dyn Write, o: &SloOutcome) -> std::io::Result<()> {
    let s = &o.summary;
    let fastest: Vec<String> = s
        .detections
        .iter()
        .map(|(tier, burn, d)| format!("{tier} {burn} in {}", format_duration(round_secs(*d))))
        .collect();
    let status = if o.passed { "ok" } else { "FAILED" };
    writeln!(
        out,
        "{status:6} {}/{}: {} scenarios, {} checks; detects {}",
        o.service,
        o.slo,
        s.scenarios,
        s.checks,
        if fastest.is_empty() {
            "nothing (alerts off)".to_string()
        } else {
            fastest.join(", ")
        }
    )?;
    for u in &s.unreachable {
        writeln!(
            out,
            "       note: {u} cannot fire: the burn needs more than 100% errors"
        )?;
    }
    if !o.passed {
        writeln!(out, "       tests in {}", o.dir.display())?;
        for line in o.output.lines() {
            writeln!(out, "       | {line}")?;
        }
    }
    Ok(())
}

/// Whole seconds, for durations people read.
pub fn round_secs(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs_f64().round() as u64)
}
