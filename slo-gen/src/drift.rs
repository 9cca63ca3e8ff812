//! `slo-gen drift`: what a rule server runs against what `generate` writes for the specs.
//! The server's `/api/v1/rules` (Prometheus and vmalert answer alike) is parsed into
//! [`LoadedGroup`]s and compared group by group, rule by rule: missing groups and rules,
//! changed expressions (compared as parsed PromQL, since Prometheus prints queries its own
//! way), `for`, labels, annotations and intervals; `slo-` groups and `slo:` rules no spec
//! generates (orphans); rules whose last evaluation failed or that never evaluated.

use crate::names;
use crate::rules::{Group, Rule};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// Rules seen so far by kind and shown name, to rank same-named ones.
type Seen = BTreeMap<(String, String), usize>;

/// What `lastEvaluation` says of a rule that never ran.
const NEVER: &str = "0001-01-01T00:00:00Z";

/// A rule group as the server holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedGroup {
    pub name: String,
    pub file: String,
    pub interval: Option<f64>,
    pub last_evaluation: String,
    pub rules: Vec<LoadedRule>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoadedRule {
    /// `recording` or `alerting`.
    pub kind: String,
    pub name: String,
    pub query: String,
    /// `for` in seconds (0 for recording rules).
    pub for_secs: f64,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub last_error: String,
    pub last_evaluation: String,
}

/// The `data` of a `/api/v1/rules` answer; `None` when it is not one.
pub fn parse(data: &Value) -> Option<Vec<LoadedGroup>> {
    let strings = |v: &Value| -> BTreeMap<String, String> {
        v.as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    data["groups"]
        .as_array()?
        .iter()
        .map(|g| {
            Some(LoadedGroup {
                name: g["name"].as_str()?.to_string(),
                file: text(&g["file"]),
                interval: g["interval"].as_f64(),
                last_evaluation: text(&g["lastEvaluation"]),
                rules: g["rules"]
                    .as_array()?
                    .iter()
                    .map(|r| {
                        Some(LoadedRule {
                            kind: r["type"].as_str()?.to_string(),
                            name: r["name"].as_str()?.to_string(),
                            query: text(&r["query"]),
                            for_secs: r["duration"].as_f64().unwrap_or(0.0),
                            labels: strings(&r["labels"]),
                            annotations: strings(&r["annotations"]),
                            last_error: text(&r["lastError"]),
                            last_evaluation: text(&r["lastEvaluation"]),
                        })
                    })
                    .collect::<Option<Vec<_>>>()?,
            })
        })
        .collect()
}

/// What differs, and where.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The rule file: the generated one for what is missing, the server's otherwise.
    pub file: String,
    pub group: String,
    /// The rule (`name` or `name#2` for the second of that name); empty for a group.
    pub rule: String,
    pub kind: FindingKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    MissingGroup,
    MissingRule,
    Changed,
    Orphan,
    Failing,
    NeverEvaluated,
}

/// The generated groups of each service with their rule file, against the loaded ones.
/// `due(interval)`: whether a group of that interval should have run by now (one loaded
/// less than an interval ago has not been evaluated yet, and that is no drift).
pub fn compare(
    expected: &[(String, Vec<Group>)],
    loaded: &[LoadedGroup],
    due: &dyn Fn(Duration) -> bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let by_name: BTreeMap<&str, &LoadedGroup> =
        loaded.iter().map(|g| (g.name.as_str(), g)).collect();
    let mut wanted: BTreeMap<&str, ()> = BTreeMap::new();
    for (file, groups) in expected {
        for g in groups {
            wanted.insert(&g.name, ());
            match by_name.get(g.name.as_str()) {
                None => findings.push(Finding {
                    file: file.clone(),
                    group: g.name.clone(),
                    rule: String::new(),
                    kind: FindingKind::MissingGroup,
                    message: format!("group {} is not loaded", g.name),
                }),
                // Named by the generated file: the one a person edits and deploys.
                Some(l) => group(
                    g,
                    &LoadedGroup {
                        file: file.clone(),
                        ..(*l).clone()
                    },
                    due(g.interval),
                    &mut findings,
                ),
            }
        }
    }
    for l in loaded {
        if wanted.contains_key(l.name.as_str()) {
            continue;
        }
        if l.name.starts_with(names::GROUP_PREFIX) {
            findings.push(finding(
                l,
                "",
                FindingKind::Orphan,
                format!(
                    "group {} is loaded but no spec generates it (a removed SLO or service?)",
                    l.name
                ),
            ));
            continue;
        }
        for r in l
            .rules
            .iter()
            .filter(|r| r.name.starts_with(names::SERIES_PREFIX))
        {
            findings.push(finding(
                l,
                &r.name,
                FindingKind::Orphan,
                format!(
                    "rule {} records an slo: series outside the generated groups",
                    r.name
                ),
            ));
        }
    }
    findings
}

fn finding(l: &LoadedGroup, rule: &str, kind: FindingKind, message: String) -> Finding {
    Finding {
        file: l.file.clone(),
        group: l.name.clone(),
        rule: rule.to_string(),
        kind,
        message,
    }
}

/// One group's interval and rules, matched by kind, name and rank among same-named rules.
fn group(g: &Group, l: &LoadedGroup, due: bool, findings: &mut Vec<Finding>) {
    let ran = !never(&l.last_evaluation);
    if !ran && due {
        findings.push(finding(
            l,
            "",
            FindingKind::NeverEvaluated,
            format!(
                "the group has never been evaluated, though it is due every {}s",
                g.interval.as_secs_f64()
            ),
        ));
    }
    let want = g.interval.as_secs_f64();
    if l.interval.is_some_and(|i| (i - want).abs() > 1e-9) {
        findings.push(finding(
            l,
            "",
            FindingKind::Changed,
            format!(
                "interval is {}s, the specs generate {}s",
                l.interval.unwrap_or_default(),
                want
            ),
        ));
    }
    // A rule is its kind, its name and its tier (page and ticket alerts share a name);
    // servers may list a group's rules in another order after a reload.
    let key = |kind: &str, name: &str, labels: &BTreeMap<String, String>, seen: &mut Seen| {
        let shown = match labels.get(names::TIER_LABEL) {
            Some(t) => format!("{name}{{{}=\"{t}\"}}", names::TIER_LABEL),
            None => name.to_string(),
        };
        let n = seen.entry((kind.into(), shown.clone())).or_default();
        *n += 1;
        let shown = if *n == 1 {
            shown
        } else {
            format!("{shown}#{n}")
        };
        (kind.to_string(), shown)
    };
    let mut seen = Seen::new();
    let mut loaded: BTreeMap<(String, String), &LoadedRule> = BTreeMap::new();
    for r in &l.rules {
        loaded.insert(key(&r.kind, &r.name, &r.labels, &mut seen), r);
    }
    let mut seen = Seen::new();
    for r in &g.rules {
        let (kind, name, labels) = match r {
            Rule::Record { record, labels, .. } => ("recording", record, labels),
            Rule::Alert { alert, labels, .. } => ("alerting", alert, labels),
        };
        let k = key(kind, name, labels, &mut seen);
        match loaded.remove(&k) {
            None => findings.push(finding(
                l,
                &k.1,
                FindingKind::MissingRule,
                format!("{kind} rule {} is not loaded", k.1),
            )),
            // A rule that has not run counts once its group has run and it is due.
            Some(lr) => rule(r, lr, &k.1, (l, ran && due), findings),
        }
    }
    for ((_, name), r) in loaded {
        findings.push(finding(
            l,
            &name,
            FindingKind::Orphan,
            format!("{} rule {name} is loaded but not generated", r.kind),
        ));
    }
}

/// One rule against its generated form; `ran`: whether it should have been evaluated.
fn rule(
    r: &Rule,
    lr: &LoadedRule,
    name: &str,
    (l, ran): (&LoadedGroup, bool),
    findings: &mut Vec<Finding>,
) {
    let (expr, for_, labels, annotations) = match r {
        Rule::Record { expr, labels, .. } => (expr, None, labels, None),
        Rule::Alert {
            expr,
            for_,
            labels,
            annotations,
            ..
        } => (expr, *for_, labels, Some(annotations)),
    };
    let mut changed = |what: String| {
        findings.push(finding(l, name, FindingKind::Changed, what));
    };
    if normalised(expr) != normalised(&lr.query) {
        changed(format!(
            "expression differs: loaded `{}`, the specs generate `{}`",
            one_line(&lr.query),
            one_line(expr)
        ));
    }
    let want_for = for_.unwrap_or(Duration::ZERO).as_secs_f64();
    if (lr.for_secs - want_for).abs() > 1e-9 {
        changed(format!(
            "`for` is {}s, the specs generate {want_for}s",
            lr.for_secs
        ));
    }
    if &lr.labels != labels {
        changed(format!(
            "labels differ: loaded {:?}, the specs generate {labels:?}",
            lr.labels
        ));
    }
    if let Some(a) = annotations {
        for (k, v) in a {
            if lr.annotations.get(k) != Some(v) {
                changed(format!(
                    "annotation {k} differs from what the specs generate"
                ));
            }
        }
        for k in lr.annotations.keys().filter(|k| !a.contains_key(*k)) {
            changed(format!("annotation {k} is loaded but not generated"));
        }
    }
    if !lr.last_error.is_empty() {
        findings.push(finding(
            l,
            name,
            FindingKind::Failing,
            format!("its last evaluation failed: {}", lr.last_error),
        ));
    } else if ran && never(&lr.last_evaluation) {
        findings.push(finding(
            l,
            name,
            FindingKind::NeverEvaluated,
            "it has never been evaluated".into(),
        ));
    }
}

fn never(last_evaluation: &str) -> bool {
    last_evaluation.is_empty() || last_evaluation == NEVER
}

/// A query as promql-parser prints it, so spacing and Prometheus' own printing compare
/// equal; the trimmed text when it does not parse.
fn normalised(q: &str) -> String {
    match promql_parser::parser::parse(q) {
        Ok(e) => e.to_string(),
        Err(_) => q.trim().to_string(),
    }
}

fn one_line(q: &str) -> String {
    q.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVALUATED: &str = "2026-12-05T10:00:00Z";

    /// The groups of a small spec, and the same as a server would list them.
    fn generated() -> (Vec<(String, Vec<Group>)>, Vec<LoadedGroup>) {
        let checked = slo_spec::check(&[slo_spec::Source {
            path: "s.yaml".into(),
            text: "version: v1\nservice: s\nowner: o\nslos:\n  - name: a\n    description: d\n    objective: 99\n    sli:\n      ratio:\n        errors: sum(rate(x_total{code=\"5\"}[{{window}}]))\n        total: sum(rate(x_total[{{window}}]))\n    alerting:\n      page: {for: 2m}\n".into(),
        }]);
        let groups = crate::rules::service_groups(&checked.services[0], &Default::default());
        let loaded = groups
            .iter()
            .map(|g| LoadedGroup {
                name: g.name.clone(),
                file: "/etc/prometheus/rules/s.yaml".into(),
                interval: Some(g.interval.as_secs_f64()),
                last_evaluation: EVALUATED.into(),
                rules: g.rules.iter().map(loaded_rule).collect(),
            })
            .collect();
        (vec![("rules/s.yaml".into(), groups)], loaded)
    }

    fn loaded_rule(r: &Rule) -> LoadedRule {
        let (kind, name, query, for_, labels, annotations) = match r {
            Rule::Record {
                record,
                expr,
                labels,
            } => ("recording", record, expr, None, labels, BTreeMap::new()),
            Rule::Alert {
                alert,
                expr,
                for_,
                labels,
                annotations,
            } => ("alerting", alert, expr, *for_, labels, annotations.clone()),
        };
        LoadedRule {
            kind: kind.into(),
            name: name.clone(),
            // As Prometheus prints it: one line.
            query: one_line(query),
            for_secs: for_.map(|d| d.as_secs_f64()).unwrap_or(0.0),
            labels: labels.clone(),
            annotations,
            last_error: String::new(),
            last_evaluation: EVALUATED.into(),
        }
    }

    fn kinds(
        expected: &[(String, Vec<Group>)],
        loaded: &[LoadedGroup],
    ) -> Vec<(FindingKind, String)> {
        compare(expected, loaded, &|_| true)
            .into_iter()
            .map(|f| (f.kind, format!("{} {}", f.group, f.rule)))
            .collect()
    }

    #[test]
    fn the_same_rules_in_another_order_and_spelling_are_no_drift() {
        let (expected, mut loaded) = generated();
        for g in &mut loaded {
            g.rules.reverse();
        }
        assert_eq!(kinds(&expected, &loaded), vec![]);
    }

    #[test]
    fn each_difference_is_named() {
        let (expected, loaded) = generated();
        let alerts = loaded
            .iter()
            .position(|g| g.name.ends_with("-alerts"))
            .unwrap();
        let mut l = loaded.clone();
        l[alerts].rules[0].for_secs = 60.0;
        l[alerts].rules[1].last_error = "boom".into();
        l[0].rules.pop();
        l[0].interval = Some(60.0);
        let fast = l[0].name.clone();
        assert_eq!(
            kinds(&expected, &l),
            vec![
                (FindingKind::Changed, format!("{fast} ")),
                (
                    FindingKind::MissingRule,
                    format!("{fast} slo:error_budget_exhaustion:seconds")
                ),
                (
                    FindingKind::Changed,
                    "slo-s-a-alerts SA{slo_tier=\"page\"}".into()
                ),
                (
                    FindingKind::Failing,
                    "slo-s-a-alerts SA{slo_tier=\"ticket\"}".into()
                ),
            ]
        );
        // Never evaluated: a group once due; a rule of a group that ran.
        let mut l = loaded.clone();
        l[alerts].last_evaluation = NEVER.into();
        let found = kinds(&expected, &l);
        assert_eq!(
            found,
            vec![(FindingKind::NeverEvaluated, "slo-s-a-alerts ".into())]
        );
        assert_eq!(compare(&expected, &l, &|_| false), vec![], "not yet due");
    }
}
