//! `cargo run -p e2e --bin demo`: the end-to-end stack for a person. Prints the URLs,
//! echoes Alertmanager notifications, and stops every process on Ctrl-C.

use std::path::Path;

fn main() {
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("slos");
    let stack = match e2e::Stack::start(&slos, 20.0, true) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("demo: {e}");
            std::process::exit(2);
        }
    };
    println!("billing-exporter  {}/metrics", stack.exporter_url);
    println!("prometheus        {}/alerts", stack.prometheus_url);
    println!("alertmanager      {}", stack.alertmanager_url);
    println!(
        "inject a fault:   curl -X PUT -d 0.2 {}/faults/payments.error_rate",
        stack.admin_url
    );
    println!(
        "remove it:        curl -X DELETE {}/faults/payments.error_rate",
        stack.admin_url
    );
    println!(
        "working dir       {} (rules, dashboards, logs)",
        stack.dir.path().display()
    );
    println!("Ctrl-C stops everything.");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    println!("stopping...");
    drop(stack);
    println!("stopped");
}
