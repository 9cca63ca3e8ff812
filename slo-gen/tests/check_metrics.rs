//! `slo-gen check-metrics` against saved expositions: what is missing is named, an `le`
//! that is not exactly the threshold fails, and a complete exposition passes.

use crate::support::run;

const SPEC: &str = r#"version: v1
service: checkout
owner: team-checkout
slos:
  - name: availability
    description: d
    objective: 99.9
    sli:
      ratio:
        errors: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{window}}]))
        total: sum(rate(http_requests_total{job="checkout"}[{{window}}]))
    alerting: {disabled: true}
  - name: latency
    description: d
    objective: 99
    sli:
      latency: {histogram: http_request_duration_seconds, selector: '{job="checkout"}', threshold: 300ms}
    alerting: {disabled: true}
  - name: export
    description: d
    objective: 99
    sli:
      freshness: {metric: export_last_success_timestamp_seconds, max_age: 15m}
    alerting: {disabled: true}
"#;

const COMPLETE: &str = r#"# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{job="checkout",code="200"} 10 # {trace_id="ab"} 1.0
http_requests_total{job="checkout",code="503"} 1
http_request_duration_seconds_bucket{job="checkout",le="0.1"} 3
http_request_duration_seconds_bucket{job="checkout",le="0.3"} 8
http_request_duration_seconds_bucket{job="checkout",le="+Inf"} 11
http_request_duration_seconds_count{job="checkout"} 11
export_last_success_timestamp_seconds 1.7e9
# EOF
"#;

fn check(exposition: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spec.yaml"), SPEC).unwrap();
    std::fs::write(dir.path().join("metrics.txt"), exposition).unwrap();
    run(
        dir.path(),
        &[
            "check-metrics",
            "--metrics-file",
            "metrics.txt",
            "spec.yaml",
        ],
    )
}

#[test]
fn complete_exposition_passes() {
    let (code, out, err) = check(COMPLETE);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(
        err.starts_with("5 of 5 selectors matched in 7 series"),
        "{err}"
    );
}

#[test]
fn missing_series_and_wrong_buckets_are_named() {
    let partial = COMPLETE
        .replace("http_requests_total{job=\"checkout\",code=\"503\"} 1\n", "")
        .replace("le=\"0.3\"", "le=\"0.25\"")
        .replace("export_last_success_timestamp_seconds 1.7e9\n", "");
    let (code, out, _) = check(&partial);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "checkout/availability: no series: http_requests_total{job=\"checkout\",code=~\"5..\"}\n\
         checkout/latency: no bucket at the latency threshold: http_request_duration_seconds_bucket{job=\"checkout\",le=\"0.3\"}\n\
         checkout/export: no series: export_last_success_timestamp_seconds{}\n"
    );
}

#[test]
fn label_values_must_match_not_just_names() {
    let other_job = COMPLETE.replace("job=\"checkout\"", "job=\"cart\"");
    let (code, out, _) = check(&other_job);
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 4, "{out}");
}

#[test]
fn unreadable_exposition_is_a_usage_error() {
    let (code, _, err) = check("http_requests_total{job=\"checkout 1\n");
    assert_eq!(code, 2);
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn unreachable_endpoint_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spec.yaml"), SPEC).unwrap();
    // Port 1 on loopback: nothing listens there.
    let (code, _, err) = run(
        dir.path(),
        &[
            "check-metrics",
            "--metrics-url",
            "http://127.0.0.1:1/metrics",
            "spec.yaml",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot scrape http://127.0.0.1:1/metrics"),
        "{err}"
    );
}

/// A grouped SLO needs its group labels on the exposed series.
#[test]
fn grouped_slos_need_their_group_labels() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("spec.yaml"),
        SPEC.replace(
            "  - name: availability\n    description: d\n    objective: 99.9\n    sli:\n      ratio:\n        errors: sum(rate(http_requests_total{job=\"checkout\",code=~\"5..\"}[{{window}}]))\n        total: sum(rate(http_requests_total{job=\"checkout\"}[{{window}}]))",
            "  - name: availability\n    description: d\n    objective: 99.9\n    group_by: [region]\n    sli:\n      ratio:\n        errors: sum by (region) (rate(http_requests_total{job=\"checkout\",code=~\"5..\"}[{{window}}]))\n        total: sum by (region) (rate(http_requests_total{job=\"checkout\"}[{{window}}]))",
        ),
    )
    .unwrap();
    let check = |exposition: &str| {
        std::fs::write(dir.path().join("metrics.txt"), exposition).unwrap();
        let (code, out, _) = run(
            dir.path(),
            &[
                "check-metrics",
                "--metrics-file",
                "metrics.txt",
                "spec.yaml",
            ],
        );
        (code, out)
    };
    let (code, out) = check(COMPLETE);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "checkout/availability: no series: http_requests_total{job=\"checkout\",code=~\"5..\"} with labels region\n\
         checkout/availability: no series: http_requests_total{job=\"checkout\"} with labels region\n"
    );
    let (code, out) = check(&COMPLETE.replace(
        "job=\"checkout\",code=",
        "job=\"checkout\",region=\"eu\",code=",
    ));
    assert_eq!((code, out.as_str()), (0, ""));
}
