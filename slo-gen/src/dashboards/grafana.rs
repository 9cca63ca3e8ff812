//! Grafana dashboard JSON primitives: datasource references, queries, thresholds, panels
//! placed on the grid, links and the dashboard envelope. Nothing here knows about SLOs.
//!
//! Typed rather than `serde_json::Value` trees: ten thousand SLOs' panels are built and
//! printed without a map node or a key string allocated per field. Every struct declares
//! its fields in the byte order of their JSON names, the order serde_json's sorted maps
//! print, so the text keeps one canonical form (`tests/dashboards.rs` re-sorts every
//! committed dashboard to prove it).

use serde::Serialize;
use serde_json::Value;

pub use super::panel_config::*;

/// Grafana's dashboard JSON version this targets.
pub const SCHEMA_VERSION: u32 = 39;

/// A reference to the `datasource` template variable every panel and query uses.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Datasource {
    #[serde(rename = "type")]
    kind: &'static str,
    uid: &'static str,
}

pub const DATASOURCE: Datasource = Datasource {
    kind: "prometheus",
    uid: "${datasource}",
};

/// A Prometheus query of a panel.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    datasource: Datasource,
    pub expr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instant: Option<bool>,
    legend_format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    range: Option<bool>,
    ref_id: String,
}

/// A Prometheus query; `instant` ones come back as a table row.
pub fn target(
    expr: impl Into<String>,
    legend: impl Into<String>,
    ref_id: &str,
    instant: bool,
) -> Target {
    Target {
        datasource: DATASOURCE,
        expr: expr.into(),
        format: instant.then_some("table"),
        instant: instant.then_some(true),
        legend_format: legend.into(),
        range: instant.then_some(false),
        ref_id: ref_id.to_string(),
    }
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

/// A dashboard link, in the header or on a panel.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    as_dropdown: bool,
    icon: &'static str,
    include_vars: bool,
    keep_time: bool,
    tags: [&'static str; 0],
    target_blank: bool,
    title: String,
    tooltip: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

/// A link to another dashboard, keeping the time range and variables.
pub fn link(title: &str, url: &str) -> Link {
    Link {
        as_dropdown: false,
        icon: "dashboard",
        include_vars: true,
        keep_time: true,
        tags: [],
        target_blank: false,
        title: title.to_string(),
        tooltip: "",
        kind: "link",
        url: url.to_string(),
    }
}

/// A panel link that opens a document in a new tab.
pub fn doc_link(title: &str, url: &str) -> Link {
    Link {
        icon: "doc",
        include_vars: false,
        keep_time: false,
        target_blank: true,
        ..link(title, url)
    }
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct GridPos {
    h: u32,
    w: u32,
    x: u32,
    y: u32,
}

/// One panel's content; [`Grid::place`] gives it an id and a position.
pub struct Panel<'a> {
    pub kind: &'static str,
    pub title: &'a str,
    pub description: &'a str,
    /// (x, width, height) on the 24-column grid, at the grid's current row.
    pub at: (u32, u32, u32),
    pub targets: Vec<Target>,
    pub defaults: Defaults,
    pub options: Options,
}

/// A panel placed on the grid.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Placed {
    datasource: Datasource,
    description: String,
    pub field_config: FieldConfig,
    grid_pos: GridPos,
    id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<Link>>,
    options: Options,
    pub targets: Vec<Target>,
    title: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// A full-width row header.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    collapsed: bool,
    grid_pos: GridPos,
    id: u32,
    panels: [Value; 0],
    title: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// What a dashboard's `panels` holds.
// Nine items in ten are panels: boxing them would add an allocation each to save a row's slack.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Item {
    Row(Row),
    Panel(Placed),
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

    pub fn place(&mut self, p: Panel) -> Placed {
        let (x, w, h) = p.at;
        Placed {
            datasource: DATASOURCE,
            description: p.description.to_string(),
            field_config: FieldConfig {
                defaults: p.defaults,
                overrides: Vec::new(),
            },
            grid_pos: GridPos { h, w, x, y: self.y },
            id: self.id(),
            links: None,
            options: p.options,
            targets: p.targets,
            title: p.title.to_string(),
            kind: p.kind,
        }
    }

    /// A full-width row header; the grid moves below it.
    pub fn row(&mut self, title: String) -> Row {
        let row = Row {
            collapsed: false,
            grid_pos: GridPos {
                h: 1,
                w: 24,
                x: 0,
                y: self.y,
            },
            id: self.id(),
            panels: [],
            title,
            kind: "row",
        };
        self.y += 1;
        row
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct List<T> {
    list: Vec<T>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Time {
    from: String,
    to: &'static str,
}

/// A dashboard, its panels of type `P`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard<P> {
    annotations: List<Value>,
    description: String,
    editable: bool,
    graph_tooltip: u32,
    links: Vec<Link>,
    pub panels: Vec<P>,
    refresh: &'static str,
    schema_version: u32,
    tags: Vec<String>,
    templating: List<Value>,
    time: Time,
    timezone: &'static str,
    title: String,
    uid: String,
    version: u32,
}

/// The template variable choosing the Prometheus data source.
fn datasource_variable() -> Value {
    serde_json::json!({
        "name": "datasource",
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "hide": 0,
        "current": {"text": "default", "value": "default"},
    })
}

/// A multi-select query variable over the values of `label` in `series`, `All` by default
/// (matching every value, `.*`).
pub fn label_variable(label: &str, series: &str) -> Value {
    let query = format!("label_values({series}, {label})");
    serde_json::json!({
        "name": label,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
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
    pub links: Vec<Link>,
    /// Template variables after `datasource`.
    pub variables: Vec<Value>,
}

pub fn dashboard<P>(meta: Meta, panels: Vec<P>) -> Dashboard<P> {
    let mut variables = vec![datasource_variable()];
    variables.extend(meta.variables);
    Dashboard {
        annotations: List { list: Vec::new() },
        description: meta.description.to_string(),
        editable: false,
        graph_tooltip: 1,
        links: meta.links,
        panels,
        refresh: "1m",
        schema_version: SCHEMA_VERSION,
        tags: meta.tags,
        templating: List { list: variables },
        time: Time {
            from: meta.time_from.to_string(),
            to: "now",
        },
        timezone: "browser",
        title: meta.title.to_string(),
        uid: meta.uid.to_string(),
        version: 1,
    }
}

/// A series drawn as grey bars the panel's height wherever it has a value, on a hidden
/// axis of its own (Grafana's dashboard schema leaves Prometheus annotations untyped).
pub fn shaded(legend: &str) -> Value {
    serde_json::json!({
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

/// Pretty JSON with a trailing newline, in the canonical (sorted-key) form.
pub fn to_text<T: Serialize>(v: &T) -> String {
    to_text_sized(v, 64 * 1024)
}

/// [`to_text`] into a buffer of `capacity` bytes: a service's dashboard runs to hundreds
/// of kilobytes, and growing the buffer by doubling copied it over and over.
pub fn to_text_sized<T: Serialize>(v: &T, capacity: usize) -> String {
    let mut out = Vec::with_capacity(capacity);
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, super::pretty::Pretty::default());
    v.serialize(&mut ser).expect("dashboards always serialise");
    out.push(b'\n');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}
