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
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut ours = Vec::new();
    for entry in std::fs::read_dir(root.join("rules")).unwrap() {
        let path = entry.unwrap().path();
        ours.extend(costs(&path, |g| {
            g.trim_end_matches("-long")
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
