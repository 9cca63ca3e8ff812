//! Grafana dashboards: one per service (a row per SLO) and an overview of every SLO.
//! Every query reads only series the generated rules record (or `ALERTS`); every panel
//! uses the `datasource` variable; uids are stable so re-import updates in place.

use crate::policy::{self, Plan};
use crate::rules::{dashboard_uid, names, selector};
use serde_json::{json, Value};
use slo_spec::{Service, Slo};

/// The overview's uid; `_` cannot occur in a service-derived uid, so it never collides.
pub const OVERVIEW_UID: &str = "slo_overview";
pub const OVERVIEW_FILE: &str = "slo-overview.json";
/// Tag on every generated dashboard; `generate` recognises its own files by it.
pub const TAG: &str = "slo-gen";
/// Grafana's dashboard JSON version this targets.
pub const SCHEMA_VERSION: u32 = 39;

fn ds() -> Value {
    json!({"type": "prometheus", "uid": "${datasource}"})
}

fn target(expr: &str, legend: &str, ref_id: &str, instant: bool) -> Value {
    let mut t = json!({
        "datasource": ds(),
        "expr": expr,
        "legendFormat": legend,
        "refId": ref_id,
    });
    if instant {
        t["instant"] = json!(true);
        t["range"] = json!(false);
        t["format"] = json!("table");
    }
    t
}

fn thresholds(steps: &[(&str, Option<f64>)]) -> Value {
    json!({
        "mode": "absolute",
        "steps": steps.iter().map(|(c, v)| json!({"color": c, "value": v})).collect::<Vec<_>>(),
    })
}

struct Grid {
    next_id: u32,
    y: u32,
}

impl Grid {
    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }
}

#[allow(clippy::too_many_arguments)]
fn panel(
    g: &mut Grid,
    kind: &str,
    title: &str,
    description: &str,
    (x, w, h): (u32, u32, u32),
    targets: Vec<Value>,
    defaults: Value,
    options: Value,
) -> Value {
    json!({
        "id": g.id(),
        "type": kind,
        "title": title,
        "description": description,
        "datasource": ds(),
        "gridPos": {"x": x, "y": g.y, "w": w, "h": h},
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
    })
}

fn stat_options() -> Value {
    json!({
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
        "colorMode": "background",
        "graphMode": "area",
        "justifyMode": "auto",
        "textMode": "auto",
        "orientation": "auto",
    })
}

fn series_options() -> Value {
    json!({
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true, "calcs": []},
        "tooltip": {"mode": "multi", "sort": "none"},
    })
}

fn line_thresholds_custom() -> Value {
    json!({"thresholdsStyle": {"mode": "line+area"}, "lineWidth": 1, "fillOpacity": 0, "spanNulls": false})
}

/// The panels of one SLO, starting with its row, at `g.y`.
fn slo_panels(g: &mut Grid, svc: &Service, slo: &Slo, plan: &Plan) -> Vec<Value> {
    let sel = selector(&svc.name, &slo.name);
    let budget = slo.objective.budget_decimal();
    let objective = slo.objective.ratio_decimal().to_f64();
    let period = &slo.period.text;
    let runbook = slo.alerting.annotations.get("runbook_url");
    let mut out = vec![json!({
        "id": g.id(),
        "type": "row",
        "title": format!("{} — {}% over {period}", slo.name, slo.objective.text),
        "collapsed": false,
        "gridPos": {"x": 0, "y": g.y, "w": 24, "h": 1},
        "panels": [],
    })];
    g.y += 1;
    let links: Vec<Value> = runbook
        .map(|url| {
            let mut l = link("Runbook", url);
            l["icon"] = json!("doc");
            l["includeVars"] = json!(false);
            l["keepTime"] = json!(false);
            l["targetBlank"] = json!(true);
            vec![l]
        })
        .unwrap_or_default();

    let mut about = format!(
        "**{}**\n\n{}\n\n- objective: **{}%** of events good over a rolling **{period}** (error budget {}%)\n- SLI: {}\n- alert: `{}`",
        slo.name,
        slo.description,
        slo.objective.text,
        budget.checked_mul(slo_spec::decimal::Decimal::from_int(100)).map(|d| d.to_string()).unwrap_or_default(),
        slo.sli.kind(),
        slo.alerting.name,
    );
    if let Some(url) = runbook {
        about.push_str(&format!("\n- [runbook]({url})"));
    }
    let mut text = panel(
        g,
        "text",
        "About",
        "What this SLO promises, and where the runbook is.",
        (0, 5, 6),
        vec![],
        json!({}),
        json!({"mode": "markdown", "content": about}),
    );
    text["links"] = json!(links.clone());
    out.push(text);

    let mut sli = panel(
        g,
        "stat",
        "SLI over the period",
        &format!("Share of good events over the last {period}. Green at or above the {}% objective, red below.", slo.objective.text),
        (5, 4, 6),
        vec![target(&format!("1 - {}{sel}", names::error_ratio(plan.period)), "SLI", "A", false)],
        json!({"unit": "percentunit", "decimals": 3, "thresholds": thresholds(&[("red", None), ("green", Some(objective))])}),
        stat_options(),
    );
    sli["links"] = json!(links.clone());
    out.push(sli);

    out.push(panel(
        g,
        "stat",
        "Error budget remaining",
        &format!("Share of the {period} error budget not yet spent. Below 0 the SLO is breached."),
        (9, 4, 6),
        vec![target(&format!("{}{sel}", names::BUDGET_REMAINING), "budget left", "A", false)],
        json!({"unit": "percentunit", "decimals": 1, "thresholds": thresholds(&[("red", None), ("orange", Some(0.0)), ("green", Some(0.25))])}),
        stat_options(),
    ));
    out.push(panel(
        g,
        "stat",
        "Budget left at current burn",
        "How long the remaining budget lasts if errors continue at the current burn rate (a burn rate near 0 shows as centuries).",
        (13, 3, 6),
        vec![target(
            // A burn rate under 0.001 counts as 0.001: "centuries", not "no data".
            &format!(
                "{rem}{sel} * {period}{sel} / clamp_min({burn}{sel}, 0.001)",
                rem = names::BUDGET_REMAINING,
                period = names::PERIOD,
                burn = names::CURRENT_BURN_RATE
            ),
            "time left",
            "A",
            false,
        )],
        json!({"unit": "s", "noValue": "not burning", "thresholds": thresholds(&[("red", None), ("orange", Some(86400.0)), ("green", Some(604800.0))])}),
        stat_options(),
    ));
    let page = plan
        .tiers
        .iter()
        .flat_map(|t| &t.pairs)
        .map(|p| p.burn_rate.to_f64())
        .fold(f64::NAN, f64::max);
    let page = if page.is_nan() { 14.4 } else { page };
    out.push(panel(
        g,
        "stat",
        "Current burn rate",
        &format!(
            "Error ratio over the last {} divided by the budget. 1 spends the budget exactly over {period}; above {} pages.",
            policy::text(plan.current),
            page
        ),
        (16, 4, 6),
        vec![target(&format!("{}{sel}", names::CURRENT_BURN_RATE), "burn rate", "A", false)],
        json!({"unit": "suffix:x", "decimals": 2, "thresholds": thresholds(&[("green", None), ("orange", Some(1.0)), ("red", Some(page))])}),
        stat_options(),
    ));
    out.push(panel(
        g,
        "table",
        "Alerts firing and pending",
        "This SLO's burn-rate alerts from Prometheus (ALERTS). Empty: nothing is burning fast.",
        (20, 4, 6),
        // One `alertstate="none"` row when nothing fires, so the panel always has data.
        vec![target(
            &format!(
                "sum by (alertname, alertstate, severity) (ALERTS{sel}) or on() label_replace(vector(0), \"alertstate\", \"none\", \"\", \"\")"
            ),
            "",
            "A",
            true,
        )],
        json!({"noValue": "none"}),
        json!({"showHeader": true, "cellHeight": "sm"}),
    ));
    g.y += 6;

    let b = policy::text(plan.base);
    let current = policy::text(plan.current);
    out.push(panel(
        g,
        "timeseries",
        "Error ratio against the budget",
        "Bad events / all events. Sustained above the budget line, the SLO spends budget faster than it earns it.",
        (0, 8, 8),
        vec![
            target(&format!("{}{sel}", names::error_ratio(plan.base)), &format!("error ratio ({b})"), "A", false),
            target(&format!("{}{sel}", names::error_ratio(plan.current)), &format!("error ratio ({current})"), "B", false),
            target(&format!("{}{sel}", names::ERROR_BUDGET), "budget", "C", false),
        ],
        json!({"unit": "percentunit", "min": 0, "custom": {"lineWidth": 1, "fillOpacity": 0, "spanNulls": false}}),
        series_options(),
    ));
    out.push(panel(
        g,
        "timeseries",
        "Budget burn-down",
        &format!("Error budget remaining over the rolling {period}. It falls while errors exceed the budget and recovers as old errors leave the window."),
        (8, 8, 8),
        vec![target(&format!("{}{sel}", names::BUDGET_REMAINING), "budget left", "A", false)],
        json!({"unit": "percentunit", "custom": line_thresholds_custom(), "thresholds": thresholds(&[("red", None), ("transparent", Some(0.0))])}),
        series_options(),
    ));
    let mut windows: Vec<(std::time::Duration, f64)> = Vec::new();
    for p in plan.tiers.iter().flat_map(|t| &t.pairs) {
        windows.push((p.long, p.burn_rate.to_f64()));
        windows.push((p.short, p.burn_rate.to_f64()));
    }
    if windows.is_empty() {
        windows.push((plan.current, 1.0));
    }
    windows.sort_by_key(|w| w.0);
    windows.dedup_by(|a, b| a.0 == b.0);
    let burn_targets: Vec<Value> = windows
        .iter()
        .enumerate()
        .map(|(i, (w, _))| {
            target(
                &format!("{}{sel} / {budget}", names::error_ratio(*w)),
                &format!("burn rate {}", policy::text(*w)),
                &ref_id(i),
                false,
            )
        })
        .collect();
    let mut steps: Vec<(f64, &str)> = plan
        .tiers
        .iter()
        .flat_map(|t| {
            t.pairs.iter().map(move |p| {
                (
                    p.burn_rate.to_f64(),
                    if t.severity == policy::Severity::Page {
                        "red"
                    } else {
                        "orange"
                    },
                )
            })
        })
        .collect();
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    steps.dedup_by(|a, b| a.0 == b.0);
    let mut th: Vec<(&str, Option<f64>)> = vec![("transparent", None)];
    th.extend(steps.iter().map(|(v, c)| (*c, Some(*v))));
    out.push(panel(
        g,
        "timeseries",
        "Burn rate per alert window",
        "Error ratio over each alert window divided by the budget. A tier fires when both its long and short window cross its threshold line (red: page, orange: ticket).",
        (16, 8, 8),
        burn_targets,
        json!({"unit": "suffix:x", "min": 0, "custom": line_thresholds_custom(), "thresholds": thresholds(&th)}),
        series_options(),
    ));
    g.y += 8;
    out
}

fn ref_id(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if i < 26 {
        (letters[i] as char).to_string()
    } else {
        format!("Q{i}")
    }
}

fn templating() -> Value {
    json!({"list": [{
        "name": "datasource",
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "hide": 0,
        "current": {"text": "default", "value": "default"},
    }]})
}

fn dashboard(
    uid: &str,
    title: &str,
    description: &str,
    tags: Vec<String>,
    time_from: &str,
    panels: Vec<Value>,
    links: Vec<Value>,
) -> Value {
    json!({
        "uid": uid,
        "title": title,
        "description": description,
        "tags": tags,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": false,
        "graphTooltip": 1,
        "refresh": "1m",
        "time": {"from": time_from, "to": "now"},
        "timezone": "browser",
        "templating": templating(),
        "annotations": {"list": []},
        "links": links,
        "panels": panels,
    })
}

fn link(title: &str, url: &str) -> Value {
    json!({
        "title": title,
        "type": "link",
        "url": url,
        "icon": "dashboard",
        "tooltip": "",
        "tags": [],
        "asDropdown": false,
        "includeVars": true,
        "keepTime": true,
        "targetBlank": false,
    })
}

/// One service's dashboard.
pub fn service(svc: &Service) -> Value {
    let mut g = Grid { next_id: 0, y: 0 };
    let mut panels = Vec::new();
    let mut longest = std::time::Duration::ZERO;
    for slo in &svc.slos {
        let plan = policy::plan(slo);
        longest = longest.max(plan.period);
        panels.extend(slo_panels(&mut g, svc, slo, &plan));
    }
    let mut tags = vec![TAG.to_string(), "slo".into(), svc.name.clone()];
    if let Some(owner) = &svc.owner {
        tags.push(owner.clone());
    }
    dashboard(
        &dashboard_uid(&svc.name),
        &format!("SLOs / {}", svc.name),
        &format!(
            "Error budgets and burn rates of {} ({} SLOs), generated by slo-gen from {}. Do not edit: change the spec.",
            svc.name,
            svc.slos.len(),
            std::path::Path::new(&svc.file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        ),
        tags,
        &format!("now-{}", policy::text(longest)),
        panels,
        vec![link("All SLOs", &format!("/d/{OVERVIEW_UID}"))],
    )
}

/// Every SLO of every service in one table, sorted by budget remaining.
pub fn overview(services: &[Service]) -> Value {
    let mut g = Grid { next_id: 0, y: 0 };
    let sli = format!(
        "1 - (1 - {}) * {}",
        names::BUDGET_REMAINING,
        names::ERROR_BUDGET
    );
    let firing =
        "count by (service, slo) (ALERTS{alertstate=\"firing\",slo_tier!=\"\"})".to_string();
    let targets = vec![
        target(names::INFO, "", "A", true),
        target(&sli, "", "B", true),
        target(names::BUDGET_REMAINING, "", "C", true),
        target(names::CURRENT_BURN_RATE, "", "D", true),
        target(&firing, "", "E", true),
    ];
    let rename = json!({
        "Value #B": "SLI over period",
        "Value #C": "Budget remaining",
        "Value #D": "Burn rate",
        "Value #E": "Firing alerts",
        "objective": "Objective %",
        "period": "Period",
        "service": "Service",
        "slo": "SLO",
        "owner": "Owner",
    });
    // `dashboard_uid` stays in the frame (hidden below): the service links read it.
    let exclude =
        json!({"Time": true, "Value #A": true, "__name__": true, "alertname": true, "sli": true});
    let mut table = panel(
        &mut g,
        "table",
        "Every SLO",
        "One row per SLO, lowest budget first. Click a service to open its dashboard.",
        (0, 24, 20),
        targets,
        json!({"custom": {"align": "auto", "filterable": true}}),
        json!({"showHeader": true, "cellHeight": "sm", "sortBy": [{"displayName": "Budget remaining", "desc": false}]}),
    );
    table["transformations"] = json!([
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {"excludeByName": exclude, "renameByName": rename, "indexByName": {}}},
        {"id": "sortBy", "options": {"fields": {}, "sort": [{"field": "Budget remaining", "desc": false}]}},
    ]);
    table["fieldConfig"]["overrides"] = json!([
        {"matcher": {"id": "byName", "options": "dashboard_uid"}, "properties": [
            {"id": "custom.hidden", "value": true}
        ]},
        {"matcher": {"id": "byName", "options": "Service"}, "properties": [
            {"id": "links", "value": [{"title": "Service SLOs", "url": "/d/${__data.fields.dashboard_uid}?${__url_time_range}&${datasource:queryparam}"}]}
        ]},
        {"matcher": {"id": "byName", "options": "SLI over period"}, "properties": [
            {"id": "unit", "value": "percentunit"}, {"id": "decimals", "value": 3}
        ]},
        {"matcher": {"id": "byName", "options": "Budget remaining"}, "properties": [
            {"id": "unit", "value": "percentunit"}, {"id": "decimals", "value": 1},
            {"id": "custom.cellOptions", "value": {"type": "color-background"}},
            {"id": "thresholds", "value": thresholds(&[("red", None), ("orange", Some(0.0)), ("green", Some(0.25))])}
        ]},
        {"matcher": {"id": "byName", "options": "Burn rate"}, "properties": [
            {"id": "unit", "value": "suffix:x"}, {"id": "decimals", "value": 2},
            {"id": "custom.cellOptions", "value": {"type": "color-text"}},
            {"id": "thresholds", "value": thresholds(&[("green", None), ("orange", Some(1.0)), ("red", Some(14.4))])}
        ]},
    ]);
    let mut links: Vec<Value> = services
        .iter()
        .map(|s| {
            link(
                &format!("SLOs / {}", s.name),
                &format!("/d/{}", dashboard_uid(&s.name)),
            )
        })
        .collect();
    links.truncate(50);
    let slos: usize = services.iter().map(|s| s.slos.len()).sum();
    dashboard(
        OVERVIEW_UID,
        "SLOs / overview",
        &format!("Every SLO ({slos} across {} services), generated by slo-gen. Do not edit: change the specs.", services.len()),
        vec![TAG.to_string(), "slo".into()],
        "now-1d",
        vec![table],
        links,
    )
}

/// Grafana file provisioning for the generated dashboards.
pub fn provisioning() -> String {
    format!(
        "{} from slos/. DO NOT EDIT.\n\
         # Copy or mount dashboards/ at /var/lib/grafana/dashboards/slo and this file at\n\
         # /etc/grafana/provisioning/dashboards/slo.yaml; Grafana picks up changes every 30s.\n\
         apiVersion: 1\n\
         providers:\n\
         \x20 - name: slo-gen\n\
         \x20   orgId: 1\n\
         \x20   folder: SLOs\n\
         \x20   type: file\n\
         \x20   disableDeletion: false\n\
         \x20   allowUiUpdates: false\n\
         \x20   updateIntervalSeconds: 30\n\
         \x20   options:\n\
         \x20     path: /var/lib/grafana/dashboards/slo\n\
         \x20     foldersFromFilesStructure: false\n",
        crate::generate::MARKER
    )
}

/// Pretty JSON with a trailing newline; keys sorted (serde_json's map), so output is stable.
pub fn to_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("dashboards always serialise");
    s.push('\n');
    s
}
