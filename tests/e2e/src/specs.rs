//! Generated spec sets for compilation at scale: `n` SLOs, 20 per service; ratio,
//! latency, freshness and raw SLIs, every eighth one grouped. What `cargo bench --bench
//! compile` compiles in memory and `scripts/bench compile` writes to disk
//! (`spec-set N DIR`) for `slo-gen` itself.

use std::fmt::Write as _;

fn slo(o: usize, s: usize) -> String {
    let head =
        format!("  - name: slo-{o:02}\n    description: Generated SLO {o} of service {s}.\n");
    let sli = match o % 4 {
        0 if o.is_multiple_of(8) => format!("    objective: 99.9\n    group_by: [region]\n    sli:\n      ratio:\n        errors: sum by (region) (rate(http_requests_total{{svc=\"{s}\",ep=\"{o}\",code=~\"5..\"}}[{{{{window}}}}]))\n        total: sum by (region) (rate(http_requests_total{{svc=\"{s}\",ep=\"{o}\"}}[{{{{window}}}}]))\n"),
        0 => format!("    objective: 99.9\n    sli:\n      ratio:\n        errors: sum(rate(http_requests_total{{svc=\"{s}\",ep=\"{o}\",code=~\"5..\"}}[{{{{window}}}}]))\n        total: sum(rate(http_requests_total{{svc=\"{s}\",ep=\"{o}\"}}[{{{{window}}}}]))\n"),
        1 => format!("    objective: 99\n    sli:\n      latency:\n        histogram: http_request_duration_seconds\n        selector: '{{svc=\"{s}\",ep=\"{o}\"}}'\n        threshold: 500ms\n"),
        2 => format!("    objective: 99\n    sli:\n      freshness:\n        metric: job_last_success_timestamp_seconds\n        selector: '{{svc=\"{s}\",job=\"{o}\"}}'\n        max_age: 10m\n"),
        _ => format!("    objective: 99.5\n    sli:\n      raw:\n        error_ratio: sum(rate(errors_total{{svc=\"{s}\",ep=\"{o}\"}}[{{{{window}}}}])) / sum(rate(requests_total{{svc=\"{s}\",ep=\"{o}\"}}[{{{{window}}}}]))\n"),
    };
    format!("{head}{sli}    alerting:\n      annotations: {{runbook_url: https://runbooks.example.com/{s}/{o}}}\n")
}

/// The spec files of `n` SLOs.
pub fn generated(n: usize) -> Vec<slo_spec::Source> {
    (0..n.div_ceil(20))
        .map(|s| {
            let mut text = format!(
                "version: v1\nservice: svc-{s:04}\nowner: team-{}\nslos:\n",
                s % 13
            );
            for o in 0..20.min(n - s * 20) {
                let _ = write!(text, "{}", slo(o, s));
            }
            slo_spec::Source {
                path: format!("svc-{s:04}.yaml"),
                text,
            }
        })
        .collect()
}
