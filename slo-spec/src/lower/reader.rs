//! Reading typed values out of the spanned YAML tree, reporting every fault instead of
//! stopping at the first.

use crate::diagnostic::{Code, Diagnostic, Span};
use crate::model::Window;
use crate::names::{format_duration, parse_duration};
use crate::yaml::{Key, Node, Value};
use std::time::Duration;

/// Lowering context for one file: the source (to slice scalars as written) and the
/// diagnostics found so far.
pub(crate) struct Cx<'a> {
    pub file: &'a str,
    pub src: &'a str,
    pub diags: Vec<Diagnostic>,
    /// Services the file declares, valid or not: what the summary counts as checked.
    pub declared: std::collections::BTreeSet<String>,
    /// The peer format of the document being read (`Pyrra ServiceLevelObjective`): every
    /// message names it, so a user knows how the file was understood. `None` for v1.
    pub doc: Option<String>,
}

impl<'a> Cx<'a> {
    pub fn new(file: &'a str, src: &'a str) -> Self {
        Cx {
            file,
            src,
            diags: Vec::new(),
            declared: Default::default(),
            doc: None,
        }
    }

    pub fn report(
        &mut self,
        span: Span,
        code: Code,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let help = help.into();
        let mut message = message.into();
        if let Some(doc) = &self.doc {
            message = format!("{message} ({doc})");
        }
        let mut d = Diagnostic::new(self.file, span, code, message);
        if !help.is_empty() {
            d = d.help(help);
        }
        self.diags.push(d);
    }

    /// The scalar exactly as written in the file (quotes included).
    pub fn text(&self, span: Span) -> &'a str {
        self.src
            .get(span.offset..span.offset + span.len)
            .unwrap_or("")
    }

    pub fn wrong_type(&mut self, node: &Node, what: &str, expected: &str, help: &str) {
        self.report(
            node.span,
            Code::WrongType,
            format!("`{what}` must be {expected}, found {}", node.kind()),
            help,
        );
    }
}

/// A mapping whose keys were checked against the fields it may hold.
pub(crate) struct Fields<'n> {
    pub span: Span,
    pub entries: &'n [(Key, Node)],
}

impl<'n> Fields<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    pub fn key(&self, key: &str) -> Option<&'n Key> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, _)| k)
    }

    /// A required field; reports it missing at the mapping.
    pub fn require(&self, cx: &mut Cx, key: &str, what: &str) -> Option<&'n Node> {
        let node = self.get(key);
        if node.is_none() {
            cx.report(
                self.span,
                Code::MissingField,
                format!("missing required field `{key}` in {what}"),
                format!("add `{key}:` here"),
            );
        }
        node
    }
}

/// Checks that `node` is a mapping holding only `known` fields; unknown ones are reported
/// with the closest known name.
pub(crate) fn fields<'n>(
    cx: &mut Cx,
    node: &'n Node,
    what: &str,
    known: &[&str],
) -> Option<Fields<'n>> {
    let Value::Map(entries) = &node.value else {
        cx.wrong_type(node, what, "a mapping", "");
        return None;
    };
    for (key, _) in entries {
        if !known.contains(&key.name.as_str()) {
            let help = match did_you_mean(&key.name, known) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("expected one of: {}", known.join(", ")),
            };
            cx.report(
                key.span,
                Code::UnknownField,
                format!("unknown field `{}` in {what}", key.name),
                help,
            );
        }
    }
    Some(Fields {
        span: node.span,
        entries,
    })
}

/// The known name closest to `word`, compared without case (`SLI` → `sli`).
pub(crate) fn did_you_mean<'k>(word: &str, candidates: &[&'k str]) -> Option<&'k str> {
    let word = word.to_lowercase();
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&word, &c.to_lowercase()), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

pub(crate) fn string(cx: &mut Cx, node: &Node, what: &str) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
            let help = format!("quote it: `\"{}\"`", cx.text(node.span));
            cx.wrong_type(node, what, "a string", &help);
            None
        }
        _ => {
            cx.wrong_type(node, what, "a string", "");
            None
        }
    }
}

/// Like [`string`], but takes numbers and booleans as the text written (Sloth's Go
/// loader does the same for `map[string]string`).
pub(crate) fn lenient_string(cx: &mut Cx, node: &Node, what: &str) -> Option<String> {
    match &node.value {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(cx.text(node.span).to_string()),
        _ => string(cx, node, what),
    }
}

pub(crate) fn boolean(cx: &mut Cx, node: &Node, what: &str) -> Option<bool> {
    match node.value {
        Value::Bool(b) => Some(b),
        _ => {
            cx.wrong_type(node, what, "true or false", "");
            None
        }
    }
}

/// A number with the text it was written as.
pub(crate) fn number(cx: &mut Cx, node: &Node, what: &str) -> Option<(f64, String)> {
    match node.value {
        Value::Int(i) => Some((i as f64, cx.text(node.span).to_string())),
        Value::Float(f) => Some((f, cx.text(node.span).to_string())),
        Value::Str(ref s) if s.trim().parse::<f64>().is_ok() => {
            cx.wrong_type(node, what, "a number", "remove the quotes");
            None
        }
        Value::Str(ref s)
            if s.trim().ends_with('%')
                && s.trim().trim_end_matches('%').trim().parse::<f64>().is_ok() =>
        {
            let number = s.trim().trim_end_matches('%').trim();
            let help = format!(
                "write `{number}`: the number is already a percentage, without the `%` sign"
            );
            cx.wrong_type(node, what, "a number", &help);
            None
        }
        _ => {
            cx.wrong_type(node, what, "a number", "");
            None
        }
    }
}

/// What a duration field accepts, and the unit its "add a unit" hint suggests.
#[derive(Clone, Copy)]
pub(crate) struct DurationBounds {
    pub min: Duration,
    pub max: Duration,
    pub unit: &'static str,
}

/// A duration field (`30d`, `300ms`, `1h30m`): the one reader for periods, thresholds,
/// ages, `for` and windows. A bare number is refused with a hint to add the unit:
/// Prometheus would read it as seconds, which is never what a spec author means.
pub(crate) fn duration(
    cx: &mut Cx,
    node: &Node,
    what: &str,
    bounds: DurationBounds,
) -> Option<Window> {
    if matches!(node.value, Value::Int(_) | Value::Float(_)) {
        let help = format!(
            "durations need a unit, e.g. `{}{}`",
            cx.text(node.span),
            bounds.unit
        );
        cx.wrong_type(node, what, "a duration string", &help);
        return None;
    }
    let text = string(cx, node, what)?;
    match parse_duration(&text) {
        Ok(d) if d >= bounds.min && d <= bounds.max => Some(Window { duration: d, text }),
        Ok(_) => {
            cx.report(
                node.span,
                Code::BadDuration,
                format!(
                    "`{what}` must be between {} and {}, got `{text}`",
                    format_duration(bounds.min),
                    format_duration(bounds.max)
                ),
                "",
            );
            None
        }
        Err(msg) => {
            cx.report(
                node.span,
                Code::BadDuration,
                format!("invalid `{what}`: {msg}"),
                "write a number with a unit: ms, s, m, h, d, w (e.g. `30d`, `300ms`, `15m`)",
            );
            None
        }
    }
}

/// A list; reports anything else.
pub(crate) fn list<'n>(cx: &mut Cx, node: &'n Node, what: &str) -> Option<&'n [Node]> {
    match &node.value {
        Value::Seq(items) => Some(items),
        _ => {
            cx.wrong_type(node, what, "a list", "start each item with `- `");
            None
        }
    }
}

/// A mapping of strings to strings (labels, annotations), each entry with its spans.
pub(crate) fn string_map(
    cx: &mut Cx,
    node: &Node,
    what: &str,
    lenient: bool,
) -> Vec<(Key, String, Span)> {
    let Value::Map(entries) = &node.value else {
        cx.wrong_type(node, what, "a mapping of names to strings", "");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in entries {
        let label = format!("{what}.{}", key.name);
        let text = if lenient {
            lenient_string(cx, value, &label)
        } else {
            string(cx, value, &label)
        };
        if let Some(text) = text {
            out.push((key.clone(), text, value.span));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggestions() {
        let known = [
            "objective",
            "description",
            "period",
            "sli",
            "alerting",
            "name",
        ];
        for (word, want) in [
            ("objetive", Some("objective")),
            ("descripton", Some("description")),
            ("periode", Some("period")),
            ("alert", Some("alerting")),
            ("SLI", Some("sli")),
            ("Objective", Some("objective")),
            ("zzz", None),
        ] {
            assert_eq!(did_you_mean(word, &known), want, "{word}");
        }
    }
}
