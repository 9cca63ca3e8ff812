//! What a placed panel carries besides its queries: `fieldConfig.defaults` (unit,
//! thresholds, how lines are drawn) and the `options` of each panel kind. Typed like the
//! rest of [`super::grafana`], fields in the byte order of their JSON names.

use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    color: &'static str,
    value: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Thresholds {
    mode: &'static str,
    steps: Vec<Step>,
}

/// Absolute threshold steps; the first has no value (the base colour).
pub fn thresholds(steps: &[(&'static str, Option<f64>)]) -> Thresholds {
    Thresholds {
        mode: "absolute",
        steps: steps
            .iter()
            .map(|&(color, value)| Step { color, value })
            .collect(),
    }
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Mode {
    mode: &'static str,
}

/// How a time series panel draws its lines.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lines {
    fill_opacity: u32,
    line_width: u32,
    span_nulls: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    thresholds_style: Option<Mode>,
}

/// Thin lines, no fill, gaps left open.
pub const LINES: Lines = Lines {
    fill_opacity: 0,
    line_width: 1,
    span_nulls: false,
    thresholds_style: None,
};

/// Time series drawn as lines, thresholds as lines with shaded areas.
pub const LINES_WITH_THRESHOLDS: Lines = Lines {
    thresholds_style: Some(Mode { mode: "line+area" }),
    ..LINES
};

#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Custom {
    Lines(Lines),
    Other(Value),
}

/// A panel's `fieldConfig.defaults`: only the fields set are written.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Defaults {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<Custom>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_value: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FieldConfig {
    pub defaults: Defaults,
    pub overrides: Vec<Value>,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct ReduceOptions {
    calcs: [&'static str; 1],
    fields: &'static str,
    values: bool,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatOptions {
    color_mode: &'static str,
    graph_mode: &'static str,
    justify_mode: &'static str,
    orientation: &'static str,
    reduce_options: ReduceOptions,
    text_mode: &'static str,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Legend {
    calcs: [&'static str; 0],
    display_mode: &'static str,
    placement: &'static str,
    show_legend: bool,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Tooltip {
    mode: &'static str,
    sort: &'static str,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct SeriesOptions {
    legend: Legend,
    tooltip: Tooltip,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableOptions {
    cell_height: &'static str,
    show_header: bool,
}

/// A panel's `options`, by panel kind.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Options {
    Stat(StatOptions),
    Series(SeriesOptions),
    Table(TableOptions),
    Text { content: String, mode: &'static str },
    Other(Value),
}

pub const STAT_OPTIONS: Options = Options::Stat(StatOptions {
    color_mode: "background",
    graph_mode: "area",
    justify_mode: "auto",
    orientation: "auto",
    reduce_options: ReduceOptions {
        calcs: ["lastNotNull"],
        fields: "",
        values: false,
    },
    text_mode: "auto",
});

pub const SERIES_OPTIONS: Options = Options::Series(SeriesOptions {
    legend: Legend {
        calcs: [],
        display_mode: "list",
        placement: "bottom",
        show_legend: true,
    },
    tooltip: Tooltip {
        mode: "multi",
        sort: "none",
    },
});

pub const TABLE_OPTIONS: Options = Options::Table(TableOptions {
    cell_height: "sm",
    show_header: true,
});
