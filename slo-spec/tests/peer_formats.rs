//! How each peer format's fields map onto the model, case by case: `check(files, expected)`
//! where `expected` is what a reader needs to see (the SLO's kind, groups, queries,
//! alerting) or the diagnostics.

use slo_spec::{Numerator, Service, Sli};

fn load(files: &[(&str, &str)]) -> (Vec<Service>, Vec<String>) {
    let checked = crate::support::check_files(files);
    let diags = crate::support::diagnostic_lines(&checked);
    (checked.services, diags)
}

/// One line per SLO: service/slo, kind, groups, queries (5m), alert name and switches.
fn describe(services: &[Service]) -> Vec<String> {
    let mut out = Vec::new();
    for svc in services {
        for slo in &svc.slos {
            let sli = match &slo.sli {
                Sli::Ratio(r) => {
                    let (k, q) = match &r.numerator {
                        Numerator::Errors(q) => ("errors", q),
                        Numerator::Good(q) => ("good", q),
                    };
                    format!(
                        "ratio {k}={} total={}",
                        q.render("5m"),
                        r.total.render("5m")
                    )
                }
                Sli::Latency(l) => format!(
                    "latency {}{{{}}} <= {}",
                    l.histogram, l.matchers, l.threshold_text
                ),
                Sli::Raw(r) => format!("raw {}", r.error_ratio.render("5m")),
                Sli::Freshness(f) => format!("freshness {}", f.metric),
            };
            let a = &slo.alerting;
            let sev =
                |t: &slo_spec::TierPolicy| t.labels.get("severity").cloned().unwrap_or_default();
            out.push(format!(
                "{}/{} owner={} labels={:?} slo_labels={:?} by={:?} {}% {} | {sli} | alert={} off={} page_off={} ticket_off={} absent_off={} sev={}/{}/{}",
                svc.name,
                slo.name,
                svc.owner.as_deref().unwrap_or("-"),
                svc.labels,
                slo.labels,
                slo.group_by,
                slo.objective.text,
                slo.period.text,
                a.name,
                a.disabled,
                a.page.disabled,
                a.ticket.disabled,
                a.absent.disabled,
                sev(&a.page),
                sev(&a.ticket),
                a.absent.severity,
            ));
        }
    }
    out
}

fn check_case(files: &[(&str, &str)], want: &[&str]) {
    let (services, diags) = load(files);
    let mut got = describe(&services);
    got.extend(diags);
    assert_eq!(got, want, "\n{files:#?}");
}

const PYRRA: &str = "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata:\n  name: api\n  namespace: shop\n  labels:\n    prometheus: k8s\n    pyrra.dev/team: payments\n  uid: 1234\nspec:\n  target: '99.5'\n  window: 28d\n";

#[test]
fn pyrra() {
    check_case(
        &[("p.yaml", &format!("{PYRRA}  indicator:\n    ratio:\n      errors: {{metric: 'http_requests_total{{code=~\"5..\"}}'}}\n      total: {{metric: http_requests_total}}\n      grouping: [handler]\n"))],
        &["shop/api owner=- labels={} slo_labels={\"team\": \"payments\"} by=[\"handler\"] 99.5% 28d | ratio errors=sum by (handler)(rate(http_requests_total{code=~\"5..\"}[5m])) total=sum by (handler)(rate(http_requests_total[5m])) | alert=ShopApi off=false page_off=false ticket_off=false absent_off=false sev=//ticket"],
    );
    check_case(
        &[("p.yaml", &format!("{PYRRA}  indicator:\n    bool_gauge:\n      metric: probe_success{{job=\"bb\"}}\n  alerting:\n    name: ApiDown\n    burnrates: false\n    absent: false\n"))],
        &["shop/api owner=- labels={} slo_labels={\"team\": \"payments\"} by=[] 99.5% 28d | ratio good=sum(sum_over_time(probe_success{job=\"bb\"}[5m])) total=sum(count_over_time(probe_success{job=\"bb\"}[5m])) | alert=ApiDown off=false page_off=true ticket_off=true absent_off=true sev=//ticket"],
    );
    // A bucket over its count is a latency SLI; a bound written unlike the rules print
    // it (`5.0`) stays the ratio of the selectors as written, so the rules select it.
    let latency = |le: &str| {
        format!("{PYRRA}  indicator:\n    latency:\n      success: {{metric: 'rpc_seconds_bucket{{job=\"a\",le=\"{le}\"}}'}}\n      total: {{metric: 'rpc_seconds_count{{job=\"a\"}}'}}\n  alerting:\n    disabled: true\n    severities: {{fastBurn: critical, mediumBurn: critical, slowBurn: warning, absent: info}}\n")
    };
    check_case(
        &[("p.yaml", &latency("0.5"))],
        &["shop/api owner=- labels={} slo_labels={\"team\": \"payments\"} by=[] 99.5% 28d | latency rpc_seconds{job=\"a\"} <= 500ms | alert=ShopApi off=true page_off=false ticket_off=false absent_off=false sev=critical/warning/info"],
    );
    check_case(
        &[("p.yaml", &latency("5.0"))],
        &["shop/api owner=- labels={} slo_labels={\"team\": \"payments\"} by=[] 99.5% 28d | ratio good=sum(rate(rpc_seconds_bucket{job=\"a\",le=\"5.0\"}[5m])) total=sum(rate(rpc_seconds_count{job=\"a\"}[5m])) | alert=ShopApi off=true page_off=false ticket_off=false absent_off=false sev=critical/warning/info"],
    );
    // Refusals, at their position, naming the format.
    check_case(
        &[("p.yaml", &format!("{PYRRA}  indicator:\n    latencyNative: {{latency: 1s, total: {{metric: rpc_seconds}}}}\n  alerting: {{absentName: X, severities: {{fastBurn: a, mediumBurn: b}}}}\n"))],
        &[
            "p.yaml:14:5 E021 `latencyNative` (a native histogram) is not supported (Pyrra ServiceLevelObjective)",
            "p.yaml:15:14 E021 a name of its own for the missing-data alert (`absentName`) is not supported (Pyrra ServiceLevelObjective)",
        ],
    );
    check_case(
        &[("p.yaml", &format!("{PYRRA}  indicator:\n    ratio:\n      errors: {{metric: 'sum(x_total)'}}\n      total: {{metric: x_total}}\n"))],
        &["p.yaml:15:24 E012 `spec.indicator.ratio.errors.metric` is not a metric selector (Pyrra ServiceLevelObjective)"],
    );
}

const SLOTH: &str = "version: prometheus/v1\nservice: shop\nlabels: {owner: team-shop}\nslos:\n  - name: api\n    objective: 99.9\n    sli:\n";

#[test]
fn sloth_grouped_queries_become_grouped_slos() {
    check_case(
        &[("s.yaml", &format!("{SLOTH}      events:\n        error_query: sum by (route) (rate(x_total{{code=\"5\"}}[{{{{.window}}}}]))\n        total_query: sum(rate(x_total[{{{{.window}}}}])) by (route)\n"))],
        &["shop/api owner=team-shop labels={} slo_labels={} by=[\"route\"] 99.9% 30d | ratio errors=sum by (route) (rate(x_total{code=\"5\"}[5m])) total=sum(rate(x_total[5m])) by (route) | alert=ShopApi off=false page_off=false ticket_off=false absent_off=false sev=//ticket"],
    );
    // Grouped differently: an error at the query, with the query that would match.
    check_case(
        &[("s.yaml", &format!("{SLOTH}      events:\n        error_query: sum by (route) (rate(x_total{{code=\"5\"}}[{{{{.window}}}}]))\n        total_query: sum(rate(x_total[{{{{.window}}}}]))\n"))],
        &["s.yaml:10:22 E023 `sli.events.total_query` is not aggregated `by` any label but `sli.events.error_query` keeps `route`: an SLO per group needs every query aggregated by the same labels (Sloth prometheus/v1 spec)"],
    );
    // Not aggregated at all: summed into one SLO, and a warning says so.
    check_case(
        &[("s.yaml", &format!("{SLOTH}      events:\n        error_query: rate(x_total{{code=\"5\"}}[{{{{.window}}}}])\n        total_query: sum(rate(x_total[{{{{.window}}}}]))\n"))],
        &[
            "shop/api owner=team-shop labels={} slo_labels={} by=[] 99.9% 30d | ratio errors=rate(x_total{code=\"5\"}[5m]) total=sum(rate(x_total[5m])) | alert=ShopApi off=false page_off=false ticket_off=false absent_off=false sev=//ticket",
            "s.yaml:9:22 W005 `sli.events.error_query` may return several series: the rules add them up into one SLO (`sum(...)`) (Sloth prometheus/v1 spec)",
        ],
    );
    // The CRD: the same body in camelCase, plugins refused where they are.
    check_case(
        &[("k.yaml", "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: x}\nspec:\n  service: shop\n  sloPlugins: {chain: []}\n  slos:\n    - name: api\n      objective: 99\n      plugins: {chain: []}\n      sli:\n        raw:\n          errorRatioQuery: max by (route) (rate(e_total[{{.window}}]))\n")],
        &[
            "k.yaml:6:3 E021 Sloth SLO plugins (`sloPlugins`) are not supported (Sloth PrometheusServiceLevel)",
            "k.yaml:10:7 E021 Sloth SLO plugins (`plugins`) are not supported (Sloth PrometheusServiceLevel)",
        ],
    );
}

const SLO_DOC: &str = "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: api\n  labels: {env: [prod, eu]}\nspec:\n  service: shop\n  budgetingMethod: Occurrences\n  objectives: [{target: 0.995}]\n";

#[test]
fn openslo_documents_across_files() {
    let sli = "- apiVersion: openslo/v1\n  kind: SLI\n  metadata: {name: api-errors}\n  spec:\n    ratioMetric:\n      counter: true\n      bad:\n        metricSource: {metricSourceRef: prom, spec: {query: 'sum by (route) (x_total{code=\"5\"})'}}\n      total:\n        metricSource: {metricSourceRef: prom, spec: {query: 'sum by (route) (x_total)'}}\n- apiVersion: openslo/v1\n  kind: DataSource\n  metadata: {name: prom}\n  spec: {type: Prometheus, connectionDetails: [{url: 'http://127.0.0.1:9090'}]}\n";
    let service = "apiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: shop\n  labels: {owner: team-shop, tier: [\"1\"]}\nspec: {description: The shop.}\n";
    check_case(
        &[
            ("slo.yaml", &format!("{SLO_DOC}  indicatorRef: api-errors\n")),
            ("sli.yaml", sli),
            ("service.yaml", service),
        ],
        &["shop/api owner=team-shop labels={\"env\": \"prod,eu\", \"tier\": \"1\"} slo_labels={} by=[\"route\"] 99.5% 30d | ratio errors=sum by (route)(rate(x_total{code=\"5\"}[5m])) total=sum by (route)(rate(x_total[5m])) | alert=ShopApi off=false page_off=false ticket_off=false absent_off=false sev=//ticket"],
    );
    // Without the SLI's file: said at the reference.
    check_case(
        &[("slo.yaml", &format!("{SLO_DOC}  indicatorRef: api-errors\n"))],
        &["slo.yaml:10:17 E004 no `kind: SLI` document named `api-errors` in the files given (OpenSLO v1 SLO)"],
    );
    // A raw ratio of successes, and a v1alpha SLO with two objectives (named as Sloth
    // names them).
    check_case(
        &[("raw.yaml", &format!("{SLO_DOC}  indicator:\n    spec:\n      ratioMetric:\n        rawType: success\n        raw: {{metricSource: {{type: Prometheus, spec: {{query: 'avg(avg_over_time(up[{{{{window}}}}]))'}}}}}}\n"))],
        &["shop/api owner=- labels={\"env\": \"prod,eu\"} slo_labels={} by=[] 99.5% 30d | raw 1 - (avg(avg_over_time(up[5m]))) | alert=ShopApi off=false page_off=false ticket_off=false absent_off=false sev=//ticket"],
    );
    let q = |s: &str| format!("{{source: prometheus, queryType: promql, query: '{s}'}}");
    let alpha = format!(
        "apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {{name: api}}\nspec:\n  service: shop\n  timeWindows: [{{count: 28, unit: Day, isRolling: true}}]\n  objectives:\n    - {{target: 0.99, ratioMetrics: {{good: {}, total: {}}}}}\n    - {{target: 0.9, ratioMetrics: {{good: {}, total: {}}}}}\n",
        q("sum(rate(rpc_seconds_bucket{le=\"0.3\"}[{{.window}}]))"),
        q("sum(rate(rpc_seconds_count[{{.window}}]))"),
        q("rpc_seconds_bucket{le=\"1\"}"),
        q("rpc_seconds_count"),
    );
    check_case(
        &[("alpha.yaml", &alpha)],
        &[
            "shop/api-0 owner=- labels={} slo_labels={} by=[] 99% 28d | ratio good=sum(rate(rpc_seconds_bucket{le=\"0.3\"}[5m])) total=sum(rate(rpc_seconds_count[5m])) | alert=ShopApi0 off=false page_off=false ticket_off=false absent_off=false sev=//ticket",
            "shop/api-1 owner=- labels={} slo_labels={} by=[] 90% 28d | ratio good=sum(rate(rpc_seconds_bucket{le=\"1\"}[5m])) total=sum(rate(rpc_seconds_count[5m])) | alert=ShopApi1 off=false page_off=false ticket_off=false absent_off=false sev=//ticket",
        ],
    );
}

/// The extremes the limits allow, by hand: a Pyrra selector past the query bound is
/// refused before parsing; an OpenSLO list of thousands of SLO documents sharing one SLI
/// document loads as one service; a list nested as deep as the YAML budget allows is a
/// diagnostic, not a crash.
#[test]
fn peer_files_at_the_limits() {
    let long = format!("x_total{{a=\"{}\"}}", "y".repeat(slo_spec::MAX_QUERY_BYTES));
    let (_, diags) = load(&[(
        "p.yaml",
        &format!("{PYRRA}  indicator:\n    ratio:\n      errors: {{metric: '{long}'}}\n      total: {{metric: x_total}}\n"),
    )]);
    assert!(
        diags
            .iter()
            .any(|d| d.contains("E012") && d.contains("the limit is")),
        "{diags:?}"
    );
    let n = 3000;
    let mut text = String::from("- apiVersion: openslo/v1\n  kind: SLI\n  metadata: {name: e}\n  spec: {ratioMetric: {bad: {metricSource: {type: Prometheus, spec: {query: 'x_total{c=\"5\"}'}}}, total: {metricSource: {type: Prometheus, spec: {query: x_total}}}}}\n");
    for i in 0..n {
        text.push_str(&format!("- {{apiVersion: openslo/v1, kind: SLO, metadata: {{name: s{i}}}, spec: {{service: big, indicatorRef: e, objectives: [{{target: 0.99}}]}}}}\n"));
    }
    assert!(text.len() < slo_spec::MAX_FILE_BYTES);
    let (services, diags) = load(&[("big.yaml", &text)]);
    assert!(
        diags.iter().all(|d| !d.contains(" E")),
        "{:?}",
        &diags[..diags.len().min(3)]
    );
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].slos.len(), n);
    let deep = format!("{}{}", "- ".repeat(200), "apiVersion: openslo/v1");
    let (services, diags) = load(&[("deep.yaml", &deep)]);
    assert!(services.is_empty() && !diags.is_empty());
}
