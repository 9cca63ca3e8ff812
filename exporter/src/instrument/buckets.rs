//! Histogram buckets that contain every latency threshold of the specs.

use slo_spec::{Service, Sli};

include!(concat!(env!("OUT_DIR"), "/spec_thresholds.rs"));

/// Baseline request-latency buckets in seconds (Prometheus client defaults).
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The default buckets merged with `thresholds`, sorted, without duplicates.
pub fn merged(thresholds: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut out: Vec<f64> = DEFAULT_BUCKETS.iter().copied().chain(thresholds).collect();
    out.sort_by(f64::total_cmp);
    out.dedup();
    out
}

/// The buckets of the request-latency histogram this binary emits: the defaults plus
/// every threshold of the specs it was built with.
pub fn request_buckets() -> Vec<f64> {
    merged(SPEC_THRESHOLDS.iter().copied())
}

/// The default buckets merged with every latency threshold of `services`. The bound for
/// `300ms` is exactly `0.3`, so the `le="0.3"` series the rules read exists.
pub fn latency_buckets(services: &[Service]) -> Vec<f64> {
    merged(
        services
            .iter()
            .flat_map(|s| &s.slos)
            .filter_map(|slo| match &slo.sli {
                Sli::Latency(l) => l.le().parse::<f64>().ok(),
                _ => None,
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use slo_spec::{check, Source};

    fn spec(threshold: &str) -> Source {
        Source {
            path: "t.yaml".into(),
            text: format!(
                "version: v1\nservice: s\nowner: o\nslos:\n  - name: l\n    description: d\n    objective: 99\n    sli:\n      latency: {{histogram: h, threshold: {threshold}}}\n    alerting: {{disabled: true}}\n"
            ),
        }
    }

    #[test]
    fn thresholds_become_buckets() {
        for (threshold, bound) in [
            ("300ms", 0.3),
            ("1500ms", 1.5),
            ("250ms", 0.25),
            ("2s", 2.0),
        ] {
            let checked = check(&[spec(threshold)]);
            assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
            let b = latency_buckets(&checked.services);
            assert!(b.contains(&bound), "{threshold}: {b:?}");
            assert!(b.windows(2).all(|w| w[0] < w[1]), "sorted, unique: {b:?}");
        }
    }

    #[test]
    fn repository_thresholds_are_buckets() {
        let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../slos"));
        let files = slo_spec::discover(&[root.to_path_buf()]).unwrap();
        let (sources, _) = slo_spec::read_sources(&files).unwrap();
        let checked = check(&sources);
        let b = latency_buckets(&checked.services);
        let mut thresholds = 0;
        for slo in checked.services.iter().flat_map(|s| &s.slos) {
            if let Sli::Latency(l) = &slo.sli {
                thresholds += 1;
                assert!(b.contains(&l.le().parse().unwrap()), "{}", l.threshold_text);
            }
        }
        assert!(thresholds >= 3);
        // The binary was built with the same thresholds.
        assert_eq!(request_buckets(), b);
    }
}
