//! Derives the latency histogram's buckets from the specs in `../slos` at build time, so
//! every latency threshold is an exact bucket boundary of the binary that serves it.

use std::path::PathBuf;

fn main() {
    let slos = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../slos");
    println!("cargo:rerun-if-changed={}", slos.display());
    let mut thresholds: Vec<String> = Vec::new();
    if let Ok(files) = slo_spec::discover(std::slice::from_ref(&slos)) {
        for f in &files {
            println!("cargo:rerun-if-changed={}", f.display());
        }
        if let Ok((sources, _)) = slo_spec::read_sources(&files) {
            let checked = slo_spec::check(&sources);
            for slo in checked.services.iter().flat_map(|s| &s.slos) {
                if let slo_spec::Sli::Latency(l) = &slo.sli {
                    thresholds.push(l.le());
                }
            }
        }
    }
    thresholds.sort();
    thresholds.dedup();
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("spec_thresholds.rs");
    let body = thresholds
        .iter()
        .map(|t| format!("{t}_f64"))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(out, format!("/// Latency thresholds (seconds) of the specs in slos/.\npub const SPEC_THRESHOLDS: &[f64] = &[{body}];\n")).unwrap();
}
