//! The alert behaviour at every period from 12h to 366d and every scrape interval from 10s
//! to 2m, from raw counters scraped at that interval, through the real promtool: a full
//! outage pages within what the fastest page pair is designed for plus five scrapes and a
//! minute and stays firing; a 20x burn pages within that pair's long window plus five
//! scrapes; half the budget never pages or tickets (the generated `outage.yaml` and `steady.yaml` of each
//! SLO, see `slo_gen::promtool`). Also: no raw range below four scrapes, no group more
//! often than the scrape (30s at most).

use slo_spec::names::format_duration;
use std::sync::Mutex;
use std::time::Duration;

const PERIODS: &[&str] = &["12h", "1d", "7d", "28d", "30d", "90d", "366d"];
const SCRAPES: &[&str] = &["10s", "15s", "30s", "1m", "2m"];

fn spec(scrape: &str) -> String {
    let mut s = format!(
        "version: v1\nservice: scrape-{}\nowner: o\nscrape_interval: {scrape}\nslos:\n",
        scrape
    );
    for p in PERIODS {
        s += &format!(
            "  - name: p{p}\n    description: d\n    objective: 99.9\n    period: {p}\n    sli:\n      ratio:\n        errors: sum(rate(x_total{{code=\"500\"}}[{{{{window}}}}]))\n        total: sum(rate(x_total[{{{{window}}}}]))\n    alerting:\n      annotations: {{runbook_url: https://r.example.com}}\n"
        );
    }
    s
}

fn services() -> Vec<slo_spec::Service> {
    let sources: Vec<slo_spec::Source> = SCRAPES
        .iter()
        .map(|s| slo_spec::Source {
            path: format!("{s}.yaml"),
            text: spec(s),
        })
        .collect();
    let checked = slo_spec::check(&sources);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    // 99.9% over 12h is a tiny budget (W001), and tested all the same.
    assert!(
        checked
            .diagnostics
            .iter()
            .all(|d| d.code == slo_spec::Code::TinyBudget),
        "{:?}",
        checked.diagnostics
    );
    checked.services
}

#[test]
fn no_raw_range_below_four_scrapes_and_no_group_faster_than_the_scrape() {
    for svc in services() {
        for slo in &svc.slos {
            let scrape = slo.scrape_interval.duration;
            for g in slo_gen::rules::slo_groups(&svc, slo, &Default::default()) {
                assert!(
                    g.interval >= scrape.min(Duration::from_secs(30)),
                    "{}: {}",
                    g.name,
                    format_duration(g.interval)
                );
                for r in &g.rules {
                    let slo_gen::rules::Rule::Record { expr, .. } = r else {
                        continue;
                    };
                    // Every range over a raw series (`x_total[...]`).
                    for part in expr.split("x_total").skip(1) {
                        let Some(range) = part
                            .strip_prefix('[')
                            .or_else(|| part.split_once("}[").map(|(_, r)| r))
                        else {
                            continue;
                        };
                        let range = range.split(']').next().unwrap();
                        let d = promql_parser::util::parse_duration(range).unwrap();
                        assert!(d >= scrape * 4, "{}: raw range {range}", slo.name);
                    }
                }
            }
            let plan = slo_eval::plan(slo);
            assert!(plan.windows.iter().all(|w| *w >= scrape * 4));
            assert!(plan
                .tiers
                .iter()
                .flat_map(|t| &t.pairs)
                .all(|p| p.short >= scrape * 4));
        }
    }
}

#[test]
#[ignore = "slow: promtool at 35 periods and scrape intervals (scripts/test runs it)"]
fn every_period_at_every_scrape_interval_pages_on_outages_and_not_on_half_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    for svc in services() {
        for slo in &svc.slos {
            let suite = slo_gen::promtool::suite::suite(&svc, slo, &Default::default());
            let d = dir.path().join(format!("{}-{}", svc.name, slo.name));
            std::fs::create_dir_all(&d).unwrap();
            let behaviour = [
                "rules-scraped.yaml",
                "rules-outage.yaml",
                "steady.yaml",
                "outage.yaml",
            ];
            for (name, text) in suite.rules.iter().chain(&suite.tests) {
                if behaviour.contains(&name.as_str()) {
                    std::fs::write(d.join(name), text).unwrap();
                }
            }
            assert!(d.join("outage.yaml").exists(), "{}", slo.name);
            let outage = suite
                .summary
                .detections
                .iter()
                .find(|(_, what, _)| what == "outage")
                .map(|d| d.2)
                .expect("every one of them can page on an outage");
            let work: u64 = suite
                .tests
                .iter()
                .zip(&suite.work)
                .filter(|((name, _), _)| behaviour.contains(&name.as_str()))
                .map(|(_, w)| w)
                .sum();
            jobs.push((
                work,
                format!("{} {}", slo.scrape_interval.text, slo.period.text),
                d,
                outage,
            ));
        }
    }
    // The costliest first (popped from the end): both cores stay busy to the end.
    jobs.sort_by_key(|job| job.0);
    let queue = Mutex::new(jobs);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..std::thread::available_parallelism().map_or(2, |n| n.get()) {
            s.spawn(|| loop {
                let Some((_, name, d, outage)) = queue.lock().unwrap().pop() else {
                    break;
                };
                let (ok, text) =
                    crate::support::promtool(&d, &["test", "rules", "outage.yaml", "steady.yaml"]);
                println!(
                    "scrape_intervals: {name:>9}: an outage pages within {} {}",
                    format_duration(Duration::from_secs(outage.as_secs())),
                    if ok { "ok" } else { "FAILED" }
                );
                if !ok {
                    failures.lock().unwrap().push(format!("{name}:\n{text}"));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The detection table of SPEC.md, from the plan itself (`UPDATE_DOCS=1` rewrites it).
#[test]
fn the_detection_table_in_spec_md_is_the_plan() {
    let mut table = String::from(
        "| period | scrape | raw range (base) | evaluated every | fastest page pair | full outage pages within | 20x burn pages within |\n| --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let services = services();
    for p in PERIODS {
        for scrape in ["15s", "1m"] {
            let svc = services
                .iter()
                .find(|s| s.name == format!("scrape-{scrape}"))
                .unwrap();
            let slo = svc.slos.iter().find(|o| o.period.text == *p).unwrap();
            let plan = slo_eval::plan(slo);
            let page = &plan.tiers[0];
            let fast = page
                .pairs
                .iter()
                .max_by(|a, b| a.burn_rate.to_f64().total_cmp(&b.burn_rate.to_f64()))
                .unwrap();
            let budget = slo.objective.budget_decimal().to_f64();
            let at = |burn: f64| {
                plan.detection(page, burn)
                    .map(|d| format_duration(Duration::from_secs((d + plan.latency()).as_secs())))
                    .unwrap_or_else(|| "never".into())
            };
            table += &format!(
                "| {p} | {scrape} | {} | {} | {} / {} at {}x | {} | {} |\n",
                format_duration(plan.base),
                format_duration(plan.interval),
                format_duration(fast.long),
                format_duration(fast.short),
                fast.burn_rate.to_f64(),
                at(1.0 / budget),
                at(20.0),
            );
        }
    }
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../slo-spec/SPEC.md"));
    let text = std::fs::read_to_string(path).unwrap();
    let (begin, end) = ("<!-- detection-table -->\n", "<!-- /detection-table -->");
    let (head, rest) = text
        .split_once(begin)
        .expect("SPEC.md has the detection table markers");
    let (_, tail) = rest.split_once(end).unwrap();
    let want = format!("{head}{begin}{table}{end}{tail}");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    assert!(
        text == want,
        "SPEC.md's detection table is stale: run `UPDATE_DOCS=1 cargo test -p slo-gen --test scrape_intervals detection_table`"
    );
}
