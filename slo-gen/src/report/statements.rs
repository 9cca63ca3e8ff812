//! Per-customer SLA statements: for every SLO with an SLA and a `group_by` (an account,
//! typically), one statement per group and range: each SLO's events, bad events,
//! attainment, excluded time by reason, coverage, the credit tier and percent, and the
//! credit in money when the charge before credits is known. JSON (one per account), CSV
//! (one row per account and SLO, for finance tools) and HTML. The same inputs give the
//! same bytes: no clock, no order but the accounts' and the specs', and each statement
//! carries the SHA-256 of its inputs (the spec texts, the range, the source, the charges,
//! the account).

use super::{Report, SloReport};
use crate::backtest::history::rfc3339;
use crate::text::span as span_text;
use maud::{html, DOCTYPE};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The group labels of an account (`{account: acme}`).
pub type Account = BTreeMap<String, String>;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Statement {
    pub account: Account,
    pub period: Period,
    pub slos: Vec<SloLine>,
    /// The account's charge for the period before credits, when known.
    pub charge_cents: Option<u64>,
    /// The credits of every SLO together, never above the charge.
    pub credit_cents: Option<u64>,
    pub inputs_sha256: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Period {
    pub label: String,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SloLine {
    pub service: String,
    pub slo: String,
    pub objective: String,
    pub sla_objective: String,
    pub events: Option<u64>,
    pub bad: Option<u64>,
    /// Six decimals, as the credits document writes it; `None` without events.
    pub attainment_percent: Option<String>,
    /// `None`: no data, which never counts as met.
    pub sla_met: Option<bool>,
    pub excluded: Vec<Excluded>,
    pub coverage_percent: Option<String>,
    pub tier_below: Option<String>,
    pub credit_percent: Option<String>,
    pub credit_cents: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Excluded {
    pub reason: String,
    pub minutes: f64,
}

/// The inputs every statement of a run shares, hashed once.
pub struct Inputs<'a> {
    /// `(path, text)` of every spec file.
    pub specs: &'a [(String, String)],
    pub source: &'a str,
    /// Charges before credits by account key (see [`account_key`]), in cents.
    pub charges: &'a BTreeMap<String, u64>,
    /// The SLA objective of each `(service, slo)`, as written.
    pub slas: BTreeMap<(String, String), String>,
}

impl Inputs<'_> {
    fn hasher(&self, report: &Report) -> Sha256 {
        let mut h = Sha256::new();
        let mut field = |b: &[u8]| {
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        };
        let mut specs: Vec<&(String, String)> = self.specs.iter().collect();
        specs.sort();
        for (path, text) in specs {
            field(path.as_bytes());
            field(text.as_bytes());
        }
        field(rfc3339(report.range.from).as_bytes());
        field(rfc3339(report.range.to).as_bytes());
        field(self.source.as_bytes());
        for (k, v) in self.charges {
            field(k.as_bytes());
            field(&v.to_le_bytes());
        }
        h
    }
}

/// `acme`, or `region=eu,tenant=acme` for more than one group label: how charges files
/// and CSV rows name an account.
pub fn account_key(account: &Account) -> String {
    match account.len() {
        1 => account.values().next().cloned().unwrap_or_default(),
        _ => account
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// A file name for an account: the key where it is safe, else its safe letters and a
/// short hash of the key (two accounts never share a file).
pub fn file_stem(account: &Account) -> String {
    let key = account_key(account);
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe == key && !key.starts_with('.') && !key.is_empty() {
        safe
    } else {
        let digest = hex::encode(Sha256::digest(key.as_bytes()));
        format!("{safe}-{}", &digest[..12])
    }
}

/// The SLOs statements are written for: an SLA, per group.
pub fn wanted(slo: &slo_spec::Slo) -> bool {
    slo.sla.is_some() && !slo.group_by.is_empty()
}

fn line(r: &SloReport, sla_objective: &str) -> SloLine {
    let credit = r.credit.as_ref();
    SloLine {
        service: r.service.clone(),
        slo: r.slo.clone(),
        objective: r.objective.clone(),
        sla_objective: sla_objective.to_string(),
        events: r.events.map(|e| e.round() as u64),
        bad: r.bad.map(|b| b.round() as u64),
        attainment_percent: r.attainment().map(|a| format!("{:.6}", a * 100.0)),
        sla_met: credit.map(|c| c.credit_percent.is_none()),
        excluded: r
            .excluded
            .iter()
            .map(|(reason, ms)| Excluded {
                reason: reason.clone(),
                minutes: *ms as f64 / 60_000.0,
            })
            .collect(),
        coverage_percent: r.coverage.map(|c| format!("{:.3}", c * 100.0)),
        tier_below: credit.and_then(|c| c.tier_below.clone()),
        credit_percent: credit.and_then(|c| c.credit_percent.clone()),
        credit_cents: None,
    }
}

/// One statement per account of the report's grouped rows, by account (build the report
/// of the SLOs with an SLA and a `group_by`: [`wanted`]).
pub fn statements(report: &Report, inputs: &Inputs) -> Vec<Statement> {
    let mut by: BTreeMap<&Account, Vec<&SloReport>> = BTreeMap::new();
    for r in report.slos.iter().filter(|r| !r.group.is_empty()) {
        by.entry(&r.group).or_default().push(r);
    }
    let base = inputs.hasher(report);
    let period = Period {
        label: report.range.label.clone(),
        from: rfc3339(report.range.from),
        to: rfc3339(report.range.to),
    };
    by.into_iter()
        .map(|(account, rows)| {
            let key = account_key(account);
            let charge = inputs.charges.get(&key).copied();
            let mut credited = 0u64;
            let slos = rows
                .into_iter()
                .map(|r| {
                    let sla = inputs
                        .slas
                        .get(&(r.service.clone(), r.slo.clone()))
                        .map(String::as_str)
                        .unwrap_or_default();
                    let mut l = line(r, sla);
                    let bp = l
                        .credit_percent
                        .as_deref()
                        .and_then(slo_spec::credits::basis_points);
                    l.credit_cents = charge.map(|c| {
                        // Together never above the charge, as on the invoice.
                        let cents = bp
                            .map(|bp| slo_spec::credits::cents(c, bp))
                            .unwrap_or(0)
                            .min(c - credited);
                        credited += cents;
                        cents
                    });
                    l
                })
                .collect();
            let mut h = base.clone();
            h.update(key.as_bytes());
            Statement {
                account: account.clone(),
                period: period.clone(),
                slos,
                charge_cents: charge,
                credit_cents: charge.map(|_| credited),
                inputs_sha256: hex::encode(h.finalize()),
            }
        })
        .collect()
}

pub fn json(s: &Statement) -> String {
    let mut t = serde_json::to_string_pretty(s).expect("statements serialise");
    t.push('\n');
    t
}

/// Every statement as CSV rows, one per account and SLO; a column per group label.
pub fn csv(statements: &[Statement]) -> Result<String, csv::Error> {
    let mut labels: Vec<&String> = statements.iter().flat_map(|s| s.account.keys()).collect();
    labels.sort();
    labels.dedup();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = labels.iter().map(|l| l.as_str()).collect();
    header.extend([
        "period",
        "service",
        "slo",
        "objective",
        "sla_objective",
        "events",
        "bad",
        "attainment_percent",
        "sla_met",
        "excluded_minutes",
        "excluded_reasons",
        "coverage_percent",
        "tier_below",
        "credit_percent",
        "credit_cents",
        "charge_cents",
        "inputs_sha256",
    ]);
    w.write_record(&header)?;
    let opt = |v: Option<String>| v.unwrap_or_default();
    for s in statements {
        for l in &s.slos {
            let mut row: Vec<String> = labels
                .iter()
                .map(|k| s.account.get(*k).cloned().unwrap_or_default())
                .collect();
            row.extend([
                s.period.label.clone(),
                l.service.clone(),
                l.slo.clone(),
                l.objective.clone(),
                l.sla_objective.clone(),
                opt(l.events.map(|v| v.to_string())),
                opt(l.bad.map(|v| v.to_string())),
                opt(l.attainment_percent.clone()),
                opt(l.sla_met.map(|m| m.to_string())),
                l.excluded
                    .iter()
                    .map(|e| e.minutes)
                    .sum::<f64>()
                    .to_string(),
                l.excluded
                    .iter()
                    .map(|e| e.reason.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
                opt(l.coverage_percent.clone()),
                opt(l.tier_below.clone()),
                opt(l.credit_percent.clone()),
                opt(l.credit_cents.map(|v| v.to_string())),
                opt(s.charge_cents.map(|v| v.to_string())),
                s.inputs_sha256.clone(),
            ]);
            w.write_record(&row)?;
        }
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 fields"))
}

fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

pub fn html(s: &Statement) -> String {
    let key = account_key(&s.account);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "SLA statement " (key) " " (s.period.label) }
                style { (maud::PreEscaped("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.missed{color:#b00;font-weight:bold}.met{color:#070}.nodata{color:#777}")) }
            }
            body {
                h1 { "SLA statement: " (key) }
                p { (s.period.label) ": " (s.period.from) " → " (s.period.to) }
                table {
                    tr { th { "SLO" } th { "SLA" } th { "attainment" } th { "events" } th { "bad" } th { "excluded" } th { "coverage" } th { "tier" } th { "credit" } }
                    @for l in &s.slos {
                        tr {
                            td { (l.service) "/" (l.slo) }
                            td { (l.sla_objective) "%" }
                            td class=(match l.sla_met { Some(true) => "met", Some(false) => "missed", None => "nodata" }) {
                                (l.attainment_percent.as_deref().map(|a| format!("{a}%")).unwrap_or_else(|| "no data".into()))
                            }
                            td { (l.events.map(|v| v.to_string()).unwrap_or_default()) }
                            td { (l.bad.map(|v| v.to_string()).unwrap_or_default()) }
                            td { @for e in &l.excluded { (span_text((e.minutes * 60_000.0) as i64)) " (" (e.reason) ")" br; } }
                            td { (l.coverage_percent.as_deref().map(|c| format!("{c}%")).unwrap_or_else(|| "no data".into())) }
                            td { (l.tier_below.as_deref().map(|t| format!("below {t}%")).unwrap_or_else(|| "–".into())) }
                            td {
                                (l.credit_percent.as_deref().map(|c| format!("{c}%")).unwrap_or_else(|| "none".into()))
                                @if let Some(c) = l.credit_cents { " = " (money(c)) }
                            }
                        }
                    }
                }
                @if let (Some(charge), Some(credit)) = (s.charge_cents, s.credit_cents) {
                    p { "Charge before credits " (money(charge)) "; credits " strong { (money(credit)) } "." }
                }
                p { small { "Inputs SHA-256 " (s.inputs_sha256) } }
            }
        }
    }
    .into_string()
}
