//! Starts the real `billing-exporter` on loopback port 0 (it reports the ports it got)
//! and talks HTTP to it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Exporter {
    pub child: Child,
    pub base: String,
    pub admin: String,
}

impl Exporter {
    pub fn start(data_dir: &Path, extra: &[&str]) -> Exporter {
        Self::start_with_env(data_dir, extra, &[])
    }

    pub fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Exporter {
        Self::start_full(data_dir, extra, env, None)
    }

    /// Like `start`, with the process's stdout (its logs) written to `log`.
    pub fn start_logged(data_dir: &Path, extra: &[&str], log: &Path) -> Exporter {
        Self::start_full(data_dir, extra, &[], Some(log))
    }

    fn start_full(
        data_dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
        log: Option<&Path>,
    ) -> Exporter {
        // Port 0 for both listeners; the exporter writes the ports it got.
        static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let addresses = std::env::temp_dir().join(format!(
            "billing-exporter-test-{}-{n}.json",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&addresses);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_billing-exporter"));
        cmd.args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .arg("--addresses-file")
            .arg(&addresses)
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env_clear()
            .env("RUST_LOG", "warn")
            .stdout(match log {
                Some(p) => Stdio::from(std::fs::File::create(p).unwrap()),
                None => Stdio::null(),
            })
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Fast jobs unless the test sets its own intervals.
        for (flag, value) in [
            ("--aggregation-interval", "0.2"),
            ("--invoice-interval", "1"),
        ] {
            if !extra.contains(&flag) {
                cmd.args([flag, value]);
            }
        }
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        let bound: serde_json::Value = loop {
            if let Ok(text) = std::fs::read_to_string(&addresses) {
                let _ = std::fs::remove_file(&addresses);
                break serde_json::from_str(&text).unwrap();
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("billing-exporter exited before listening: {status}");
            }
            assert!(Instant::now() < deadline, "billing-exporter did not listen");
            std::thread::sleep(Duration::from_millis(20));
        };
        let e = Exporter {
            child,
            base: format!("http://{}", bound["listen"].as_str().unwrap()),
            admin: format!("http://{}", bound["admin"].as_str().unwrap()),
        };
        while Instant::now() < deadline {
            if get(&format!("{}/readyz", e.base), None).0 == 200 {
                return e;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("billing-exporter did not become ready");
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, and the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit within 10s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn metrics(&self) -> String {
        get(&format!("{}/metrics", self.base), None).1
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn finish(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, String) {
    match r {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(_) => (0, String::new()),
    }
}

pub fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = agent().get(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    finish(req.call())
}

pub fn post(url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut req = agent().post(url).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    finish(req.send(body))
}

pub fn put(url: &str, body: &str) -> (u16, String) {
    finish(agent().put(url).send(body))
}

pub fn delete(url: &str) -> (u16, String) {
    finish(agent().delete(url).call())
}

pub fn ingest(e: &Exporter, token: &str, body: &str) -> (u16, String) {
    post(
        &format!("{}/v1/usage", e.base),
        &[("Authorization", &format!("Bearer {token}"))],
        body,
    )
}

/// The value of one exposed sample, by its exact name and label text.
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l[series.len()..].split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

pub fn wait_until(what: &str, f: impl FnMut() -> bool) {
    wait_until_within(what, Duration::from_secs(15), f)
}

/// [`wait_until`] with its own deadline, for conditions that wait on the disk.
pub fn wait_until_within(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}
