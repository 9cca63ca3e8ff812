//! The JSON Schema of the v1 language, for editors (yaml-language-server) and docs.
//! These types exist only to describe the language; loading goes through the spanned
//! tree so that every fault gets a position. A test keeps their fields in step with the
//! loader's field lists.

use schemars::JsonSchema;
use std::collections::BTreeMap;

/// An SLO spec file (version v1): one service and its SLOs.
#[derive(JsonSchema)]
#[schemars(title = "SLO spec v1", deny_unknown_fields)]
#[allow(dead_code)]
pub struct Spec {
    /// Spec language version.
    version: Version,
    /// Service name, unique across all spec files.
    #[schemars(regex(pattern = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"))]
    service: String,
    /// Owning team; becomes the `owner` label of every rule and alert.
    #[schemars(length(min = 1))]
    owner: String,
    /// Labels added to every rule and alert of this file.
    labels: Option<BTreeMap<String, String>>,
    /// Default period of the SLOs below (default `30d`): rolling (`28d`), or aligned to the
    /// calendar in UTC (`calendar-week`, `calendar-month`, `calendar-quarter`).
    #[schemars(regex(pattern = r"^(([0-9]+(ms|s|m|h|d|w|y))+|calendar-(week|month|quarter))$"))]
    period: Option<String>,
    /// How often Prometheus scrapes the series the SLIs read (default `1m`), 1s to 10m.
    /// Raw series are read over four scrape intervals at least, and no alert window is
    /// shorter than that.
    #[schemars(regex(pattern = r"^([0-9]+(ms|s|m|h))+$"))]
    scrape_interval: Option<String>,
    /// Time that counts neither good nor bad for every SLO of the file.
    exclusions: Option<Vec<ExclusionSpec>>,
    /// Alerting defaults for every SLO of the file.
    alerting: Option<AlertingDefaults>,
    /// The service's SLOs.
    #[schemars(length(min = 1))]
    slos: Vec<Slo>,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
enum Version {
    #[serde(rename = "v1")]
    V1,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Slo {
    /// SLO name, unique in the file.
    #[schemars(regex(pattern = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"))]
    name: String,
    /// What the SLO promises, in words on-call understands.
    description: String,
    /// Target percentage of good events, 0 < objective < 100 (e.g. 99.9).
    #[schemars(range(min = 0, max = 100))]
    objective: f64,
    /// Period, overriding the file's default: rolling (`28d`) or `calendar-week`,
    /// `calendar-month`, `calendar-quarter` (UTC).
    #[schemars(regex(pattern = r"^(([0-9]+(ms|s|m|h|d|w|y))+|calendar-(week|month|quarter))$"))]
    period: Option<String>,
    /// Scrape interval of this SLO's series, overriding the file's (1s to 10m).
    #[schemars(regex(pattern = r"^([0-9]+(ms|s|m|h))+$"))]
    scrape_interval: Option<String>,
    /// Label names to split the SLO by: one SLO (ratio, budget, alerts) per combination of
    /// their values. Ratio queries must aggregate `by` exactly these labels.
    #[schemars(length(min = 1))]
    group_by: Option<Vec<LabelName>>,
    /// Labels added to this SLO's alerts, over the file's labels.
    labels: Option<BTreeMap<String, String>>,
    sli: Sli,
    alerting: Option<Alerting>,
    /// The agreement with customers: credits when a period's attainment falls short.
    sla: Option<SlaSpec>,
    /// Time that counts neither good nor bad for this SLO, beside the file's.
    exclusions: Option<Vec<ExclusionSpec>>,
    /// What `slo-gen gate` requires of this SLO before a deploy ships.
    deploy_gate: Option<DeployGateSpec>,
    /// Events per second the SLO usually sees; `validate` warns (W008) when that is too
    /// few for any tier to fire at its threshold.
    #[schemars(range(min = 0))]
    expected_rate: Option<f64>,
}

/// `deploy_gate`: the share of the error budget that must be left to deploy.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct DeployGateSpec {
    /// Percent of the budget left below which `slo-gen gate` blocks (0: only an exhausted
    /// budget blocks).
    #[schemars(range(min = 0, max = 100))]
    min_budget: f64,
}

/// An exclusion: a weekly window (UTC) or one interval, never both, with its reason.
/// Excluded time counts neither good nor bad and pages nobody.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct ExclusionSpec {
    /// Why this time does not count (a maintenance window, an incident credited elsewhere).
    #[schemars(length(min = 1))]
    reason: String,
    weekly: Option<WeeklySpec>,
    /// Start of a one-off exclusion, RFC 3339 (`2026-10-10T10:00:00Z`).
    from: Option<String>,
    /// End of a one-off exclusion, after `from`.
    to: Option<String>,
}

/// Every week on `day`, from `from` to `to` (UTC, `HH:MM`; `24:00` ends the day).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct WeeklySpec {
    day: WeekdaySpec,
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    from: String,
    #[schemars(regex(pattern = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"))]
    to: String,
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum WeekdaySpec {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

/// `sla`: the promised attainment and credit tiers, highest `below` first.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct SlaSpec {
    /// Promised attainment in percent, at most the SLO's objective.
    #[schemars(range(min = 0, max = 100))]
    objective: f64,
    /// Credit tiers, strictly descending by `below`, credits never smaller for a worse period.
    #[schemars(length(min = 1))]
    credits: Vec<CreditSpec>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct CreditSpec {
    /// Attainment in percent under which this credit applies (at most the SLA objective).
    #[schemars(range(min = 0, max = 100))]
    below: f64,
    /// Credit as a percentage of the period's charge, above 0 and at most 100.
    #[schemars(range(min = 0, max = 100))]
    credit_percent: f64,
}

/// The indicator: exactly one of `ratio`, `latency`, `freshness`, `raw`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, extend("minProperties" = 1, "maxProperties" = 1))]
#[allow(dead_code)]
struct Sli {
    ratio: Option<Ratio>,
    latency: Option<Latency>,
    freshness: Option<Freshness>,
    raw: Option<Raw>,
}

/// Bad (`errors`) or good (`good`) events over all events (`total`). Queries use the
/// `{{window}}` placeholder as their range.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Ratio {
    /// PromQL counting failed events per second over `{{window}}`.
    errors: Option<String>,
    /// PromQL counting good events per second over `{{window}}` (instead of `errors`).
    good: Option<String>,
    /// PromQL counting all events per second over `{{window}}`.
    total: String,
}

/// Requests slower than `threshold` are bad; read from a Prometheus histogram.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Latency {
    /// Histogram base name (without `_bucket`).
    histogram: String,
    /// Label selector, e.g. `{route="/v1/usage"}`.
    selector: Option<String>,
    /// Latency threshold; must be a bucket boundary of the histogram.
    #[schemars(regex(pattern = r"^([0-9]+(ms|s|m|h|d|w|y))+$"))]
    threshold: String,
}

/// Data older than `max_age` is bad; read from a last-success unix-time gauge (`metric`)
/// or a gauge of the data's age in seconds (`age`): exactly one of the two.
#[derive(JsonSchema)]
#[schemars(
    deny_unknown_fields,
    extend("oneOf" = [{"required": ["metric"]}, {"required": ["age"]}])
)]
#[allow(dead_code)]
struct Freshness {
    /// Gauge holding the unix time in seconds of the last success.
    metric: Option<String>,
    /// Gauge holding how old the data is, in seconds (e.g. the age of the oldest input not
    /// yet visible to users).
    age: Option<String>,
    /// Label selector, e.g. `{target="erp"}`.
    selector: Option<String>,
    /// Maximum acceptable age.
    #[schemars(regex(pattern = r"^([0-9]+(ms|s|m|h|d|w|y))+$"))]
    max_age: String,
}

/// An error ratio computed by your own PromQL.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Raw {
    /// PromQL giving the error ratio (0..1) over `{{window}}`.
    error_ratio: String,
}

/// Alert naming, routing and annotations of one SLO.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Alerting {
    /// Alert name; default derived from service and SLO name (CamelCase).
    #[schemars(regex(pattern = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"))]
    name: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    /// Annotations such as `summary` and `runbook_url`.
    annotations: Option<BTreeMap<String, String>>,
    /// The fast-burn alert that pages.
    page: Option<Tier>,
    /// The slow-burn alert that opens a ticket.
    ticket: Option<Tier>,
    /// The missing-data alert (on by default).
    absent: Option<Absent>,
    /// Turns off every alert of the SLO (recording rules stay).
    disabled: Option<bool>,
    /// Events in a tier's long window below which the tier cannot fire (low-traffic guard).
    #[schemars(range(min = 1))]
    min_events: Option<u64>,
    /// Labels whose top three values by errors a burn alert's notification lists (ratio
    /// and latency SLIs; not the SLO's `group_by`).
    #[schemars(length(min = 1, max = 3))]
    breakdown: Option<Vec<LabelName>>,
}

/// Alerting defaults of a file (everything but `name`).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct AlertingDefaults {
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
    page: Option<Tier>,
    ticket: Option<Tier>,
    absent: Option<Absent>,
    disabled: Option<bool>,
    #[schemars(range(min = 1))]
    min_events: Option<u64>,
    #[schemars(length(min = 1, max = 3))]
    breakdown: Option<Vec<LabelName>>,
}

/// A Prometheus label name.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct LabelName(#[schemars(regex(pattern = r"^[a-zA-Z_][a-zA-Z0-9_]*$"))] String);

/// The alert that fires when the raw series the SLI reads have been absent for `for`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Absent {
    /// How long the series must be absent (default: the fastest page's short window, at
    /// least the base window).
    #[schemars(rename = "for")]
    #[schemars(regex(pattern = r"^([0-9]+(ms|s|m|h|d|w|y))+$"))]
    for_: Option<String>,
    /// The `severity` label (default `ticket`).
    severity: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
    disabled: Option<bool>,
}

/// One alert tier (page or ticket).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Tier {
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
    disabled: Option<bool>,
    /// How long the condition must hold before the alert fires.
    #[schemars(rename = "for")]
    #[schemars(regex(pattern = r"^([0-9]+(ms|s|m|h|d|w|y))+$"))]
    for_: Option<String>,
    /// Window pairs replacing the default policy derived from the period.
    #[schemars(length(min = 1))]
    windows: Option<Vec<WindowPair>>,
    /// Percent confidence of the low-traffic test (default 99.9): the long window's errors
    /// must be that improbable for a service within its objective before the tier fires.
    #[schemars(range(min = 50, max = 100))]
    confidence: Option<f64>,
}

/// Fires when both windows burn faster than `burn_rate`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct WindowPair {
    #[schemars(regex(pattern = r"^([0-9]+(ms|s|m|h|d|w|y))+$"))]
    long: String,
    #[schemars(regex(pattern = r"^([0-9]+(ms|s|m|h|d|w|y))+$"))]
    short: String,
    /// Multiple of the sustainable error rate, e.g. 14.4.
    #[schemars(range(min = 0))]
    burn_rate: f64,
}

/// The schema as pretty JSON (draft-07, which yaml-language-server supports fully).
pub fn json() -> String {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<Spec>();
    let mut value = schema.to_value();
    drop_null(&mut value);
    let mut text = serde_json::to_string_pretty(&value).expect("a schema always serialises");
    text.push('\n');
    text
}

/// `Option` means "may be left out", not "may be null": the loader rejects nulls, so the
/// schema must not offer them to editors.
fn drop_null(value: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(obj) = value else {
        if let Value::Array(items) = value {
            items.iter_mut().for_each(drop_null);
        }
        return;
    };
    if let Some(Value::Array(types)) = obj.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            obj.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(any)) = obj.get_mut("anyOf") {
        any.retain(|s| s.get("type").and_then(Value::as_str) != Some("null"));
        if any.len() == 1 {
            if let Some(Value::Object(only)) = any.pop() {
                obj.remove("anyOf");
                obj.extend(only);
            }
        }
    }
    obj.values_mut().for_each(drop_null);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::fields;
    use serde_json::Value;

    fn props(schema: &Value, def: Option<&str>) -> Vec<String> {
        let node = match def {
            Some(d) => &schema["definitions"][d],
            None => schema,
        };
        let mut keys: Vec<String> = node["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no properties in {def:?}"))
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    fn sorted(f: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = f.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn schema_fields_match_the_loader() {
        let schema: Value = serde_json::from_str(&json()).unwrap();
        for (def, fields) in [
            (None, fields::TOP_FIELDS),
            (Some("Slo"), fields::SLO_FIELDS),
            (Some("Sli"), fields::SLI_FIELDS),
            (Some("Ratio"), fields::RATIO_FIELDS),
            (Some("Latency"), fields::LATENCY_FIELDS),
            (Some("Freshness"), fields::FRESHNESS_FIELDS),
            (Some("Raw"), fields::RAW_FIELDS),
            (Some("Alerting"), fields::ALERTING_FIELDS),
            (Some("AlertingDefaults"), fields::DEFAULT_ALERTING_FIELDS),
            (Some("Tier"), fields::TIER_FIELDS),
            (Some("WindowPair"), fields::WINDOW_FIELDS),
            (Some("Absent"), fields::ABSENT_FIELDS),
            (Some("ExclusionSpec"), fields::EXCLUSION_FIELDS),
            (Some("WeeklySpec"), fields::WEEKLY_FIELDS),
            (Some("DeployGateSpec"), fields::DEPLOY_GATE_FIELDS),
        ] {
            assert_eq!(props(&schema, def), sorted(fields), "{def:?}");
            let node = def.map(|d| &schema["definitions"][d]).unwrap_or(&schema);
            assert_eq!(node["additionalProperties"], Value::Bool(false), "{def:?}");
        }
    }
}
