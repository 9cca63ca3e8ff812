//! Real spec files of Sloth, Pyrra and OpenSLO (vendored with their licenses in
//! `slo-spec/tests/conformance/`): what each gives (the SLOs it loads, or the diagnostics
//! a user needs), that Pyrra's compile into rules promtool accepts and whose alerts fire,
//! and `convert`: peer → v1 compiles to the same rules; v1 → OpenSLO → v1 keeps what
//! OpenSLO can say.

use slo_gen::convert;
use slo_gen::rules::emit::{rule_file, RulesFormat};
use slo_gen::rules::{service_groups, Options};
use slo_spec::{Service, Sli};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn conformance() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../slo-spec/tests/conformance")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn rel(p: &Path) -> String {
    p.strip_prefix(conformance())
        .unwrap_or(p)
        .display()
        .to_string()
}

/// One line per SLO loaded, one per diagnostic.
fn summary(paths: &[PathBuf]) -> String {
    let loaded = slo_gen::load(paths).unwrap();
    let mut out = String::new();
    for svc in &loaded.checked.services {
        for slo in &svc.slos {
            let kind = match &slo.sli {
                Sli::Ratio(_) => "ratio",
                Sli::Latency(_) => "latency",
                Sli::Freshness(_) => "freshness",
                Sli::Raw(_) => "raw",
            };
            let groups = if slo.group_by.is_empty() {
                String::new()
            } else {
                format!(" by ({})", slo.group_by.join(", "))
            };
            out.push_str(&format!(
                "  loads {}/{}: {} {kind}{groups}, {}% over {}\n",
                svc.name,
                slo.name,
                svc.format.describe(),
                slo.objective.text,
                slo.period.text
            ));
        }
    }
    for d in &loaded.checked.diagnostics {
        out.push_str(&format!(
            "  {}:{}: {}[{}] {}\n",
            d.span.line,
            d.span.column,
            d.severity.as_str(),
            d.code,
            d.message
        ));
    }
    out
}

/// Every vendored file, each through `validate` on its own (as a new user would try
/// it), and the OpenSLO go-sdk examples together (their SLOs refer to SLI, Service and
/// DataSource documents of the other files).
#[test]
fn every_vendored_peer_file_loads_or_is_refused_with_a_diagnostic() {
    let mut text = String::new();
    let all = files(&conformance());
    assert!(all.len() >= 60, "corpus missing: {}", all.len());
    for f in &all {
        if f.components().any(|c| c.as_os_str() == "out") {
            continue; // Sloth's generated rules for the conformance test
        }
        text.push_str(&format!("{}\n{}", rel(f), summary(std::slice::from_ref(f))));
    }
    let sdk = conformance().join("openslo/go-sdk");
    let together: Vec<PathBuf> = ["slos", "slis", "services", "data_sources"]
        .iter()
        .map(|n| sdk.join(format!("openslo-v1-examples-{n}.yaml")))
        .collect();
    text.push_str(&format!(
        "go-sdk v1 examples together\n{}",
        summary(&together)
    ));
    insta::assert_snapshot!(text);
}

/// What decides the shape of a file's generated rules and of the promtool suites that
/// prove them: per SLO, the SLI's kind, the objective, the period, whether it is grouped.
/// Two files alike in these differ only in names and queries.
fn rule_shape(services: &[Service]) -> Vec<String> {
    let mut shape: Vec<String> = services
        .iter()
        .flat_map(|s| &s.slos)
        .map(|slo| {
            format!(
                "{} {} {} {}",
                slo.sli.kind(),
                slo.objective.text,
                slo.period.text,
                slo.group_by.is_empty()
            )
        })
        .collect();
    shape.sort();
    shape
}

/// The Pyrra files that load: `slo-gen generate` writes rules promtool accepts for every
/// one, and `slo-gen test` proves through the real promtool that the alerts fire for one
/// file of each rule shape (the other files of a shape would run the same suites).
#[test]
#[ignore = "slow: promtool proves the alerts of Pyrra's rule shapes (scripts/test runs it)"]
fn pyrra_files_compile_to_rules_promtool_accepts_and_whose_alerts_fire() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    let shapes = dir.path().join("shapes");
    std::fs::create_dir(&specs).unwrap();
    std::fs::create_dir(&shapes).unwrap();
    let mut n = 0;
    let mut seen = std::collections::BTreeSet::new();
    let mut tested = 0;
    for f in files(&conformance().join("pyrra")) {
        let loaded = slo_gen::load(std::slice::from_ref(&f)).unwrap();
        if loaded.checked.has_errors() {
            continue;
        }
        std::fs::copy(&f, specs.join(f.file_name().unwrap())).unwrap();
        if seen.insert(rule_shape(&loaded.checked.services)) {
            std::fs::copy(&f, shapes.join(f.file_name().unwrap())).unwrap();
            tested += loaded
                .checked
                .services
                .iter()
                .map(|s| s.slos.len())
                .sum::<usize>();
        }
        n += 1;
    }
    assert!(n >= 26, "only {n} Pyrra files load");
    println!("pyrra: {n} files, {} rule shapes", seen.len());
    assert!(seen.len() >= 10, "{seen:#?}");
    let bin = env!("CARGO_BIN_EXE_slo-gen");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "slo-gen {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["generate", "specs"]);
    let rules: Vec<PathBuf> = files(&dir.path().join("rules"));
    assert!(!rules.is_empty());
    let out = Command::new("promtool")
        .arg("check")
        .arg("rules")
        .args(&rules)
        .output()
        .expect("promtool is installed by scripts/test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = run(&["test", "shapes"]);
    let proven = report.lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(proven, tested, "{report}");
    assert!(report.contains("monitoring"), "{report}");
}

/// Each service's rule file as `generate` writes it.
fn rules_of(services: &[Service]) -> BTreeMap<String, String> {
    services
        .iter()
        .map(|svc| {
            let source = Path::new(&svc.file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let groups = service_groups(svc, &Options::default());
            (
                svc.name.clone(),
                rule_file(RulesFormat::Prometheus, &svc.name, &source, &groups),
            )
        })
        .collect()
}

fn load_ok(paths: &[PathBuf]) -> Vec<Service> {
    let loaded = slo_gen::load(paths).unwrap();
    let errors = loaded.checked.errors();
    assert!(errors.is_empty(), "{errors:#?}");
    loaded.checked.services
}

fn write_all(dir: &Path, converted: &convert::Converted) -> Vec<PathBuf> {
    converted
        .files
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect()
}

/// Every peer spec that loads, converted to v1, compiles to the same rules, byte for
/// byte. Two differences are by construction, and checked to be the only ones: a
/// service with no owner gets `owner: unowned` (v1 requires one; a note says so), and
/// the header line of a service merged from several files names the converted file.
#[test]
fn peer_specs_converted_to_v1_compile_to_the_same_rules() {
    let mut checked = 0;
    for f in files(&conformance()) {
        if f.components().any(|c| c.as_os_str() == "out") {
            continue;
        }
        let loaded = slo_gen::load(std::slice::from_ref(&f)).unwrap();
        if loaded.checked.has_errors() || loaded.checked.services.is_empty() {
            continue;
        }
        let services = loaded.checked.services;
        let converted = convert::to_v1(&services);
        let dir = tempfile::tempdir().unwrap();
        let back = load_ok(&write_all(dir.path(), &converted));
        let (before, after) = (rules_of(&services), rules_of(&back));
        assert_eq!(
            before.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>()
        );
        for (svc, want) in &before {
            let renamed = converted
                .notes
                .iter()
                .any(|n| n.contains(&format!("`{svc}/")) && n.contains("renamed"));
            if renamed {
                // Checked to load above; its alert name differs, as the note says.
                checked += 1;
                continue;
            }
            let owned = services.iter().any(|s| &s.name == svc && s.owner.is_some());
            let merged = services
                .iter()
                .any(|s| &s.name == svc && s.format.one_slo_per_document());
            let strip = |text: &str| -> String {
                text.lines()
                    .skip(usize::from(merged))
                    .filter(|l| owned || l.trim() != format!("owner: {}", convert::NO_OWNER))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            if owned && !merged {
                assert_eq!(&after[svc], want, "{}: {svc}", rel(&f));
            } else {
                assert_eq!(strip(&after[svc]), strip(want), "{}: {svc}", rel(&f));
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} services compared");
}

/// This repository's specs through OpenSLO and back: name, description, objective,
/// period, groups and SLI survive; everything else is named in a note.
#[test]
fn v1_through_openslo_and_back_keeps_what_openslo_can_say() {
    let root = crate::support::root();
    let services = load_ok(&[root.join("slos")]);
    let converted = convert::to_openslo(&services);
    let dir = tempfile::tempdir().unwrap();
    let back = load_ok(&write_all(dir.path(), &converted));
    let mut kept = 0;
    for svc in &services {
        for slo in &svc.slos {
            let id = format!("{}/{}", svc.name, slo.name);
            let again = back
                .iter()
                .find(|s| s.name == svc.name)
                .and_then(|s| s.slos.iter().find(|x| x.name == slo.name));
            let Some(again) = again else {
                assert!(
                    matches!(slo.sli, Sli::Freshness(_))
                        && converted
                            .notes
                            .iter()
                            .any(|n| n.starts_with(&id) && n.contains("freshness")),
                    "{id} lost without a note: {:#?}",
                    converted.notes
                );
                continue;
            };
            assert_eq!(again.description, slo.description, "{id}");
            assert_eq!(again.objective.percent, slo.objective.percent, "{id}");
            assert_eq!(again.period, slo.period, "{id}");
            assert_eq!(again.group_by, slo.group_by, "{id}");
            let latency_grouped = matches!(slo.sli, Sli::Latency(_)) && !slo.group_by.is_empty();
            if !latency_grouped {
                assert_eq!(again.sli, slo.sli, "{id}");
            }
            let back_svc = back.iter().find(|s| s.name == svc.name).unwrap();
            assert_eq!(back_svc.owner, svc.owner, "{id}");
            if again.alerting != slo.alerting || slo.sla.is_some() || latency_grouped {
                assert!(
                    converted.notes.iter().any(|n| n.starts_with(&id)),
                    "{id}: changed without a note"
                );
            }
            kept += 1;
        }
    }
    assert!(kept >= 10, "{kept}");
    // And the v1 text of the round trip loads again.
    let v1 = convert::to_v1(&back);
    let dir2 = tempfile::tempdir().unwrap();
    load_ok(&write_all(dir2.path(), &v1));
}

/// `--output` writes all or nothing and never over an existing file; without it the
/// documents go to stdout.
#[test]
fn convert_never_overwrites_and_prints_without_output() {
    let bin = env!("CARGO_BIN_EXE_slo-gen");
    let src = conformance().join("sloth/in/getting-started.yml");
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(bin)
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .output()
            .unwrap()
    };
    let s = src.to_str().unwrap();
    let out = run(&["convert", s, "--output", "v1"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let written = std::fs::read_to_string(dir.path().join("v1/getting-started.yml")).unwrap();
    let out = run(&["convert", s, "--output", "v1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("would overwrite"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("v1/getting-started.yml")).unwrap(),
        written
    );
    let out = run(&["convert", s, "--to", "openslo"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("apiVersion: openslo/v1"), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("dropped `alerting`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A spec with errors converts nothing.
    std::fs::write(dir.path().join("bad.yaml"), "version: v1\nservice: x\n").unwrap();
    let out = run(&["convert", "bad.yaml", "--output", "bad"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path().join("bad").exists());
}

/// The v1 writer holds everything v1 says: this repository's specs (every SLI kind,
/// groups, custom windows, `for`, `min_events`, missing-data settings, SLAs), written
/// back as v1, compile to byte-identical rules.
#[test]
fn v1_specs_written_back_as_v1_compile_to_the_same_rules() {
    let root = crate::support::root();
    let services = load_ok(&[root.join("slos")]);
    let converted = convert::to_v1(&services);
    assert!(converted.notes.is_empty(), "{:#?}", converted.notes);
    let dir = tempfile::tempdir().unwrap();
    let back = load_ok(&write_all(dir.path(), &converted));
    assert_eq!(rules_of(&back), rules_of(&services));
    for (a, b) in services.iter().zip(&back) {
        for (x, y) in a.slos.iter().zip(&b.slos) {
            assert_eq!(
                (&x.sli, &x.alerting, &x.sla),
                (&y.sli, &y.alerting, &y.sla),
                "{}",
                x.name
            );
        }
    }
}
