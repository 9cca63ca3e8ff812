//! One data-driven case per validation rule: a spec and the diagnostics it must produce,
//! as `line:col CODE message`.
//! Long: one data-driven case per validation rule, a table by design.

use slo_spec::{check, Source};

const VALID_SLO: &str = r#"  - name: api-availability
    description: Requests succeed.
    objective: 99.9
    sli:
      ratio:
        errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))
        total: sum(rate(http_requests_total[{{window}}]))
    alerting:
      annotations: {runbook_url: https://runbooks.example.com/a}
"#;

fn spec(slos: &str) -> String {
    format!("version: v1\nservice: api\nowner: team-a\nslos:\n{slos}")
}

fn run(files: &[(&str, &str)]) -> Vec<String> {
    crate::support::diagnostic_lines(&crate::support::check_files(files))
}

#[track_caller]
fn check_one(src: &str, expected: &[&str]) {
    let got = run(&[("t.yaml", src)]);
    let got: Vec<&str> = got
        .iter()
        .map(|s| s.strip_prefix("t.yaml:").unwrap_or(s))
        .collect();
    assert_eq!(got, expected, "\n--- spec ---\n{src}");
}

#[test]
fn valid_spec_has_no_diagnostics() {
    check_one(&spec(VALID_SLO), &[]);
}

#[test]
fn unknown_fields_suggest_the_closest_name() {
    check_one(
        &spec(&VALID_SLO.replace("objective:", "objetive:")),
        &[
            "5:5 E004 missing required field `objective` in the SLO",
            "7:5 E002 unknown field `objetive` in an SLO",
        ],
    );
    check_one(
        &format!("version: v1\nservice: api\nowner: a\nperiode: 30d\nslos:\n{VALID_SLO}"),
        &["4:1 E002 unknown field `periode` in the spec"],
    );
}

#[test]
fn wrong_types() {
    check_one(
        &spec(&VALID_SLO.replace("objective: 99.9", "objective: \"99.9\"")),
        &["7:16 E003 `objective` must be a number, found a string"],
    );
    check_one(
        &format!("version: v1\nservice: api\nowner: a\nlabels: {{tier: 1}}\nslos:\n{VALID_SLO}"),
        &["4:16 E003 `labels.tier` must be a string, found a number"],
    );
    check_one(
        "version: v1\nservice: api\nowner: a\nslos: {}\n",
        &["4:7 E003 `slos` must be a list, found a mapping"],
    );
}

#[test]
fn objective_range() {
    for (objective, col) in [("100", 16), ("0", 16), ("-5", 16), ("150.5", 16)] {
        check_one(
            &spec(&VALID_SLO.replace("99.9", objective)),
            &[&format!(
                "7:{col} E007 objective must be between 0 and 100 (exclusive), got {objective}"
            )],
        );
    }
}

/// A percentage written as a ratio would give alerts that never fire: refused, with the
/// percentage meant. Low objectives are allowed with a warning.
#[test]
fn objectives_are_percentages() {
    for (objective, want) in [
        (
            "0.999",
            "7:16 E007 objective 0.999 means 0.999% of events good, so alerts would never fire",
        ),
        (
            "0.5",
            "7:16 E007 objective 0.5 means 0.5% of events good, so alerts would never fire",
        ),
        (
            "1",
            "7:16 E007 objective 1 means 1% of events good, so alerts would never fire",
        ),
        (
            "\"99%\"",
            "7:16 E003 `objective` must be a number, found a string",
        ),
        (
            "85",
            "7:16 W004 objective 85% is unusually low: it lets 15% of events fail",
        ),
    ] {
        check_one(&spec(&VALID_SLO.replace("99.9", objective)), &[want]);
    }
    check_one(&spec(&VALID_SLO.replace("99.9", "90")), &[]);
    let helps: Vec<Option<String>> = ["0.999", "1", "\"99%\""]
        .iter()
        .map(|o| {
            let text = spec(&VALID_SLO.replace("99.9", o));
            check(&[Source {
                path: "t.yaml".into(),
                text,
            }])
            .diagnostics[0]
                .help
                .clone()
        })
        .collect();
    assert_eq!(
        helps,
        [
            Some("objectives are percentages: write `99.9` for 99.9%".to_string()),
            Some(
                "objectives are percentages of good events: write e.g. `99.9` for 99.9%"
                    .to_string()
            ),
            Some(
                "write `99`: the number is already a percentage, without the `%` sign".to_string()
            ),
        ]
    );
}

#[test]
fn first_hour_mistakes_get_the_fix_in_the_help() {
    let help = |text: &str| -> Vec<String> {
        check(&[Source {
            path: "t.yaml".into(),
            text: text.into(),
        }])
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code, d.help.clone().unwrap_or_default()))
        .collect()
    };
    assert_eq!(
        help("version: openslo/v1\nkind: SLO\n"),
        ["E005 OpenSLO files use `apiVersion: openslo/v1` (with `kind: SLO`), not `version:`"]
    );
    let upper = spec(&VALID_SLO.replace("    sli:", "    SLI:"));
    assert!(
        help(&upper).contains(&"E002 did you mean `sli`?".to_string()),
        "{:?}",
        help(&upper)
    );
}

#[test]
fn group_by_needs_label_names_and_matching_queries() {
    let grouped = |group_by: &str, errors: &str, total: &str| {
        spec(&format!(
            "  - name: p\n    description: d\n    objective: 99.9\n    group_by: {group_by}\n    sli:\n      ratio:\n        errors: '{errors}'\n        total: '{total}'\n    alerting: {{disabled: true}}\n"
        ))
    };
    let by = "sum by (provider) (rate(x_total{code=\"5\"}[{{window}}]))";
    let total = "sum by (provider) (rate(x_total[{{window}}]))";
    check_one(&grouped("[provider]", by, total), &[]);
    check_one(
        &grouped("[provider]", by, "sum(rate(x_total[{{window}}]))"),
        &["12:16 E023 `sli.ratio.total` must aggregate by exactly the `group_by` labels (provider), but is not aggregated `by` them"],
    );
    check_one(
        &grouped("[provider]", "sum by (route) (rate(x_total{code=\"5\"}[{{window}}]))", total),
        &["11:17 E023 `sli.ratio.errors` must aggregate by exactly the `group_by` labels (provider), but keeps `route`"],
    );
    let help = check(&[Source {
        path: "t.yaml".into(),
        text: grouped("[provider]", by, "sum(rate(x_total[{{window}}]))"),
    }])
    .diagnostics[0]
        .help
        .clone();
    assert_eq!(
        help.as_deref(),
        Some("write `sum by (provider) (rate(x_total[{{window}}]))`")
    );
    check_one(
        &grouped("[provider, slo, provider, 1x]", by, total),
        &[
            "8:26 E015 `slo` is set by the generated rules and cannot be used in `group_by`",
            "8:31 E015 `provider` is listed twice in `group_by`",
            "8:41 E015 `1x` is not a valid Prometheus label name",
        ],
    );
    check_one(
        &grouped("[]", by, total),
        &["8:15 E004 `group_by` is empty"],
    );
}

#[test]
fn breakdown_names_labels_of_an_event_sli_outside_the_groups() {
    let with = |slo: &str, breakdown: &str| {
        spec(&slo.replace(
            "    alerting:\n",
            &format!("    alerting:\n      breakdown: {breakdown}\n"),
        ))
    };
    check_one(&with(VALID_SLO, "[account, route]"), &[]);
    check_one(
        &with(VALID_SLO, "[account, slo, account, 1x]"),
        &[
            "13:28 E015 `slo` is set by the generated rules and cannot be used in `alerting.breakdown`",
            "13:33 E015 `account` is listed twice in `alerting.breakdown`",
            "13:42 E015 `1x` is not a valid Prometheus label name",
        ],
    );
    check_one(
        &with(VALID_SLO, "[a, b, c, d]"),
        &["13:18 E028 `alerting.breakdown` lists 4 labels; at most 3 break an alert down"],
    );
    check_one(
        &with(VALID_SLO, "[]"),
        &["13:18 E004 `alerting.breakdown` is empty"],
    );
    let grouped = VALID_SLO
        .replace("    sli:\n", "    group_by: [provider]\n    sli:\n")
        .replace("sum(rate", "sum by (provider) (rate");
    check_one(
        &with(&grouped, "[account, provider]"),
        &["14:18 E028 `provider` is in `group_by`: each of its values already has its own alert"],
    );
    let freshness = r#"  - name: export
    description: d
    objective: 99
    sli:
      freshness: {metric: export_last_success_timestamp_seconds, max_age: 15m}
    alerting:
      annotations: {runbook_url: https://runbooks.example.com/a}
"#;
    check_one(
        &with(freshness, "[target]"),
        &["11:18 E028 a freshness SLI has no error events to break down"],
    );
}

#[test]
fn deploy_gates_need_a_budget_share_under_100() {
    let gate = |g: &str| {
        spec(&VALID_SLO.replace("    sli:\n", &format!("    deploy_gate: {g}\n    sli:\n")))
    };
    check_one(&gate("{min_budget: 25}"), &[]);
    check_one(&gate("{min_budget: 0}"), &[]);
    check_one(
        &gate("{min_budget: 100}"),
        &["8:31 E029 `deploy_gate.min_budget` must be at least 0 and under 100, got 100"],
    );
    check_one(
        &gate("{min_budget: -1}"),
        &["8:31 E029 `deploy_gate.min_budget` must be at least 0 and under 100, got -1"],
    );
    check_one(
        &gate("{}"),
        &["8:18 E004 missing required field `min_budget` in deploy_gate"],
    );
    check_one(
        &gate("{min_budgets: 5}"),
        &[
            "8:18 E004 missing required field `min_budget` in deploy_gate",
            "8:19 E002 unknown field `min_budgets` in deploy_gate",
        ],
    );
}

#[test]
fn absent_alerts_are_configurable() {
    let slo = |absent: &str| {
        spec(&VALID_SLO.replace(
            "    alerting:\n",
            &format!("    alerting:\n      absent: {absent}\n"),
        ))
    };
    check_one(&slo("{for: 30m, severity: page, labels: {team: x}}"), &[]);
    check_one(&slo("{disabled: true}"), &[]);
    check_one(
        &slo("{for: 30, severty: page}"),
        &[
            "13:21 E003 `alerting.absent.for` must be a duration string, found a number",
            "13:25 E002 unknown field `severty` in alerting.absent",
        ],
    );
    check_one(
        &slo("{labels: {severity: page}}"),
        &["13:25 E015 label `severity` in alerting.absent.labels is set by the generated rules"],
    );
}

#[test]
fn durations() {
    check_one(
        &format!("version: v1\nservice: api\nowner: a\nperiod: 30x\nslos:\n{VALID_SLO}"),
        &["4:9 E008 invalid `period`: `30x` is not a duration"],
    );
    check_one(
        &format!("version: v1\nservice: api\nowner: a\nperiod: 5m\nslos:\n{VALID_SLO}"),
        &["4:9 E008 `period` must be between 1h and 366d, got `5m`"],
    );
    check_one(
        &spec(
            "  - name: lat\n    description: d\n    objective: 99\n    sli:\n      latency: {histogram: h, threshold: 300}\n",
        ),
        &[
            "9:42 E003 `sli.latency.threshold` must be a duration string, found a number",
        ],
    );
}

#[test]
fn duplicate_names_within_and_across_files() {
    check_one(
        &spec(&format!("{VALID_SLO}{VALID_SLO}")),
        &["14:11 E010 SLO `api-availability` is declared twice in this file"],
    );
    let got = run(&[("a.yaml", &spec(VALID_SLO)), ("b.yaml", &spec(VALID_SLO))]);
    assert_eq!(got, ["b.yaml:2:10 E009 service `api` is declared twice",]);
}

#[test]
fn sli_kind_count() {
    check_one(
        &spec("  - name: x\n    description: d\n    objective: 99\n    sli: {}\n"),
        &["8:10 E011 `sli` declares no SLI kind"],
    );
    check_one(
        &spec(
            "  - name: x\n    description: d\n    objective: 99\n    sli:\n      raw: {error_ratio: 'x[{{window}}]'}\n      freshness: {metric: m, max_age: 5m}\n",
        ),
        &["10:7 E011 `sli` declares both `raw` and `freshness`"],
    );
}

#[test]
fn invalid_promql_points_into_the_query() {
    // The column of the unclosed parenthesis, inside the YAML scalar.
    check_one(
        &spec(&VALID_SLO.replace("total: sum(rate(", "total: sum((rate(")),
        &["11:19 E012 invalid PromQL in `sli.ratio.total`: unclosed left parenthesis"],
    );
    // A bad duration token inside a block scalar maps to its own line.
    check_one(
        &spec(
            "  - name: x\n    description: d\n    objective: 99\n    sli:\n      raw:\n        error_ratio: |\n          sum(rate(a[{{window}}]))\n          / sum(rate(b[5x]))\n",
        ),
        &["12:24 E012 invalid PromQL in `sli.raw.error_ratio`: bad number or duration syntax: 5x"],
    );
    check_one(
        &spec(&VALID_SLO.replace(
            "[{{window}}]))\n        total",
            "[{{windw}}]))\n        total",
        )),
        &["10:59 E012 unknown placeholder `{{windw}}` in `sli.ratio.errors`"],
    );
}

#[test]
fn missing_window_placeholder() {
    check_one(
        &spec(&VALID_SLO.replace(
            "total: sum(rate(http_requests_total[{{window}}]))",
            "total: sum(rate(http_requests_total[5m]))",
        )),
        &["11:16 E013 `sli.ratio.total` has no `{{window}}` placeholder"],
    );
}

#[test]
fn errors_and_total_must_read_one_metric_family() {
    check_one(
        &spec(&VALID_SLO.replace("total: sum(rate(http_requests_total", "total: sum(rate(grpc_requests_total")),
        &["11:16 E014 `errors` reads `http_requests_total` but `total` reads `grpc_requests_total`"],
    );
    // A histogram's `_bucket` and `_count` are one family.
    check_one(
        &spec(
            &VALID_SLO
                .replace(
                    "errors: sum(rate(http_requests_total{code=~\"5..\"}",
                    "good: sum(rate(h_bucket{le=\"0.3\"}",
                )
                .replace(
                    "total: sum(rate(http_requests_total",
                    "total: sum(rate(h_count",
                ),
        ),
        &[],
    );
}

#[test]
fn label_names_and_values() {
    check_one(
        &format!("version: v1\nservice: api\nowner: a\nlabels: {{1tier: a, slo: b, team: '', x: '{{{{ $v }}}}'}}\nslos:\n{VALID_SLO}"),
        &[
            "4:10 E015 `1tier` is not a valid Prometheus label name",
            "4:20 E015 label `slo` in labels is set by the generated rules",
            "4:34 E016 label `team` has an empty value",
            "4:41 E016 label `x` contains template braces",
        ],
    );
}

#[test]
fn labels_the_alerts_set_are_reserved() {
    check_one(
        &format!(
            "version: v1\nservice: api\nowner: a\nlabels: {{slo_tier: x}}\nslos:\n{VALID_SLO}"
        ),
        &["4:10 E015 label `slo_tier` in labels is set by the generated rules"],
    );
}

#[test]
fn alert_names() {
    let a = "version: v1\nservice: a-b\nowner: t\nslos:\n".to_string()
        + &VALID_SLO.replace("api-availability", "c");
    let b = "version: v1\nservice: a\nowner: t\nslos:\n".to_string()
        + &VALID_SLO.replace("api-availability", "b-c");
    assert_eq!(
        run(&[("a.yaml", &a), ("b.yaml", &b)]),
        ["b.yaml:5:11 E017 alert name `ABC` of SLO `a/b-c` is also used by `a-b/c`"]
    );
    check_one(
        &spec(&VALID_SLO.replace("    alerting:\n", "    alerting:\n      name: 9-bad\n")),
        &["13:13 E006 `9-bad` is not a valid alert name"],
    );
}

#[test]
fn unsupported_version() {
    check_one(
        &format!("version: v2\nservice: api\nowner: a\nslos:\n{VALID_SLO}"),
        &["1:10 E005 unsupported version `v2`"],
    );
    check_one(
        "service: api\n",
        &["1:1 E004 missing required field `version`"],
    );
}

#[test]
fn names_must_be_slugs() {
    check_one(
        &format!("version: v1\nservice: Payments API\nowner: a\nslos:\n{VALID_SLO}"),
        &["2:10 E006 service `Payments API` is not a valid name"],
    );
}

#[test]
fn selectors() {
    check_one(
        &spec(
            "  - name: lat\n    description: d\n    objective: 99\n    sli:\n      latency:\n        histogram: h\n        selector: '{le=\"0.3\"}'\n        threshold: 300ms\n    alerting: {disabled: true}\n",
        ),
        &["11:21 E019 `sli.latency.selector` must not match on `le`"],
    );
    check_one(
        &spec(
            "  - name: f\n    description: d\n    objective: 99\n    sli:\n      freshness:\n        metric: m\n        selector: 'job=\"x\"'\n        max_age: 5m\n    alerting: {disabled: true}\n",
        ),
        &["11:19 E019 `sli.freshness.selector` must be a label selector in braces"],
    );
}

#[test]
fn freshness_reads_a_last_success_or_an_age() {
    let fresh = |body: &str| {
        spec(&format!(
            "  - name: f\n    description: d\n    objective: 99\n    sli:\n      freshness: {{{body}}}\n    alerting: {{disabled: true}}\n"
        ))
    };
    check_one(&fresh("metric: m, max_age: 5m"), &[]);
    check_one(&fresh("age: lag_seconds, max_age: 5m"), &[]);
    check_one(
        &fresh("metric: m, age: lag_seconds, max_age: 5m"),
        &["9:30 E011 `sli.freshness` has both `metric` and `age`"],
    );
    check_one(
        &fresh("max_age: 5m"),
        &["9:18 E004 `sli.freshness` needs `metric` or `age`"],
    );
    check_one(
        &fresh("age: 1lag, max_age: 5m"),
        &["9:24 E006 `1lag` is not a valid metric name for `sli.freshness.age`"],
    );
}

#[test]
fn warnings() {
    check_one(
        &spec(&VALID_SLO.replace("99.9", "99.9999")),
        &["7:16 W001 objective 99.9999% leaves an error budget of 2.6s over 30d"],
    );
}

#[test]
fn empty_and_junk_files() {
    check_one("", &["1:1 E020 the file holds no spec"]);
    check_one("# only a comment\n", &["1:1 E020 the file holds no spec"]);
    check_one(
        "- a\n- b\n",
        &["1:1 E003 `the spec` must be a mapping, found a list"],
    );
    let got = run(&[("t.yaml", "\u{0}\u{1}\u{2}garbage: [")]);
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("E001"), "{got:?}");
}

#[test]
fn alert_policy_overrides() {
    let with = |alerting: &str| {
        spec(&VALID_SLO.replace("    alerting:\n", &format!("    alerting:\n{alerting}")))
    };
    check_one(
        &with("      min_events: 100\n      page:\n        for: 2m\n        windows:\n          - {long: 1h, short: 5m, burn_rate: 14.4}\n"),
        &[],
    );
    check_one(
        &with(
            "      page:\n        windows:\n          - {long: 5m, short: 1h, burn_rate: 14.4}\n",
        ),
        &["15:13 E022 short window `1h` is not shorter than long window `5m`"],
    );
    check_one(
        &with(
            "      ticket:\n        windows:\n          - {long: 3d, short: 6h, burn_rate: 20}\n",
        ),
        &["15:11 E022 burn rate 20 over 3d spends 200% of the 30d budget before it can fire"],
    );
    check_one(
        &with("      page:\n        windows:\n          - {long: 31d, short: 1h, burn_rate: 1}\n"),
        &["15:11 E022 long window 31d is longer than the period 30d"],
    );
    check_one(
        &with("      page:\n        windows: []\n"),
        &["14:18 E022 `alerting.page.windows` is empty"],
    );
    check_one(
        &with("      min_events: 0\n      page:\n        windows:\n          - {long: 1h, short: 5m, burn_rate: -1}\n"),
        &[
            "13:19 E022 `alerting.min_events` must be a positive whole number",
            "16:46 E022 burn rate must be a positive number, got -1",
        ],
    );
}

#[test]
fn low_traffic_policy() {
    let with = |alerting: &str| {
        spec(&VALID_SLO.replace("    alerting:\n", &format!("    alerting:\n{alerting}")))
    };
    check_one(&with("      page:\n        confidence: 99\n"), &[]);
    check_one(&with("      ticket:\n        confidence: 50\n"), &[]);
    check_one(
        &with("      page:\n        confidence: 100\n"),
        &["14:21 E022 `alerting.page.confidence` must be a percentage from 50 up to, not including, 100, got 100"],
    );
    check_one(
        &with("      ticket:\n        confidence: 49.99\n"),
        &["14:21 E022 `alerting.ticket.confidence` must be a percentage from 50 up to, not including, 100, got 49.99"],
    );
    let rate = |r: &str| {
        spec(&VALID_SLO.replace(
            "    objective: 99.9\n",
            &format!("    objective: 99.9\n    expected_rate: {r}\n"),
        ))
    };
    // One event a second fills every window; one an hour fills none.
    check_one(&rate("1"), &[]);
    check_one(
        &rate("0.0002778"),
        &["8:20 W008 at 0.0002778 events/s no tier can fire at its threshold: the fastest pair's 1h window holds 1.0 events, and errors at 14.4x need 191 to stand out from a healthy service"],
    );
    check_one(
        &rate("-1"),
        &["8:20 E022 `expected_rate` must be a positive number of events per second, got -1"],
    );
}
