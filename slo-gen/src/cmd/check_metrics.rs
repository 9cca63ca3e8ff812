//! `slo-gen check-metrics`: the contract between the specs and what a service exposes.

use super::{load_valid, Error, Outcome, Result};
use crate::cli::CheckMetricsArgs;
use crate::metrics_check;
use std::io::Write;

pub fn run(args: &CheckMetricsArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result {
    let loaded = load_valid(&args.specs.paths, "fix them first", err)?;
    if let Some(url) = &args.global {
        return global(&loaded.checked.services, url, out, err);
    }
    let (source, text) = match (&args.metrics_url, &args.metrics_file) {
        (Some(url), _) => {
            let text = ureq::get(url)
                .call()
                .map_err(|e| e.to_string())
                .and_then(|mut r| r.body_mut().read_to_string().map_err(|e| e.to_string()))
                .map_err(|e| Error::Usage(format!("cannot scrape {url}: {e}")))?;
            (url.clone(), text)
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
            (path.display().to_string(), text)
        }
        (None, None) => {
            return Err(Error::Usage(
                "give --metrics-url or --metrics-file".to_string(),
            ))
        }
    };
    let series = metrics_check::parse_exposition(&text)
        .map_err(|e| Error::Usage(format!("{source}: {e}")))?;
    let needs = metrics_check::needs(&loaded.checked.services);
    let mut missing = 0;
    for need in &needs {
        if metrics_check::satisfied(need, &series) {
            continue;
        }
        missing += 1;
        let what = if need.bucket.is_some() {
            "no bucket at the latency threshold"
        } else {
            "no series"
        };
        writeln!(
            out,
            "{}/{}: {what}: {}",
            need.service,
            need.slo,
            need.describe()
        )?;
    }
    writeln!(
        err,
        "{} of {} selectors matched in {} series from {source}",
        needs.len() - missing,
        needs.len(),
        series.len()
    )?;
    Ok(if missing > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// `--global`: every SLO's local recordings arrive in the global store from every
/// cluster that sends any.
fn global(
    services: &[slo_spec::Service],
    url: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result {
    use crate::rules::senders;
    let client = crate::promapi::Client::new(url).map_err(|e| Error::Usage(e.to_string()))?;
    let found: Vec<_> = client
        .query(senders::QUERY, crate::backtest::history::now())
        .map_err(|e| Error::Usage(e.to_string()))?
        .into_iter()
        .map(|s| s.labels)
        .collect();
    let all = senders::senders(services, &found);
    let mut findings = 0;
    let mut clusters = std::collections::BTreeSet::new();
    for a in &all {
        clusters.extend(a.clusters.iter().cloned());
        if a.clusters.is_empty() {
            findings += 1;
            writeln!(
                out,
                "{}/{}: no cluster sends its recordings: load rules/local/ in every cluster's Prometheus and remote-write `slo_cluster:.*` to {url}",
                a.service, a.slo
            )?;
        }
        for (cluster, name) in &a.missing {
            findings += 1;
            writeln!(
                out,
                "{}/{}: cluster {cluster} sends no {name}: regenerate and reload its local rules",
                a.service, a.slo
            )?;
        }
    }
    let whole = all
        .iter()
        .filter(|a| !a.clusters.is_empty() && a.missing.is_empty())
        .count();
    writeln!(
        err,
        "{whole} of {} SLOs arrive whole from every cluster sending them (clusters: {}) at {url}",
        all.len(),
        clusters.into_iter().collect::<Vec<_>>().join(", ")
    )?;
    Ok(if findings > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
