//! `slo-gen serve` against the e2e stack: the list, an SLO page and the API show the page
//! alert a payments fault raises; headless Chromium loads both pages with no console error
//! and saves screenshots (`SERVE_SCREENSHOTS=dir` keeps them, e.g. `docs/`); a Prometheus
//! that is not there gives 503 pages that say so, and the same server recovers when it
//! answers; every spec-supplied string is escaped; bad paths are 404 with a link home.

use e2e::{free_port, tool, wait, Stack};
use serde_json::Value;
use slo_gen::promapi::Client;
use slo_gen::serve::{router, App};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn get(url: &str) -> (u16, String) {
    get_within(url, Duration::from_secs(60))
}

fn get_within(url: &str, timeout: Duration) -> (u16, String) {
    let agent = e2e::http(timeout);
    let mut r = agent
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

/// Serves `app` on a port the system picks (port 0) from a thread of its own; returns the
/// base URL.
fn spawn(app: App) -> String {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let prefix = app.prefix.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(l, router(app)).await.unwrap();
        });
    });
    format!("http://127.0.0.1:{port}{prefix}")
}

fn app(
    services: Vec<slo_spec::Service>,
    texts: std::collections::BTreeMap<String, String>,
    prometheus: &str,
) -> App {
    App {
        services,
        texts,
        client: Client::new(prometheus).unwrap(),
        grafana_url: "http://grafana.example.com".into(),
        prefix: "/slo".into(),
        source: Default::default(),
    }
}

/// Forwards connections on `port` to `to` (host:port), from a thread of its own.
fn forward(port: u16, to: String) {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for inbound in listener.incoming().flatten() {
            let to = to.clone();
            std::thread::spawn(move || {
                let Ok(outbound) = std::net::TcpStream::connect(&to) else {
                    return;
                };
                let (mut ri, mut wi) = (inbound.try_clone().unwrap(), inbound);
                let (mut ro, mut wo) = (outbound.try_clone().unwrap(), outbound);
                let t = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut ri, &mut wo);
                    let _ = wo.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut ro, &mut wi);
                let _ = wi.shutdown(std::net::Shutdown::Write);
                let _ = t.join();
            });
        }
    });
}

/// Loads `url` in headless Chromium: its console errors, and a screenshot at `png`.
fn chromium(url: &str, png: &Path) -> Vec<String> {
    let bin = tool(&["chromium", "chromium-browser"], "chromium").unwrap_or_else(|e| panic!("{e}"));
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1400,1000",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .output()
        .unwrap();
    assert!(
        png.is_file(),
        "no screenshot of {url}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.contains("CONSOLE"))
        .map(str::to_string)
        .collect()
}

#[test]
// Long: one scenario read top to bottom; its steps share one stack and one clock.
fn on_call_sees_the_page_and_the_server_survives_prometheus() {
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("slos");
    let loaded = slo_gen::load(std::slice::from_ref(&slos)).unwrap();
    let stack = Stack::start(&slos, 40.0, false).unwrap_or_else(|e| panic!("{e}"));
    let base = spawn(app(
        loaded.checked.services.clone(),
        loaded.texts.clone(),
        &stack.prometheus_url,
    ));

    stack.fault("payments.error_rate", Some("0.3")).unwrap();
    wait("a firing page", Duration::from_secs(120), &stack, || {
        let r = stack
            .query(r#"ALERTS{alertstate="firing",slo_tier="page",slo="payment-processing"}"#)
            .ok()?;
        (!r.is_empty()).then_some(())
    });
    wait("budgets recorded", Duration::from_secs(60), &stack, || {
        let r = stack.query("slo:error_budget_remaining:ratio").ok()?;
        (!r.is_empty()).then_some(())
    });
    // Half a minute of history, so the SLO page's two-minute charts have lines to draw.
    wait(
        "half a minute of burn-rate history",
        Duration::from_secs(90),
        &stack,
        || {
            let r = stack
                .query(
                    r#"count_over_time(slo:current_burn_rate:ratio{slo="payment-processing"}[1m])"#,
                )
                .ok()?;
            r.iter()
                .any(|s| {
                    s["value"][1]
                        .as_str()
                        .and_then(|v| v.parse::<f64>().ok())
                        .unwrap_or(0.0)
                        >= 30.0
                })
                .then_some(())
        },
    );

    let (code, list) = get(&format!("{base}/"));
    assert_eq!(code, 200, "{list}");
    assert!(
        list.contains("payments/payment-processing {provider="),
        "{list}"
    );
    assert!(list.contains(r#"data-state="page""#), "{list}");
    assert!(
        list.contains("href=\"/slo/slo/payments/payment-processing\""),
        "links keep the prefix"
    );
    let (code, filtered) = get(&format!("{base}/?state=page"));
    assert_eq!(code, 200);
    assert!(filtered.matches("<tr data-state=").count() >= 1);
    assert!(
        !filtered.contains(r#"data-state="none""#),
        "the filter holds"
    );
    let (code, api) = get(&format!("{base}/api/v1/slos"));
    assert_eq!(code, 200);
    let rows: Value = serde_json::from_str(&api).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["slo"] == "payment-processing" && r["state"] == "page"),
        "{api}"
    );
    let (code, page) = get(&format!("{base}/slo/payments/payment-processing"));
    assert_eq!(code, 200);
    assert!(
        page.contains("<svg") && page.contains("Burn rate per alert window"),
        "{page}"
    );
    assert!(
        page.contains(r#"<span class="state page">page</span>"#),
        "alert history shows the page"
    );
    assert!(page.contains("sum by (provider)"), "the spec as written");
    assert!(
        page.contains("slo:sli_error:ratio_rate"),
        "the rules generated from it"
    );
    let (code, zoomed) = get(&format!("{base}/slo/payments/payment-processing?range=2m"));
    assert_eq!(code, 200);
    assert!(
        zoomed.contains("<polyline"),
        "two minutes at a fine step draw lines: {zoomed}"
    );
    assert_eq!(
        get(&format!(
            "{base}/slo/payments/payment-processing?range=soon"
        ))
        .0,
        400
    );
    let month = jiff::Timestamp::now().strftime("%Y-%m").to_string();
    // The month so far, replayed at the stack's 1s rule interval: the SLIs' `or vector(0)`
    // gives every second of it a point, so the page's cost grows with the day of the month
    // (on the 6th: 11 s alone, 55 s and over 60 s beside five stacks in CI runs). Ten
    // minutes cover the 31st under load (about five times the 6th).
    let asked = std::time::Instant::now();
    let (code, report) = get_within(
        &format!("{base}/report?month={month}"),
        Duration::from_secs(600),
    );
    println!(
        "e2e: serve: the report of {month} in {:.1}s",
        asked.elapsed().as_secs_f64()
    );
    assert_eq!(code, 200);
    assert!(
        report.contains(&format!("SLO report {month}"))
            && report.contains("payments/payment-processing"),
        "{report}"
    );
    assert_eq!(get(&format!("{base}/report?month=13")).0, 400);
    let (code, healthz) = get(&format!("{base}/healthz"));
    assert_eq!((code, healthz.as_str()), (200, "ok\n"));
    let (code, missing) = get(&format!("{base}/slo/payments/nope"));
    assert_eq!(code, 404);
    assert!(missing.contains("href=\"/slo/\""), "{missing}");
    assert_eq!(get(&format!("{base}/elsewhere")).0, 404);

    // A real browser: no console errors, screenshots.
    let shots: PathBuf = std::env::var_os("SERVE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| stack.dir.path().to_path_buf());
    for (url, file) in [
        (format!("{base}/"), "serve-list.png"),
        (
            format!("{base}/slo/payments/payment-processing?range=2m"),
            "serve-slo.png",
        ),
    ] {
        let console = chromium(&url, &shots.join(file));
        assert!(console.is_empty(), "console output on {url}: {console:#?}");
    }
    // The detector sees console errors when there are some.
    let broken = stack.dir.path().join("broken.html");
    std::fs::write(&broken, "<script>undefinedFunction()</script>").unwrap();
    let console = chromium(
        &format!("file://{}", broken.display()),
        &stack.dir.path().join("broken.png"),
    );
    assert!(
        console.iter().any(|l| l.contains("undefinedFunction")),
        "{console:#?}"
    );

    // Prometheus not there: 503 pages that say so; the same server recovers.
    let port = free_port();
    let down = spawn(app(
        loaded.checked.services.clone(),
        loaded.texts.clone(),
        &format!("http://127.0.0.1:{port}"),
    ));
    let (code, body) = get(&format!("{down}/"));
    assert_eq!(code, 503);
    assert!(body.contains("Prometheus is not answering"), "{body}");
    let (code, body) = get(&format!("{down}/api/v1/slos"));
    assert_eq!(code, 503);
    assert!(serde_json::from_str::<Value>(&body).unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("cannot reach Prometheus"));
    assert_eq!(
        get(&format!("{down}/slo/payments/payment-processing")).0,
        503
    );
    forward(
        port,
        stack
            .prometheus_url
            .trim_start_matches("http://")
            .to_string(),
    );
    let (code, body) = get(&format!("{down}/"));
    assert_eq!(code, 200, "recovers: {body}");

    // Spec-supplied strings are escaped everywhere.
    let hostile = slo_spec::check(&[slo_spec::Source {
        path: "x.yaml".into(),
        text: "version: v1\nservice: x\nowner: \"<b>owner</b>\"\nslos:\n  - name: a\n    description: \"<script>alert(1)</script> & more\"\n    objective: 99\n    sli:\n      ratio:\n        errors: sum(rate(x_total{code=\"500\"}[{{window}}]))\n        total: sum(rate(x_total[{{window}}]))\n    alerting:\n      annotations:\n        runbook_url: \"https://r.example.com/?a=1&b=\\\"><script>x</script>\"\n".into(),
    }]);
    assert!(!hostile.has_errors(), "{:?}", hostile.diagnostics);
    let texts = [(
        "x.yaml".to_string(),
        "description: <script>alert(1)</script>".to_string(),
    )]
    .into();
    let esc = spawn(app(hostile.services, texts, &stack.prometheus_url));
    for path in ["/", "/slo/x/a"] {
        let (code, body) = get(&format!("{esc}{path}"));
        assert_eq!(code, 200, "{body}");
        assert!(
            !body.contains("<script>alert")
                && !body.contains("<b>owner")
                && !body.contains("\"><script>x"),
            "{path}: {body}"
        );
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                || path == "/" && body.contains("&lt;b&gt;owner"),
            "{path}: {body}"
        );
    }
}
