//! Many clusters, one SLO, on real processes: per cluster (`a`, `b`) a billing exporter
//! and a Prometheus with the external label `cluster` evaluating the split layout's local
//! set and remote-writing only its `slo_cluster:` recordings to VictoriaMetrics, where
//! vmalert evaluates the global set and notifies Alertmanager. Beside them, a reference
//! Prometheus scrapes both exporters with the single layout's rules: the answer the
//! global set must agree with.

use super::{
    exporter_args, exporter_binary, free_port, logs_in, prometheus_server, query_at, receiver,
    start_alertmanager, start_exporter, start_victoriametrics, Logs, Notifications, Proc, Vm,
};
use serde_json::Value;
use slo_gen::names::series;
use slo_gen::rules::Options;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The stack's `-search.latencyOffset`, shorter than VictoriaMetrics's 30 s default to keep
/// the test short, and the `--remote-write-delay` the rules are generated with to match
/// it (remote write's one-second batches, the offset, and room to spare).
pub const LATENCY_OFFSET: Duration = Duration::from_secs(5);
pub const REMOTE_WRITE_DELAY: Duration = Duration::from_secs(10);

/// The clusters, by their `cluster` external label.
pub const NAMES: [&str; 2] = ["a", "b"];

/// One cluster: its exporter and its Prometheus.
pub struct Cluster {
    pub name: &'static str,
    pub exporter_url: String,
    pub admin_url: String,
    pub prometheus_url: String,
    prometheus: Option<Proc>,
    _exporter: Proc,
}

pub struct Clusters {
    pub dir: tempfile::TempDir,
    /// VictoriaMetrics: the global store, where every cluster's recordings meet.
    pub vm_url: String,
    pub vmalert_url: String,
    /// The Prometheus scraping both exporters with the single layout's rules.
    pub reference_url: String,
    pub alertmanager_url: String,
    pub notifications: Notifications,
    pub services: Vec<slo_spec::Service>,
    /// The rule options the split sets were generated with.
    pub options: Options,
    pub clusters: Vec<Cluster>,
    // Dropped in reverse order of start, after the clusters.
    procs: Vec<Proc>,
    /// Released last, once every process has stopped.
    _cores: Option<std::sync::RwLockWriteGuard<'static, ()>>,
}

impl Drop for Clusters {
    fn drop(&mut self) {
        for c in &mut self.clusters {
            c.prometheus.take();
        }
        self.clusters.clear();
        while let Some(p) = self.procs.pop() {
            drop(p);
        }
        self._cores.take();
    }
}

impl Logs for Clusters {
    fn logs(&self) -> String {
        logs_in(self.dir.path())
    }
}

impl Clusters {
    /// Starts everything for the specs in `slos`, each exporter at `traffic` req/s.
    // Long: the processes of the stack in start order, each a few lines of configuration.
    pub fn start(slos: &Path, traffic: f64) -> Result<Clusters, String> {
        let cores = super::all_cores();
        let dir = tempfile::Builder::new()
            .prefix("slo-e2e-clusters-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let d = dir.path().to_path_buf();
        let loaded = slo_gen::load(&[slos.to_path_buf()]).map_err(|e| e.to_string())?;
        let services = loaded.checked.services;
        let options = Options {
            split: true,
            remote_write_delay: REMOTE_WRITE_DELAY,
            ..Options::default()
        };
        super::write_outputs(&services, &d.join("split"), &options)?;
        super::write_outputs(&services, &d.join("single"), &Options::default())?;

        let mut procs = Vec::new();
        let (notifications, recv_port) = receiver(false);
        let am_port = free_port();
        let alertmanager_url = start_alertmanager(
            &d,
            &d.join("split/alertmanager"),
            recv_port,
            am_port,
            &mut procs,
        )?;
        let rules = format!("{}/split/rules/global/*.yaml", d.display());
        let offset = format!("{}s", LATENCY_OFFSET.as_secs());
        let vm = Vm {
            scrape: None,
            rules: &rules,
            latency_offset: Some(&offset),
        };
        let (vm_url, vmalert_url) =
            start_victoriametrics(&d, vm, am_port, free_port(), &mut procs)?;

        // The reference also receives the clusters' recordings, so one server measures
        // what reading raw series costs and what reading the recordings does.
        let port = free_port();
        let reference_url = format!("http://127.0.0.1:{port}");
        let mut clusters = Vec::new();
        for name in NAMES {
            clusters.push(Cluster::start(
                &d,
                name,
                traffic,
                &[
                    &format!("{vm_url}/api/v1"),
                    &format!("{reference_url}/api/v1"),
                ],
            )?);
        }
        let reference = d.join("reference");
        std::fs::create_dir_all(&reference).map_err(|e| e.to_string())?;
        let targets: String = clusters
            .iter()
            .map(|c| {
                format!(
                    "      - targets: ['{}']\n        labels: {{cluster: {}}}\n",
                    c.exporter_url.trim_start_matches("http://"),
                    c.name
                )
            })
            .collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {}/single/rules/*.yaml\n\
             scrape_configs:\n  - job_name: billing\n    static_configs:\n{targets}",
            d.display()
        );
        procs.push(prometheus_server(
            &reference,
            &config,
            port,
            &["--web.enable-remote-write-receiver"],
        )?);
        Ok(Clusters {
            dir,
            vm_url,
            vmalert_url,
            reference_url,
            alertmanager_url,
            notifications,
            services,
            options,
            clusters,
            procs,
            _cores: Some(cores),
        })
    }

    pub fn cluster(&self, name: &str) -> &Cluster {
        self.clusters
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no cluster {name}"))
    }

    /// Stops a cluster's Prometheus (SIGTERM, and waits): its recordings stop arriving.
    pub fn stop_prometheus(&mut self, name: &str) {
        if let Some(c) = self.clusters.iter_mut().find(|c| c.name == name) {
            c.prometheus.take();
        }
    }

    /// The alerts vmalert holds now, pending and firing (its `/api/v1/alerts`).
    pub fn active_alerts(&self) -> Result<Vec<Value>, String> {
        let v = super::get_json(&format!("{}/api/v1/alerts", self.vmalert_url), &[])?;
        Ok(v["data"]["alerts"].as_array().cloned().unwrap_or_default())
    }

    /// Where the generated rule sets are.
    pub fn rules_dir(&self, layout: &str) -> PathBuf {
        self.dir.path().join(layout).join("rules")
    }
}

impl Cluster {
    /// The cluster's exporter and its Prometheus: scrape and evaluation every second, the
    /// local set, `cluster: name` as an external label, the `slo_cluster:` recordings
    /// (and nothing else) remote-written to each of `stores` (`<base>/write` each).
    fn start(
        d: &Path,
        name: &'static str,
        traffic: f64,
        stores: &[&str],
    ) -> Result<Cluster, String> {
        let cd = d.join(name);
        std::fs::create_dir_all(&cd).map_err(|e| e.to_string())?;
        let (ex_port, admin_port, prom_port) = (free_port(), free_port(), free_port());
        let exporter_url = format!("http://127.0.0.1:{ex_port}");
        let cmd = (
            exporter_binary()?,
            exporter_args(&cd, ex_port, admin_port, traffic, &[]),
        );
        let exporter = start_exporter(&cmd, &cd, &exporter_url)?;
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n  external_labels: {{cluster: {name}}}\n\
             rule_files:\n  - {}/split/rules/local/*.yaml\n\
             scrape_configs:\n  - job_name: billing\n    static_configs:\n      - targets: ['127.0.0.1:{ex_port}']\n\
             remote_write:\n{}",
            d.display(),
            stores
                .iter()
                .map(|url| format!(
                    "  - url: {url}/write\n    queue_config:\n      batch_send_deadline: 1s\n\
                     \x20   write_relabel_configs:\n      - source_labels: [__name__]\n        regex: 'slo_cluster:.*'\n        action: keep\n"
                ))
                .collect::<String>()
        );
        let prometheus = prometheus_server(&cd, &config, prom_port, &[])?;
        Ok(Cluster {
            name,
            exporter_url,
            admin_url: format!("http://127.0.0.1:{admin_port}"),
            prometheus_url: format!("http://127.0.0.1:{prom_port}"),
            prometheus: Some(prometheus),
            _exporter: exporter,
        })
    }

    /// Sets (`Some`) or removes a fault through the cluster's exporter's admin listener.
    pub fn fault(&self, name: &str, value: Option<&str>) -> Result<(), String> {
        super::set_fault(&self.admin_url, name, value)
    }
}

/// What a ruler reads per evaluation round to get every SLO's base series.
pub struct Cost {
    /// The single layout's base rules over every cluster's raw series.
    pub raw: u64,
    /// The global set's merges over the clusters' recordings.
    pub merged: u64,
    /// A rule per window over raw series (the peers' shape), at steady state: each
    /// window's read is the base read scaled by the window over the base window.
    pub raw_windows: f64,
}

impl Clusters {
    /// Measured on the reference, which holds both the raw series and the clusters'
    /// recordings, from its query statistics.
    pub fn read_per_round(&self) -> Cost {
        let c = self;
        let mut cost = Cost {
            raw: 0,
            merged: 0,
            raw_windows: 0.0,
        };
        let read = |expr: &str| super::samples_read(&c.reference_url, expr).unwrap();
        for svc in &c.services {
            let global = slo_gen::rules::service_split(svc, &c.options).global;
            for slo in &svc.slos {
                let plan = slo_eval::plan(slo);
                let base = [
                    series::events(plan.base),
                    series::error_events(plan.base),
                    series::INPUTS.to_string(),
                ];
                let rules = |groups: &[slo_gen::rules::Group]| -> Vec<(String, String)> {
                    groups
                        .iter()
                        .flat_map(|g| &g.rules)
                        .filter_map(|r| match r {
                            slo_gen::rules::Rule::Record {
                                record,
                                expr,
                                labels,
                            } if base.contains(record) && labels.get("slo") == Some(&slo.name) => {
                                Some((record.clone(), expr.clone()))
                            }
                            _ => None,
                        })
                        .collect()
                };
                let single = slo_gen::rules::slo_groups(svc, slo, &Options::default());
                for (record, expr) in rules(&single) {
                    let n = read(&expr);
                    cost.raw += n;
                    if record != series::INPUTS {
                        let scale: f64 = plan
                            .windows
                            .iter()
                            .map(|w| w.as_secs_f64() / plan.base.as_secs_f64())
                            .sum();
                        cost.raw_windows += n as f64 * scale;
                    }
                }
                for (_, expr) in rules(&global) {
                    cost.merged += read(&expr);
                }
            }
        }
        cost
    }
}

/// Now, in Unix seconds.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A query result's sample value (NaN without one).
pub fn value(v: &Value) -> f64 {
    v["value"][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The one value of `expr` at `url` (at `at`, or now), if there is exactly one.
pub fn scalar(url: &str, expr: &str, at: Option<f64>) -> Option<f64> {
    match query_at(url, expr, at).ok()?.as_slice() {
        [v] => Some(value(v)),
        _ => None,
    }
}

/// Every label set but `__name__` of each series of `expr`, with its value.
pub fn by_labels(url: &str, expr: &str, at: f64) -> BTreeMap<String, f64> {
    query_at(url, expr, Some(at))
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .iter()
        .map(|v| {
            let mut m = v["metric"].as_object().cloned().unwrap_or_default();
            m.remove("__name__");
            (Value::Object(m).to_string(), value(v))
        })
        .collect()
}

/// `slo-gen report` of the specs in `slos` against `url` over `[from, to]` (Unix
/// seconds) in `layout`: (events, bad) by `service/slo group`.
pub fn report_counts(
    slos: &Path,
    url: &str,
    from: f64,
    to: f64,
    layout: &str,
) -> BTreeMap<String, (f64, f64)> {
    let at = |t: f64| jiff::Timestamp::from_second(t as i64).unwrap().to_string();
    let (from, to) = (at(from), at(to));
    let slos = slos.to_string_lossy();
    let (code, out, err) = super::run_slo_gen(&[
        "report",
        &slos,
        "--prometheus",
        url,
        "--layout",
        layout,
        "--from",
        &from,
        "--to",
        &to,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["slos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!("{}/{} {}", r["service"], r["slo"], r["group"]),
                (
                    r["events"].as_f64().unwrap_or(f64::NAN),
                    r["bad"].as_f64().unwrap_or(f64::NAN),
                ),
            )
        })
        .collect()
}
