//! The history a backtest replays: per SLO, its base series fetched from Prometheus at the
//! step of its fast rule group, with the queries they were fetched for. Saved as a
//! versioned JSON file so a backtest can be rerun (and a baseline compared) offline; a
//! history is only ever used for the exact queries and step it was fetched with.
//!
//! File format (`version: 1`): `{version, prometheus, from, to, slos: [{service, slo,
//! step_seconds, start, end, queries: {events, errors, inputs}, series: {events, errors,
//! inputs: [{labels, start, values}]}}]}`. Times are RFC 3339 UTC; `values[i]` is the
//! sample at `start + i * step_seconds`, `null` where there was none, and `"NaN"`,
//! `"+Inf"`, `"-Inf"` as Prometheus writes them.
//! Long: fetching, saving and reading the history share one versioned format; split, its checks would drift.

use crate::promapi::{self, ApiError, Client, Series};
use crate::rules::sli::BaseQueries;
use serde_json::{json, Map, Value};
use slo_eval::{GroupHistory, Millis, Samples, Timestamp};
use std::collections::BTreeMap;

pub const VERSION: u64 = 1;

/// The longest history replayed: a year and a day (a calendar year of budgets).
pub const MAX_SPAN: Millis = 366 * 86_400_000;
/// Steps are rule intervals: at least a millisecond, at most a day.
const MAX_STEP_SECONDS: f64 = 86_400.0;

/// Checks what every history must hold, however it was read.
fn checked(h: History) -> Result<History, String> {
    if h.to <= h.from {
        return Err("`to` is not after `from`".into());
    }
    if h.to - h.from > MAX_SPAN {
        return Err(format!(
            "it spans more than {} days; replay at most a year and a day",
            MAX_SPAN / 86_400_000
        ));
    }
    for (i, e) in h.entries.iter().enumerate() {
        if e.start > h.to || h.to - e.start > 2 * MAX_SPAN {
            return Err(format!("`slos[{i}].start` is not within a year of `to`"));
        }
    }
    Ok(h)
}

type Labels = BTreeMap<String, String>;
type Points = Vec<(Timestamp, f64)>;

/// Base series fetched for one SLO's queries.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The SLO they were first fetched for (informative: entries match by queries).
    pub service: String,
    pub slo: String,
    pub queries: BaseQueries,
    pub step: Millis,
    pub start: Timestamp,
    pub end: Timestamp,
    pub events: Vec<Series>,
    pub errors: Vec<Series>,
    pub inputs: Vec<Series>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct History {
    pub prometheus: String,
    pub from: Timestamp,
    pub to: Timestamp,
    pub entries: Vec<Entry>,
}

/// What one SLO needs fetched.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Need {
    pub service: String,
    pub slo: String,
    pub queries: BaseQueries,
    pub step: Millis,
    pub start: Timestamp,
}

impl History {
    /// The entry fetched for exactly these queries at this step, covering `[start, to]`.
    pub fn find(&self, queries: &BaseQueries, step: Millis) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| &e.queries == queries && e.step == step)
    }

    pub fn to_json(&self) -> String {
        let slos: Vec<Value> = self
            .entries
            .iter()
            .map(|e| {
                let series = |ss: &[Series]| -> Value {
                    ss.iter()
                        .map(|s| encode_series(s, e.start, e.step))
                        .collect()
                };
                json!({
                    "service": e.service,
                    "slo": e.slo,
                    "step_seconds": e.step as f64 / 1000.0,
                    "start": rfc3339(e.start),
                    "end": rfc3339(e.end),
                    "queries": {
                        "events": e.queries.events,
                        "errors": e.queries.errors,
                        "inputs": e.queries.inputs,
                    },
                    "series": {
                        "events": series(&e.events),
                        "errors": series(&e.errors),
                        "inputs": series(&e.inputs),
                    },
                })
            })
            .collect();
        let doc = json!({
            "version": VERSION,
            "prometheus": self.prometheus,
            "from": rfc3339(self.from),
            "to": rfc3339(self.to),
            "slos": slos,
        });
        let mut text = serde_json::to_string(&doc).expect("a JSON value always serialises");
        text.push('\n');
        text
    }

    /// Reads a saved history; the error says which field is wrong.
    pub fn from_json(text: &str) -> Result<History, String> {
        // Typed first (fast); on any failure the generic reading finds the field to name.
        match serde_json::from_str::<typed::Doc>(text) {
            Ok(doc) if doc.version == VERSION => return doc.into_history().and_then(checked),
            _ => {}
        }
        Self::from_value(text).and_then(checked)
    }

    fn from_value(text: &str) -> Result<History, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        match doc["version"].as_u64() {
            Some(VERSION) => {}
            Some(v) => {
                return Err(format!(
                    "version {v} is not one this slo-gen reads (it reads {VERSION}); fetch it again with --prometheus"
                ))
            }
            None => return Err("no `version`: not a history saved by `slo-gen backtest --save-history`".into()),
        }
        let time = |v: &Value, what: &str| {
            v.as_str()
                .and_then(|s| parse_rfc3339(s).ok())
                .ok_or_else(|| format!("`{what}` is not an RFC 3339 time"))
        };
        let slos = doc["slos"].as_array().ok_or("`slos` is not a list")?;
        let mut entries = Vec::new();
        for (i, e) in slos.iter().enumerate() {
            let at = format!("slos[{i}]");
            let text = |k: &str| {
                e[k].as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`{at}.{k}` is not a string"))
            };
            let q = &e["queries"];
            let query = |k: &str| {
                q[k].as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`{at}.queries.{k}` is not a string"))
            };
            let step = e["step_seconds"]
                .as_f64()
                .filter(|s| *s >= 0.001 && *s <= MAX_STEP_SECONDS)
                .map(|s| (s * 1000.0).round() as Millis)
                .ok_or_else(|| format!("`{at}.step_seconds` is not between 0.001 and 86400"))?;
            let start = time(&e["start"], &format!("{at}.start"))?;
            let series = |k: &str| -> Result<Vec<Series>, String> {
                e["series"][k]
                    .as_array()
                    .ok_or_else(|| format!("`{at}.series.{k}` is not a list"))?
                    .iter()
                    .enumerate()
                    .map(|(j, s)| {
                        decode_series(s, step).map_err(|m| format!("`{at}.series.{k}[{j}]`: {m}"))
                    })
                    .collect()
            };
            entries.push(Entry {
                service: text("service")?,
                slo: text("slo")?,
                queries: BaseQueries {
                    events: query("events")?,
                    errors: query("errors")?,
                    inputs: match &q["inputs"] {
                        Value::Null => None,
                        _ => Some(query("inputs")?),
                    },
                },
                step,
                start,
                end: time(&e["end"], &format!("{at}.end"))?,
                events: series("events")?,
                errors: series("errors")?,
                inputs: series("inputs")?,
            });
        }
        Ok(History {
            prometheus: doc["prometheus"].as_str().unwrap_or_default().to_string(),
            from: time(&doc["from"], "from")?,
            to: time(&doc["to"], "to")?,
            entries,
        })
    }
}

impl Entry {
    /// The base series per group: series keyed by the values of `group_by` (one group
    /// with no labels when the SLO is not grouped).
    pub fn groups(&self, group_by: &[String]) -> Vec<GroupHistory> {
        let key = |s: &Series| -> BTreeMap<String, String> {
            group_by
                .iter()
                .filter_map(|g| s.labels.get(g).map(|v| (g.clone(), v.clone())))
                .collect()
        };
        let mut groups: BTreeMap<Labels, [Points; 3]> = BTreeMap::new();
        for (i, list) in [&self.events, &self.errors, &self.inputs]
            .into_iter()
            .enumerate()
        {
            for s in list {
                groups.entry(key(s)).or_default()[i].extend(s.samples.iter().copied());
            }
        }
        groups
            .into_iter()
            .map(|(labels, [events, errors, inputs])| GroupHistory {
                labels,
                events: Samples::new(events),
                errors: Samples::new(errors),
                inputs: Samples::new(inputs),
            })
            .collect()
    }
}

/// Fetches every need once per distinct (queries, step, start); `progress` gets a line
/// per query fetched in more than one chunk, and one per SLO.
pub fn fetch(
    client: &Client,
    needs: &[Need],
    from: Timestamp,
    to: Timestamp,
    progress: &mut dyn FnMut(String),
) -> Result<History, ApiError> {
    let mut entries: Vec<Entry> = Vec::new();
    for need in needs {
        if let Some(e) = entries
            .iter_mut()
            .find(|e| e.queries == need.queries && e.step == need.step)
        {
            if e.start <= need.start {
                continue;
            }
        }
        let end = to.floor(need.step);
        let start = need.start.floor(need.step);
        let mut get = |what: &str, q: &str| -> Result<Vec<Series>, ApiError> {
            let label = format!("{}/{} {what}", need.service, need.slo);
            client.query_range(q, start, end, need.step, &mut |done, total| {
                if done < total {
                    progress(format!("{label}: {done}/{total} points"));
                }
            })
        };
        let events = get("events", &need.queries.events)?;
        let errors = get("errors", &need.queries.errors)?;
        let inputs = match &need.queries.inputs {
            Some(q) => get("inputs", q)?,
            None => Vec::new(),
        };
        let points = (end - start) / need.step + 1;
        progress(format!(
            "fetched {}/{}: {} series, {points} evaluations at {}s",
            need.service,
            need.slo,
            events.len(),
            need.step as f64 / 1000.0
        ));
        entries.retain(|e| !(e.queries == need.queries && e.step == need.step));
        entries.push(Entry {
            service: need.service.clone(),
            slo: need.slo.clone(),
            queries: need.queries.clone(),
            step: need.step,
            start,
            end,
            events,
            errors,
            inputs,
        });
    }
    Ok(History {
        prometheus: client.url().to_string(),
        from,
        to,
        entries,
    })
}

/// The file's types for serde: reading a 30-day history this way is several times
/// faster than through `serde_json::Value`.
mod typed {
    use super::{parse_rfc3339, BaseQueries, Entry, History, Millis, Series};
    use serde::de::{Deserializer, SeqAccess, Visitor};
    use serde::Deserialize;
    use std::collections::BTreeMap;
    use std::fmt;

    #[derive(Deserialize)]
    pub struct Doc {
        pub version: u64,
        #[serde(default)]
        prometheus: String,
        from: String,
        to: String,
        slos: Vec<DocEntry>,
    }

    #[derive(Deserialize)]
    struct DocEntry {
        service: String,
        slo: String,
        step_seconds: f64,
        start: String,
        end: String,
        queries: Queries,
        series: SeriesSet,
    }

    #[derive(Deserialize)]
    struct Queries {
        events: String,
        errors: String,
        inputs: Option<String>,
    }

    #[derive(Deserialize)]
    struct SeriesSet {
        events: Vec<DocSeries>,
        errors: Vec<DocSeries>,
        inputs: Vec<DocSeries>,
    }

    #[derive(Deserialize)]
    struct DocSeries {
        labels: BTreeMap<String, String>,
        start: String,
        values: Values,
    }

    struct Values(Vec<Option<f64>>);

    impl<'de> Deserialize<'de> for Values {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Values;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a list of numbers, nulls and NaN/+Inf/-Inf")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Values, A::Error> {
                    let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                    while let Some(Value(v)) = seq.next_element()? {
                        out.push(v);
                    }
                    Ok(Values(out))
                }
            }
            d.deserialize_seq(V)
        }
    }

    struct Value(Option<f64>);

    impl<'de> Deserialize<'de> for Value {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Value;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a number, null, or NaN/+Inf/-Inf")
                }
                fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
                    Ok(Value(Some(v)))
                }
                fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
                    Ok(Value(Some(v as f64)))
                }
                fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
                    Ok(Value(Some(v as f64)))
                }
                fn visit_unit<E>(self) -> Result<Value, E> {
                    Ok(Value(None))
                }
                fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
                    crate::promapi::parse_value(s)
                        .map(|v| Value(Some(v)))
                        .ok_or_else(|| E::custom("not a number"))
                }
            }
            d.deserialize_any(V)
        }
    }

    impl Doc {
        pub fn into_history(self) -> Result<History, String> {
            let time = |s: &str, what: &str| {
                parse_rfc3339(s).map_err(|_| format!("`{what}` is not an RFC 3339 time"))
            };
            let mut entries = Vec::with_capacity(self.slos.len());
            for (i, e) in self.slos.into_iter().enumerate() {
                if !(0.001..=super::MAX_STEP_SECONDS).contains(&e.step_seconds) {
                    return Err(format!(
                        "`slos[{i}].step_seconds` is not between 0.001 and 86400"
                    ));
                }
                let step = (e.step_seconds * 1000.0).round() as Millis;
                let series = |list: Vec<DocSeries>, k: &str| -> Result<Vec<Series>, String> {
                    list.into_iter()
                        .enumerate()
                        .map(|(j, s)| {
                            let start =
                                time(&s.start, &format!("slos[{i}].series.{k}[{j}].start"))?;
                            let samples = s
                                .values
                                .0
                                .into_iter()
                                .enumerate()
                                .filter_map(|(n, v)| v.map(|v| (start + n as Millis * step, v)))
                                .collect();
                            Ok(Series {
                                labels: s.labels,
                                samples,
                            })
                        })
                        .collect()
                };
                entries.push(Entry {
                    service: e.service,
                    slo: e.slo,
                    queries: BaseQueries {
                        events: e.queries.events,
                        errors: e.queries.errors,
                        inputs: e.queries.inputs,
                    },
                    step,
                    start: time(&e.start, &format!("slos[{i}].start"))?,
                    end: time(&e.end, &format!("slos[{i}].end"))?,
                    events: series(e.series.events, "events")?,
                    errors: series(e.series.errors, "errors")?,
                    inputs: series(e.series.inputs, "inputs")?,
                });
            }
            Ok(History {
                prometheus: self.prometheus,
                from: time(&self.from, "from")?,
                to: time(&self.to, "to")?,
                entries,
            })
        }
    }
}

fn encode_series(s: &Series, start: Timestamp, step: Millis) -> Value {
    let first = s.samples.iter().map(|p| p.0).min().unwrap_or(start);
    let last = s.samples.iter().map(|p| p.0).max().unwrap_or(start);
    let n = ((last - first) / step + 1).max(0) as usize;
    let mut values = vec![Value::Null; if s.samples.is_empty() { 0 } else { n }];
    for &(t, v) in &s.samples {
        let i = ((t - first) / step) as usize;
        values[i] = match serde_json::Number::from_f64(v) {
            Some(_) if v.fract() == 0.0 && v.abs() < 9e15 => Value::from(v as i64),
            Some(n) => Value::Number(n),
            None if v.is_nan() => Value::from("NaN"),
            None if v > 0.0 => Value::from("+Inf"),
            None => Value::from("-Inf"),
        };
    }
    let labels: Map<String, Value> = s
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    json!({"labels": labels, "start": rfc3339(first), "values": values})
}

fn decode_series(s: &Value, step: Millis) -> Result<Series, String> {
    let labels = s["labels"]
        .as_object()
        .ok_or("`labels` is not a map")?
        .iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|v| (k.clone(), v.to_string()))
                .ok_or_else(|| format!("label `{k}` is not a string"))
        })
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    let start = s["start"]
        .as_str()
        .and_then(|t| parse_rfc3339(t).ok())
        .ok_or("`start` is not an RFC 3339 time")?;
    let values = s["values"].as_array().ok_or("`values` is not a list")?;
    let mut samples = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let t = start + i as Millis * step;
        let value = match v {
            Value::Null => continue,
            Value::Number(n) => n.as_f64(),
            Value::String(s) => promapi::parse_value(s),
            _ => None,
        }
        .ok_or_else(|| format!("`values[{i}]` is not a number"))?;
        samples.push((t, value));
    }
    Ok(Series { labels, samples })
}

/// The clock now.
pub fn now() -> Timestamp {
    Timestamp(jiff::Timestamp::now().as_millisecond())
}

/// `2026-11-26T12:00:00Z`.
pub fn rfc3339(t: Timestamp) -> String {
    jiff::Timestamp::from_millisecond(t.0)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| t.0.to_string())
}

pub fn parse_rfc3339(s: &str) -> Result<Timestamp, jiff::Error> {
    s.parse::<jiff::Timestamp>()
        .map(|t| Timestamp(t.as_millisecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            service: "s".into(),
            slo: "a".into(),
            queries: BaseQueries {
                events: "sum(rate(x[5m])) or vector(0)".into(),
                errors: "e".into(),
                inputs: Some("count(x)".into()),
            },
            step: 30_000,
            start: Timestamp(1_700_000_010_000 - 10_000),
            end: Timestamp(1_700_000_090_000),
            events: vec![Series {
                labels: [("provider".to_string(), "stripe".to_string())].into(),
                samples: vec![
                    (Timestamp(1_700_000_000_000), 1.25),
                    (Timestamp(1_700_000_060_000), 3.0),
                    (Timestamp(1_700_000_090_000), f64::NAN),
                ],
            }],
            errors: vec![Series {
                labels: BTreeMap::new(),
                samples: vec![(Timestamp(1_700_000_030_000), f64::INFINITY)],
            }],
            inputs: vec![],
        }
    }

    #[test]
    fn a_history_survives_its_file_with_gaps_and_special_values() {
        let h = History {
            prometheus: "http://127.0.0.1:9090".into(),
            from: Timestamp(1_700_000_000_000),
            to: Timestamp(1_700_000_090_000),
            entries: vec![entry()],
        };
        let text = h.to_json();
        assert!(text.contains(r#""values":[1.25,null,3,"NaN"]"#), "{text}");
        let back = History::from_json(&text).unwrap();
        // NaN != NaN: compare the text of a second round instead.
        assert_eq!(back.to_json(), text);
        assert_eq!(back.entries[0].events[0].samples.len(), 3);
        assert!(back.find(&entry().queries, 30_000).is_some());
        assert!(back.find(&entry().queries, 28_000).is_none());
        let mut other = entry().queries;
        other.errors.push(' ');
        assert!(back.find(&other, 30_000).is_none());
    }

    #[test]
    fn bad_files_say_which_field() {
        for (text, expected) in [
            ("[", "not JSON"),
            (
                r#"{"version": 1, "from": "2026-01-01T00:00:00Z", "to": "2020-01-01T00:00:00Z", "slos": []}"#,
                "`to` is not after `from`",
            ),
            (
                r#"{"version": 1, "from": "0001-01-01T00:00:00Z", "to": "9999-01-01T00:00:00Z", "slos": []}"#,
                "more than 366 days",
            ),
            (
                r#"{"version": 1, "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "slos": [{"service": "s", "slo": "a", "step_seconds": 1e300, "start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z", "queries": {"events": "x", "errors": "y", "inputs": null}, "series": {"events": [], "errors": [], "inputs": []}}]}"#,
                "`slos[0].step_seconds` is not between",
            ),
            ("{}", "no `version`"),
            (r#"{"version": 9}"#, "version 9 is not one"),
            (r#"{"version": 1, "slos": 3}"#, "`slos` is not a list"),
            (
                r#"{"version": 1, "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "slos": [{"service": "s", "slo": "a", "step_seconds": 30, "start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z", "queries": {"events": "x", "errors": "y", "inputs": null}, "series": {"events": [{"labels": {}, "start": "2026-01-01T00:00:00Z", "values": [1, true]}], "errors": [], "inputs": []}}]}"#,
                "`slos[0].series.events[0]`: `values[1]` is not a number",
            ),
        ] {
            let e = History::from_json(text).unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
    }

    #[test]
    fn groups_join_the_three_queries_by_group_labels() {
        let mut e = entry();
        e.errors[0].labels = [("provider".to_string(), "stripe".to_string())].into();
        let g = e.groups(&["provider".into()]);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].labels["provider"], "stripe");
        assert_eq!(g[0].events.len(), 3);
        assert_eq!(g[0].errors.len(), 1);
        let g = entry().groups(&[]);
        assert_eq!(g.len(), 1, "one aggregate");
    }
}
