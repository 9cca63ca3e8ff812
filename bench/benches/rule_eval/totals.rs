//! Our running totals over the whole history, as the fast group would have recorded them.
//! promtool's `create-blocks-from rules` evaluates each rule against a server that never
//! sees its own output, so a total that adds to its last value cannot be backfilled that
//! way: the base rates are (pass one), and here each total is their sum times the 30s
//! interval, with the checkpoints, time stamps and markers that the fast group writes.

use serde_json::Value;
use slo_gen::names::series::{self, Count};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One query_range answer holds at most 11,000 points per series.
const CHUNK: i64 = 3 * 86_400;

/// Writes the totals between `start` and `end` (evaluations every `step` seconds) from the
/// base rates `prom` serves, as OpenMetrics files of two hours each in `dir`.
// Long: one pass writing each two-hour file, series by series, in the order OpenMetrics needs.
pub fn write(prom: &str, dir: &Path, (start, end): (i64, i64), step: i64) -> Vec<PathBuf> {
    // Series (name and labels) -> the rate at each evaluation.
    let mut rates: BTreeMap<(String, String), Vec<(i64, f64)>> = BTreeMap::new();
    let mut from = start;
    while from <= end {
        let to = (from + CHUNK - step).min(end);
        let v = super::get(&format!(
            "{prom}/api/v1/query_range?query={}&start={from}&end={to}&step={step}",
            super::urlencode(r#"{__name__=~"slo:sli_(error_)?events:rate.+"}"#)
        ));
        for r in v["data"]["result"].as_array().unwrap() {
            let name = r["metric"]["__name__"].as_str().unwrap();
            let count = if name.starts_with("slo:sli_error_events") {
                Count::Errors
            } else {
                Count::Events
            };
            let points = rates
                .entry((series::total(count).to_string(), labels(&r["metric"])))
                .or_default();
            for p in r["values"].as_array().unwrap() {
                let v: f64 = p[1].as_str().unwrap().parse().unwrap();
                points.push((p[0].as_f64().unwrap() as i64, v));
            }
        }
        from = to + step;
    }
    assert!(!rates.is_empty(), "no base rates were backfilled");
    let mut files = Vec::new();
    let mut totals: BTreeMap<&(String, String), f64> = BTreeMap::new();
    let mut block_start = start;
    while block_start <= end {
        let block_end = ((block_start / 7200) + 1) * 7200;
        let path = dir.join(format!("totals-{block_start}.om"));
        let mut w =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
        for (key @ (name, labels), points) in &rates {
            let total = totals.entry(key).or_insert(0.0);
            let inside = points
                .iter()
                .filter(|(t, _)| (block_start..block_end).contains(t));
            let mut lines = vec![format!("# TYPE {name} unknown")];
            let mut checkpoints: [Vec<String>; 2] = Default::default();
            for &(t, rate) in inside {
                *total += rate * step as f64;
                lines.push(format!("{name}{{{labels}}} {total} {t}"));
                for (i, every) in [300, 86_400].into_iter().enumerate() {
                    if t % every < step {
                        checkpoints[i].push(format!("{{{labels}}} {total} {t}"));
                    }
                }
            }
            let count = if name.contains("error") {
                Count::Errors
            } else {
                Count::Events
            };
            // Where the total started from zero, as the fast group marks it.
            if block_start == start {
                let resume = series::resume(count);
                lines.push(format!("# TYPE {resume} unknown"));
                lines.push(format!(
                    "{resume}{{{labels},slo_resume=\"start\"}} 0 {start}"
                ));
            }
            for (i, every) in [300u64, 86_400].into_iter().enumerate() {
                let cp = series::checkpoint(count, Duration::from_secs(every));
                lines.push(format!("# TYPE {cp} unknown"));
                lines.extend(checkpoints[i].iter().map(|l| format!("{cp}{l}")));
            }
            for l in lines {
                let _ = writeln!(w, "{l}");
            }
        }
        markers(
            &mut w,
            &rates,
            (block_start, block_end.min(end + 1)),
            start,
            step,
        );
        let _ = writeln!(w, "# EOF");
        w.flush().unwrap();
        files.push(path);
        block_start = block_end;
    }
    files
}

/// The time stamps and intervals of the last two hours (only read at the last evaluation),
/// and the marker that the totals were seen: 0 at their start, 1 every 29 days after.
fn markers(
    w: &mut impl std::io::Write,
    rates: &BTreeMap<(String, String), Vec<(i64, f64)>>,
    (from, to): (i64, i64),
    start: i64,
    step: i64,
) {
    let last = rates
        .values()
        .flat_map(|p| p.last())
        .map(|p| p.0)
        .max()
        .unwrap_or(to);
    let slos: std::collections::BTreeSet<String> = rates
        .keys()
        .map(|(_, l)| {
            l.split(',')
                .filter(|kv| kv.starts_with("service=") || kv.starts_with("slo="))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let recent = (from..to)
        .step_by(step as usize)
        .filter(|t| t % step == start % step && *t > last - 7200);
    let recent: Vec<i64> = recent.collect();
    if recent.is_empty() {
        return seen(w, rates, (from, to), start);
    }
    for (name, value) in [
        (series::TOTALS_TIME, None),
        (series::TOTALS_INTERVAL, Some(step)),
    ] {
        let _ = writeln!(w, "# TYPE {name} unknown");
        for slo in &slos {
            for t in &recent {
                let _ = writeln!(w, "{name}{{{slo}}} {} {t}", value.unwrap_or(*t));
            }
        }
    }
    seen(w, rates, (from, to), start);
}

fn seen(
    w: &mut impl std::io::Write,
    rates: &BTreeMap<(String, String), Vec<(i64, f64)>>,
    (from, to): (i64, i64),
    start: i64,
) {
    let marks: Vec<i64> = (start..to)
        .step_by(29 * 86_400)
        .filter(|t| (from..to).contains(t))
        .collect();
    if marks.is_empty() {
        return;
    }
    let seen = series::TOTALS_SEEN;
    let _ = writeln!(w, "# TYPE {seen} unknown");
    for (_, labels) in rates.keys().filter(|(n, _)| !n.contains("error")) {
        for t in &marks {
            let _ = writeln!(w, "{seen}{{{labels}}} {} {t}", u8::from(*t != start));
        }
    }
}

/// A series' labels (without its name), as OpenMetrics writes them.
fn labels(metric: &Value) -> String {
    metric
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}=\"{}\"", v.as_str().unwrap()))
        .collect::<Vec<_>>()
        .join(",")
}
