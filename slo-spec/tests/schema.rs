//! The committed JSON Schema is current, and every spec in `slos/` satisfies it.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn committed_schema_is_current() {
    let committed = std::fs::read_to_string(root().join("slo-spec/schema/v1.json")).unwrap();
    assert!(
        committed == slo_spec::schema::json(),
        "slo-spec/schema/v1.json is stale: run `cargo run -p slo-gen -- schema > slo-spec/schema/v1.json`"
    );
}

#[test]
fn billing_specs_satisfy_the_schema_and_reference_it() {
    let schema: serde_json::Value = serde_json::from_str(&slo_spec::schema::json()).unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let mut count = 0;
    for entry in std::fs::read_dir(root().join("slos")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../slo-spec/schema/v1.json\n"),
            "{path:?} lacks the modeline"
        );
        let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{path:?}: {errors:?}");
        count += 1;
    }
    assert!(count >= 6);
}

#[test]
fn schema_rejects_what_the_loader_rejects() {
    let schema: serde_json::Value = serde_json::from_str(&slo_spec::schema::json()).unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    for bad in [
        "version: v2\nservice: a\nowner: t\nslos: [{name: x, description: d, objective: 99, sli: {raw: {error_ratio: x}}}]",
        "version: v1\nservice: A\nowner: t\nslos: [{name: x, description: d, objective: 99, sli: {raw: {error_ratio: x}}}]",
        "version: v1\nservice: a\nowner: t\nslos: [{name: x, description: d, objective: 99, sli: {}}]",
        "version: v1\nservice: a\nowner: t\nslos: [{name: x, description: d, objective: 99, sli: {raw: {error_ratio: x}}, extra: 1}]",
        "version: v1\nservice: a\nowner: t\nperiod: 30\nslos: [{name: x, description: d, objective: 99, sli: {raw: {error_ratio: x}}}]",
    ] {
        let doc: serde_json::Value = serde_saphyr::from_str(bad).unwrap();
        assert!(!validator.is_valid(&doc), "schema accepted: {bad}");
    }
}
