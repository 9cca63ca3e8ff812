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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Credit, Range};

    fn row(slo: &str, account: &str, attainment: f64, credit: Option<&str>) -> SloReport {
        SloReport {
            service: "usage-api".into(),
            slo: slo.into(),
            objective: "99.9".into(),
            group: [("account".to_string(), account.to_string())].into(),
            events: Some(1000.0),
            bad: Some((1.0 - attainment) * 1000.0),
            unit: "events",
            firings: Vec::new(),
            budget_curve: Vec::new(),
            budget: 0.001,
            objective_ratio: 0.999,
            credit: Some(Credit {
                sla_objective: "99.5".into(),
                tier_below: credit.map(|_| "99".into()),
                credit_percent: credit.map(str::to_string),
            }),
            excluded: vec![("maintenance, weekly".into(), 7_200_000)],
            coverage: Some(0.5),
            replayed: None,
        }
    }

    fn report(rows: Vec<SloReport>) -> Report {
        Report {
            range: Range::month("2026-10").unwrap(),
            slos: rows,
        }
    }

    #[test]
    fn credits_in_money_never_exceed_the_charge_together() {
        let charges: BTreeMap<String, u64> = [("acme".to_string(), 1000)].into();
        let inputs = Inputs {
            specs: &[],
            source: "http://p",
            charges: &charges,
            slas: BTreeMap::new(),
        };
        let r = report(vec![
            row("a", "acme", 0.9, Some("60")),
            row("b", "acme", 0.9, Some("50")),
            row("a", "initech", 1.0, None),
        ]);
        let all = statements(&r, &inputs);
        assert_eq!(all.len(), 2);
        let cents: Vec<Option<u64>> = all[0].slos.iter().map(|l| l.credit_cents).collect();
        assert_eq!(cents, vec![Some(600), Some(400)]);
        assert_eq!(all[0].credit_cents, Some(1000));
        assert_eq!((all[1].charge_cents, all[1].credit_cents), (None, None));
        assert_eq!(all[1].slos[0].sla_met, Some(true));
        assert_eq!(
            all[0].slos[0].attainment_percent.as_deref(),
            Some("90.000000")
        );
        assert_ne!(all[0].inputs_sha256, all[1].inputs_sha256);
        // Another source is another input.
        let other = Inputs {
            source: "http://q",
            ..inputs
        };
        assert_ne!(
            statements(&r, &other)[0].inputs_sha256,
            all[0].inputs_sha256
        );
    }

    #[test]
    fn csv_quotes_what_needs_it_and_files_are_safe() {
        let r = report(vec![row("a", "acme", 0.9, Some("60"))]);
        let inputs = Inputs {
            specs: &[],
            source: "s",
            charges: &BTreeMap::new(),
            slas: BTreeMap::new(),
        };
        let text = csv(&statements(&r, &inputs)).unwrap();
        let second = text.lines().nth(1).unwrap();
        assert!(
            second.contains(",120,\"maintenance, weekly\",50.000,99,60,,,"),
            "{second}"
        );
        let one = |v: &str| -> Account { [("account".to_string(), v.to_string())].into() };
        assert_eq!(file_stem(&one("acme-1.eu")), "acme-1.eu");
        let odd = file_stem(&one("a/../b"));
        assert!(
            odd.starts_with("a_.._b-") && odd.len() == "a_.._b-".len() + 12,
            "{odd}"
        );
        assert_ne!(file_stem(&one("a/b")), file_stem(&one("a_b")));
        assert!(file_stem(&one("..")).starts_with("..-"));
        let two: Account = [
            ("region".into(), "eu".into()),
            ("tenant".into(), "x".into()),
        ]
        .into();
        assert_eq!(account_key(&two), "region=eu,tenant=x");
    }
}
