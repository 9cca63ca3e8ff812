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
