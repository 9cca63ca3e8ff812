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
    if plain_safe(s) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(serde_json::to_string(s).expect("strings always serialise"))
    }
}

fn plain_safe(s: &str) -> bool {
    /// The bytes a plain scalar may hold: ASCII letters, digits and `_-./:`.
    const PLAIN: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            t[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/' | b':');
            b += 1;
        }
        t
    };
    s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && s.bytes().all(|b| PLAIN[b as usize])
        && !s.ends_with(':')
        && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"]
            .iter()
            .any(|w| s.eq_ignore_ascii_case(w))
}

/// Appends `s` as a [`scalar`] without the copy a plain one needs not.
fn push_scalar(out: &mut String, s: &str) {
    if plain_safe(s) {
        out.push_str(s);
    } else {
        out.push_str(&scalar(s));
    }
}

/// `n` spaces. Written with `push_str`, not `format!`: a 10,000-SLO `generate` writes
/// millions of lines, and the formatting machinery was a third of its user time.
fn pad(out: &mut String, n: usize) {
    const SPACES: &str = "                                ";
    let mut left = n;
    while left > 0 {
        let k = left.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        left -= k;
    }
}

/// `key: ` at `indent`.
fn key(out: &mut String, indent: usize, key: &str) {
    pad(out, indent);
    out.push_str(key);
    out.push_str(": ");
}

/// `key:` and the entries of `m` as a block mapping at `indent`; nothing when `m` is empty.
pub fn map(out: &mut String, indent: usize, key: &str, m: &BTreeMap<String, String>) {
    if m.is_empty() {
        return;
    }
    pad(out, indent);
    out.push_str(key);
    out.push_str(":\n");
    for (k, v) in m {
        pad(out, indent + 2);
        push_scalar(out, k);
        out.push_str(": ");
        push_scalar(out, v);
        out.push('\n');
    }
}

fn block(out: &mut String, indent: usize, name: &str, text: &str) {
    if !text.contains('\n') {
        key(out, indent, name);
        push_scalar(out, text);
        out.push('\n');
        return;
    }
    key(out, indent, name);
    out.push_str("|-\n");
    for line in text.lines() {
        let line = line.trim_end();
        if !line.is_empty() {
            pad(out, indent + 2);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// The `groups:` document at `indent`.
pub fn groups(out: &mut String, indent: usize, groups: &[Group]) {
    pad(out, indent);
    out.push_str("groups:\n");
    for g in groups {
        key(out, indent + 2, "- name");
        push_scalar(out, &g.name);
        out.push('\n');
        key(out, indent + 4, "interval");
        out.push_str(&format_duration(g.interval));
        out.push('\n');
        pad(out, indent + 4);
        out.push_str("rules:\n");
        let item = indent + 6;
        for rule in &g.rules {
            match rule {
                Rule::Record {
                    record,
                    expr,
                    labels,
                } => {
                    key(out, item, "- record");
                    push_scalar(out, record);
                    out.push('\n');
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
                    key(out, item, "- alert");
                    push_scalar(out, alert);
                    out.push('\n');
                    block(out, item + 2, "expr", expr);
                    if let Some(f) = for_ {
                        key(out, item + 2, "for");
                        out.push_str(&format_duration(*f));
                        out.push('\n');
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
