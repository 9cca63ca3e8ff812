//! The rules a test file reads: the ones its checks select, directly or through other
//! rules. promtool evaluates every rule of a file at every step, whether or not a check
//! depends on it, so a suite that proves one page pair would pay for every window of the
//! period (a 366d SLO's outage test at a 10s scrape spent most of its 43 s on windows no
//! check reads). A rule outside that closure cannot change a checked value: recording
//! rules write only their own series, and alerting rules only `ALERTS` and
//! `ALERTS_FOR_STATE` of their own name and labels.
//!
//! The closure is conservative: a selector matches every recording rule of its name
//! (whatever the labels), every alerting rule whose name and static labels its matchers
//! accept (labels the rule does not set could take any value), and a selector without a
//! metric name, or a query that does not parse, keeps the whole file.

use crate::names::series;
use crate::rules::{Group, Rule};
use slo_spec::Selector;

/// `groups` without the rules no query of `reads` depends on, and without the groups that
/// leaves empty.
pub(super) fn needed<'a>(
    groups: Vec<Group>,
    reads: impl IntoIterator<Item = &'a str>,
) -> Vec<Group> {
    let Some(mut queue) = reads
        .into_iter()
        .map(selectors)
        .collect::<Option<Vec<_>>>()
        .map(|s| s.concat())
    else {
        return groups;
    };
    let mut kept: Vec<Vec<bool>> = groups.iter().map(|g| vec![false; g.rules.len()]).collect();
    while let Some(sel) = queue.pop() {
        if sel.name.is_empty() {
            return groups;
        }
        for (g, group) in groups.iter().enumerate() {
            for (r, rule) in group.rules.iter().enumerate() {
                if kept[g][r] || !selects(&sel, rule) {
                    continue;
                }
                kept[g][r] = true;
                let Some(more) = selectors(expr(rule)) else {
                    return groups;
                };
                queue.extend(more);
            }
        }
    }
    groups
        .into_iter()
        .zip(kept)
        .filter_map(|(mut group, kept)| {
            let mut keep = kept.into_iter();
            group.rules.retain(|_| keep.next() == Some(true));
            (!group.rules.is_empty()).then_some(group)
        })
        .collect()
}

fn selectors(query: &str) -> Option<Vec<Selector>> {
    promql_parser::parser::parse(query)
        .ok()
        .map(|e| slo_spec::selectors(&e))
}

fn expr(rule: &Rule) -> &str {
    match rule {
        Rule::Record { expr, .. } | Rule::Alert { expr, .. } => expr,
    }
}

/// Whether `sel` can select a series `rule` writes.
fn selects(sel: &Selector, rule: &Rule) -> bool {
    match rule {
        Rule::Record { record, .. } => sel.name == *record,
        Rule::Alert { alert, labels, .. } => {
            (sel.name == series::ALERTS || sel.name == series::ALERTS_FOR_STATE)
                && sel.matchers.iter().all(|m| match m.name.as_str() {
                    "alertname" => m.is_match(alert),
                    label => labels.get(label).is_none_or(|v| m.is_match(v)),
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn record(name: &str, expr: &str) -> Rule {
        Rule::Record {
            record: name.into(),
            expr: expr.into(),
            labels: BTreeMap::new(),
        }
    }

    fn alert(name: &str, tier: &str, expr: &str) -> Rule {
        Rule::Alert {
            alert: name.into(),
            expr: expr.into(),
            for_: None,
            labels: BTreeMap::from([("slo_tier".to_string(), tier.to_string())]),
            annotations: BTreeMap::new(),
        }
    }

    fn group(name: &str, rules: Vec<Rule>) -> Group {
        Group {
            name: name.into(),
            interval: Duration::from_secs(30),
            rules,
        }
    }

    fn names(groups: &[Group]) -> Vec<String> {
        groups
            .iter()
            .flat_map(|g| {
                g.rules.iter().map(move |r| match r {
                    Rule::Record { record, .. } => format!("{}/{record}", g.name),
                    Rule::Alert { alert, labels, .. } => {
                        format!("{}/{alert}:{}", g.name, labels["slo_tier"])
                    }
                })
            })
            .collect()
    }

    /// A base rate (`base`), two windows, a resume series read back by the total (a circle), and
    /// one page and one ticket alert of the same name.
    fn file() -> Vec<Group> {
        vec![
            group(
                "base",
                vec![
                    record("base", "sum(rate(x_total[1m]))"),
                    record("total", "last_over_time(total[1h]) + base or resume"),
                    record("resume", "0 * base unless last_over_time(total[1d])"),
                    record("unread", "count(x_total)"),
                ],
            ),
            group(
                "windows",
                vec![
                    record("short", "total - total offset 5m"),
                    record("long", "total - total offset 1h"),
                    record("slow", "total - total offset 3d"),
                ],
            ),
            group(
                "alerts",
                vec![
                    alert("A", "page", "short > 1 and long > 1"),
                    alert("A", "ticket", "slow > 1"),
                ],
            ),
        ]
    }

    fn check(reads: &[&str], expected: &[&str]) {
        assert_eq!(names(&needed(file(), reads.iter().copied())), expected);
    }

    #[test]
    fn keeps_what_the_checks_read_through_other_rules() {
        check(
            &[r#"count(ALERTS{alertname="A",slo_tier=~"page",alertstate="firing"})"#],
            &[
                "base/base",
                "base/total",
                "base/resume",
                "windows/short",
                "windows/long",
                "alerts/A:page",
            ],
        );
        check(
            &[r#"count(ALERTS{alertname="A",slo_tier=~"page|ticket"})"#],
            &[
                "base/base",
                "base/total",
                "base/resume",
                "windows/short",
                "windows/long",
                "windows/slow",
                "alerts/A:page",
                "alerts/A:ticket",
            ],
        );
        // A record read on its own; a group left empty goes.
        check(&["max_over_time(base[5m])"], &["base/base"]);
        check(&[r#"ALERTS{alertname="B"}"#], &[]);
    }

    #[test]
    fn unknown_labels_and_unnamed_selectors_keep_more_not_less() {
        // `service` is not a static label of the alerts: either may carry it.
        check(
            &[r#"ALERTS{alertname="A",service="s",slo_tier="ticket"}"#],
            &[
                "base/base",
                "base/total",
                "base/resume",
                "windows/slow",
                "alerts/A:ticket",
            ],
        );
        let all = names(&file());
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        check(&[r#"{__name__=~"s.*"}"#], &all);
        check(&["sum(("], &all);
    }
}
