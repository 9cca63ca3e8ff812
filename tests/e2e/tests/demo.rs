//! The demo a person runs: every URL it prints answers, and Ctrl-C stops the stack and
//! keeps the working directory with the logs, where it says.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn the_demo_prints_working_urls_and_keeps_its_logs() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_demo"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut urls = Vec::new();
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    for line in lines.by_ref() {
        let line = line.unwrap();
        assert!(Instant::now() < deadline, "the demo did not start in time");
        printed.push(line.clone());
        if line.starts_with("Ctrl-C") {
            break;
        }
        if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            if !line.contains("curl") {
                urls.push(url.to_string());
            }
        }
    }
    assert!(urls.len() >= 5, "{urls:?}");
    assert!(
        printed.iter().any(|l| l.starts_with("slo-gen serve")),
        "the demo serves the SLO page: {printed:?}"
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for url in &urls {
        let status = agent
            .get(url.split('#').next().unwrap())
            .call()
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        assert_eq!(status, 200, "{url}");
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(child.wait().unwrap().success());
    let kept = rest
        .iter()
        .find_map(|l| l.strip_prefix("stopped; logs kept in "))
        .unwrap_or_else(|| panic!("{rest:?}"));
    for log in ["exporter.log", "prometheus.log", "alertmanager.log"] {
        let path = std::path::Path::new(kept).join(log);
        assert!(path.is_file(), "{}", path.display());
    }
    std::fs::remove_dir_all(kept).unwrap();
}
