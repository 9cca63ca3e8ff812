//! Documentation that cannot drift, in the manner of rust-analyzer's `tidy`: the code map
//! names every source file and fuzz target, every path the docs name exists, every
//! `slo-gen` command the README shows is one the binary has (flags included), and a long
//! function or file either splits or says why on a `Long:` comment line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The crates of the code map, each with a `### \`<crate>\`` section.
const CRATES: &[&str] = &["slo-spec", "slo-eval", "slo-gen", "exporter", "tests/e2e"];
/// The documents whose paths are checked.
const DOCS: &[&str] = &["README.md", "ARCHITECTURE.md", "slo-spec/SPEC.md"];
const MAX_FN_LINES: usize = 80;
const MAX_FILE_LINES: usize = 450;

use crate::support::root;

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `.rs` file under `dir`, as paths relative to it, sorted.
pub fn rs_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                if !p.ends_with("target") && !p.ends_with("corpus") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// `a/{b,c}.rs` written out as `a/b.rs a/c.rs`, so a list names each file.
fn expand_braces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(|c: char| c.is_whitespace() || c == '`') {
        let (open, close) = (word.find('{'), word.find('}'));
        match (open, close) {
            (Some(o), Some(c))
                if o < c
                    && word[o + 1..c]
                        .chars()
                        .all(|x| x.is_alphanumeric() || "_,-".contains(x)) =>
            {
                let (head, tail) = (&word[..o], &word[c + 1..]);
                for alt in word[o + 1..c].split(',') {
                    out.push_str(&format!("{head}{alt}{tail} "));
                }
            }
            _ => out.push_str(word),
        }
    }
    out
}

/// The path-like words of `text`: no spaces, a slash or a `.rs` ending.
fn paths(text: &str) -> BTreeSet<String> {
    expand_braces(text)
        .split(|c: char| !(c.is_alphanumeric() || "_-./*<>:".contains(c)))
        .map(|w| w.trim_end_matches('.').to_string())
        .filter(|w| w.ends_with(".rs") || w.contains('/'))
        .collect()
}

/// The code map's section of `krate`: from its `### \`krate\`` heading to the next heading.
fn section<'a>(arch: &'a str, krate: &str) -> &'a str {
    let head = format!("### `{krate}`");
    let Some(at) = arch.find(&head) else {
        return "";
    };
    let rest = &arch[at + head.len()..];
    let end = rest.find("\n#").unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn the_code_map_names_every_source_file_and_fuzz_target() {
    let arch = read(&root().join("ARCHITECTURE.md"));
    let mut missing = Vec::new();
    for krate in CRATES {
        let named = paths(section(&arch, krate));
        for file in rs_files(&root().join(krate).join("src")) {
            let file = file.to_string_lossy().replace('\\', "/");
            if !named.contains(&file) {
                missing.push(format!("{krate}/src/{file}"));
            }
        }
    }
    let named = paths(&arch);
    for target in rs_files(&root().join("fuzz/fuzz_targets")) {
        let file = format!("fuzz_targets/{}", target.display());
        if !named.contains(&file) {
            missing.push(format!("fuzz/{file}"));
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map does not name:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_path_the_docs_name_exists() {
    let root = root();
    let top: BTreeSet<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut gone = Vec::new();
    for doc in DOCS {
        let text = read(&root.join(doc));
        let base = root.join(doc).parent().unwrap().to_path_buf();
        for p in paths(&text) {
            // Only relative paths into this repository (no URL, absolute path, endpoint,
            // pattern or path above it); ARCHITECTURE's files are checked per crate below.
            if p.starts_with('/')
                || p.starts_with('.')
                || p.contains(':')
                || p.contains(['<', '*', '>'])
                || (*doc == "ARCHITECTURE.md" && p.ends_with(".rs"))
            {
                continue;
            }
            let first = p.split('/').next().unwrap_or("");
            let at = if top.contains(first) && p.contains('/') {
                root.join(&p)
            } else if p.contains('/') && base.join(first).exists() && base != root {
                base.join(&p)
            } else {
                continue;
            };
            if !at.exists() {
                gone.push(format!("{doc}: {p}"));
            }
        }
    }
    // Inside a crate's section, a file is named relative to its `src/` (or the crate).
    let arch = read(&root.join("ARCHITECTURE.md"));
    for krate in CRATES {
        for p in paths(section(&arch, krate)) {
            let dir = root.join(krate);
            let known = [dir.join("src").join(&p), dir.join(&p), root.join(&p)];
            if p.ends_with(".rs") && !known.iter().any(|k| k.exists()) {
                gone.push(format!("ARCHITECTURE.md ({krate}): {p}"));
            }
        }
    }
    assert!(
        gone.is_empty(),
        "paths the docs name that do not exist:\n{}",
        gone.join("\n")
    );
}

/// The README's fenced code blocks.
fn code_blocks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut inside = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let start: usize = text.split_inclusive('\n').take(i).map(str::len).sum();
        if line.trim_start().starts_with("```") {
            match inside.take() {
                Some(from) => out.push(&text[from..start]),
                None => inside = Some(start + line.len()),
            }
        }
    }
    out
}

#[test]
fn every_command_the_readme_shows_is_one_slo_gen_has() {
    let readme = read(&root().join("README.md"));
    let bin = env!("CARGO_BIN_EXE_slo-gen");
    let mut wrong = Vec::new();
    let mut checked = 0;
    for block in code_blocks(&readme) {
        for line in block.lines() {
            // The command alone: no comment, nothing piped after it.
            let command = line.split(" #").next().unwrap_or("");
            let command = command.split(" | ").next().unwrap_or("");
            let words: Vec<&str> = command.split_whitespace().collect();
            let Some(mut at) = words
                .iter()
                .position(|w| *w == "slo-gen" || w.ends_with("/slo-gen"))
            else {
                continue;
            };
            // `cargo run -p slo-gen -- SUB`: the command follows `--`.
            if words.get(at + 1) == Some(&"--") {
                at += 1;
            }
            let Some(sub) = words.get(at + 1).filter(|s| {
                s.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !s.starts_with('-')
            }) else {
                continue;
            };
            let out = std::process::Command::new(bin)
                .args([sub, "--help"])
                .output()
                .unwrap();
            let help = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() {
                wrong.push(format!("`{line}`: `slo-gen {sub}` is not a command"));
                continue;
            }
            checked += 1;
            for flag in words[at + 2..].iter().filter_map(|w| {
                let w = w.trim_start_matches('[');
                w.starts_with("--")
                    .then(|| w.split(['=', ']', '|']).next().unwrap())
            }) {
                if !help.contains(&format!("{flag} "))
                    && !help.contains(&format!("{flag}\n"))
                    && !help.contains(&format!("{flag}="))
                    && !help.contains(&format!("{flag},"))
                {
                    wrong.push(format!("`{line}`: `slo-gen {sub}` has no {flag}"));
                }
            }
        }
    }
    assert!(checked >= 10, "only {checked} commands found in the README");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every `.rs` file the tidy rules cover, relative to the repository.
fn all_sources() -> Vec<PathBuf> {
    let root = root();
    let mut out = Vec::new();
    for dir in [
        "slo-spec",
        "slo-eval",
        "slo-gen",
        "exporter",
        "tests/e2e",
        "bench",
        "fuzz/fuzz_targets",
    ] {
        out.extend(
            rs_files(&root.join(dir))
                .into_iter()
                .map(|p| Path::new(dir).join(p)),
        );
    }
    out
}

/// Whether the comment lines right above line `at` (attributes skipped) say why it is long.
fn says_why(lines: &[&str], at: usize) -> bool {
    lines[..at]
        .iter()
        .rev()
        .map(|l| l.trim_start())
        .take_while(|l| l.starts_with("//") || l.starts_with("#["))
        .any(|l| l.contains("Long:"))
}

#[test]
fn long_functions_and_files_split_or_say_why() {
    let mut long = Vec::new();
    for file in all_sources() {
        let text = read(&root().join(&file));
        let lines: Vec<&str> = text.lines().collect();
        // Unit tests at the end of a file do not count against it.
        let code = lines
            .iter()
            .position(|l| *l == "#[cfg(test)]")
            .unwrap_or(lines.len());
        if code > MAX_FILE_LINES
            && !lines
                .iter()
                .take_while(|l| l.starts_with("//"))
                .any(|l| l.contains("Long:"))
        {
            long.push(format!("{}: {code} lines", file.display()));
        }
        for (i, line) in lines.iter().enumerate() {
            let code = line.trim_start();
            let indent = &line[..line.len() - code.len()];
            let sig = [
                "pub ",
                "pub(crate) ",
                "pub(super) ",
                "async ",
                "const ",
                "unsafe ",
            ]
            .iter()
            .fold(code, |c, p| c.strip_prefix(p).unwrap_or(c));
            if !sig.starts_with("fn ") {
                continue;
            }
            let close = format!("{indent}}}");
            let Some(end) = lines[i + 1..].iter().position(|l| *l == close) else {
                continue;
            };
            if end + 2 > MAX_FN_LINES && !says_why(&lines, i) {
                let name = sig[3..].split(['(', '<']).next().unwrap_or("");
                long.push(format!(
                    "{}:{}: fn {name}: {} lines",
                    file.display(),
                    i + 1,
                    end + 2
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these, or say why on a `Long:` comment line above them (files: in the header):\n{}",
        long.join("\n")
    );
}
