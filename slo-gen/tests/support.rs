//! What the test modules share: where the repository is, the real slo-gen binary in a
//! scrubbed environment, and the real promtool.

use std::path::Path;
use std::process::Command;

/// The repository's root (the workspace).
pub fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The real `slo-gen` binary, run in `dir` with an empty environment.
pub fn slo_gen(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("slo-gen").unwrap();
    cmd.current_dir(dir).env_clear();
    cmd
}

/// Runs the real promtool in `dir`: whether it passed, and what it printed (stdout, then
/// stderr). scripts/test installs it; a missing promtool fails the test.
pub fn promtool(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool must be installed (scripts/test installs Debian's prometheus)");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Runs the real `slo-gen` in `dir` with `args`: its exit code, stdout and stderr.
pub fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = slo_gen(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The rule groups the one service of `spec` (which must load without errors) compiles
/// to, and their rule file.
pub fn compiled(path: &str, spec: &str) -> (Vec<slo_gen::rules::Group>, String) {
    let checked = slo_spec::check(&[slo_spec::Source {
        path: path.into(),
        text: spec.into(),
    }]);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let groups = slo_gen::rules::service_groups(&checked.services[0], &Default::default());
    let mut rules = String::new();
    slo_gen::rules::emit::groups(&mut rules, 0, &groups);
    (groups, rules)
}
