//! PromQL checks for spec queries: the window placeholder, syntax (promql-parser), result
//! type, and the metrics a query reads. Faults are mapped back to a line and column in
//! the YAML file.
//! Long: every PromQL check runs the same bounded parse; the bounds and the checks stay together.

use super::reader::Cx;
use crate::diagnostic::{Code, Span};
use crate::model::WindowQuery;
use crate::names::is_metric_name;
use crate::selectors::selectors;
use crate::yaml::Node;
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{self, Expr};
use std::collections::BTreeSet;

/// Queries longer than this are refused before parsing; real SLI queries are a few
/// hundred bytes.
pub const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Bracket nesting deeper than this is refused before parsing, so the parser's recursion
/// stays bounded on hostile input.
const MAX_NESTING: usize = 64;

/// A query checked for its window placeholder and syntax, with the metric names it reads.
pub(crate) struct Checked {
    pub query: WindowQuery,
    pub metrics: BTreeSet<String>,
    /// The labels its outermost aggregation keeps with `by (...)`; `None` when the query is
    /// not an aggregation, or aggregates without `by`.
    pub by: Option<BTreeSet<String>>,
    /// Whether the query returns at most one series whatever the data (an aggregation
    /// without `by`, functions and arithmetic of such): wrapping it in `sum` or `max`
    /// then changes nothing.
    pub single: bool,
}

/// Whether `expr` returns at most one series whatever the data.
fn single_series(expr: &Expr) -> bool {
    use promql_parser::parser::token;
    match expr {
        Expr::Paren(p) => single_series(&p.expr),
        Expr::Unary(u) => single_series(&u.expr),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => true,
        Expr::Aggregate(a) => {
            let id = a.op.id();
            let one_per_group = [
                token::T_SUM,
                token::T_MIN,
                token::T_MAX,
                token::T_AVG,
                token::T_COUNT,
                token::T_GROUP,
                token::T_STDDEV,
                token::T_STDVAR,
                token::T_QUANTILE,
            ]
            .contains(&id);
            let label_less = match &a.modifier {
                None => true,
                Some(promql_parser::parser::LabelModifier::Include(l)) => l.labels.is_empty(),
                Some(promql_parser::parser::LabelModifier::Exclude(_)) => false,
            };
            one_per_group && label_less
        }
        Expr::Binary(b) => single_series(&b.lhs) && single_series(&b.rhs),
        Expr::Subquery(q) => single_series(&q.expr),
        Expr::Call(c) => c.args.args.iter().all(|a| single_series(a)),
        Expr::MatrixSelector(_) | Expr::VectorSelector(_) | Expr::Extension(_) => false,
    }
}

/// The `by (...)` labels of the outermost aggregation, parentheses seen through.
fn outer_by(expr: &Expr) -> Option<BTreeSet<String>> {
    match expr {
        Expr::Paren(p) => outer_by(&p.expr),
        Expr::Aggregate(a) => match &a.modifier {
            Some(promql_parser::parser::LabelModifier::Include(l)) => {
                Some(l.labels.iter().cloned().collect())
            }
            _ => None,
        },
        _ => None,
    }
}

/// Checks a query that must contain the `{{window}}` placeholder.
pub(crate) fn window_query(cx: &mut Cx, node: &Node, text: &str, what: &str) -> Option<Checked> {
    let placeholders = find_placeholders(text);
    let mut ok = true;
    let mut template = String::with_capacity(text.len());
    let mut probe = String::with_capacity(text.len());
    let mut last = 0;
    let mut windows = 0;
    for (start, end, inner) in &placeholders {
        template.push_str(&text[last..*start]);
        probe.push_str(&text[last..*start]);
        last = *end;
        if inner == "window" || inner == ".window" {
            windows += 1;
            template.push_str(WindowQuery::PLACEHOLDER);
            // Same length as the placeholder, so positions in parser messages map 1:1.
            // `1h000m` stays a valid one-hour duration at any length.
            probe.push_str("1h");
            probe.push_str(&"0".repeat(end - start - 3));
            probe.push('m');
        } else {
            ok = false;
            let span = locate(cx, node, text, *start, end - start);
            cx.report(
                span,
                Code::InvalidPromql,
                format!("unknown placeholder `{}` in `{what}`", &text[*start..*end]),
                "the only placeholder is `{{window}}` (Sloth's `{{.window}}` works too)",
            );
        }
    }
    template.push_str(&text[last..]);
    probe.push_str(&text[last..]);
    if windows == 0 && ok {
        cx.report(
            node.span,
            Code::MissingWindow,
            format!("`{what}` has no `{{{{window}}}}` placeholder"),
            "use it as the range of every rate, e.g. `sum(rate(my_requests_total[{{window}}]))`, so one query serves every alert window",
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    let facts = parse_checked(cx, node, &probe, text, what, true)?;
    Some(Checked {
        query: WindowQuery {
            template,
            plain_sum: facts.plain_sum,
            selectors: facts.selectors,
        },
        metrics: facts.metrics,
        by: facts.by,
        single: facts.single,
    })
}

/// A counter selector as peers write it (OpenSLO `counter: true`, Pyrra `metric:`):
/// `sel` or `sum [by (...)] (sel)`. Returns the window query that reads its rate,
/// `sum [by (...)] (rate(sel[{{window}}]))`, or `None` (reporting only bound faults) when
/// the text is something else.
pub(crate) fn counter_query(
    cx: &mut Cx,
    node: &Node,
    text: &str,
    what: &str,
) -> Option<Option<String>> {
    let text = text.trim();
    if !precheck(cx, node, text, what) {
        return None;
    }
    let rate = |sel: &str| format!("rate({sel}[{{{{window}}}}])");
    Some(match parser::parse(text) {
        Ok(Expr::VectorSelector(vs)) if plain(&vs) => Some(format!("sum({})", rate(text))),
        Ok(Expr::Aggregate(a))
            if a.op.id() == promql_parser::parser::token::T_SUM
                && a.param.is_none()
                && matches!(&*a.expr, Expr::VectorSelector(vs) if plain(vs)) =>
        {
            let by = match &a.modifier {
                None => String::new(),
                Some(promql_parser::parser::LabelModifier::Include(l)) => {
                    format!(" by ({})", l.labels.join(", "))
                }
                Some(promql_parser::parser::LabelModifier::Exclude(l)) => {
                    format!(" without ({})", l.labels.join(", "))
                }
            };
            Some(format!("sum{by}({})", rate(&a.expr.to_string())))
        }
        _ => None,
    })
}

fn plain(vs: &promql_parser::parser::VectorSelector) -> bool {
    vs.offset.is_none() && vs.at.is_none() && vs.matchers.or_matchers.is_empty()
}

/// A plain selector split into its metric name and its matchers (as promql-parser prints
/// them, `__name__` left out), or `None` when `text` is not one.
pub(crate) fn split_selector(text: &str) -> Option<(String, Vec<String>)> {
    if text.len() > MAX_QUERY_BYTES {
        return None;
    }
    match parser::parse(text.trim()) {
        Ok(Expr::VectorSelector(vs)) if plain(&vs) => {
            let name = vs.name.clone()?;
            let matchers = vs
                .matchers
                .matchers
                .iter()
                .filter(|m| m.name != "__name__")
                .map(|m| m.to_string())
                .collect();
            Some((name, matchers))
        }
        _ => None,
    }
}

/// Checks a label selector such as `{route="/v1/usage",method="POST"}` against a metric,
/// and returns its matchers without braces, normalised.
pub(crate) fn selector(
    cx: &mut Cx,
    node: &Node,
    text: &str,
    metric: &str,
    what: &str,
    forbidden: &[&str],
) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "{}" {
        return Some(String::new());
    }
    if !trimmed.starts_with('{') || !trimmed.ends_with('}') {
        cx.report(
            node.span,
            Code::InvalidSelector,
            format!("`{what}` must be a label selector in braces"),
            "write it like `{job=\"billing\",route=\"/v1/usage\"}`",
        );
        return None;
    }
    let query = format!("{metric}{trimmed}");
    if !precheck(cx, node, &query, what) {
        return None;
    }
    let expr = match parser::parse(&query) {
        Ok(e) => e,
        Err(msg) => {
            let span = error_span(cx, node, text, text, &msg);
            cx.report(
                span,
                Code::InvalidSelector,
                format!("invalid `{what}`: {msg}"),
                "write it like `{job=\"billing\",route=\"/v1/usage\"}`",
            );
            return None;
        }
    };
    let Expr::VectorSelector(vs) = expr else {
        cx.report(
            node.span,
            Code::InvalidSelector,
            format!("`{what}` must be a plain label selector"),
            "remove offsets, ranges and functions; the generator adds them",
        );
        return None;
    };
    if vs.offset.is_some() || vs.at.is_some() || !vs.matchers.or_matchers.is_empty() {
        cx.report(
            node.span,
            Code::InvalidSelector,
            format!("`{what}` must be a plain label selector"),
            "remove `offset`, `@` and `or` matchers",
        );
        return None;
    }
    let mut parts = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == "__name__" || forbidden.contains(&m.name.as_str()) {
            let pos = text.find(&m.name).unwrap_or(0);
            let span = locate(cx, node, text, pos, m.name.len());
            cx.report(
                span,
                Code::InvalidSelector,
                format!("`{what}` must not match on `{}`", m.name),
                "the generator sets this label itself; remove the matcher",
            );
            return None;
        }
        parts.push(m.to_string());
    }
    Some(parts.join(","))
}

/// Whether `text` is a plain vector selector (`http_requests_total{code=~"5.."}`), parsed
/// only after the length and nesting bounds hold; `None` (with a diagnostic) when they do
/// not.
pub(crate) fn is_plain_selector(cx: &mut Cx, node: &Node, text: &str, what: &str) -> Option<bool> {
    if !precheck(cx, node, text, what) {
        return None;
    }
    Some(matches!(parser::parse(text), Ok(Expr::VectorSelector(_))))
}

/// A metric name field (a histogram base name or a gauge).
pub(crate) fn metric_name(cx: &mut Cx, node: &Node, text: &str, what: &str) -> bool {
    if is_metric_name(text) {
        return true;
    }
    cx.report(
        node.span,
        Code::InvalidName,
        format!("`{text}` is not a valid metric name for `{what}`"),
        "metric names match [a-zA-Z_:][a-zA-Z0-9_:]*",
    );
    false
}

fn find_placeholders(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("{{") {
        let start = from + i;
        match text[start + 2..].find("}}") {
            Some(j) => {
                let end = start + 2 + j + 2;
                let inner = text[start + 2..end - 2].trim().to_string();
                out.push((start, end, inner));
                from = end;
            }
            None => break,
        }
    }
    out
}

/// Length and nesting bounds, checked before the parser sees the text.
fn precheck(cx: &mut Cx, node: &Node, text: &str, what: &str) -> bool {
    if text.len() > MAX_QUERY_BYTES {
        cx.report(
            node.span,
            Code::InvalidPromql,
            format!(
                "`{what}` is {} bytes long; the limit is {MAX_QUERY_BYTES}",
                text.len()
            ),
            "record parts of the query with your own recording rules",
        );
        return false;
    }
    let mut depth = 0usize;
    let mut max = 0usize;
    for b in text.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if max > MAX_NESTING {
        cx.report(
            node.span,
            Code::InvalidPromql,
            format!("`{what}` nests brackets {max} deep; the limit is {MAX_NESTING}"),
            "simplify the query",
        );
        return false;
    }
    true
}

/// Parses `probe`, reports faults, and returns the metric names it reads and the labels of
/// its outermost `by`.
fn parse_checked(
    cx: &mut Cx,
    node: &Node,
    probe: &str,
    text: &str,
    what: &str,
    needs_window: bool,
) -> Option<Facts> {
    if !precheck(cx, node, probe, what) {
        return None;
    }
    let expr = match parser::parse(probe) {
        Ok(e) => e,
        Err(msg) => {
            let span = error_span(cx, node, probe, text, &msg);
            cx.report(
                span,
                Code::InvalidPromql,
                format!("invalid PromQL in `{what}`: {msg}"),
                "check the query in the Prometheus UI with the placeholder replaced by `5m`",
            );
            return None;
        }
    };
    match expr.value_type() {
        ValueType::Vector => {}
        other => {
            let help = if needs_window {
                "wrap range selectors in a function, e.g. `sum(rate(x[{{window}}]))`"
            } else {
                "the query must return an instant vector"
            };
            cx.report(
                node.span,
                Code::InvalidPromql,
                format!("`{what}` returns a {other}, not an instant vector"),
                help,
            );
            return None;
        }
    }
    let found = selectors(&expr);
    let mut texts: Vec<String> = Vec::new();
    for s in &found {
        let matchers: Vec<String> = s.matchers.iter().map(|m| m.to_string()).collect();
        let text = format!("{}{{{}}}", s.name, matchers.join(","));
        if !texts.contains(&text) {
            texts.push(text);
        }
    }
    Some(Facts {
        metrics: found
            .into_iter()
            .map(|s| s.name)
            .filter(|n| !n.is_empty())
            .collect(),
        by: outer_by(&expr),
        single: single_series(&expr),
        plain_sum: matches!(&expr, Expr::Aggregate(a)
            if a.op.id() == promql_parser::parser::token::T_SUM && a.modifier.is_none()),
        selectors: texts,
    })
}

/// What one parse of a valid query tells the rest of the compiler, so nothing parses it
/// again.
struct Facts {
    metrics: BTreeSet<String>,
    by: Option<BTreeSet<String>>,
    single: bool,
    plain_sum: bool,
    selectors: Vec<String>,
}

/// `query` aggregated by exactly `labels`, for the help line of a grouping fault: the
/// outermost aggregation gets `by (labels)` (its own `by`/`without` replaced); anything
/// else is wrapped in `sum by (labels) (...)`.
pub(crate) fn grouped(query: &str, labels: &[String]) -> String {
    let by = labels.join(", ");
    let q = query.trim();
    let ident_end = q
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(q.len());
    let op = &q[..ident_end];
    const OPS: &[&str] = &[
        "sum", "min", "max", "avg", "count", "group", "stddev", "stdvar",
    ];
    if OPS.contains(&op) {
        let mut rest = q[ident_end..].trim_start();
        for kw in ["by", "without"] {
            if let Some(r) = rest.strip_prefix(kw) {
                let r = r.trim_start();
                if let Some(close) = r.starts_with('(').then(|| r.find(')')).flatten() {
                    rest = r[close + 1..].trim_start();
                }
            }
        }
        if let Some(r) = rest.strip_prefix('(') {
            if let Some(close) = matching_close(r) {
                // Only a trailing `by (...)`/`without (...)` may follow the arguments.
                let tail = r[close + 1..].trim();
                let tail_ok = tail.is_empty()
                    || ["by", "without"].iter().any(|kw| {
                        tail.strip_prefix(kw).is_some_and(|t| {
                            let t = t.trim_start();
                            t.starts_with('(') && t.ends_with(')') && t.matches(')').count() == 1
                        })
                    });
                if tail_ok {
                    return format!("{op} by ({by}) ({})", &r[..close]);
                }
            }
        }
    }
    format!("sum by ({by}) ({q})")
}

/// The index of the `)` closing an already opened parenthesis in `text`.
fn matching_close(text: &str) -> Option<usize> {
    let mut depth = 1usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Where in `text` a parser message points: an unbalanced bracket, or a token the
/// message quotes. `probe` is what the parser saw; `original` is the scalar's value, of
/// the same length (placeholders are replaced by durations of their own length).
fn error_span(cx: &Cx, node: &Node, probe: &str, original: &str, msg: &str) -> Span {
    let pos = if msg.contains("unclosed left") {
        unbalanced(probe, true)
    } else if msg.contains("unexpected right") {
        unbalanced(probe, false)
    } else {
        quoted_token(msg).and_then(|tok| probe.find(tok).map(|p| (p, tok.len())))
    };
    match pos {
        Some((p, len)) => locate(cx, node, original, p, len),
        None => node.span,
    }
}

fn unbalanced(text: &str, open: bool) -> Option<(usize, usize)> {
    let mut stack = Vec::new();
    for (i, b) in text.bytes().enumerate() {
        if b == b'(' {
            stack.push(i);
        } else if b == b')' && stack.pop().is_none() && !open {
            return Some((i, 1));
        }
    }
    if open {
        stack.last().map(|&i| (i, 1))
    } else {
        None
    }
}

/// Pulls the token out of messages like `bad number or duration syntax: 5x`,
/// `unexpected character inside braces: '1'`, `illegal regex for (` or
/// `... function 'rate' ...`.
fn quoted_token(msg: &str) -> Option<&str> {
    if let Some(start) = msg.find('\'') {
        if let Some(len) = msg[start + 1..].find('\'') {
            let tok = &msg[start + 1..start + 1 + len];
            if !tok.is_empty() {
                return Some(tok);
            }
        }
    }
    for marker in [": ", " for "] {
        if let Some(i) = msg.rfind(marker) {
            let tok = msg[i + marker.len()..].trim();
            if !tok.is_empty() && !tok.contains(' ') {
                return Some(tok);
            }
        }
    }
    None
}

/// Maps a byte range inside a scalar's value to its place in the file. Works for plain,
/// quoted (without escapes) and block scalars; otherwise points at the whole scalar.
pub(crate) fn locate(cx: &Cx, node: &Node, value: &str, pos: usize, len: usize) -> Span {
    let raw = cx.text(node.span);
    let base = if raw == value {
        Some(node.span.offset)
    } else if raw.len() >= 2
        && (raw.starts_with('"') || raw.starts_with('\''))
        && raw.get(1..raw.len() - 1) == Some(value)
    {
        Some(node.span.offset + 1)
    } else {
        None
    };
    if let Some(base) = base {
        return span_at(cx.src, base + pos, len);
    }
    // Block scalar: value line k sits on source line `node.line + k` at the content indent.
    let before = value.get(..pos).unwrap_or("");
    let k = before.matches('\n').count();
    let col = pos - before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let value_line = value.lines().nth(k).unwrap_or("");
    let mut line_start = node.span.offset;
    while line_start > 0 && cx.src.as_bytes()[line_start - 1] != b'\n' {
        line_start -= 1;
    }
    let mut src_line_start = line_start;
    for _ in 0..k {
        match cx.src[src_line_start..].find('\n') {
            Some(i) => src_line_start += i + 1,
            None => return node.span,
        }
    }
    let indent = node.span.offset - line_start;
    let src_line = cx.src[src_line_start..].lines().next().unwrap_or("");
    if src_line
        .get(indent..)
        .is_some_and(|rest| rest.starts_with(value_line))
    {
        span_at(cx.src, src_line_start + indent + col, len)
    } else {
        node.span
    }
}

fn span_at(src: &str, offset: usize, len: usize) -> Span {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() as u64 + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() as u64 + 1;
    Span {
        line,
        column,
        offset,
        len: len.min(src.len() - offset),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_messages() {
        for (msg, want) in [
            ("bad number or duration syntax: 5x", Some("5x")),
            ("unexpected character inside braces: '1'", Some("1")),
            ("illegal regex for (", Some("(")),
            (
                "expected type matrix in call to function 'rate', got vector",
                Some("rate"),
            ),
            ("invalid promql query", None),
        ] {
            assert_eq!(quoted_token(msg), want, "{msg}");
        }
    }

    #[test]
    fn grouped_queries_for_help_lines() {
        let g = |q: &str| grouped(q, &["provider".to_string()]);
        assert_eq!(
            g("sum(rate(x_total[{{window}}]))"),
            "sum by (provider) (rate(x_total[{{window}}]))"
        );
        assert_eq!(
            g("sum by (route) (rate(x_total[{{window}}]))"),
            "sum by (provider) (rate(x_total[{{window}}]))"
        );
        assert_eq!(
            g("sum without (code)(rate(x_total[{{window}}]))"),
            "sum by (provider) (rate(x_total[{{window}}]))"
        );
        assert_eq!(
            g("sum(rate(x_total[{{window}}])) by (route)"),
            "sum by (provider) (rate(x_total[{{window}}]))"
        );
        assert_eq!(
            g("rate(x_total[{{window}}])"),
            "sum by (provider) (rate(x_total[{{window}}]))"
        );
        assert_eq!(
            g("sum(rate(a[{{window}}])) / sum(rate(b[{{window}}]))"),
            "sum by (provider) (sum(rate(a[{{window}}])) / sum(rate(b[{{window}}])))"
        );
    }

    #[test]
    fn placeholders() {
        let found = find_placeholders("a[{{window}}] b[{{ .window }}] c[{{windw}}] {{");
        let inner: Vec<_> = found.iter().map(|p| p.2.as_str()).collect();
        assert_eq!(inner, ["window", ".window", "windw"]);
    }
}
