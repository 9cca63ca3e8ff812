//! The CI recipes a team copies, run for real: every hook of `.pre-commit-hooks.yaml` and
//! every step of `ci/github/slos.yml` (but the install step, whose work the test build
//! did) is executed as written, with this build's `slo-gen` on PATH, in a team's
//! repository: this repository's payments spec with its generated files. Clean specs pass;
//! a broken spec and a stale rule file fail the right step, with GitHub annotations.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::root;

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A team's repository: the payments spec of this one, and the files `generate` makes.
fn team_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("slos")).unwrap();
    std::fs::copy(
        root().join("slos/payments.yaml"),
        dir.path().join("slos/payments.yaml"),
    )
    .unwrap();
    let (code, out) = sh(dir.path(), "slo-gen generate", &[]);
    assert_eq!(code, 0, "{out}");
    dir
}

/// Runs a shell command as CI would, with `slo-gen` from this build first on PATH.
fn sh(dir: &Path, command: &str, env: &[(String, String)]) -> (i32, String) {
    let bin: PathBuf = Path::new(env!("CARGO_BIN_EXE_slo-gen"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
    let out = Command::new("bash")
        .args(["-eo", "pipefail", "-c", command])
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn break_a_spec(dir: &Path) {
    let path = dir.join("slos/payments.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("objective: 99.9", "objective: 100", 1)).unwrap();
}

#[test]
fn pre_commit_hooks_pass_on_clean_specs_and_catch_faults() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().unwrap();
    let command = |id: &str| -> String {
        let h = hooks.iter().find(|h| h["id"] == id).unwrap();
        assert_eq!(h["language"], "system", "{id}");
        assert_eq!(h["pass_filenames"], false, "{id}");
        let mut c = h["entry"].as_str().unwrap().to_string();
        for a in h["args"].as_array().into_iter().flatten() {
            c.push(' ');
            c.push_str(a.as_str().unwrap());
        }
        c
    };
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["slo-validate", "slo-generate-check"]);

    let repo = team_repo();
    for id in &ids {
        let (code, out) = sh(repo.path(), &command(id), &[]);
        assert_eq!(code, 0, "{id}: {out}");
    }
    let rules = repo.path().join("rules/payments.yaml");
    let text = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(&rules, format!("{text}# edited by hand\n")).unwrap();
    let (code, out) = sh(repo.path(), &command("slo-generate-check"), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("rules/payments.yaml: stale"), "{out}");

    break_a_spec(repo.path());
    let (code, out) = sh(repo.path(), &command("slo-validate"), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("slos/payments.yaml:") && out.contains("error[E007]"),
        "{out}"
    );
}

#[test]
#[ignore = "slow: the whole CI job, promtool suites included (scripts/test runs it)"]
fn the_github_actions_job_passes_on_clean_specs_and_annotates_faults() {
    let workflow = yaml("ci/github/slos.yml");
    let env: Vec<(String, String)> = workflow["env"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let steps = workflow["jobs"]["slos"]["steps"].as_array().unwrap();
    let runs: Vec<(&str, &str)> = steps
        .iter()
        .filter_map(|s| Some((s["id"].as_str()?, s["run"].as_str()?)))
        .collect();
    let ids: Vec<&str> = runs.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, ["install", "validate", "generated", "test"]);
    assert!(runs[0].1.contains("cargo install --locked --git"));

    let repo = team_repo();
    for (id, run) in &runs[1..] {
        let (code, out) = sh(repo.path(), run, &env);
        assert_eq!(code, 0, "step {id}: {out}");
        println!("step {id}: {run}\n{out}");
    }
    break_a_spec(repo.path());
    let (id, run) = runs[1];
    let (code, out) = sh(repo.path(), run, &env);
    assert_eq!(code, 1, "step {id}: {out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("::error file=slos/payments.yaml,line=")),
        "{out}"
    );
}

#[test]
fn the_backtest_job_comments_and_fails_when_a_change_adds_pages() {
    let job = yaml("ci/github/slo-backtest.yml");
    let step = job["jobs"]["backtest"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "backtest")
        .unwrap()["run"]
        .as_str()
        .unwrap()
        .to_string();
    // A team repository with a base branch, and a week of history saved earlier.
    let repo = team_repo();
    let d = repo.path();
    let git = |args: &str| {
        let (code, out) = sh(
            d,
            &format!("git -c user.name=t -c user.email=t@example.com {args}"),
            &[],
        );
        assert_eq!(code, 0, "git {args}: {out}");
    };
    git("init -q -b main");
    git("add slos");
    git("commit -qm specs");
    git("update-ref refs/remotes/origin/main HEAD");
    let loaded = slo_gen::load(&[d.join("slos")]).unwrap();
    let history = slo_gen::backtest::synthetic::history(
        &loaded.checked.services,
        slo_eval::Timestamp(1_793_491_200_000),
        7,
    );
    std::fs::write(d.join("history.json"), history.to_json()).unwrap();
    let env = [
        (
            "BACKTEST_SOURCE".to_string(),
            "--history history.json".to_string(),
        ),
        ("GITHUB_BASE_REF".to_string(), "main".to_string()),
    ];
    // No change: the comment says so and the job passes.
    let (code, out) = sh(d, &step, &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No alert changes."), "{out}");
    // A stricter objective adds pages: the comment has the table and the job fails.
    let path = d.join("slos/payments.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("objective: 99.95", "objective: 99.99", 1),
    )
    .unwrap();
    let (code, out) = sh(d, &step, &env);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("| payments/webhook-availability | page |"),
        "{out}"
    );
    assert!(std::fs::read_to_string(d.join("backtest.md"))
        .unwrap()
        .contains("Against `git:origin/main`"));
}

/// A real Prometheus on a free loopback port loading `rules/*.yaml` of `repo`; killed on
/// drop. Evaluates every second, scrapes nothing.
struct Prometheus {
    child: std::process::Child,
    url: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start(repo: &Path) -> Prometheus {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = repo.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global: {{evaluation_interval: 1s}}\nrule_files: ['{}/rules/*.yaml']\n",
                repo.display()
            ),
        )
        .unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                repo.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("prometheus must be installed (scripts/test installs Debian's prometheus)");
        let url = format!("http://127.0.0.1:{port}");
        let client = slo_gen::promapi::Client::new(&url).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while client.rules().is_err() {
            assert!(std::time::Instant::now() < deadline, "prometheus not ready");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Prometheus { child, url }
    }
}

#[test]
fn the_deploy_job_checks_drift_and_stops_on_an_slo_without_data() {
    let workflow = yaml("ci/github/slo-deploy.yml");
    let steps = workflow["jobs"]["deploy"]["steps"].as_array().unwrap();
    let runs: Vec<(&str, &str)> = steps
        .iter()
        .filter_map(|s| Some((s["id"].as_str()?, s["run"].as_str()?)))
        .collect();
    let ids: Vec<&str> = runs.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        ids,
        [
            "install",
            "validate",
            "generated",
            "drift",
            "gate",
            "deploy"
        ]
    );
    let repo = team_repo();
    let prometheus = Prometheus::start(repo.path());
    let env = [("PROMETHEUS_URL".to_string(), prometheus.url.clone())];
    let step = |id: &str| runs.iter().find(|(i, _)| *i == id).unwrap().1;
    for id in ["validate", "generated"] {
        let (code, out) = sh(repo.path(), step(id), &env);
        assert_eq!(code, 0, "step {id}: {out}");
    }
    // The rules run as generated once every group has been evaluated.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (code, out) = sh(repo.path(), step("drift"), &env);
        if code == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "drift: {out}");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    // Nothing is scraped: no SLO has a budget, and the deploy stops, annotated.
    let (code, out) = sh(repo.path(), step("gate"), &env);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("::error file=slos/payments.yaml,line=")
            && out.contains("title=deploy gate%3A no data::payments/webhook-availability"),
        "{out}"
    );
    // A hand edit of the rule file the server reads is drift, annotated at the file.
    let rules = repo.path().join("rules/payments.yaml");
    let text = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(&rules, text.replacen("> 14.4", "> 15", 1)).unwrap();
    let reloaded = Command::new("kill")
        .args(["-HUP", &prometheus.child.id().to_string()])
        .status()
        .unwrap();
    assert!(reloaded.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (code, out) = sh(repo.path(), step("drift"), &env);
        if code == 1 {
            assert!(
                out.contains("::error file=rules/payments.yaml,title=rule drift%3A slo-payments-webhook-availability-alerts::"),
                "{out}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "drift not found: {out}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}
