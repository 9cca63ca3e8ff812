//! One fixture and one snapshot per diagnostic code: `tests/fixtures/invalid/<CODE>-<name>`
//! (a file, or a directory when the fault spans files). The snapshot is the exact human
//! output of `slo-gen validate`.

use slo_spec::Code;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FIXTURES: &str = "tests/fixtures/invalid";

fn fixtures() -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect()
}

fn render(path: &Path) -> (String, Vec<Code>) {
    let loaded = slo_gen::load(&[path.to_path_buf()]).unwrap();
    let mut out = Vec::new();
    slo_spec::render::write(
        &mut out,
        slo_spec::render::Format::Human,
        &loaded.checked.diagnostics,
        &loaded.texts,
    )
    .unwrap();
    let codes = loaded.checked.diagnostics.iter().map(|d| d.code).collect();
    (String::from_utf8(out).unwrap(), codes)
}

#[test]
fn every_code_has_a_fixture() {
    let names = fixtures();
    for code in Code::ALL {
        let expected = format!("{}-{}", code.as_str(), code.name());
        assert!(
            names.contains_key(&expected),
            "no fixture {FIXTURES}/{expected}[.yaml]"
        );
    }
}

#[test]
fn fixture_snapshots() {
    for (name, path) in fixtures() {
        let (text, codes) = render(&path);
        let code = name.split('-').next().unwrap();
        assert!(
            codes.iter().any(|c| c.as_str() == code),
            "{name}: expected {code}, got {codes:?}\n{text}"
        );
        insta::assert_snapshot!(name, text);
    }
}

/// The README's "try it on the fixtures": validating the whole directory shows every code
/// exactly once: no fixture hides another's diagnostic or adds one (services, SLOs and
/// alert names are distinct across fixtures).
#[test]
fn the_fixture_directory_shows_each_code_once() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_slo-gen"))
        .args(["validate", "--format", "json", FIXTURES])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let found: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut codes: Vec<&str> = found.iter().map(|d| d["code"].as_str().unwrap()).collect();
    codes.sort();
    let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes, all);
}
