//! The whole chain on real parts, on 127.0.0.1 only: `billing-exporter --traffic`, a real
//! Prometheus (1s scrape and evaluation) loading rules generated from a spec set, a real
//! Alertmanager, and an Alertmanager webhook receiver of our own. Used by the e2e test and
//! by the `demo` binary. Every process started is stopped on drop, also on failure.
//! Long: the stack's processes, their configs and waits share the lifecycle types kept here.

pub mod clusters;
pub mod specs;

use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The stack's Prometheus scrape and rule evaluation interval, and Alertmanager's group
/// wait, in seconds: the parts of an alert's delivery deadline the stack sets.
pub const SCRAPE: f64 = 1.0;
pub const EVALUATION: f64 = 1.0;
pub const GROUP_WAIT: f64 = 1.0;
/// VictoriaMetrics's default `-search.latencyOffset`: queries (vmalert's among them) see
/// samples only once they are this old. The stack keeps the default, as users do.
pub const VM_LATENCY_OFFSET: f64 = 30.0;

/// Who may run at once on the two cores: any number of single stacks (read), or the
/// clusters stack or a timed test alone (write; those are in `tests/alone/`, named to
/// start first): its seven servers beside another stack's slowed both
/// past their deadlines (webhook latency over 500 ms, vmalert missing evaluations).
pub static CORES: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// A share of the cores for one stack; a panicking holder does not lock out the rest.
pub fn shared_cores() -> std::sync::RwLockReadGuard<'static, ()> {
    CORES.read().unwrap_or_else(|e| e.into_inner())
}

/// The cores to one stack alone.
pub fn all_cores() -> std::sync::RwLockWriteGuard<'static, ()> {
    CORES.write().unwrap_or_else(|e| e.into_inner())
}

/// A child process killed (and reaped) on drop.
pub struct Proc {
    name: &'static str,
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("e2e: {} did not stop on SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port for a server that cannot bind port 0 and say which it got (Prometheus,
/// Alertmanager, VictoriaMetrics): free now, and below the kernel's ephemeral range, so no
/// outgoing connection takes it before the server binds it. One from `bind(0)` is in that
/// range, and with a dozen stacks scraping and querying one was taken in a CI run
/// (Alertmanager never became ready).
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    let (low, high) = (10_000, ephemeral_low.min(65_536));
    if high > low + 1_000 {
        let span = high - low;
        // Each test process starts elsewhere in the range: several run at once.
        let start = std::process::id().wrapping_mul(7_919) % span;
        for _ in 0..span {
            let port = low + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
            if TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
                return port as u16;
            }
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("local addr")
        .port()
}

/// Finds a tool; under `CI=true` (and everywhere else) a missing one is an error that
/// says how to install it.
pub fn tool(names: &[&str], package: &str) -> Result<PathBuf, String> {
    for name in names {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(format!(
        "{} not found on PATH: install Debian's `{package}` (scripts/test does: apt-get install -y {package})",
        names.join(" or ")
    ))
}

/// `billing-exporter` built in this target directory (`cargo build`/`cargo test --workspace`
/// builds it; scripts/test does both).
pub fn exporter_binary() -> Result<PathBuf, String> {
    workspace_binary("billing-exporter", "exporter")
}

/// A binary of the workspace beside the test's own (`target/debug/<name>`), built by
/// `cargo test --workspace` (scripts/test).
pub fn workspace_binary(name: &str, package: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join(name);
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{} is missing: run `cargo build -p {package} --bin {name}` (scripts/test does)",
            bin.display()
        ))
    }
}

/// An HTTP client for loopback servers: every status is an answer (the caller reads it),
/// and no request takes longer than `timeout`.
pub fn http(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// Notifications the Alertmanager webhook receiver got, in arrival order, with the time
/// each arrived.
pub type Notifications = Arc<Mutex<Vec<(Instant, Value)>>>;

fn receiver(echo: bool) -> (Notifications, u16) {
    let got: Notifications = Arc::default();
    let g = got.clone();
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("receiver port");
    let port = listener.local_addr().expect("receiver address").port();
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let handler = move |body: axum::body::Bytes| {
                let g = g.clone();
                async move {
                    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                        if echo {
                            for a in v["alerts"].as_array().into_iter().flatten() {
                                println!(
                                    "alertmanager -> {} {} severity={} {}",
                                    a["status"].as_str().unwrap_or(""),
                                    a["labels"]["alertname"].as_str().unwrap_or(""),
                                    a["labels"]["severity"].as_str().unwrap_or(""),
                                    a["annotations"]["summary"].as_str().unwrap_or("")
                                );
                            }
                        }
                        g.lock().expect("notifications").push((Instant::now(), v));
                    }
                    ""
                }
            };
            let app = axum::Router::new().route("/alerts", axum::routing::post(handler));
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            let _ = axum::serve(listener, app).await;
        });
    });
    (got, port)
}

pub struct Stack {
    pub dir: tempfile::TempDir,
    pub exporter_url: String,
    pub admin_url: String,
    pub prometheus_url: String,
    /// The server evaluating the rules: Prometheus itself, or vmalert.
    pub rules_url: String,
    pub alertmanager_url: String,
    pub notifications: Notifications,
    pub services: Vec<slo_spec::Service>,
    // Dropped in reverse order of start: Prometheus, Alertmanager; the exporter last.
    procs: Vec<Proc>,
    exporter: Option<Proc>,
    exporter_cmd: (PathBuf, Vec<String>),
    /// Stacks share the two cores; the clusters stack runs alone ([`CORES`]).
    _cores: std::sync::RwLockReadGuard<'static, ()>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        while let Some(p) = self.procs.pop() {
            drop(p);
        }
        self.exporter.take();
    }
}

fn http_ok(url: &str) -> bool {
    let agent = http(Duration::from_secs(2));
    agent.get(url).call().is_ok_and(|r| r.status().is_success())
}

fn wait_ready(what: &str, url: &str, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if http_ok(url) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!("{what} not ready at {url} within {timeout:?}"))
}

fn spawn(name: &'static str, cmd: &mut Command, log: &Path) -> Result<Proc, String> {
    let out = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    Ok(Proc { name, child })
}

/// The exporter's arguments: listeners on `ex_port` and `admin_port`, data under `d`,
/// `traffic` requests a second, aggregation and invoicing fast, `faults` set from the start.
fn exporter_args(
    d: &Path,
    ex_port: u16,
    admin_port: u16,
    traffic: f64,
    faults: &[&str],
) -> Vec<String> {
    let mut args: Vec<String> = [
        "--listen".to_string(),
        format!("127.0.0.1:{ex_port}"),
        "--admin-listen".into(),
        format!("127.0.0.1:{admin_port}"),
        "--data-dir".into(),
        d.join("billing-data").display().to_string(),
        "--traffic".into(),
        traffic.to_string(),
        "--aggregation-interval".into(),
        "1".into(),
        "--invoice-interval".into(),
        "2".into(),
    ]
    .into();
    for fault in faults {
        args.extend(["--fault".to_string(), fault.to_string()]);
    }
    args
}

/// Starts `billing-exporter` with `cmd` (binary, arguments) and waits until it is ready;
/// its log is appended to `exporter.log` in `dir`.
fn start_exporter(cmd: &(PathBuf, Vec<String>), dir: &Path, url: &str) -> Result<Proc, String> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("exporter.log"))
        .map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let child = Command::new(&cmd.0)
        .args(&cmd.1)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start billing-exporter: {e}"))?;
    let proc = Proc {
        name: "billing-exporter",
        child,
    };
    wait_ready(
        "billing-exporter",
        &format!("{url}/readyz"),
        Duration::from_secs(60),
    )?;
    Ok(proc)
}

/// The rule engine of a stack: Prometheus itself, or VictoriaMetrics scraping the exporter
/// with `vmalert` evaluating the same generated rules (recorded series written back to
/// VictoriaMetrics, alert state restored from it, notifications to the same Alertmanager).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Prometheus,
    VictoriaMetrics,
    /// Prometheus in agent mode scraping the exporter and remote-writing to
    /// VictoriaMetrics, vmalert evaluating there.
    AgentToVictoriaMetrics,
}

impl Engine {
    /// The prefix of the `e2e...:` lines a test prints.
    pub fn tag(self) -> &'static str {
        match self {
            Engine::Prometheus => "e2e",
            Engine::VictoriaMetrics => "e2e[victoriametrics]",
            Engine::AgentToVictoriaMetrics => "e2e[agent->victoriametrics]",
        }
    }
}

impl Stack {
    /// Starts everything for the specs in `slos`, with the generator at `traffic` req/s.
    pub fn start(slos: &Path, traffic: f64, echo_notifications: bool) -> Result<Stack, String> {
        Stack::start_on(Engine::Prometheus, slos, traffic, echo_notifications)
    }

    /// As [`Stack::start`], on the given engine; `prometheus_url` is then the engine's
    /// Prometheus-compatible query API.
    pub fn start_on(
        engine: Engine,
        slos: &Path,
        traffic: f64,
        echo_notifications: bool,
    ) -> Result<Stack, String> {
        Stack::start_faulted(engine, slos, traffic, echo_notifications, &[])
    }

    /// As [`Stack::start_on`], the exporter started with `faults` (`NAME=VALUE`) set, so
    /// its traffic is the same from the first request on.
    // Long: the processes of a stack in start order; each engine's wiring is a few lines of the same sequence.
    pub fn start_faulted(
        engine: Engine,
        slos: &Path,
        traffic: f64,
        echo_notifications: bool,
        faults: &[&str],
    ) -> Result<Stack, String> {
        let cores = shared_cores();
        let exporter = exporter_binary()?;
        let dir = tempfile::Builder::new()
            .prefix("slo-e2e-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let d = dir.path().to_path_buf();

        // Rules from the specs, as `slo-gen generate` writes them.
        let files = slo_spec::discover(&[slos.to_path_buf()]).map_err(|e| e.to_string())?;
        let (sources, _) = slo_spec::read_sources(&files).map_err(|e| e.to_string())?;
        let checked = slo_spec::check(&sources);
        if checked.has_errors() {
            return Err(format!(
                "the e2e specs have errors: {:?}",
                checked.diagnostics
            ));
        }
        write_outputs(&checked.services, &d, &Default::default())?;
        let am_dir = d.join("alertmanager");

        // Our receiver binds port 0; the exporter keeps one port across its restarts and
        // the third-party servers take theirs on the command line.
        let (notifications, recv_port) = receiver(echo_notifications);
        let (ex_port, admin_port, prom_port, am_port) =
            (free_port(), free_port(), free_port(), free_port());
        let mut procs = Vec::new();

        let exporter_args = exporter_args(&d, ex_port, admin_port, traffic, faults);
        let exporter_url = format!("http://127.0.0.1:{ex_port}");
        let exporter_cmd = (exporter, exporter_args);
        let exporter = Some(start_exporter(&exporter_cmd, &d, &exporter_url)?);

        let alertmanager_url = start_alertmanager(&d, &am_dir, recv_port, am_port, &mut procs)?;

        let (prometheus_url, rules_url) = if engine == Engine::Prometheus {
            let url = start_prometheus(&d, ex_port, am_port, prom_port, &mut procs)?;
            (url.clone(), url)
        } else {
            let scrape = (engine == Engine::VictoriaMetrics).then_some(ex_port);
            let rules = format!("{}/rules/*.yaml", d.display());
            let vm = Vm {
                scrape,
                rules: &rules,
                latency_offset: None,
            };
            let (url, vmalert) = start_victoriametrics(&d, vm, am_port, prom_port, &mut procs)?;
            if engine == Engine::AgentToVictoriaMetrics {
                start_agent(&d, ex_port, &url, &mut procs)?;
            }
            (url, vmalert)
        };
        Ok(Stack {
            dir,
            exporter_url,
            admin_url: format!("http://127.0.0.1:{admin_port}"),
            prometheus_url,
            rules_url,
            alertmanager_url,
            notifications,
            services: checked.services,
            procs,
            exporter,
            exporter_cmd,
            _cores: cores,
        })
    }

    /// Starts VictoriaMetrics and vmalert beside this stack's Prometheus, scraping the same
    /// exporter, evaluating the same rules and notifying the same Alertmanager: one
    /// workload, two engines. Returns VictoriaMetrics' URL; both stop with the stack.
    pub fn add_victoriametrics(&mut self) -> Result<String, String> {
        let port = |url: &str| -> Result<u16, String> {
            url.rsplit(':')
                .next()
                .and_then(|p| p.trim_end_matches('/').parse().ok())
                .ok_or_else(|| format!("no port in {url}"))
        };
        let (ex_port, am_port) = (port(&self.exporter_url)?, port(&self.alertmanager_url)?);
        let d = self.dir.path().to_path_buf();
        let rules = format!("{}/rules/*.yaml", d.display());
        let vm = Vm {
            scrape: Some(ex_port),
            rules: &rules,
            latency_offset: None,
        };
        start_victoriametrics(&d, vm, am_port, free_port(), &mut self.procs).map(|(vm, _)| vm)
    }

    /// The directory the rule engine reads its rule files from.
    pub fn rules_dir(&self) -> PathBuf {
        self.dir.path().join("rules")
    }

    /// Makes the rule engine (Prometheus or vmalert) read its rule files again (SIGHUP).
    pub fn reload_rules(&self) -> Result<(), String> {
        let p = self
            .procs
            .iter()
            .find(|p| p.name == "prometheus" || p.name == "vmalert")
            .ok_or("no rule engine in this stack")?;
        let ok = Command::new("kill")
            .args(["-HUP", &p.child.id().to_string()])
            .status()
            .map_err(|e| e.to_string())?
            .success();
        ok.then_some(())
            .ok_or_else(|| format!("cannot signal {}", p.name))
    }

    /// Stops the exporter (SIGTERM, and waits): to Prometheus its target is down and every
    /// series it exposed goes stale at the next scrape.
    pub fn stop_exporter(&mut self) {
        self.exporter.take();
    }

    /// Starts the exporter again, as before, on the same ports and data.
    pub fn restart_exporter(&mut self) -> Result<(), String> {
        if self.exporter.is_none() {
            let p = start_exporter(&self.exporter_cmd, self.dir.path(), &self.exporter_url)?;
            self.exporter = Some(p);
        }
        Ok(())
    }

    /// Posts alerts straight to Alertmanager's API (`/api/v2/alerts`): each a label map.
    pub fn post_alerts(&self, alerts: &[&[(&str, &str)]]) -> Result<(), String> {
        let body: Vec<Value> = alerts
            .iter()
            .map(|labels| {
                let labels: serde_json::Map<String, Value> = labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), Value::from(*v)))
                    .collect();
                serde_json::json!({ "labels": labels, "annotations": {"summary": "posted by the e2e test"} })
            })
            .collect();
        let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
        agent
            .post(&format!("{}/api/v2/alerts", self.alertmanager_url))
            .header("content-type", "application/json")
            .send(Value::from(body).to_string())
            .map(|_| ())
            .map_err(|e| format!("posting alerts: {e}"))
    }

    /// An instant query; the result vector.
    pub fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        query_at(&self.prometheus_url, expr, None)
    }

    /// Sets (`Some`) or removes a fault through the exporter's admin listener.
    pub fn fault(&self, name: &str, value: Option<&str>) -> Result<(), String> {
        set_fault(&self.admin_url, name, value)
    }

    /// Where a person looks, each URL checked to answer 200 here: the first of a label's
    /// candidates that does (Prometheus 2.42 serves its alert list at `/classic/alerts`;
    /// `/alerts` is the new UI that Debian's build does not ship).
    pub fn links(&self) -> Vec<(&'static str, String)> {
        let candidates: [(&'static str, Vec<String>); 4] = [
            (
                "billing-exporter",
                vec![format!("{}/metrics", self.exporter_url)],
            ),
            (
                "prometheus alerts",
                vec![
                    format!("{}/classic/alerts", self.prometheus_url),
                    format!("{}/alerts", self.prometheus_url),
                ],
            ),
            (
                "prometheus rules",
                vec![
                    format!("{}/classic/rules", self.prometheus_url),
                    format!("{}/rules", self.prometheus_url),
                ],
            ),
            (
                "alertmanager",
                vec![format!("{}/#/alerts", self.alertmanager_url)],
            ),
        ];
        candidates
            .into_iter()
            .filter_map(|(label, urls)| {
                urls.into_iter()
                    .find(|u| http_ok(u.split('#').next().unwrap_or(u)))
                    .map(|u| (label, u))
            })
            .collect()
    }

    /// Keeps the working directory (rules, dashboards, every process's log) after the
    /// stack stops, and returns where it is.
    pub fn keep_dir(&mut self) -> PathBuf {
        let placeholder = tempfile::Builder::new()
            .prefix("slo-e2e-empty-")
            .tempdir()
            .expect("a temp dir");
        std::mem::replace(&mut self.dir, placeholder).keep()
    }

    /// The logs of the processes, for a failure message.
    pub fn logs(&self) -> String {
        logs_in(self.dir.path())
    }
}

/// Writes the specs' outputs under `d` as `slo-gen generate --output d` does: `rules/`,
/// `dashboards/`, `alertmanager/`, in the layout `opts` asks for.
pub fn write_outputs(
    services: &[slo_spec::Service],
    d: &Path,
    opts: &slo_gen::rules::Options,
) -> Result<(), String> {
    let (rules, dashboards, am) = (
        d.join("rules"),
        d.join("dashboards"),
        d.join("alertmanager"),
    );
    let dirs = slo_gen::outputs::Dirs {
        rules: &rules,
        dashboards: &dashboards,
        alertmanager: &am,
    };
    let outs = slo_gen::outputs::outputs(
        services,
        dirs,
        slo_gen::rules::emit::RulesFormat::Prometheus,
        opts,
    );
    slo_gen::outputs::write(&outs, &dirs.all()).map_err(|e| e.to_string())?;
    Ok(())
}

/// GETs `url` (with `params`) from a server answering JSON, within ten seconds.
pub fn get_json(url: &str, params: &[(&str, &str)]) -> Result<Value, String> {
    let agent = http(Duration::from_secs(10));
    let mut req = agent.get(url);
    for (k, v) in params {
        req = req.query(*k, *v);
    }
    let mut resp = req.call().map_err(|e| format!("{url}: {e}"))?;
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("{url}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{url}: {e}"))
}

/// Sets (`Some`) or removes a fault through an exporter's admin listener at `admin_url`.
pub fn set_fault(admin_url: &str, name: &str, value: Option<&str>) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let url = format!("{admin_url}/faults/{name}");
    let r = match value {
        Some(v) => agent.put(&url).send(v),
        None => agent.delete(&url).call(),
    };
    r.map(|_| ()).map_err(|e| format!("{url}: {e}"))
}

/// An instant query of the Prometheus-compatible API at `url`, at `time` (Unix seconds)
/// or now: the result vector.
pub fn query_at(url: &str, expr: &str, time: Option<f64>) -> Result<Vec<Value>, String> {
    let time = time.map(|t| format!("{t:.3}"));
    let mut params = vec![("query", expr)];
    if let Some(t) = &time {
        params.push(("time", t));
    }
    let v =
        get_json(&format!("{url}/api/v1/query"), &params).map_err(|e| format!("{expr}: {e}"))?;
    if v["status"] != "success" {
        return Err(format!("{expr}: {v}"));
    }
    Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
}

/// The samples a Prometheus at `url` reads to evaluate `expr` now (its query statistics'
/// `totalQueryableSamples`).
pub fn samples_read(url: &str, expr: &str) -> Result<u64, String> {
    let v = get_json(
        &format!("{url}/api/v1/query"),
        &[("query", expr), ("stats", "all")],
    )
    .map_err(|e| format!("{expr}: {e}"))?;
    v["data"]["stats"]["samples"]["totalQueryableSamples"]
        .as_u64()
        .ok_or_else(|| format!("{expr}: no query statistics in {v}"))
}

/// Every query of a service's dashboard as (panel title, query), group variables at
/// their default, All (`.*`), as Grafana sends them.
pub fn dashboard_queries(svc: &slo_spec::Service) -> Vec<(String, String)> {
    let dashboard = serde_json::to_value(slo_gen::dashboards::service(svc)).expect("JSON");
    let variables: Vec<String> = dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["type"] == "query")
        .filter_map(|v| v["name"].as_str().map(str::to_string))
        .collect();
    dashboard["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|panel| {
            panel["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| {
                    let mut expr = t["expr"].as_str()?.to_string();
                    for v in &variables {
                        expr = expr.replace(&format!("${v}"), ".*");
                    }
                    Some((panel["title"].to_string(), expr))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every alert of every notification, with the time its notification arrived.
pub fn alerts(n: &[(Instant, Value)]) -> Vec<(Instant, Value)> {
    n.iter()
        .flat_map(|(t, v)| {
            v["alerts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |a| (*t, a.clone()))
        })
        .collect()
}

/// The first alert the receiver got after `since` with `status` and every label of
/// `labels` (`("alertname", ..)`, `("severity", "page")`), with when it arrived.
pub fn notified(
    stack: &Stack,
    since: Instant,
    status: &str,
    labels: &[(&str, &str)],
) -> Option<(Instant, Value)> {
    notified_in(&stack.notifications, since, status, labels)
}

/// As [`notified`], among `notifications`.
pub fn notified_in(
    notifications: &Notifications,
    since: Instant,
    status: &str,
    labels: &[(&str, &str)],
) -> Option<(Instant, Value)> {
    alerts(&notifications.lock().expect("notifications"))
        .into_iter()
        .find(|(t, a)| {
            *t > since && a["status"] == status && labels.iter().all(|(k, v)| a["labels"][*k] == *v)
        })
}

/// What a failing wait shows: the tails of the processes' logs.
pub trait Logs {
    fn logs(&self) -> String;
}

impl Logs for Stack {
    fn logs(&self) -> String {
        logs_in(self.dir.path())
    }
}

/// The last lines of every process log in `dir` (and its subdirectories one level down).
fn logs_in(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .flat_map(|p| {
            if p.is_dir() {
                std::fs::read_dir(&p)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path())
                    .collect()
            } else {
                vec![p]
            }
        })
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            format!(
                "--- {} ---\n{}",
                f.strip_prefix(dir).unwrap_or(f).display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Polls `f` every 200 ms until it gives a value; past `timeout` the test fails with the
/// stack's logs.
pub fn wait<T>(
    what: &str,
    timeout: Duration,
    stack: &impl Logs,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            stack.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until the stack has recorded base events above zero for the SLO `sel` selects
/// (`{service=..,slo=..}`): the rules have seen traffic.
pub fn wait_recorded(
    stack: &Stack,
    what: &str,
    timeout: Duration,
    plan: &slo_eval::Plan,
    sel: &str,
) {
    let query = format!("{}{sel} > 0", slo_gen::names::series::events(plan.base));
    wait(what, timeout, stack, || {
        let r = stack.query(&query).ok()?;
        (!r.is_empty()).then_some(())
    });
}

/// Alertmanager on `am_port` with the generated inhibit rules in `am_dir` merged as the
/// README says (appended as a top-level key), notifying our receiver on `recv_port` one
/// second after an alert arrives. Returns its URL once ready.
fn start_alertmanager(
    d: &Path,
    am_dir: &Path,
    recv_port: u16,
    am_port: u16,
    procs: &mut Vec<Proc>,
) -> Result<String, String> {
    let alertmanager = tool(
        &["prometheus-alertmanager", "alertmanager"],
        "prometheus-alertmanager",
    )?;
    let inhibit = std::fs::read_to_string(am_dir.join(slo_gen::names::INHIBIT_FILE))
        .map_err(|e| e.to_string())?;
    std::fs::write(
        d.join("alertmanager.yml"),
        format!(
            "route:\n  receiver: test\n  group_by: [alertname, service, slo, severity]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: test\n    webhook_configs:\n      - url: http://127.0.0.1:{recv_port}/alerts\n        send_resolved: true\n{inhibit}"
        ),
    )
    .map_err(|e| e.to_string())?;
    procs.push(spawn(
        "alertmanager",
        Command::new(&alertmanager)
            .arg(format!(
                "--config.file={}",
                d.join("alertmanager.yml").display()
            ))
            .arg(format!("--storage.path={}", d.join("am-data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{am_port}"))
            // No cluster port on every interface.
            .arg("--cluster.listen-address="),
        &d.join("alertmanager.log"),
    )?);
    let url = format!("http://127.0.0.1:{am_port}");
    wait_ready(
        "alertmanager",
        &format!("{url}/-/ready"),
        Duration::from_secs(60),
    )?;
    Ok(url)
}

/// Prometheus scraping the exporter every second, evaluating the generated rules and
/// notifying the Alertmanager. Returns its URL once ready.
fn start_prometheus(
    d: &Path,
    ex_port: u16,
    am_port: u16,
    prom_port: u16,
    procs: &mut Vec<Proc>,
) -> Result<String, String> {
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
         rule_files:\n  - {}/rules/*.yaml\n\
         alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\n\
         scrape_configs:\n  - job_name: billing\n    static_configs:\n      - targets: ['127.0.0.1:{ex_port}']\n",
        d.display()
    );
    procs.push(prometheus_server(d, &config, prom_port, &[])?);
    Ok(format!("http://127.0.0.1:{prom_port}"))
}

/// A Prometheus server with `config`, its config, data and log under `d`, on `port`,
/// with `extra` arguments; returned once ready.
fn prometheus_server(d: &Path, config: &str, port: u16, extra: &[&str]) -> Result<Proc, String> {
    let prometheus = tool(&["prometheus"], "prometheus")?;
    std::fs::write(d.join("prometheus.yml"), config).map_err(|e| e.to_string())?;
    let proc = spawn(
        "prometheus",
        Command::new(&prometheus)
            .arg(format!(
                "--config.file={}",
                d.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                d.join("prom-data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args(extra),
        &d.join("prometheus.log"),
    )?;
    wait_ready(
        "prometheus",
        &format!("http://127.0.0.1:{port}/-/ready"),
        Duration::from_secs(90),
    )?;
    Ok(proc)
}

/// How a stack runs VictoriaMetrics and vmalert.
struct Vm<'a> {
    /// The exporter's port when VictoriaMetrics scrapes it itself (else fed by remote write).
    scrape: Option<u16>,
    /// The rule files vmalert loads (a glob).
    rules: &'a str,
    /// `-search.latencyOffset`, when not the default.
    latency_offset: Option<&'a str>,
}

/// `victoria-metrics` and `vmalert` evaluating `vm.rules` every second, writing recorded
/// series back (flushed every second), restoring alert state from it, notifying
/// Alertmanager. Returns VictoriaMetrics' and vmalert's URLs once both answer.
fn start_victoriametrics(
    d: &Path,
    vm: Vm,
    am_port: u16,
    vm_port: u16,
    procs: &mut Vec<Proc>,
) -> Result<(String, String), String> {
    let Vm {
        scrape,
        rules,
        latency_offset,
    } = vm;
    let vm = tool(&["victoria-metrics"], "victoria-metrics")?;
    let vmalert = tool(&["vmalert"], "victoria-metrics")?;
    let mut cmd = Command::new(&vm);
    if let Some(offset) = latency_offset {
        cmd.arg(format!("-search.latencyOffset={offset}"));
    }
    cmd.arg(format!(
        "-storageDataPath={}",
        d.join(format!("vm-data-{vm_port}")).display()
    ))
    .arg(format!("-httpListenAddr=127.0.0.1:{vm_port}"))
    // The default `-search.latencyOffset` (30s), as users run it: the rules hold with it.
    .arg("-search.disableCache");
    if let Some(ex_port) = scrape {
        std::fs::write(
            d.join("scrape.yml"),
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: billing\n    static_configs:\n      - targets: ['127.0.0.1:{ex_port}']\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        cmd.arg(format!(
            "-promscrape.config={}",
            d.join("scrape.yml").display()
        ));
    }
    procs.push(spawn(
        "victoria-metrics",
        &mut cmd,
        &d.join("victoria-metrics.log"),
    )?);
    let vm_url = format!("http://127.0.0.1:{vm_port}");
    wait_ready(
        "victoria-metrics",
        &format!("{vm_url}/health"),
        Duration::from_secs(60),
    )?;
    let alert_port = free_port();
    procs.push(spawn(
        "vmalert",
        Command::new(&vmalert)
            .arg(format!("-rule={rules}"))
            .arg(format!("-datasource.url={vm_url}"))
            .arg(format!("-remoteWrite.url={vm_url}"))
            .arg("-remoteWrite.flushInterval=1s")
            .arg(format!("-remoteRead.url={vm_url}"))
            .arg(format!("-notifier.url=http://127.0.0.1:{am_port}"))
            .arg("-evaluationInterval=1s")
            .arg(format!("-httpListenAddr=127.0.0.1:{alert_port}")),
        &d.join("vmalert.log"),
    )?);
    let vmalert_url = format!("http://127.0.0.1:{alert_port}");
    wait_ready(
        "vmalert",
        &format!("{vmalert_url}/health"),
        Duration::from_secs(60),
    )?;
    Ok((vm_url, vmalert_url))
}

/// Prometheus in agent mode: scrapes the exporter every second and remote-writes to `vm`.
fn start_agent(d: &Path, ex_port: u16, vm: &str, procs: &mut Vec<Proc>) -> Result<(), String> {
    let prometheus = tool(&["prometheus"], "prometheus")?;
    let port = free_port();
    std::fs::write(
        d.join("agent.yml"),
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: billing\n    static_configs:\n      - targets: ['127.0.0.1:{ex_port}']\nremote_write:\n  - url: {vm}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    procs.push(spawn(
        "prometheus-agent",
        Command::new(&prometheus)
            .arg("--enable-feature=agent")
            .arg(format!("--config.file={}", d.join("agent.yml").display()))
            .arg(format!(
                "--storage.agent.path={}",
                d.join("agent-data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}")),
        &d.join("prometheus-agent.log"),
    )?);
    wait_ready(
        "prometheus agent",
        &format!("http://127.0.0.1:{port}/-/ready"),
        Duration::from_secs(90),
    )
}

/// A Prometheus that scrapes nothing and serves a TSDB directory, e.g. blocks backfilled
/// with `promtool tsdb create-blocks-from openmetrics`. Stopped on drop.
pub struct Backfilled {
    pub url: String,
    _proc: Proc,
}

impl Backfilled {
    /// Backfills `openmetrics` (ending `# EOF`) into blocks under `dir/tsdb` with
    /// `promtool tsdb create-blocks-from openmetrics`, then starts Prometheus on them.
    pub fn from_openmetrics(dir: &Path, openmetrics: &str) -> Result<Backfilled, String> {
        let raw = dir.join("raw.om");
        std::fs::write(&raw, openmetrics).map_err(|e| format!("{}: {e}", raw.display()))?;
        let tsdb = Self::backfill(dir, &raw, None)?;
        Self::start(dir, &tsdb)
    }

    /// Backfills the OpenMetrics file `raw` into blocks under `dir/tsdb` (of at most
    /// `max_block`, e.g. `24h`; promtool's default is 2h); returns it.
    pub fn backfill(dir: &Path, raw: &Path, max_block: Option<&str>) -> Result<PathBuf, String> {
        let promtool = tool(&["promtool"], "prometheus")?;
        let tsdb = dir.join("tsdb");
        let o = Command::new(promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .args(max_block.map(|m| format!("--max-block-duration={m}")))
            .arg(raw)
            .arg(&tsdb)
            .output()
            .map_err(|e| format!("promtool: {e}"))?;
        if !o.status.success() {
            return Err(format!(
                "promtool tsdb: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        Ok(tsdb)
    }

    /// Starts Prometheus on `tsdb` (retention long enough to keep any backfilled block),
    /// with its config and log in `dir`, and waits until it answers queries.
    pub fn start(dir: &Path, tsdb: &Path) -> Result<Backfilled, String> {
        Self::start_with_rules(dir, tsdb, &[])
    }

    /// The same, evaluating the rule files `rules` (absolute paths).
    pub fn start_with_rules(
        dir: &Path,
        tsdb: &Path,
        rules: &[PathBuf],
    ) -> Result<Backfilled, String> {
        let prometheus = tool(&["prometheus"], "prometheus")?;
        let port = free_port();
        let config = dir.join("prometheus-backfilled.yml");
        let mut text = String::from("global:\n  scrape_interval: 1m\n");
        if !rules.is_empty() {
            // Rule results are written at the wall clock, which may lie inside a
            // backfilled block (history ending in the future keeps short windows full):
            // out-of-order ingestion takes them instead of refusing them as out of bounds.
            text.push_str("storage:\n  tsdb:\n    out_of_order_time_window: 1d\n");
            text.push_str("rule_files:\n");
            for r in rules {
                text.push_str(&format!("  - {}\n", r.display()));
            }
        }
        std::fs::write(&config, text).map_err(|e| e.to_string())?;
        let proc = spawn(
            "prometheus",
            Command::new(prometheus)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.tsdb.path={}", tsdb.display()))
                .arg("--storage.tsdb.retention.time=100y")
                .arg(format!("--web.listen-address=127.0.0.1:{port}")),
            &dir.join("prometheus-backfilled.log"),
        )?;
        let url = format!("http://127.0.0.1:{port}");
        wait_ready(
            "prometheus",
            &format!("{url}/-/ready"),
            Duration::from_secs(60),
        )?;
        Ok(Backfilled { url, _proc: proc })
    }

    /// Waits until the server has finished its first compaction pass, which merges
    /// backfilled two-hour blocks (and overlapping ones) the way months of running would,
    /// and returns the blocks it then holds. Prometheus triggers compaction once a minute
    /// and compacts until nothing is left to plan, so a second trigger means the first
    /// pass is over.
    pub fn compacted(&self, timeout: Duration) -> Result<u64, String> {
        let deadline = Instant::now() + timeout;
        let metric = |text: &str, name: &str| -> Option<f64> {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        while Instant::now() < deadline {
            let text = agent
                .get(&format!("{}/metrics", self.url))
                .call()
                .map_err(|e| e.to_string())?
                .body_mut()
                .read_to_string()
                .map_err(|e| e.to_string())?;
            let triggered = metric(&text, "prometheus_tsdb_compactions_triggered_total");
            if triggered.is_some_and(|t| t >= 2.0) {
                let blocks = metric(&text, "prometheus_tsdb_blocks_loaded").unwrap_or(0.0);
                return Ok(blocks as u64);
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        Err(format!(
            "{}: no compaction pass within {timeout:?}",
            self.url
        ))
    }
}

/// Serves `slo-gen serve` for the specs in `slos` against `prometheus`, on a free port of
/// 127.0.0.1 from a thread of its own, and returns its URL once `/healthz` answers.
pub fn start_serve(slos: &Path, prometheus: &str) -> Result<String, String> {
    start_serve_from(slos, prometheus, Default::default())
}

/// As [`start_serve`], reading the SLIs' base series from `source`.
pub fn start_serve_from(
    slos: &Path,
    prometheus: &str,
    source: slo_gen::rules::sli::Source,
) -> Result<String, String> {
    let loaded = slo_gen::load(&[slos.to_path_buf()]).map_err(|e| e.to_string())?;
    let app = slo_gen::serve::App {
        services: loaded.checked.services,
        texts: loaded.texts,
        client: slo_gen::promapi::Client::new(prometheus).map_err(|e| e.to_string())?,
        grafana_url: "http://localhost:3000".into(),
        prefix: String::new(),
        source,
    };
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).expect("listener");
            let _ = axum::serve(l, slo_gen::serve::router(app)).await;
        });
    });
    wait_ready(
        "slo-gen serve",
        &format!("{url}/healthz"),
        Duration::from_secs(10),
    )?;
    Ok(format!("{url}/"))
}

/// Runs `slo-gen` in process with these arguments: (exit code, stdout, stderr).
pub fn run_slo_gen(args: &[&str]) -> (u8, String, String) {
    use clap::Parser;
    let cli = slo_gen::Cli::try_parse_from(std::iter::once("slo-gen").chain(args.iter().copied()))
        .expect("arguments");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = slo_gen::run(cli, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}
