//! `slo-gen gate`: the budget of every selected SLO from Prometheus, judged by
//! [`crate::gate`]. Exit 0 deploy, 1 blocked (naming the SLOs), 2 when an SLO has no data,
//! the server cannot be reached, or the arguments are wrong.

use super::{load_valid, Error, Outcome, Result};
use crate::cli::{FindingsFormat, GateArgs};
use crate::gate::{self, Status, Verdict};
use crate::promapi::Client;
use slo_spec::decimal::Decimal;
use slo_spec::render::workflow_command;
use std::cmp::Ordering;
use std::io::Write;

pub fn run(args: &GateArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result {
    let loaded = load_valid(&args.specs.paths, "the gate was not evaluated", err)?;
    let services = &loaded.checked.services;
    let min = Decimal::parse(&args.min_budget)
        .filter(|d| {
            d.compare(Decimal::from_int(0)) != Some(Ordering::Less)
                && d.compare(Decimal::from_int(100)) == Some(Ordering::Less)
        })
        .ok_or_else(|| {
            Error::Usage(format!(
                "--min-budget {}: give a percentage from 0 up to, not including, 100",
                args.min_budget
            ))
        })?;
    let selected = |svc: &slo_spec::Service, slo: &slo_spec::Slo| {
        (args.service.is_empty() || args.service.contains(&svc.name))
            && (args.slo.is_empty() || args.slo.contains(&slo.name))
    };
    let count = services
        .iter()
        .flat_map(|s| s.slos.iter().map(move |o| (s, o)))
        .filter(|(s, o)| selected(s, o))
        .count();
    if count == 0 {
        return Err(Error::Usage(format!(
            "no SLO matches --service {:?} --slo {:?} in the specs",
            args.service, args.slo
        )));
    }
    let client = Client::new(&args.prometheus).map_err(|e| Error::Usage(e.to_string()))?;
    let now = crate::backtest::history::now();
    let budgets = client
        .query(&gate::query(), now)
        .map_err(|e| Error::Usage(e.to_string()))?;
    let verdicts = gate::decide(services, &selected, (&min, &args.min_budget), &budgets);
    write(out, args.format, &verdicts)?;
    let has = |s: Status| verdicts.iter().any(|v| v.status == s);
    Ok(if has(Status::NoData) {
        Outcome::Undecided
    } else if has(Status::Block) {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

fn write(out: &mut dyn Write, format: FindingsFormat, verdicts: &[Verdict]) -> Result<()> {
    let blocked = verdicts
        .iter()
        .filter(|v| v.status == Status::Block)
        .count();
    let missing = verdicts
        .iter()
        .filter(|v| v.status == Status::NoData)
        .count();
    let decision = match (missing, blocked) {
        (0, 0) => "deploy",
        (0, _) => "blocked",
        _ => "undecided",
    };
    match format {
        FindingsFormat::Json => {
            super::write_json(
                out,
                &serde_json::json!({"decision": decision, "slos": verdicts}),
            )?;
        }
        FindingsFormat::Text => {
            for v in verdicts {
                let tag = match v.status {
                    Status::Pass => "pass   ",
                    Status::Block => "BLOCK  ",
                    Status::NoData => "NO DATA",
                };
                writeln!(out, "{tag} {}", gate::describe(v))?;
            }
            writeln!(
                out,
                "{decision}: {} SLO verdicts, {blocked} blocking, {missing} without data",
                verdicts.len()
            )?;
        }
        FindingsFormat::Github => {
            for v in verdicts.iter().filter(|v| v.status != Status::Pass) {
                let title = match v.status {
                    Status::Block => "deploy gate: blocked",
                    _ => "deploy gate: no data",
                };
                let props = [
                    ("file", v.file.clone()),
                    ("line", v.line.to_string()),
                    ("title", title.to_string()),
                ];
                writeln!(
                    out,
                    "{}",
                    workflow_command("error", &props, &gate::describe(v))
                )?;
            }
            writeln!(out, "{decision}")?;
        }
    }
    Ok(())
}
