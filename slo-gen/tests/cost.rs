//! Rule-size figures: rules, raw-series range selectors and the longest raw range per
//! SLO, ours beside Sloth's own output for its examples. Printed for the README
//! (`cargo test -p slo-gen --test cost -- --nocapture`) and bounded here.

use promql_parser::parser;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

#[derive(Default, Debug, Clone, Copy)]
struct Cost {
    rules: usize,
    raw_selectors: usize,
    max_raw_range: Duration,
}

fn add_rule(cost: &mut Cost, rule: &Value) {
    cost.rules += 1;
    let expr = rule["expr"].as_str().unwrap().replace("{{.window}}", "5m");
    let parsed = parser::parse(&expr).unwrap_or_else(|e| panic!("{e}: {expr}"));
    for s in slo_spec::selectors(&parsed) {
        // Recorded series have a colon in their name; everything else is raw.
        if let (Some(range), false) = (s.range, s.name.contains(':')) {
            cost.raw_selectors += 1;
            cost.max_raw_range = cost.max_raw_range.max(range);
        }
    }
}

/// Per SLO (keyed by the group name prefix), from a rule file.
fn costs(path: &Path, slo_of_group: impl Fn(&str) -> String) -> Vec<(String, Cost)> {
    let text = std::fs::read_to_string(path).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
    let mut out: Vec<(String, Cost)> = Vec::new();
    for doc in docs {
        for group in doc["groups"].as_array().into_iter().flatten() {
            let slo = slo_of_group(group["name"].as_str().unwrap());
            let idx = match out.iter().position(|(s, _)| *s == slo) {
                Some(i) => i,
                None => {
                    out.push((slo, Cost::default()));
                    out.len() - 1
                }
            };
            for rule in group["rules"].as_array().unwrap() {
                add_rule(&mut out[idx].1, rule);
            }
        }
    }
    out
}

fn text(d: Duration) -> String {
    promql_parser::util::display_duration(&d)
}

#[test]
fn rule_size_figures() {
    let root = crate::support::root();
    let mut ours = Vec::new();
    for entry in std::fs::read_dir(root.join("rules")).unwrap() {
        let path = entry.unwrap().path();
        ours.extend(costs(&path, |g| {
            g.trim_end_matches("-resume")
                .trim_end_matches("-alerts")
                .to_string()
        }));
    }
    ours.sort_by(|a, b| a.0.cmp(&b.0));
    let mut sloth = Vec::new();
    let out_dir = root.join("slo-spec/tests/conformance/sloth/out");
    for entry in std::fs::read_dir(out_dir).unwrap() {
        sloth.extend(costs(&entry.unwrap().path(), |g| {
            g.replace("sloth-slo-sli-recordings-", "")
                .replace("sloth-slo-meta-recordings-", "")
                .replace("sloth-slo-alerts-", "")
        }));
    }
    println!("| rules | SLO | rules | raw range selectors | longest raw range |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, set) in [("slo-gen", &ours), ("Sloth", &sloth)] {
        for (slo, c) in set.iter() {
            println!(
                "| {name} | {slo} | {} | {} | {} |",
                c.rules,
                c.raw_selectors,
                text(c.max_raw_range)
            );
        }
    }
    let avg = |set: &[(String, Cost)], f: fn(&Cost) -> usize| {
        set.iter().map(|(_, c)| f(c)).sum::<usize>() as f64 / set.len() as f64
    };
    let ours_raw = avg(&ours, |c| c.raw_selectors);
    let sloth_raw = avg(&sloth, |c| c.raw_selectors);
    println!(
        "cost: per SLO, slo-gen {:.1} rules / {:.1} raw range selectors; Sloth {:.1} rules / {:.1} raw range selectors; Pyrra 7 raw-rate windows",
        avg(&ours, |c| c.rules),
        ours_raw,
        avg(&sloth, |c| c.rules),
        sloth_raw
    );
    assert!(ours.len() >= 14);
    for (slo, c) in &ours {
        assert!(
            c.max_raw_range <= Duration::from_secs(1800),
            "{slo} reads raw series over {}",
            text(c.max_raw_range)
        );
        // Errors and events, and for "good", latency and grouped SLIs the total once more
        // inside the errors (vmalert cannot read a series recorded in the same round):
        // never more than three range reads, all at the base window.
        assert!(
            c.raw_selectors <= 3,
            "{slo} reads raw series {} times",
            c.raw_selectors
        );
    }
    assert!(
        ours_raw * 4.0 < sloth_raw,
        "ours {ours_raw} vs Sloth {sloth_raw}"
    );
}

/// Samples the rules of one SLO read per hour in steady state, counted from its rules:
/// per evaluation, one per instant selector and range ÷ spacing per range selector, where a
/// raw series is spaced by the scrape interval and a recorded one by its group's interval,
/// or by the period of its sparse writes (checkpoints, markers). Resume points exist only
/// after a gap and are not read in steady state. One series per selector.
fn samples_per_hour(groups: &[slo_gen::rules::Group], scrape: Duration) -> f64 {
    use slo_gen::names::series;
    use slo_gen::rules::Rule;
    let day = Duration::from_secs(86_400);
    let mut spacing: std::collections::BTreeMap<String, Option<Duration>> = Default::default();
    for g in groups {
        for r in &g.rules {
            if let Rule::Record { record, .. } = r {
                let sparse = if record.contains("_checkpoint") {
                    let every = record.rsplit("checkpoint").next().unwrap();
                    Some(promql_parser::util::parse_duration(every).unwrap())
                } else if record == series::TOTALS_SEEN {
                    Some(day * 29)
                } else if record.ends_with("_resume") {
                    None
                } else if record.contains("calendar_start") {
                    Some(day * 28)
                } else {
                    Some(g.interval)
                };
                spacing.entry(record.clone()).or_insert(sparse);
            }
        }
    }
    let mut total = 0.0;
    for g in groups {
        let per_hour = 3600.0 / g.interval.as_secs_f64();
        for r in &g.rules {
            let (Rule::Record { expr, .. } | Rule::Alert { expr, .. }) = r;
            let parsed = parser::parse(expr).unwrap_or_else(|e| panic!("{e}: {expr}"));
            for s in slo_spec::selectors(&parsed) {
                let every = match spacing.get(&s.name) {
                    Some(Some(d)) => *d,
                    Some(None) => continue,
                    None if s.name.contains(':') || s.name.is_empty() => continue,
                    None => scrape,
                };
                let read = match s.range {
                    Some(range) => (range.as_secs_f64() / every.as_secs_f64()).ceil().max(1.0),
                    None => 1.0,
                };
                total += read * per_hour;
            }
        }
    }
    total
}

#[test]
fn samples_read_per_slo_and_hour_do_not_grow_with_the_period() {
    const PERIODS: &[&str] = &["1d", "7d", "28d", "30d", "90d"];
    for scrape in ["15s", "1m"] {
        let mut text =
            format!("version: v1\nservice: cost\nowner: o\nscrape_interval: {scrape}\nslos:\n");
        for p in PERIODS {
            text += &format!(
                "  - name: p{p}\n    description: d\n    objective: 99.9\n    period: {p}\n    sli:\n      ratio:\n        errors: sum(rate(x_total{{code=\"500\"}}[{{{{window}}}}]))\n        total: sum(rate(x_total[{{{{window}}}}]))\n    alerting:\n      annotations: {{runbook_url: https://r.example.com}}\n"
            );
        }
        let checked = slo_spec::check(&[slo_spec::Source {
            path: "cost.yaml".into(),
            text,
        }]);
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        let svc = &checked.services[0];
        let figures: Vec<(String, f64)> = svc
            .slos
            .iter()
            .map(|slo| {
                let groups = slo_gen::rules::slo_groups(svc, slo, &Default::default());
                let scrape = slo.scrape_interval.duration;
                (slo.period.text.clone(), samples_per_hour(&groups, scrape))
            })
            .collect();
        let line: Vec<String> = figures
            .iter()
            .map(|(p, n)| format!("{p} {:.0}", n))
            .collect();
        println!(
            "cost: samples read per SLO and hour at a {scrape} scrape: {}",
            line.join(", ")
        );
        let (lo, hi) = figures.iter().fold((f64::MAX, 0.0f64), |(lo, hi), (_, n)| {
            (lo.min(*n), hi.max(*n))
        });
        assert!(
            hi <= 1.5 * lo,
            "{scrape}: from {lo} to {hi} with the period"
        );
        if scrape == "1m" {
            assert!(hi <= 100_000.0, "{scrape}: {hi} samples per SLO and hour");
        }
    }
}
