//! Proving the alerts with the real `promtool`: [`suite`] writes each SLO's unit tests;
//! [`run`] runs `promtool test rules` on them, one SLO per invocation so the report says
//! which SLO failed, SLOs in parallel.

pub mod suite;

use crate::rules::Options;
use slo_spec::Service;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use suite::Summary;

#[derive(Debug, thiserror::Error)]
pub enum PromtoolError {
    #[error("promtool not found (looked for `{0}`); install Debian's `prometheus` package (`apt-get install -y prometheus`) or pass --promtool PATH")]
    Missing(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The outcome of one SLO's tests.
pub struct Outcome {
    pub service: String,
    pub slo: String,
    pub passed: bool,
    pub output: String,
    pub summary: Summary,
    pub dir: PathBuf,
}

/// Checks that `promtool` runs, returning its version line.
pub fn version(promtool: &str) -> Result<String, PromtoolError> {
    let out = Command::new(promtool)
        .arg("--version")
        .output()
        .map_err(|_| PromtoolError::Missing(promtool.to_string()))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Ok(text.lines().next().unwrap_or("promtool").to_string())
}

/// Writes every SLO's suite under `dir` and runs promtool on each.
pub fn run(
    services: &[Service],
    dir: &Path,
    promtool: &str,
    opts: &Options,
) -> Result<Vec<Outcome>, PromtoolError> {
    version(promtool)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PromtoolError::Io { path, source }
    };
    let mut jobs = Vec::new();
    for svc in services {
        for slo in &svc.slos {
            let suite = suite::suite(svc, slo, opts);
            let d = dir.join(&svc.name).join(&slo.name);
            std::fs::create_dir_all(&d).map_err(io(&d))?;
            std::fs::write(d.join("rules.yaml"), &suite.rules).map_err(io(&d))?;
            let mut files = Vec::new();
            for (name, text) in &suite.tests {
                std::fs::write(d.join(name), text).map_err(io(&d))?;
                files.push(name.clone());
            }
            jobs.push((svc.name.clone(), slo.name.clone(), d, files, suite.summary));
        }
    }
    let queue = Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>());
    let results = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let Some((i, (service, slo, d, files, summary))) =
                    queue.lock().expect("queue").pop()
                else {
                    break;
                };
                let out = Command::new(promtool)
                    .args(["test", "rules"])
                    .args(&files)
                    .current_dir(&d)
                    .output();
                let (passed, output) = match out {
                    Ok(o) => (
                        o.status.success(),
                        String::from_utf8_lossy(&o.stdout).into_owned()
                            + &String::from_utf8_lossy(&o.stderr),
                    ),
                    Err(e) => (false, format!("could not run promtool: {e}")),
                };
                results.lock().expect("results").push((
                    i,
                    Outcome {
                        service,
                        slo,
                        passed,
                        output,
                        summary,
                        dir: d,
                    },
                ));
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, o)| o).collect())
}
