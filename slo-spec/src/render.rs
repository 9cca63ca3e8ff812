//! Diagnostics rendered for people and machines: rustc-style text with the source line
//! and a caret, JSON, and GitHub workflow annotations. Lives with the diagnostics so that
//! every consumer (the CLI, the fuzzer) renders them the same way.

use crate::diagnostic::{Diagnostic, Severity};
use std::collections::BTreeMap;
use std::io::{self, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `file:line:col: error[CODE]: message`, the source line with a caret, and help.
    Human,
    /// A JSON array of `{file, line, column, code, severity, message, help}`.
    Json,
    /// GitHub Actions workflow commands (`::error file=...`).
    Github,
}

/// Writes every diagnostic. `sources` maps file names to their text for snippets.
pub fn write(
    out: &mut dyn Write,
    format: Format,
    diags: &[Diagnostic],
    sources: &BTreeMap<String, String>,
) -> io::Result<()> {
    match format {
        Format::Human => human(out, diags, sources),
        Format::Json => json(out, diags),
        Format::Github => github(out, diags),
    }
}

fn human(
    out: &mut dyn Write,
    diags: &[Diagnostic],
    sources: &BTreeMap<String, String>,
) -> io::Result<()> {
    for d in diags {
        writeln!(out, "{d}")?;
        if let Some(line) = sources
            .get(&d.file)
            .and_then(|src| src.lines().nth(d.span.line as usize - 1))
        {
            let number = d.span.line.to_string();
            let pad = " ".repeat(number.len());
            let line = line.trim_end_matches('\r');
            // Carets under the span's first line only, at least one.
            let start = (d.span.column as usize).saturating_sub(1);
            let rest: String = line.chars().skip(start).collect();
            let width = sources
                .get(&d.file)
                .and_then(|src| src.get(d.span.offset..d.span.offset + d.span.len))
                .map(|s| s.lines().next().unwrap_or("").chars().count())
                .unwrap_or(1)
                .clamp(1, rest.chars().count().max(1));
            let indent: String = line
                .chars()
                .take(start)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(out, "{pad} |")?;
            writeln!(out, "{number} | {line}")?;
            writeln!(out, "{pad} | {indent}{}", "^".repeat(width))?;
            if let Some(help) = &d.help {
                writeln!(out, "{pad} = help: {help}")?;
            }
        } else if let Some(help) = &d.help {
            writeln!(out, "  = help: {help}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn json(out: &mut dyn Write, diags: &[Diagnostic]) -> io::Result<()> {
    let items: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            serde_json::json!({
                "file": d.file,
                "line": d.span.line,
                "column": d.span.column,
                "code": d.code.as_str(),
                "severity": d.severity.as_str(),
                "message": d.message,
                "help": d.help,
            })
        })
        .collect();
    let text = serde_json::to_string_pretty(&items).map_err(io::Error::other)?;
    writeln!(out, "{text}")
}

fn github(out: &mut dyn Write, diags: &[Diagnostic]) -> io::Result<()> {
    for d in diags {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        writeln!(
            out,
            "::{level} file={},line={},col={},title={}::{}",
            escape_property(&d.file),
            d.span.line,
            d.span.column,
            escape_property(&format!("{} {}", d.code, d.code.name())),
            escape_data(&message)
        )?;
    }
    Ok(())
}

/// A GitHub Actions workflow command (`::error file=...,title=...::message`), escaped:
/// what other commands (drift, gate) print for `--format github`.
pub fn workflow_command(level: &str, properties: &[(&str, String)], message: &str) -> String {
    let props: Vec<String> = properties
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    format!("::{level} {}::{}", props.join(","), escape_data(message))
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `3 errors, 1 warning` style summary.
pub fn summary(diags: &[Diagnostic], files: usize, services: usize) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {} in {} ({} checked)",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(files, "file"),
        plural(services, "service"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_escaping() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
