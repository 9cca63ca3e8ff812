//! `spec-set N DIR`: writes the generated spec set of `N` SLOs (see `e2e::specs`) into
//! `DIR`, one file per service, for timing `slo-gen` itself on it.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [n, dir] = args.as_slice() else {
        eprintln!("usage: spec-set N DIR");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("N must be a whole number, not `{n}`");
        return ExitCode::from(2);
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("{dir}: {e}");
        return ExitCode::from(2);
    }
    for source in e2e::specs::generated(n) {
        let path = std::path::Path::new(dir).join(&source.path);
        if let Err(e) = std::fs::write(&path, source.text) {
            eprintln!("{}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
