//! Every Sloth example loads through the `prometheus/v1` import, and the SLOs, objectives,
//! SLI queries and alert names we read match what Sloth compiled from them (`out/`).

use serde_json::Value;
use slo_spec::{check, Numerator, Service, Sli, Source};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/sloth")
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// What Sloth compiled, per `sloth_id`: the 5m SLI expression, the objective ratio, and
/// the alert names.
#[derive(Default, Debug)]
struct Compiled {
    sli_5m: Option<String>,
    objective: Option<f64>,
    alerts: Vec<String>,
}

fn sloth_output(path: &Path) -> BTreeMap<String, Compiled> {
    let text = std::fs::read_to_string(path).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
    let mut out: BTreeMap<String, Compiled> = BTreeMap::new();
    for doc in docs {
        // Plain rule files, or prometheus-operator `PrometheusRule`s (from the CRD).
        let groups = match doc["groups"].as_array() {
            Some(g) => g.clone(),
            None => doc["spec"]["groups"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        };
        for group in &groups {
            let name = group["name"].as_str().unwrap();
            for rule in group["rules"].as_array().unwrap() {
                let id = rule["labels"]["sloth_id"].as_str().map(str::to_string);
                match (rule["record"].as_str(), rule["alert"].as_str()) {
                    (Some("slo:sli_error:ratio_rate5m"), _) => {
                        out.entry(id.unwrap()).or_default().sli_5m =
                            Some(squash(rule["expr"].as_str().unwrap()));
                    }
                    (Some("slo:objective:ratio"), _) => {
                        let expr = rule["expr"].as_str().unwrap();
                        let n = expr
                            .trim()
                            .trim_start_matches("vector(")
                            .trim_end_matches(')');
                        out.entry(id.unwrap()).or_default().objective = Some(n.parse().unwrap());
                    }
                    (None, Some(alert)) => {
                        let id = name.strip_prefix("sloth-slo-alerts-").unwrap().to_string();
                        out.entry(id).or_default().alerts.push(alert.to_string());
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

fn ours(services: &[Service]) -> BTreeMap<String, Compiled> {
    let mut out = BTreeMap::new();
    for svc in services {
        for slo in &svc.slos {
            let sli = match &slo.sli {
                Sli::Ratio(r) => {
                    let Numerator::Errors(e) = &r.numerator else {
                        panic!("Sloth has no good query")
                    };
                    format!("({})/({})", e.render("5m"), r.total.render("5m"))
                }
                Sli::Raw(r) => format!("({})", r.error_ratio.render("5m")),
                other => panic!("Sloth has no {} SLI", other.kind()),
            };
            let a = &slo.alerting;
            let alerts = [(&a.page, "page"), (&a.ticket, "ticket")]
                .iter()
                .filter(|(t, _)| !a.disabled && !t.disabled)
                .map(|_| a.name.clone())
                .collect();
            out.insert(
                format!("{}-{}", svc.name, slo.name),
                Compiled {
                    sli_5m: Some(squash(&sli)),
                    objective: Some(slo.objective.ratio()),
                    alerts,
                },
            );
        }
    }
    out
}

#[test]
fn every_sloth_example_loads_and_matches_sloth_output() {
    let mut files: Vec<_> = std::fs::read_dir(corpus().join("in"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 9, "corpus missing: {files:?}");
    for input in files {
        let name = input.file_name().unwrap().to_owned();
        let source = Source {
            path: input.display().to_string(),
            text: std::fs::read_to_string(&input).unwrap(),
        };
        let checked = check(&[source]);
        let errors = checked.errors();
        assert!(errors.is_empty(), "{name:?}: {errors:#?}");
        let expected = sloth_output(&corpus().join("out").join(&name));
        let got = ours(&checked.services);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{name:?}"
        );
        for (id, want) in &expected {
            let have = &got[id];
            assert_eq!(have.sli_5m, want.sli_5m, "{name:?} {id}: SLI query");
            let (h, w) = (have.objective.unwrap(), want.objective.unwrap());
            assert!((h - w).abs() < 1e-9, "{name:?} {id}: objective {h} vs {w}");
            assert_eq!(have.alerts, want.alerts, "{name:?} {id}: alerts");
        }
    }
}

/// Sloth's OpenSLO `v1alpha` examples: one SLO per objective, with the ids and objectives
/// Sloth gave them (its SLI is `1 - good/total`, ours the good-over-total ratio itself).
#[test]
fn sloth_openslo_examples_match_sloth_ids_and_objectives() {
    for name in [
        "openslo-getting-started.yml",
        "openslo-kubernetes-apiserver.yml",
    ] {
        let input = corpus().join("more").join(name);
        let checked = check(&[Source {
            path: input.display().to_string(),
            text: std::fs::read_to_string(&input).unwrap(),
        }]);
        assert!(!checked.has_errors(), "{name}: {:#?}", checked.diagnostics);
        let expected = sloth_output(&corpus().join("more/out").join(name));
        let mut got = BTreeMap::new();
        for svc in &checked.services {
            for slo in &svc.slos {
                got.insert(format!("{}-{}", svc.name, slo.name), slo.objective.ratio());
            }
        }
        let want: BTreeMap<String, f64> = expected
            .iter()
            .filter_map(|(id, c)| c.objective.map(|o| (id.clone(), o)))
            .collect();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{name}"
        );
        for (id, o) in &want {
            assert!(
                (got[id] - o).abs() < 1e-9,
                "{name} {id}: {} vs {o}",
                got[id]
            );
        }
    }
}
