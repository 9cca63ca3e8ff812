//! `slo-gen generate`: rules and dashboards written atomically, or `--check`ed for drift.

use super::{load_valid, Outcome, Result};
use crate::cli::GenerateArgs;
use crate::outputs::{self, Drift};
use crate::rules::Options;
use std::io::Write;

pub fn run(args: &GenerateArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result {
    let loaded = load_valid(&args.specs.paths, "nothing was written", err)?;
    let opts = Options {
        grafana_url: args.grafana_url.clone(),
        remote_write_delay: args.remote_write_delay,
        split: args.layout == crate::cli::Layout::Split,
    };
    let [rules, dashboards, alertmanager] = args.dirs();
    let dirs = outputs::Dirs {
        rules: &rules,
        dashboards: &dashboards,
        alertmanager: &alertmanager,
    };
    let format = args.format.into();
    let services = &loaded.checked.services;
    if args.check {
        let (produced, drift) = outputs::check(services, dirs, format, &opts)?;
        for d in &drift {
            writeln!(out, "{d}")?;
        }
        if drift.is_empty() {
            writeln!(err, "{produced} generated files are up to date")?;
            return Ok(Outcome::Clean);
        }
        writeln!(
            err,
            "slo-gen: generated files are out of date; run `slo-gen generate` and commit"
        )?;
        return Ok(Outcome::Findings);
    }
    let (produced, changed) = outputs::generate(services, dirs, format, &opts)?;
    for d in &changed {
        match d {
            Drift::Missing(p) => writeln!(out, "{}: written", p.display())?,
            Drift::Stale(p) => writeln!(out, "{}: updated", p.display())?,
            Drift::Orphaned(_) => writeln!(out, "{d}")?,
        }
    }
    writeln!(err, "{produced} files generated, {} changed", changed.len())?;
    Ok(Outcome::Clean)
}
