//! The real `slo-gen` binary, run in a temp dir with a scrubbed environment.

use std::path::Path;

const VALID: &str = include_str!("fixtures/checkout-valid.yaml");

use crate::support::slo_gen;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = slo_gen(dir).args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "slos/checkout.yaml", VALID);
    write(d, "bad/checkout.yaml", &VALID.replace("99.9", "100"));
    write(d, "warn/checkout.yaml", &VALID.replace("99.9", "99.99999"));
    write(d, "slos/notes.txt", "not a spec, not walked");
    let cases: &[(&[&str], i32)] = &[
        (&["validate"], 0),
        (&["validate", "slos"], 0),
        (&["validate", "bad"], 1),
        (&["validate", "slos", "bad"], 1),
        (&["validate", "warn"], 0),
        (&["validate", "--deny-warnings", "warn"], 1),
        (&["validate", "missing-dir"], 2),
        (&["validate", "--format", "xml"], 2),
        (&["frobnicate"], 2),
        (&["--help"], 0),
    ];
    for (args, want) in cases {
        let r = run(d, args);
        assert_eq!(
            r.code, *want,
            "{args:?}\nstdout: {}\nstderr: {}",
            r.stdout, r.stderr
        );
    }
    assert!(run(d, &["validate", "missing-dir"])
        .stderr
        .contains("missing-dir: no such file or directory"));
}

#[test]
fn human_format() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "slos/a.yaml", &VALID.replace("99.9", "100"));
    let r = run(dir.path(), &["validate"]);
    assert_eq!(
        r.stdout,
        "slos/a.yaml:7:16: error[E007]: objective must be between 0 and 100 (exclusive), got 100\n  |\n7 |     objective: 100\n  |                ^^^\n  = help: the objective is a percentage of good events: write 99.9 for 99.9%\n\n"
    );
    // The service was checked, though it has an error.
    assert_eq!(
        r.stderr,
        "1 error, 0 warnings in 1 file (1 service checked)\n"
    );
}

#[test]
fn every_error_of_every_file_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "slos/a.yaml",
        &VALID
            .replace("99.9", "100")
            .replace("description", "descripton"),
    );
    write(
        dir.path(),
        "slos/b.yaml",
        &VALID
            .replace("checkout", "cart")
            .replace("[{{window}}]))\n        total", "[5m]))\n        total"),
    );
    let r = run(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(r.code, 1);
    let items: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let got: Vec<String> = items
        .iter()
        .map(|i| {
            format!(
                "{}:{}:{} {}",
                i["file"].as_str().unwrap(),
                i["line"],
                i["column"],
                i["code"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "slos/a.yaml:5:5 E004",
            "slos/a.yaml:6:5 E002",
            "slos/a.yaml:7:16 E007",
            "slos/b.yaml:10:17 E013"
        ]
    );
    let first = &items[0];
    for key in [
        "file", "line", "column", "code", "severity", "message", "help",
    ] {
        assert!(first.get(key).is_some(), "json lacks {key}");
    }
    assert_eq!(first["severity"], "error");
}

#[test]
fn github_format() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "slos/a.yaml", &VALID.replace("99.9", "100"));
    let r = run(dir.path(), &["validate", "--format", "github"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "::error file=slos/a.yaml,line=7,col=16,title=E007 objective-out-of-range::objective must be between 0 and 100 (exclusive), got 100%0Ahelp: the objective is a percentage of good events: write 99.9 for 99.9%25\n"
    );
}

#[test]
fn oversized_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = format!("{VALID}# {}\n", "x".repeat(slo_spec::MAX_FILE_BYTES));
    write(dir.path(), "slos/big.yaml", &big);
    write(
        dir.path(),
        "slos/ok.yaml",
        &VALID.replace("checkout", "cart"),
    );
    let r = run(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(r.code, 1);
    let items: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(items.len(), 1, "{}", r.stdout);
    assert_eq!(items[0]["code"], "E018");
    assert_eq!(
        items[0]["message"],
        format!(
            "spec file is {} bytes; the limit is {} bytes",
            big.len(),
            slo_spec::MAX_FILE_BYTES
        )
    );
}

#[test]
fn binary_and_non_utf8_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("slos")).unwrap();
    std::fs::write(
        dir.path().join("slos/junk.yaml"),
        b"version: v1\n\xff\xfe\x00garbage",
    )
    .unwrap();
    let r = run(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("\"line\": 2"), "{}", r.stdout);
    assert!(r.stdout.contains("not valid UTF-8"), "{}", r.stdout);
}

#[test]
fn closed_stdout_is_a_normal_exit() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..200 {
        write(
            dir.path(),
            &format!("slos/s{i}.yaml"),
            &VALID
                .replace("checkout", &format!("svc{i}"))
                .replace("99.9", "100"),
        );
    }
    let bin = assert_cmd::cargo::cargo_bin("slo-gen");
    let mut child = std::process::Command::new(bin)
        .args(["validate"])
        .current_dir(dir.path())
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    // Findings exist, but the reader went away: exit quietly with 0, no panic (101).
    assert_eq!(status.code(), Some(0));
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &["schema"]);
    assert_eq!(r.code, 0);
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../slo-spec/schema/v1.json"
    ))
    .unwrap();
    assert_eq!(r.stdout, committed);
}

#[test]
fn the_repository_specs_validate() {
    let root = crate::support::root();
    let r = run(root, &["validate", "--deny-warnings", "slos"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let services: usize = r
        .stderr
        .split(" (")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(services >= 6, "{}", r.stderr);
}

#[test]
fn statements_refuse_bad_charges_and_specs_without_customers_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "slos/checkout.yaml", VALID);
    write(d, "charges.json", r#"{"acme": 12.5}"#);
    let statements = |charges: &str| {
        run(
            d,
            &[
                "report",
                "slos",
                "--prometheus",
                "http://127.0.0.1:1",
                "--month",
                "2026-10",
                "--statements",
                "out",
                "--charges",
                charges,
            ],
        )
    };
    let r = statements("charges.json");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--charges charges.json:") && r.stderr.contains("whole cents by account"),
        "{}",
        r.stderr
    );
    let r = statements("missing.json");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--charges missing.json:"), "{}", r.stderr);
    assert!(!d.join("out").exists(), "nothing written");
    // --charges needs --statements.
    let r = run(
        d,
        &[
            "report",
            "slos",
            "--prometheus",
            "http://p",
            "--month",
            "2026-10",
            "--charges",
            "charges.json",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--statements"), "{}", r.stderr);
}

#[test]
fn drift_and_gate_say_why_they_cannot_answer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "slos/checkout.yaml", VALID);
    let down = "http://127.0.0.1:1";
    for args in [
        &["drift", "slos", "--prometheus", down][..],
        &["drift", "slos", "--vmalert", down],
        &["gate", "slos", "--prometheus", down],
    ] {
        let r = run(d, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("cannot reach"), "{args:?}: {}", r.stderr);
    }
    // Usage: one server, a budget share under 100, an SLO that exists.
    let r = run(d, &["drift", "slos"]);
    assert_eq!(r.code, 2);
    let r = run(
        d,
        &["drift", "slos", "--prometheus", down, "--vmalert", down],
    );
    assert_eq!(r.code, 2);
    let r = run(
        d,
        &["gate", "slos", "--prometheus", down, "--min-budget", "100"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--min-budget 100"), "{}", r.stderr);
    let r = run(d, &["gate", "slos", "--prometheus", down, "--slo", "nope"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no SLO matches"), "{}", r.stderr);
}
