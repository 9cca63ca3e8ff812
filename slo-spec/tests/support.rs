//! What the test modules share.

use slo_spec::{check, Checked, Source};

/// Checks `(path, text)` files as one repository.
pub fn check_files(files: &[(&str, &str)]) -> Checked {
    let sources: Vec<Source> = files
        .iter()
        .map(|(path, text)| Source {
            path: path.to_string(),
            text: text.to_string(),
        })
        .collect();
    check(&sources)
}

/// Each diagnostic as `file:line:col CODE message`.
pub fn diagnostic_lines(checked: &Checked) -> Vec<String> {
    checked
        .diagnostics
        .iter()
        .map(|d| {
            format!(
                "{}:{}:{} {} {}",
                d.file, d.span.line, d.span.column, d.code, d.message
            )
        })
        .collect()
}
