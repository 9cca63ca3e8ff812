//! Any bytes, as a spec file and as a PromQL query inside a valid spec: the loader must
//! never panic, hang or allocate without bound, and every diagnostic must point inside
//! the file and render.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slo_spec::{check, Source};
use std::collections::BTreeMap;

fn exercise(text: String) {
    let sources = [Source {
        path: "fuzz.yaml".into(),
        text,
    }];
    let checked = check(&sources);
    let len = sources[0].text.len();
    for d in &checked.diagnostics {
        assert!(d.span.line >= 1 && d.span.column >= 1, "{d}");
        assert!(d.span.offset + d.span.len <= len, "{d}: span past the end");
    }
    let texts: BTreeMap<String, String> = [("fuzz.yaml".to_string(), sources[0].text.clone())].into();
    let mut out = Vec::new();
    slo_spec::render::write(&mut out, slo_spec::render::Format::Human, &checked.diagnostics, &texts).unwrap();
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    exercise(text.to_string());
    // The same bytes as a query, in a single-quoted YAML scalar.
    let query = text.replace('\'', "''").replace('\n', " ");
    exercise(format!(
        "version: v1\nservice: fuzz\nowner: t\nslos:\n  - name: x\n    description: d\n    objective: 99.9\n    sli:\n      ratio:\n        errors: '{query}'\n        total: sum(rate(x_total[{{{{window}}}}]))\n"
    ));
});
