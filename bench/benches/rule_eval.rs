//! What a real Prometheus spends evaluating the rules of `slos/`, ours beside two peer
//! shapes for the same SLOs, on the same backfilled data (`cargo bench -p bench --bench
//! rule_eval`; `scripts/bench rules` runs it with the sizes of the README):
//!
//! 1. History: every series the exporter exposes (its catalogue, so exactly what the specs
//!    query), copied across `instance` labels until there are at least `BENCH_SERIES`
//!    (default 2,000), `BENCH_DAYS` (default 3) of them at a `BENCH_STEP` (15 s) scrape, ending two hours
//!    from now so the short windows are full while we measure. Traffic follows a daily
//!    curve; errors come in a nightly burst at the traffic low (which is what biases an
//!    average of ratios). Backfilled with `promtool tsdb create-blocks-from openmetrics`.
//! 2. Three rule sets: ours as `generate` writes them; Sloth-style (raw-rate windows up
//!    to the longest alert window, the period as an average of 5m ratios, Prometheus's
//!    default 1m interval); Pyrra-style (the period as one raw range over the whole
//!    window, evaluated every 2m30s, raw-rate burn windows every 30s). Each set gets its own
//!    copy of the history plus its own base recording rules backfilled over all of it
//!    (`promtool tsdb create-blocks-from rules`), the series its long windows read, so
//!    each is measured in steady state.
//! 3. Prometheus evaluates one set at a time, every group at `BENCH_INTERVAL` (10s); the
//!    median of `BENCH_EVALUATIONS` (20) evaluation times per group, summed, is one
//!    round; per hour at each set's own intervals is what it costs in production. The
//!    samples each rule reads come from the query API (`stats=all`), and each set's
//!    error ratio over the period is compared with the exact one from the raw counters.
//!
//! `BENCH_PERIOD=7d` (or `30d`) gives every SLO that period instead of its own.
//! Long: one benchmark (history, three rule sets, measurement) whose steps share its types.

#[path = "rule_eval/totals.rs"]
mod totals;

use serde_json::Value;
use slo_eval::Plan;
use slo_gen::rules::emit;
use slo_gen::rules::sli::raw_queries;
use slo_gen::rules::{Group, Options, Rule};
use slo_spec::names::format_duration;
use slo_spec::{Service, Slo};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// Long: the benchmark in the order it runs (history, three rule sets, measure, report).
fn main() {
    // `cargo bench` passes `--bench`; a filter that is not ours means another target's run.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"rule_eval".contains(&a))
    {
        return;
    }
    let series: usize = env("BENCH_SERIES", 2000);
    let days: i64 = env("BENCH_DAYS", 3);
    let interval: u64 = env("BENCH_INTERVAL", 10);
    let evaluations: usize = env("BENCH_EVALUATIONS", 20);
    let period: Option<String> = std::env::var("BENCH_PERIOD").ok();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let loaded = slo_gen::load(&[root.join("slos")]).expect("slos/");
    assert!(!loaded.checked.has_errors(), "slos/ has errors");
    let mut services = loaded.checked.services;
    if let Some(p) = &period {
        let d = promql_duration(p);
        for slo in services.iter_mut().flat_map(|s| s.slos.iter_mut()) {
            slo.period = slo_spec::Window {
                duration: d,
                text: p.clone(),
            };
        }
    }
    // Sloth and Pyrra have ratio and latency SLIs; freshness and raw ones have no
    // equivalent, so all three sets are built for the ratio and latency SLOs only.
    for svc in &mut services {
        svc.slos
            .retain(|o| matches!(o.sli, slo_spec::Sli::Ratio(_) | slo_spec::Sli::Latency(_)));
    }
    services.retain(|s| !s.slos.is_empty());
    let slos: usize = services.iter().map(|s| s.slos.len()).sum();
    let base = std::env::var("BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let dir = tempfile::tempdir_in(base).unwrap();
    let now = jiff::Timestamp::now().as_second();
    let step: i64 = env("BENCH_STEP", 15);
    let end = (now + 7200) / step * step;
    let start = end - days * 86_400;

    let t = Instant::now();
    let (files, written, samples) = history(dir.path(), series, start, end, step);
    let raw = dir.path().join("raw");
    backfill(&files, &raw);
    println!(
        "rule_eval: the {slos} ratio and latency SLOs of slos/{}, {written} raw series x {days} d at {step} s ({samples} samples) backfilled in {:.0} s; {} cores, {}",
        period.as_ref().map(|p| format!(" (period {p})")).unwrap_or_default(),
        t.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        cpu_model(),
    );

    let sets = [
        ("slo-gen", ours(&services)),
        ("Sloth-style", sloth(&services)),
        ("Pyrra-style", pyrra(&services)),
    ];
    let mut results = Vec::new();
    for (name, set) in &sets {
        results.push(measure(
            dir.path(),
            &raw,
            name,
            set,
            &services,
            (start, end),
            interval,
            evaluations,
        ));
    }
    let ours = &results[0];
    println!(
        "rule_eval: {:<12} {:>6} {:>7} {:>12} {:>14} {:>16} {:>16}",
        "set", "groups", "rules", "round (ms)", "per hour (s)", "samples read", "period ratio err"
    );
    for r in &results {
        println!(
            "rule_eval: {:<12} {:>6} {:>7} {:>12.1} {:>14.2} {:>16} {:>16}",
            r.name,
            r.groups,
            r.rules,
            r.round * 1000.0,
            r.per_hour,
            r.samples,
            format!("{:.2}% max", r.max_error * 100.0),
        );
    }
    for r in &results[1..] {
        println!(
            "rule_eval: slo-gen / {}: round {:.2}x, per hour {:.2}x, samples read {:.3}x",
            r.name,
            ours.round / r.round,
            ours.per_hour / r.per_hour,
            ours.samples as f64 / r.samples as f64,
        );
    }
}

fn promql_duration(text: &str) -> Duration {
    promql_parser::util::parse_duration(text).expect("a PromQL duration")
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_default()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (apt-get install -y prometheus)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------------------------------
// History

/// A series of the exporter's exposition, and how its samples are made.
struct Base {
    /// The sample name and its labels, without braces.
    name: String,
    labels: String,
    kind: Kind,
}

enum Kind {
    /// Events per second at the traffic peak; errors burst at night.
    Counter {
        peak: f64,
        error: bool,
    },
    /// A histogram: one source of events, latency log-normal around `median` seconds
    /// (ten times that in the nightly burst). Buckets, count and sum.
    Histogram {
        les: Vec<(String, f64)>,
    },
    /// A last-success timestamp: jobs succeed every 5 minutes, not during the burst.
    LastSuccess,
    Gauge,
}

fn bad(labels: &str) -> bool {
    labels.contains("code=\"5")
        || ["error", "store_error", "rejected"]
            .iter()
            .any(|o| labels.contains(&format!("outcome=\"{o}\"")))
}

/// The exporter's series, as the catalogue exposes them after start-up.
fn bases() -> Vec<Base> {
    let providers = exporter::billing::accounts::Accounts::demo().provider_labels();
    let text = exporter::billing::catalogue::Metrics::new()
        .initialise(&providers)
        .encode();
    let mut out: Vec<Base> = Vec::new();
    let mut histograms: BTreeMap<(String, String), Vec<(String, f64)>> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, _) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n.to_string(), l.trim_end_matches('}').to_string()),
            None => (series.to_string(), String::new()),
        };
        if name.ends_with("_created") {
            continue;
        }
        if let Some(family) = name.strip_suffix("_bucket") {
            let mut le = String::new();
            let rest: Vec<&str> = labels
                .split(',')
                .filter(|l| match l.strip_prefix("le=") {
                    Some(v) => {
                        le = v.trim_matches('"').to_string();
                        false
                    }
                    None => true,
                })
                .collect();
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            histograms
                .entry((family.to_string(), rest.join(",")))
                .or_default()
                .push((le, bound));
        } else if name.ends_with("_count") || name.ends_with("_sum") {
            // Made with the buckets.
        } else if name.ends_with("_total") {
            let error = bad(&labels);
            out.push(Base {
                name,
                kind: Kind::Counter {
                    peak: if error { 0.004 } else { 2.0 },
                    error,
                },
                labels,
            });
        } else if name.contains("last_success_timestamp") {
            out.push(Base {
                name,
                labels,
                kind: Kind::LastSuccess,
            });
        } else {
            out.push(Base {
                name,
                labels,
                kind: Kind::Gauge,
            });
        }
    }
    for ((family, labels), les) in histograms {
        out.push(Base {
            name: family,
            labels,
            kind: Kind::Histogram { les },
        });
    }
    out
}

/// Raw series each base makes (a histogram makes its buckets, count and sum).
fn width(b: &Base) -> usize {
    match &b.kind {
        Kind::Histogram { les } => les.len() + 2,
        _ => 1,
    }
}

/// Traffic relative to the daily peak: 0.2 at 03:00, 1 at 15:00.
fn traffic(t: i64) -> f64 {
    let phase = ((t - 3 * 3600).rem_euclid(86_400)) as f64 / 86_400.0 * std::f64::consts::TAU;
    0.6 - 0.4 * phase.cos()
}

/// The nightly burst, 02:30 to 03:30: errors at 25 times their usual rate.
fn burst(t: i64) -> bool {
    (9000..12_600).contains(&t.rem_euclid(86_400))
}

/// Standard normal CDF (Abramowitz and Stegun 7.1.26, error < 1.5e-7).
fn phi(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + y)
    } else {
        0.5 * (1.0 - y)
    }
}

/// One raw series source (a base at one instance) and where its values stand.
struct Gen<'a> {
    base: &'a Base,
    labels: String,
    value: f64,
    buckets: Vec<f64>,
    count: f64,
    sum: f64,
    last: i64,
}

impl Gen<'_> {
    /// Appends this source's samples at `ts` (each of its series contiguous).
    fn write(&mut self, w: &mut impl std::io::Write, ts: &[i64], step: i64) -> u64 {
        let labels = &self.labels;
        match &self.base.kind {
            Kind::Counter { peak, error } => {
                let name = &self.base.name;
                let _ = writeln!(w, "# TYPE {name} unknown");
                for &t in ts {
                    let boost = if *error && burst(t) { 25.0 } else { 1.0 };
                    self.value += peak * traffic(t) * boost * step as f64;
                    let _ = writeln!(w, "{name}{{{labels}}} {} {t}", self.value.floor());
                }
                ts.len() as u64
            }
            Kind::Histogram { les } => {
                let mut points: Vec<Vec<u64>> = Vec::with_capacity(ts.len());
                let mut totals = Vec::with_capacity(ts.len());
                for &t in ts {
                    let median: f64 = if burst(t) { 0.5 } else { 0.05 };
                    let n = 2.0 * traffic(t) * step as f64;
                    for (a, (_, le)) in self.buckets.iter_mut().zip(les) {
                        *a += n * phi((le.ln() - median.ln()) / 0.8);
                    }
                    self.count += n;
                    self.sum += n * median * 1.38;
                    points.push(self.buckets.iter().map(|a| a.floor() as u64).collect());
                    totals.push((self.count.floor(), (self.sum * 1000.0).round() / 1000.0));
                }
                let family = &self.base.name;
                for (j, (le, _)) in les.iter().enumerate() {
                    let _ = writeln!(w, "# TYPE {family}_bucket unknown");
                    for (k, &t) in ts.iter().enumerate() {
                        // +Inf is the count itself.
                        let v = if j + 1 == les.len() {
                            totals[k].0 as u64
                        } else {
                            points[k][j]
                        };
                        let _ = writeln!(w, "{family}_bucket{{{labels},le=\"{le}\"}} {v} {t}");
                    }
                }
                let _ = writeln!(w, "# TYPE {family}_count unknown");
                for (k, &t) in ts.iter().enumerate() {
                    let _ = writeln!(w, "{family}_count{{{labels}}} {} {t}", totals[k].0);
                }
                let _ = writeln!(w, "# TYPE {family}_sum unknown");
                for (k, &t) in ts.iter().enumerate() {
                    let _ = writeln!(w, "{family}_sum{{{labels}}} {} {t}", totals[k].1);
                }
                ts.len() as u64 * (les.len() as u64 + 2)
            }
            Kind::LastSuccess | Kind::Gauge => {
                let name = &self.base.name;
                let _ = writeln!(w, "# TYPE {name} unknown");
                for &t in ts {
                    let v = match self.base.kind {
                        Kind::LastSuccess => {
                            if !burst(t) && t % 300 < step {
                                self.last = t;
                            }
                            self.last
                        }
                        _ => 3,
                    };
                    let _ = writeln!(w, "{name}{{{labels}}} {v} {t}");
                }
                ts.len() as u64
            }
        }
    }
}

/// Writes the history as OpenMetrics files of two hours each (promtool reads its whole
/// input once per two-hour block, so one file per block keeps the backfill linear). Each
/// series is its own `unknown` family, so a histogram's parts need no grouping per point.
/// Returns (files, series, samples).
fn history(dir: &Path, want: usize, start: i64, end: i64, step: i64) -> (Vec<PathBuf>, usize, u64) {
    const BLOCK: i64 = 7200;
    let bases = bases();
    let per_instance: usize = bases.iter().map(width).sum();
    let instances = want.div_ceil(per_instance).max(1);
    let mut gens: Vec<Gen> = Vec::new();
    for b in &bases {
        for i in 0..instances {
            let inst = format!("instance=\"pod-{i:03}\"");
            gens.push(Gen {
                base: b,
                labels: if b.labels.is_empty() {
                    inst
                } else {
                    format!("{},{inst}", b.labels)
                },
                value: 0.0,
                buckets: match &b.kind {
                    Kind::Histogram { les } => vec![0.0; les.len()],
                    _ => Vec::new(),
                },
                count: 0.0,
                sum: 0.0,
                last: start,
            });
        }
    }
    let (mut files, mut samples) = (Vec::new(), 0u64);
    let mut from = start;
    while from <= end {
        let to = ((from / BLOCK) + 1) * BLOCK;
        let ts: Vec<i64> = (from..to.min(end + 1)).step_by(step as usize).collect();
        let path = dir.join(format!("history-{from}.om"));
        let mut w =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
        for g in &mut gens {
            samples += g.write(&mut w, &ts, step);
        }
        let _ = writeln!(w, "# EOF");
        w.flush().unwrap();
        files.push(path);
        from = to;
    }
    (files, per_instance * instances, samples)
}

/// Backfills every file into `tsdb`, two promtool processes at a time.
fn backfill(files: &[PathBuf], tsdb: &Path) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(f) = files.get(i) else { return };
                run(Command::new("promtool")
                    .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
                    .arg(f)
                    .arg(tsdb));
                let _ = std::fs::remove_file(f);
            });
        }
    });
}

// ---------------------------------------------------------------------------------------
// Rule sets

/// A rule set: its groups (with their production intervals) and the base recording rules
/// its long windows read, backfilled at `base_interval` before measuring.
struct Set {
    groups: Vec<Group>,
    base: Vec<Group>,
    base_interval: Duration,
    /// Running totals over the base series, written offline after they are backfilled.
    totals: bool,
}

fn ours(services: &[Service]) -> Set {
    let opts = Options {
        grafana_url: "http://localhost:3000".into(),
        ..Default::default()
    };
    let groups: Vec<Group> = services
        .iter()
        .flat_map(|s| slo_gen::rules::service_groups(s, &opts))
        .collect();
    // The base series every longer window sums over.
    let base = groups
        .iter()
        .map(|g| Group {
            name: format!("{}-base", g.name),
            interval: g.interval,
            rules: g
                .rules
                .iter()
                .filter(|r| matches!(r, Rule::Record { record, .. } if record.starts_with("slo:sli_events:rate") || record.starts_with("slo:sli_error_events:rate")))
                .cloned()
                .collect(),
        })
        .filter(|g| !g.rules.is_empty())
        .collect();
    Set {
        groups,
        base,
        base_interval: Duration::from_secs(30),
        totals: true,
    }
}

fn record(name: String, expr: String, labels: &BTreeMap<String, String>) -> Rule {
    Rule::Record {
        record: name,
        expr,
        labels: labels.clone(),
    }
}

/// `errors / events` over `window`, from the raw series (what peers record per window).
fn raw_ratio(slo: &Slo, window: Duration) -> String {
    let (errors, events) = raw_queries(slo, window);
    if slo.group_by.is_empty() {
        format!("({errors})\n/\n({events})")
    } else {
        format!("({errors})\n/ on({})\n({events})", slo.group_by.join(", "))
    }
}

fn peer_labels(prefix: &str, svc: &Service, slo: &Slo) -> BTreeMap<String, String> {
    [
        (format!("{prefix}_service"), svc.name.clone()),
        (format!("{prefix}_slo"), slo.name.clone()),
    ]
    .into_iter()
    .collect()
}

fn selector(labels: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{{{}}}", inner.join(","))
}

/// The multiwindow alerts of a peer over its recorded windows.
fn peer_alerts(
    prefix: &str,
    plan: &Plan,
    slo: &Slo,
    labels: &BTreeMap<String, String>,
) -> Vec<Rule> {
    let sel = selector(labels);
    let budget = slo.objective.budget_decimal().to_f64();
    let by = if slo.group_by.is_empty() {
        String::new()
    } else {
        format!(" on({})", slo.group_by.join(", "))
    };
    plan.tiers
        .iter()
        .map(|tier| {
            let conditions: Vec<String> = tier
                .pairs
                .iter()
                .map(|p| {
                    let th = p.burn_rate.to_f64() * budget;
                    format!(
                        "({prefix}:sli_error:ratio_rate{}{sel} > {th}) and{by} ({prefix}:sli_error:ratio_rate{}{sel} > {th})",
                        format_duration(p.long),
                        format_duration(p.short)
                    )
                })
                .collect();
            Rule::Alert {
                alert: format!("{}{:?}", slo.name, tier.tier),
                expr: conditions.join("\nor\n"),
                for_: tier.for_,
                labels: labels.clone(),
                annotations: BTreeMap::new(),
            }
        })
        .collect()
}

/// Sloth's shape: raw-rate ratios for every window but the period, the period as the
/// average of the 5m ratios, no interval of its own (Prometheus's default, 1m).
fn sloth(services: &[Service]) -> Set {
    let minute = Duration::from_secs(60);
    let (mut groups, mut base) = (Vec::new(), Vec::new());
    for svc in services {
        for slo in &svc.slos {
            let plan = slo_eval::plan(slo);
            let labels = peer_labels("sloth", svc, slo);
            let sel = selector(&labels);
            let b = format_duration(plan.base);
            let base_rule = record(
                format!("sloth:sli_error:ratio_rate{b}"),
                raw_ratio(slo, plan.base),
                &labels,
            );
            let mut rules = vec![base_rule.clone()];
            for w in plan
                .windows
                .iter()
                .filter(|w| **w != plan.period && **w != plan.base)
            {
                rules.push(record(
                    format!("sloth:sli_error:ratio_rate{}", format_duration(*w)),
                    raw_ratio(slo, *w),
                    &labels,
                ));
            }
            let p = format_duration(plan.period);
            rules.push(record(
                format!("sloth:sli_error:ratio_rate{p}"),
                format!("sum_over_time(sloth:sli_error:ratio_rate{b}{sel}[{p}])\n/ ignoring()\ncount_over_time(sloth:sli_error:ratio_rate{b}{sel}[{p}])"),
                &labels,
            ));
            groups.push(Group {
                name: format!("sloth-{}-{}", svc.name, slo.name),
                interval: minute,
                rules,
            });
            groups.push(Group {
                name: format!("sloth-{}-{}-alerts", svc.name, slo.name),
                interval: minute,
                rules: peer_alerts("sloth", &plan, slo, &labels),
            });
            base.push(Group {
                name: format!("sloth-{}-{}-base", svc.name, slo.name),
                interval: minute,
                rules: vec![base_rule],
            });
        }
    }
    Set {
        groups,
        base,
        base_interval: minute,
        totals: false,
    }
}

/// Pyrra's shape: the period as one raw range over the whole window (every 2m30s), the
/// burn windows as raw rates (every 30s). Nothing reads a recorded range.
fn pyrra(services: &[Service]) -> Set {
    let mut groups = Vec::new();
    for svc in services {
        for slo in &svc.slos {
            let plan = slo_eval::plan(slo);
            let labels = peer_labels("pyrra", svc, slo);
            let p = format_duration(plan.period);
            groups.push(Group {
                name: format!("pyrra-{}-{}-increase", svc.name, slo.name),
                interval: Duration::from_secs(150),
                rules: vec![record(
                    format!("pyrra:sli_error:ratio_rate{p}"),
                    raw_ratio(slo, plan.period),
                    &labels,
                )],
            });
            let mut rules: Vec<Rule> = plan
                .windows
                .iter()
                .filter(|w| **w != plan.period)
                .map(|w| {
                    record(
                        format!("pyrra:sli_error:ratio_rate{}", format_duration(*w)),
                        raw_ratio(slo, *w),
                        &labels,
                    )
                })
                .collect();
            rules.extend(peer_alerts("pyrra", &plan, slo, &labels));
            groups.push(Group {
                name: format!("pyrra-{}-{}", svc.name, slo.name),
                interval: Duration::from_secs(30),
                rules,
            });
        }
    }
    Set {
        groups,
        base: Vec::new(),
        base_interval: Duration::from_secs(30),
        totals: false,
    }
}

// ---------------------------------------------------------------------------------------
// Measurement

struct Result {
    name: &'static str,
    groups: usize,
    rules: usize,
    /// Seconds: the per-group median evaluation time, summed.
    round: f64,
    /// Seconds of evaluation per hour at the set's own intervals.
    per_hour: f64,
    samples: u64,
    /// The largest relative error of the period's error ratio over the SLOs.
    max_error: f64,
}

fn write_groups(path: &Path, groups: &[Group]) {
    let mut out = String::new();
    emit::groups(&mut out, 0, groups);
    std::fs::write(path, out).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    run(Command::new("cp").arg("-r").arg(from).arg(to));
}

fn get(url: &str) -> Value {
    let body = ureq::get(url)
        .call()
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

fn query(prom: &str, expr: &str, stats: bool) -> Value {
    let mut url = format!("{prom}/api/v1/query?query={}", urlencode(expr));
    if stats {
        url.push_str("&stats=all");
    }
    get(&url)
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
// Long: one measurement in the order it happens (backfill, compact, evaluate, count, compare).
fn measure(
    dir: &Path,
    raw: &Path,
    name: &'static str,
    set: &Set,
    services: &[Service],
    (start, end): (i64, i64),
    interval: u64,
    evaluations: usize,
) -> Result {
    let t = Instant::now();
    let work = dir.join(name);
    std::fs::create_dir_all(&work).unwrap();
    let tsdb = work.join("tsdb");
    copy_dir(raw, &tsdb);
    if !set.base.is_empty() {
        let base_file = work.join("base.yaml");
        write_groups(&base_file, &set.base);
        let prom = e2e::Backfilled::start(&work, &tsdb).unwrap();
        let rec = work.join("recorded");
        run(Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "rules"])
            .arg(format!("--start={start}"))
            .arg(format!("--end={end}"))
            .arg(format!("--url={}", prom.url))
            .arg(format!("--output-dir={}", rec.display()))
            .arg(format!("--eval-interval={}s", set.base_interval.as_secs()))
            .arg(&base_file));
        drop(prom);
        for block in std::fs::read_dir(&rec).unwrap() {
            let block = block.unwrap().path();
            std::fs::rename(&block, tsdb.join(block.file_name().unwrap())).unwrap();
        }
        if set.totals {
            let prom = e2e::Backfilled::start(&work, &tsdb).unwrap();
            let step = set.base_interval.as_secs() as i64;
            let files = totals::write(&prom.url, &work, (start, end), step);
            drop(prom);
            backfill(&files, &tsdb);
        }
    }
    // Compacted as a server that has run for the whole history would hold it: the
    // backfilled two-hour blocks (raw, base and totals overlapping) would otherwise make
    // every long range read hundreds of blocks, a cost no production server pays.
    // `BENCH_COMPACT=0` skips it (a smoke run's two minutes).
    let blocks = match env("BENCH_COMPACT", 1) {
        0 => 0,
        _ => e2e::Backfilled::start(&work, &tsdb)
            .and_then(|p| p.compacted(Duration::from_secs(3600)))
            .unwrap(),
    };
    let backfilled = t.elapsed().as_secs_f64();
    // Every group at the measuring interval; production intervals kept for the hour.
    let production: BTreeMap<String, f64> = set
        .groups
        .iter()
        .map(|g| (g.name.clone(), g.interval.as_secs_f64()))
        .collect();
    let fast: Vec<Group> = set
        .groups
        .iter()
        .map(|g| Group {
            name: g.name.clone(),
            interval: Duration::from_secs(interval),
            rules: g.rules.clone(),
        })
        .collect();
    let rules_file = work.join("rules.yaml");
    write_groups(&rules_file, &fast);
    run(Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules_file));
    let prom =
        e2e::Backfilled::start_with_rules(&work, &tsdb, std::slice::from_ref(&rules_file)).unwrap();
    let mut seen: BTreeMap<String, (String, Vec<f64>)> = BTreeMap::new();
    let deadline =
        Instant::now() + Duration::from_secs(interval * (evaluations as u64 + 2) * 3 + 120);
    loop {
        let v = get(&format!("{}/api/v1/rules", prom.url));
        for g in v["data"]["groups"].as_array().unwrap() {
            let gname = g["name"].as_str().unwrap().to_string();
            let last = g["lastEvaluation"].as_str().unwrap_or("").to_string();
            let took = g["evaluationTime"].as_f64().unwrap_or(0.0);
            if last.starts_with("0001-") {
                continue;
            }
            let e = seen
                .entry(gname)
                .or_insert_with(|| (String::new(), Vec::new()));
            if e.0 != last {
                e.0 = last;
                e.1.push(took);
            }
        }
        let done =
            seen.len() == set.groups.len() && seen.values().all(|(_, d)| d.len() > evaluations);
        if done || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        seen.len(),
        set.groups.len(),
        "{name}: not every group evaluated"
    );
    let mut round = 0.0;
    let mut per_hour = 0.0;
    for (g, (_, d)) in &mut seen {
        // The first evaluation runs while the server warms up: dropped.
        let mut d: Vec<f64> = d.iter().skip(1).copied().collect();
        assert!(!d.is_empty(), "{name}: group {g} evaluated once");
        d.sort_by(f64::total_cmp);
        let median = d[d.len() / 2];
        round += median;
        per_hour += median * 3600.0 / production[g];
    }
    // Samples read per rule, one instant query each.
    let mut samples = 0u64;
    let mut rules = 0;
    for g in &set.groups {
        for r in &g.rules {
            let expr = match r {
                Rule::Record { expr, .. } | Rule::Alert { expr, .. } => expr,
            };
            let v = query(&prom.url, expr, true);
            samples += v["data"]["stats"]["samples"]["totalQueryableSamples"]
                .as_u64()
                .unwrap_or(0);
            rules += 1;
        }
    }
    // The period's error ratio against the exact one from the raw counters.
    let max_error = accuracy(&prom.url, name, services);
    println!(
        "rule_eval: {name}: {} groups, {rules} rules; backfill and compaction {backfilled:.0} s ({blocks} blocks); {} evaluations per group",
        set.groups.len(),
        seen.values().map(|(_, d)| d.len()).min().unwrap_or(0)
    );
    Result {
        name,
        groups: set.groups.len(),
        rules,
        round,
        per_hour,
        samples,
        max_error,
    }
}

/// The largest relative error, over the SLOs (and their groups), of the set's error
/// ratio over the period against the exact ratio of the raw counters over the same range.
fn accuracy(prom: &str, name: &str, services: &[Service]) -> f64 {
    let (prefix, ids) = match name {
        "slo-gen" => ("slo", ("service", "slo")),
        "Sloth-style" => ("sloth", ("sloth_service", "sloth_slo")),
        _ => ("pyrra", ("pyrra_service", "pyrra_slo")),
    };
    let mut worst: f64 = 0.0;
    for svc in services {
        for slo in &svc.slos {
            let plan = slo_eval::plan(slo);
            let by_group = |v: &Value| -> BTreeMap<String, f64> {
                v["data"]["result"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        let key: Vec<String> = slo
                            .group_by
                            .iter()
                            .map(|g| r["metric"][g].as_str().unwrap_or("").to_string())
                            .collect();
                        (
                            key.join(","),
                            r["value"][1].as_str().unwrap().parse().unwrap(),
                        )
                    })
                    .collect()
            };
            let exact = by_group(&query(prom, &raw_ratio(slo, plan.period), false));
            let got = by_group(&query(
                prom,
                &format!(
                    "{prefix}:sli_error:ratio_rate{}{{{}=\"{}\",{}=\"{}\"}}",
                    format_duration(plan.period),
                    ids.0,
                    svc.name,
                    ids.1,
                    slo.name
                ),
                false,
            ));
            assert!(!exact.is_empty(), "{}: no exact ratio", slo.name);
            for (k, e) in &exact {
                let Some(g) = got.get(k).copied() else {
                    panic!(
                        "{name}: {} {k}: no period ratio; exact {exact:?}, recorded {got:?} ({prom})",
                        slo.name
                    );
                };
                if *e > 0.0 {
                    worst = worst.max((g - e).abs() / e);
                }
            }
        }
    }
    worst
}
