//! Writes rule groups as YAML, byte for byte deterministic. Scalars that could be
//! misread are double-quoted with JSON escapes (valid YAML); expressions are literal
//! blocks with every line at the same indentation.

use crate::names;
use crate::rules::{Group, Rule};
use slo_spec::names::format_duration;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RulesFormat {
    /// Plain rule files for Prometheus, Thanos Ruler and the Mimir/Cortex ruler.
    Prometheus,
    /// `monitoring.coreos.com/v1` `PrometheusRule` manifests.
    PrometheusOperator,
}

/// A YAML scalar for `s`: plain when that reads back as the same string, quoted otherwise.
/// Borrowed when plain: most names and labels are, and a rule file has thousands.
pub fn scalar(s: &str) -> Cow<'_, str> {
    let plain_safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:".contains(&b))
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && !s.ends_with(':')
        && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"]
            .iter()
            .any(|w| s.eq_ignore_ascii_case(w));
    if plain_safe {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(serde_json::to_string(s).expect("strings always serialise"))
    }
}

/// `key:` and the entries of `m` as a block mapping at `indent`; nothing when `m` is empty.
pub fn map(out: &mut String, indent: usize, key: &str, m: &BTreeMap<String, String>) {
    if m.is_empty() {
        return;
    }
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}{key}:");
    for (k, v) in m {
        let _ = writeln!(out, "{pad}  {}: {}", scalar(k), scalar(v));
    }
}

fn block(out: &mut String, indent: usize, key: &str, text: &str) {
    let pad = " ".repeat(indent);
    if !text.contains('\n') {
        let _ = writeln!(out, "{pad}{key}: {}", scalar(text));
        return;
    }
    let _ = writeln!(out, "{pad}{key}: |-");
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{pad}  {line}");
        }
    }
}

/// The `groups:` document at `indent`.
pub fn groups(out: &mut String, indent: usize, groups: &[Group]) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}groups:");
    for g in groups {
        let _ = writeln!(out, "{pad}  - name: {}", scalar(&g.name));
        let _ = writeln!(out, "{pad}    interval: {}", format_duration(g.interval));
        let _ = writeln!(out, "{pad}    rules:");
        for rule in &g.rules {
            let item = indent + 6;
            let p = " ".repeat(item);
            match rule {
                Rule::Record {
                    record,
                    expr,
                    labels,
                } => {
                    let _ = writeln!(out, "{p}- record: {}", scalar(record));
                    block(out, item + 2, "expr", expr);
                    map(out, item + 2, "labels", labels);
                }
                Rule::Alert {
                    alert,
                    expr,
                    for_,
                    labels,
                    annotations,
                } => {
                    let _ = writeln!(out, "{p}- alert: {}", scalar(alert));
                    block(out, item + 2, "expr", expr);
                    if let Some(f) = for_ {
                        let _ = writeln!(out, "{p}  for: {}", format_duration(*f));
                    }
                    map(out, item + 2, "labels", labels);
                    map(out, item + 2, "annotations", annotations);
                }
            }
        }
    }
}

/// One service's rule file in the chosen format.
pub fn rule_file(format: RulesFormat, service: &str, source: &str, gs: &[Group]) -> String {
    rule_file_as(format, service, &names::operator_rule(service), source, gs)
}

/// [`rule_file`] whose `PrometheusRule` manifest is called `manifest` (the split layout
/// keeps a service's local and global sets in two).
pub fn rule_file_as(
    format: RulesFormat,
    service: &str,
    manifest: &str,
    source: &str,
    gs: &[Group],
) -> String {
    let mut out = names::rule_file_header(source);
    // Sized up front: a service's file runs to hundreds of kilobytes, and growing it by
    // doubling copied it over and over (a tenth of `generate`'s user time at 10,000 SLOs).
    let expected: usize = gs
        .iter()
        .flat_map(|g| &g.rules)
        .map(|r| match r {
            Rule::Record { expr, .. } | Rule::Alert { expr, .. } => 2 * expr.len() + 400,
        })
        .sum();
    out.reserve(expected);
    match format {
        RulesFormat::Prometheus => groups(&mut out, 0, gs),
        RulesFormat::PrometheusOperator => {
            out.push_str("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n");
            let _ = writeln!(out, "  name: {}", scalar(manifest));
            out.push_str("  labels:\n    app.kubernetes.io/managed-by: slo-gen\n");
            let _ = writeln!(out, "    slo-gen/service: {}", scalar(service));
            out.push_str("spec:\n");
            groups(&mut out, 2, gs);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_back_as_strings() {
        for (s, want) in [
            ("page", "page"),
            ("1", "\"1\""),
            ("yes", "\"yes\""),
            ("", "\"\""),
            ("a: b", "\"a: b\""),
            ("https://x/y", "https://x/y"),
            ("slo:info", "slo:info"),
            ("a:", "\"a:\""),
            ("{{ $value }}", "\"{{ $value }}\""),
            ("line\nbreak", "\"line\\nbreak\""),
        ] {
            assert_eq!(scalar(s), want, "{s}");
        }
    }
}
