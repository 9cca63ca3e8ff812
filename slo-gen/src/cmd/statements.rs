//! `slo-gen report --statements DIR`: the per-customer statements of a range, written
//! under `DIR/<period>/` (one JSON and one HTML file per account, `statements.csv` for all)
//! once all of them are rendered, each file atomically. Progress shows as a bar on a
//! terminal and as plain lines elsewhere (CI logs).

use super::{Error, Loaded, Result};
use crate::cli::ReportArgs;
use crate::outputs;
use crate::promapi::Client;
use crate::report::statements::{self, Inputs};
use crate::report::{self, Range, Report};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// Reads the counts of the SLOs with an SLA per group over the range and writes their
/// statements under `dir`.
pub fn run(
    args: &ReportArgs,
    dir: &Path,
    (loaded, range, client): (&Loaded, &Range, &Client),
    err: &mut dyn Write,
) -> Result<()> {
    let charges = match &args.charges {
        Some(path) => read_charges(path)?,
        None => Default::default(),
    };
    let report = report::build(
        (client, args.layout.source()),
        &loaded.checked.services,
        range,
        (report::Reads::Counts, &statements::wanted),
        &mut |line| {
            let _ = writeln!(err, "report: {line}");
        },
    )
    .map_err(|e| Error::Usage(e.to_string()))?;
    let specs: Vec<(String, String)> = loaded.texts.clone().into_iter().collect();
    let inputs = Inputs {
        specs: &specs,
        source: &args.prometheus,
        charges: &charges,
        slas: slas(&loaded.checked.services),
    };
    write(dir, &report, &inputs, err)
}

/// `{"acme": 1250000, ...}`: cents before credits by account.
pub fn read_charges(path: &Path) -> Result<BTreeMap<String, u64>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("--charges {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "--charges {}: {e}: write a JSON object of whole cents by account, e.g. {{\"acme\": 1250000}}",
            path.display()
        ))
    })
}

/// The SLA objective of every SLO that has one.
pub fn slas(services: &[slo_spec::Service]) -> BTreeMap<(String, String), String> {
    services
        .iter()
        .flat_map(|svc| {
            svc.slos.iter().filter_map(|slo| {
                let sla = slo.sla.as_ref()?;
                Some((
                    (svc.name.clone(), slo.name.clone()),
                    sla.objective_text.clone(),
                ))
            })
        })
        .collect()
}

/// The directory of a period: `2026-10`, or the range's two ends.
fn period_dir(report: &Report) -> String {
    let label = &report.range.label;
    if label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        label.clone()
    } else {
        let t = |ts| crate::backtest::history::rfc3339(ts).replace(':', "");
        format!("{}--{}", t(report.range.from), t(report.range.to))
    }
}

pub fn write(dir: &Path, report: &Report, inputs: &Inputs, err: &mut dyn Write) -> Result<()> {
    let all = statements::statements(report, inputs);
    if all.is_empty() {
        return Err(Error::Usage(
            "no SLO has both an `sla` and a `group_by`: there is no customer to write a statement for".into(),
        ));
    }
    let out = dir.join(period_dir(report));
    let csv = statements::csv(&all).map_err(|e| Error::Usage(e.to_string()))?;
    let bar = indicatif::ProgressBar::new(all.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "statements {bar:40} {pos}/{len} accounts, {eta} left",
        )
        .expect("a valid template"),
    );
    let tenth = (all.len() / 10).max(1);
    for (i, s) in all.iter().enumerate() {
        let stem = statements::file_stem(&s.account);
        outputs::write_atomic(
            &out.join(format!("{stem}.json")),
            statements::json(s).as_bytes(),
        )?;
        outputs::write_atomic(
            &out.join(format!("{stem}.html")),
            statements::html(s).as_bytes(),
        )?;
        bar.inc(1);
        if bar.is_hidden() && ((i + 1) % tenth == 0 || i + 1 == all.len()) {
            writeln!(err, "statements: {}/{} accounts", i + 1, all.len())?;
        }
    }
    bar.finish_and_clear();
    outputs::write_atomic(&out.join("statements.csv"), csv.as_bytes())?;
    writeln!(
        err,
        "statements: wrote {} accounts under {} (JSON and HTML each, statements.csv)",
        all.len(),
        out.display()
    )?;
    Ok(())
}
