//! Proving the alerts with the real `promtool`: [`suite`] writes each SLO's unit tests;
//! [`run`] runs `promtool test rules` on them, one test file per invocation, in parallel,
//! and reports per SLO.

mod absent;
mod behaviour;
mod calendar;
mod exclusions;
mod file;
mod low_traffic;
mod reads;
pub mod suite;

pub use file::round_secs;

use crate::rules::Options;
use file::Summary;
use slo_spec::Service;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

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
// Long: write, run in parallel and report, in order, sharing the per-SLO summary.
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
    let mut slos = Vec::new();
    let mut jobs = Vec::new();
    for svc in services {
        for slo in &svc.slos {
            let suite = suite::suite(svc, slo, opts);
            let d = dir.join(&svc.name).join(&slo.name);
            std::fs::create_dir_all(&d).map_err(io(&d))?;
            for (name, text) in &suite.rules {
                std::fs::write(d.join(name), text).map_err(io(&d))?;
            }
            for ((name, text), work) in suite.tests.iter().zip(&suite.work) {
                std::fs::write(d.join(name), text).map_err(io(&d))?;
                jobs.push((*work, slos.len(), d.clone(), name.clone()));
            }
            slos.push((svc.name.clone(), slo.name.clone(), d, suite.summary));
        }
    }
    // The costliest files first (popped from the end) keep every core busy to the end.
    jobs.sort_by_key(|(work, ..)| *work);
    let queue = Mutex::new(jobs);
    let results: Mutex<Vec<(usize, String, bool, String)>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let Some((_, i, d, file)) = queue.lock().expect("queue").pop() else {
                    break;
                };
                let out = Command::new(promtool)
                    .args(["test", "rules", &file])
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
                results
                    .lock()
                    .expect("results")
                    .push((i, file, passed, output));
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(slos
        .into_iter()
        .enumerate()
        .map(|(i, (service, slo, dir, summary))| {
            let mine: Vec<_> = results.iter().filter(|r| r.0 == i).collect();
            Outcome {
                service,
                slo,
                passed: mine.iter().all(|r| r.2),
                output: mine
                    .iter()
                    .filter(|r| !r.2)
                    .map(|r| format!("{}:\n{}", r.1, r.3))
                    .collect(),
                summary,
                dir,
            }
        })
        .collect())
}
