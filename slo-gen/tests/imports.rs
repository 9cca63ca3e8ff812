//! No import circle, in the manner of rust-analyzer's `tidy`: within each crate, every
//! `crate::` and `super::` path (in `use` or inline) is an edge from the module that
//! writes it to the module it names, lifted to the two siblings under their nearest common
//! parent (a module may use its parent's items and a parent its children's). The sibling
//! graph has no cycle: `lower::alerting` and `lower::common` may not both use each other,
//! nor `promql` and `lower` round a third.

use crate::support::root;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const CRATES: &[&str] = &["slo-spec", "slo-eval", "slo-gen", "exporter", "tests/e2e"];

type Module = Vec<String>;

/// The module a source file holds (`lower/mod.rs` and `lower.rs` are `lower`; `lib.rs`
/// the root); `None` for the binaries under `bin/`, which are crates of their own.
fn module_of(rel: &Path) -> Option<Module> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.first().is_some_and(|p| p == "bin") {
        return None;
    }
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    Some(parts)
}

/// `prefix::{a, b::{c, d}}` written out as `prefix::a`, `prefix::b::c`, `prefix::b::d`.
fn flatten(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        out.push(format!("{prefix}{tree}"));
        return;
    };
    let head = format!("{prefix}{}", &tree[..open]);
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                flatten(&inner[start..i], &head, out);
                start = i + 1;
            }
            _ => {}
        }
    }
    flatten(&inner[start..], &head, out);
}

/// Every `crate::` and `super::` path the code (before its tests) writes.
fn paths(code: &str) -> Vec<String> {
    let code: String = code
        .lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    for stmt in code.split(';') {
        let stmt = stmt.trim();
        let body = stmt.find("use ").filter(|&i| {
            let before = stmt[..i].trim();
            before.is_empty() || before.ends_with("pub") || before.ends_with(')')
        });
        if let Some(i) = body {
            flatten(&stmt[i + 4..], "", &mut out);
        }
    }
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    for token in code.split(|c: char| !word(c)) {
        if token.starts_with("crate::") || token.starts_with("super::") {
            out.push(token.to_string());
        }
    }
    out
}

/// The module a path names: its longest prefix that is a module of the crate.
fn target(from: &Module, path: &str, modules: &BTreeSet<Module>) -> Option<Module> {
    let mut parts = path.split("::").map(str::trim);
    let mut at: Module = match parts.next()? {
        "crate" => Vec::new(),
        "super" => from[..from.len().checked_sub(1)?].to_vec(),
        _ => return None,
    };
    for p in parts {
        let next = match p {
            "super" => at[..at.len().checked_sub(1)?].to_vec(),
            _ => [at.clone(), vec![p.to_string()]].concat(),
        };
        if !modules.contains(&next) {
            break;
        }
        at = next;
    }
    Some(at)
}

/// The edge `from → to` as one between two siblings, if neither contains the other.
fn siblings(from: &Module, to: &Module) -> Option<(Module, Module)> {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    (common < from.len() && common < to.len())
        .then(|| (from[..=common].to_vec(), to[..=common].to_vec()))
}

/// A cycle through `start`, if the graph has one.
fn cycle(graph: &BTreeMap<Module, BTreeSet<Module>>, start: &Module) -> Option<Vec<Module>> {
    let mut stack = vec![(start.clone(), vec![start.clone()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in graph.get(&at).into_iter().flatten() {
            if next == start {
                return Some([path.clone(), vec![start.clone()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

fn crate_graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let files: Vec<(Module, String)> = crate::tidy::rs_files(src)
        .into_iter()
        .filter_map(|rel| Some((module_of(&rel)?, crate::tidy::read(&src.join(&rel)))))
        .collect();
    let modules: BTreeSet<Module> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (from, code) in &files {
        for path in paths(code) {
            let Some(to) = target(from, &path, &modules) else {
                continue;
            };
            if let Some((a, b)) = siblings(from, &to) {
                graph.entry(a).or_default().insert(b);
            }
        }
    }
    graph
}

#[test]
fn no_two_modules_import_each_other() {
    let mut circles = Vec::new();
    for krate in CRATES {
        let graph = crate_graph(&root().join(krate).join("src"));
        for start in graph.keys() {
            if let Some(c) = cycle(&graph, start) {
                let names: Vec<String> = c.iter().map(|m| m.join("::")).collect();
                circles.push(format!("{krate}: {}", names.join(" → ")));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_check_sees_a_circle() {
    let modules: BTreeSet<Module> = [vec![], vec!["a".into()], vec!["b".into()]].into();
    let a: Module = vec!["a".into()];
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (from, code) in [
        (&a, "use crate::b::{self, X};"),
        (&vec!["b".into()], "crate::a::f();"),
    ] {
        for p in paths(code) {
            let to = target(from, &p, &modules).unwrap();
            if let Some((x, y)) = siblings(from, &to) {
                graph.entry(x).or_default().insert(y);
            }
        }
    }
    assert!(cycle(&graph, &a).is_some(), "{graph:?}");
    assert_eq!(
        siblings(&vec!["l".into(), "x".into()], &vec!["l".into()]),
        None
    );
}
