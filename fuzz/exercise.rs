//! What the fuzz targets assert of one input, shared with the corpus replay test
//! (`slo-gen/tests/fuzz_corpus.rs`), so every input the fuzzer kept is checked in CI for
//! good, without libFuzzer.

use std::collections::BTreeMap;

/// Any bytes as a spec file and as a PromQL query inside a valid spec: the loader never
/// panics, and every diagnostic points inside the file and renders.
pub fn load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    spec(text.to_string());
    // The same bytes as a query, in a single-quoted YAML scalar.
    let query = text.replace('\'', "''").replace('\n', " ");
    spec(format!(
        "version: v1\nservice: fuzz\nowner: t\nslos:\n  - name: x\n    description: d\n    objective: 99.9\n    sli:\n      ratio:\n        errors: '{query}'\n        total: sum(rate(x_total[{{{{window}}}}]))\n"
    ));
}

fn spec(text: String) {
    let sources = [slo_spec::Source {
        path: "fuzz.yaml".into(),
        text,
    }];
    let checked = slo_spec::check(&sources);
    let len = sources[0].text.len();
    for d in &checked.diagnostics {
        assert!(d.span.line >= 1 && d.span.column >= 1, "{d}");
        assert!(d.span.offset + d.span.len <= len, "{d}: span past the end");
    }
    let texts: BTreeMap<String, String> =
        [("fuzz.yaml".to_string(), sources[0].text.clone())].into();
    let mut out = Vec::new();
    slo_spec::render::write(
        &mut out,
        slo_spec::render::Format::Human,
        &checked.diagnostics,
        &texts,
    )
    .unwrap();
}

/// Any bytes as a saved backtest history and as an incidents file: reading never panics,
/// and a history that reads is replayed through `services` (refused or evaluated).
pub fn backtest(data: &[u8], services: &[slo_spec::Service]) {
    use slo_gen::backtest::{compare, history::History, replay, targets, Evaluation};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(h) = History::from_json(text) {
        let t = targets(services);
        if let Ok(run) = replay(&t, &h, Evaluation::Groups) {
            let _ = compare::diff(&run, &run);
        }
        let _ = h.to_json();
    }
    if let Ok(incidents) = compare::parse_incidents(text) {
        assert!(incidents.iter().all(|i| i.start <= i.end));
    }
}
