//! `cargo run -p e2e --bin demo`: the end-to-end stack for a person. Prints URLs that were
//! checked to answer, echoes Alertmanager notifications, and on Ctrl-C (or SIGTERM) stops
//! every process and keeps the working directory with the logs.

use std::path::Path;

fn main() {
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("slos");
    let mut stack = match e2e::Stack::start(&slos, 20.0, true) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("demo: {e}");
            std::process::exit(2);
        }
    };
    for (label, url) in stack.links() {
        println!("{label:18}{url}");
    }
    match e2e::start_serve(&slos, &stack.prometheus_url) {
        Ok(url) => println!("{:18}{url}", "slo-gen serve"),
        Err(e) => eprintln!("demo: slo-gen serve did not start: {e}"),
    }
    println!(
        "{:18}curl -X PUT -d 0.2 {}/faults/payments.error_rate",
        "inject a fault", stack.admin_url
    );
    println!(
        "{:18}curl -X DELETE {}/faults/payments.error_rate",
        "remove it", stack.admin_url
    );
    println!(
        "{:18}{} (rules, dashboards, logs)",
        "working dir",
        stack.dir.path().display()
    );
    println!("Ctrl-C stops everything and keeps the working directory.");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    });
    println!("stopping...");
    let kept = stack.keep_dir();
    drop(stack);
    println!("stopped; logs kept in {}", kept.display());
}
