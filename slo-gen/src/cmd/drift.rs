//! `slo-gen drift`: the rules a Prometheus or vmalert has loaded against what `generate`
//! writes for the specs ([`crate::drift`]). Exit 0 clean, 1 drift (every finding named
//! with its file, group and rule), 2 when the server cannot be read or the specs are bad.

use super::{load_valid, Error, Outcome, Result};
use crate::cli::{DriftArgs, FindingsFormat};
use crate::drift::{self, Finding};
use crate::names;
use crate::promapi::Client;
use crate::rules::{self, Options};
use slo_spec::render::workflow_command;
use std::io::Write;

pub fn run(args: &DriftArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result {
    let loaded = load_valid(&args.specs.paths, "nothing was compared", err)?;
    let opts = Options {
        grafana_url: args.grafana_url.clone(),
        ..Default::default()
    };
    let expected: Vec<(String, Vec<rules::Group>)> = loaded
        .checked
        .services
        .iter()
        .map(|svc| {
            (
                format!("rules/{}", names::rule_file(&svc.name)),
                rules::service_groups(svc, &opts),
            )
        })
        .collect();
    let url = args
        .prometheus
        .as_deref()
        .or(args.vmalert.as_deref())
        .ok_or_else(|| Error::Usage("give --prometheus URL or --vmalert URL".into()))?;
    let client = Client::new(url).map_err(|e| Error::Usage(e.to_string()))?;
    let data = client.rules().map_err(|e| Error::Usage(e.to_string()))?;
    let groups = drift::parse(&data).ok_or_else(|| {
        Error::Usage(format!(
            "{url}/api/v1/rules did not answer with rule groups"
        ))
    })?;
    let now = crate::backtest::history::now();
    let loaded_at = client.rules_loaded_at();
    // Due once an interval (and a little slack for the group's offset) has passed since
    // the rules were loaded; always when the server does not say when that was.
    let due = |interval: std::time::Duration| match loaded_at {
        Some(t) => (now - t) as f64 / 1000.0 > interval.as_secs_f64() * 1.1 + 5.0,
        None => true,
    };
    let findings = drift::compare(&expected, &groups, &due);
    write(out, args.format, &findings, url)?;
    Ok(if findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

fn write(
    out: &mut dyn Write,
    format: FindingsFormat,
    findings: &[Finding],
    url: &str,
) -> Result<()> {
    match format {
        FindingsFormat::Json => {
            super::write_json(out, &serde_json::json!({"server": url, "drift": findings}))?;
        }
        FindingsFormat::Text => {
            for f in findings {
                let rule = if f.rule.is_empty() {
                    String::new()
                } else {
                    format!(" {}", f.rule)
                };
                writeln!(out, "{}: {}{rule}: {}", f.file, f.group, f.message)?;
            }
            match findings.len() {
                0 => writeln!(out, "no drift: {url} runs what the specs generate")?,
                n => writeln!(out, "{n} finding(s) of drift at {url}")?,
            }
        }
        FindingsFormat::Github => {
            for f in findings {
                let title = format!("rule drift: {}", f.group);
                let props = [("file", f.file.clone()), ("title", title)];
                let message = if f.rule.is_empty() {
                    f.message.clone()
                } else {
                    format!("{}: {}", f.rule, f.message)
                };
                writeln!(out, "{}", workflow_command("error", &props, &message))?;
            }
        }
    }
    Ok(())
}
