//! Grafana dashboard JSON primitives: datasource references, queries, thresholds, panels
//! placed on the grid, links and the dashboard envelope. Nothing here knows about SLOs.

use serde_json::{json, Value};

/// Grafana's dashboard JSON version this targets.
pub const SCHEMA_VERSION: u32 = 39;

/// The `datasource` template variable every panel and query uses.
pub fn datasource() -> Value {
    json!({"type": "prometheus", "uid": "${datasource}"})
}

/// A Prometheus query; `instant` ones come back as a table row.
pub fn target(expr: &str, legend: &str, ref_id: &str, instant: bool) -> Value {
    let mut t = json!({
        "datasource": datasource(),
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

/// The query letter of the `i`-th target: A..Z, then Q26, Q27, ...
pub fn ref_id(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if i < 26 {
        (letters[i] as char).to_string()
    } else {
        format!("Q{i}")
    }
}

/// Absolute threshold steps; the first has no value (the base colour).
pub fn thresholds(steps: &[(&str, Option<f64>)]) -> Value {
    json!({
        "mode": "absolute",
        "steps": steps.iter().map(|(c, v)| json!({"color": c, "value": v})).collect::<Vec<_>>(),
    })
}

/// One panel's content; [`Grid::place`] gives it an id and a position.
pub struct Panel<'a> {
    pub kind: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// (x, width, height) on the 24-column grid, at the grid's current row.
    pub at: (u32, u32, u32),
    pub targets: Vec<Value>,
    pub defaults: Value,
    pub options: Value,
}

/// Panel ids and the current row of a dashboard being built.
#[derive(Default)]
pub struct Grid {
    next_id: u32,
    pub y: u32,
}

impl Grid {
    pub fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    pub fn place(&mut self, p: Panel) -> Value {
        let (x, w, h) = p.at;
        let mut panel = json!({
            "id": self.id(),
            "type": p.kind,
            "title": p.title,
            "description": p.description,
            "datasource": datasource(),
            "gridPos": {"x": x, "y": self.y, "w": w, "h": h},
            "fieldConfig": {"overrides": []},
        });
        // Moved in, not through `json!`, which would copy each value through `Serialize`.
        panel["targets"] = Value::Array(p.targets);
        panel["fieldConfig"]["defaults"] = p.defaults;
        panel["options"] = p.options;
        panel
    }

    /// A full-width row header; the grid moves below it.
    pub fn row(&mut self, title: &str) -> Value {
        let row = json!({
            "id": self.id(),
            "type": "row",
            "title": title,
            "collapsed": false,
            "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1},
            "panels": [],
        });
        self.y += 1;
        row
    }
}

pub fn stat_options() -> Value {
    json!({
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
        "colorMode": "background",
        "graphMode": "area",
        "justifyMode": "auto",
        "textMode": "auto",
        "orientation": "auto",
    })
}

pub fn series_options() -> Value {
    json!({
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true, "calcs": []},
        "tooltip": {"mode": "multi", "sort": "none"},
    })
}

/// Time series drawn as lines, thresholds as lines with shaded areas.
pub fn line_thresholds_custom() -> Value {
    json!({"thresholdsStyle": {"mode": "line+area"}, "lineWidth": 1, "fillOpacity": 0, "spanNulls": false})
}

/// A dashboard link.
pub fn link(title: &str, url: &str) -> Value {
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

/// A panel link that opens a document in a new tab.
pub fn doc_link(title: &str, url: &str) -> Value {
    let mut l = link(title, url);
    l["icon"] = json!("doc");
    l["includeVars"] = json!(false);
    l["keepTime"] = json!(false);
    l["targetBlank"] = json!(true);
    l
}

fn templating(variables: Vec<Value>) -> Value {
    let mut list = vec![json!({
        "name": "datasource",
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "hide": 0,
        "current": {"text": "default", "value": "default"},
    })];
    list.extend(variables);
    let mut t = json!({});
    t["list"] = Value::Array(list);
    t
}

/// A multi-select query variable over the values of `label` in `series`, `All` by default
/// (matching every value, `.*`).
pub fn label_variable(label: &str, series: &str) -> Value {
    let query = format!("label_values({series}, {label})");
    json!({
        "name": label,
        "label": label,
        "type": "query",
        "datasource": datasource(),
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,
        "multi": true,
        "includeAll": true,
        "allValue": ".*",
        "current": {"selected": true, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "sort": 1,
        "hide": 0,
    })
}

/// What a dashboard is, apart from its panels.
pub struct Meta<'a> {
    pub uid: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub tags: Vec<String>,
    /// The default time range's start, e.g. `now-30d`.
    pub time_from: &'a str,
    pub links: Vec<Value>,
    /// Template variables after `datasource`.
    pub variables: Vec<Value>,
}

pub fn dashboard(meta: Meta, panels: Vec<Value>) -> Value {
    let mut d = json!({
        "uid": meta.uid,
        "title": meta.title,
        "description": meta.description,
        "tags": meta.tags,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": false,
        "graphTooltip": 1,
        "refresh": "1m",
        "time": {"from": meta.time_from, "to": "now"},
        "timezone": "browser",
        "annotations": {"list": []},
    });
    d["templating"] = templating(meta.variables);
    d["links"] = Value::Array(meta.links);
    d["panels"] = Value::Array(panels);
    d
}

/// A series drawn as grey bars the panel's height wherever it has a value, on a hidden
/// axis of its own (Grafana's dashboard schema leaves Prometheus annotations untyped).
pub fn shaded(legend: &str) -> Value {
    json!({
        "matcher": {"id": "byName", "options": legend},
        "properties": [
            {"id": "custom.drawStyle", "value": "bars"},
            {"id": "custom.fillOpacity", "value": 35},
            {"id": "custom.lineWidth", "value": 0},
            {"id": "custom.axisPlacement", "value": "hidden"},
            {"id": "color", "value": {"mode": "fixed", "fixedColor": "#8e8e8e"}},
            {"id": "unit", "value": "none"},
            {"id": "min", "value": 0},
            {"id": "max", "value": 1},
        ],
    })
}

/// Pretty JSON with a trailing newline; keys sorted (serde_json's map), so output is stable.
pub fn to_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("dashboards always serialise");
    s.push('\n');
    s
}
