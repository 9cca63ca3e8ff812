//! `slo-gen check-metrics`: the contract between the specs and what a service exposes.
//! Every metric selector of every SLO must match at least one exposed series (name and
//! label matchers), and every latency threshold must be an exact bucket boundary.

use promql_parser::label::Matcher;
use promql_parser::parser;
use slo_spec::{Numerator, Service, Sli};

/// One exposed series: its name and labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    pub name: String,
    pub labels: Vec<(String, String)>,
}

/// Parses Prometheus or OpenMetrics text exposition (samples only; exemplars, timestamps
/// and metadata lines are skipped).
pub fn parse_exposition(text: &str) -> Result<Vec<Series>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |m: &str| format!("line {}: {m}: {line}", i + 1);
        let name_end = line.find(['{', ' ']).ok_or_else(|| err("no value"))?;
        let name = &line[..name_end];
        if !slo_spec::names::is_metric_name(name) {
            return Err(err("bad metric name"));
        }
        let mut labels = Vec::new();
        if line[name_end..].starts_with('{') {
            let mut chars = line[name_end + 1..].char_indices().peekable();
            loop {
                while chars.peek().is_some_and(|(_, c)| *c == ',' || *c == ' ') {
                    chars.next();
                }
                match chars.peek() {
                    Some((_, '}')) => break,
                    None => return Err(err("unterminated labels")),
                    _ => {}
                }
                let mut key = String::new();
                for (_, c) in chars.by_ref() {
                    if c == '=' {
                        break;
                    }
                    key.push(c);
                }
                if chars.next().map(|(_, c)| c) != Some('"') {
                    return Err(err("label value must be quoted"));
                }
                let mut value = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => match chars.next().map(|(_, c)| c) {
                            Some('n') => value.push('\n'),
                            Some(other) => value.push(other),
                            None => return Err(err("dangling escape")),
                        },
                        '"' => {
                            closed = true;
                            break;
                        }
                        other => value.push(other),
                    }
                }
                if !closed {
                    return Err(err("unterminated label value"));
                }
                labels.push((key.trim().to_string(), value));
            }
        }
        out.push(Series {
            name: name.to_string(),
            labels,
        });
    }
    Ok(out)
}

/// A selector a spec relies on.
#[derive(Clone, Debug)]
pub struct Need {
    pub service: String,
    pub slo: String,
    pub name: String,
    pub matchers: Vec<Matcher>,
    /// For latency SLIs: the `le` the bucket must have, as seconds.
    pub bucket: Option<f64>,
    /// A grouped SLO's labels, which the matching series must carry.
    pub group_by: Vec<String>,
}

impl Need {
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.matchers.iter().map(|m| m.to_string()).collect();
        if let Some(le) = self.bucket {
            parts.push(format!("le=\"{le}\""));
        }
        let groups = if self.group_by.is_empty() {
            String::new()
        } else {
            format!(" with labels {}", self.group_by.join(", "))
        };
        format!("{}{{{}}}{groups}", self.name, parts.join(","))
    }
}

fn selectors(query: &str) -> Vec<(String, Vec<Matcher>)> {
    parser::parse(query)
        .map(|e| {
            slo_spec::selectors(&e)
                .into_iter()
                .map(|s| (s.name, s.matchers))
                .collect()
        })
        .unwrap_or_default()
}

/// Every selector the specs read.
pub fn needs(services: &[Service]) -> Vec<Need> {
    let mut out = Vec::new();
    for svc in services {
        for slo in &svc.slos {
            let mut push = |name: String, matchers: Vec<Matcher>, bucket: Option<f64>| {
                out.push(Need {
                    service: svc.name.clone(),
                    slo: slo.name.clone(),
                    name,
                    matchers,
                    bucket,
                    group_by: slo.group_by.clone(),
                })
            };
            let queries: Vec<String> = match &slo.sli {
                Sli::Ratio(r) => {
                    let n = match &r.numerator {
                        Numerator::Errors(q) | Numerator::Good(q) => q,
                    };
                    vec![n.render("5m"), r.total.render("5m")]
                }
                Sli::Raw(r) => vec![r.error_ratio.render("5m")],
                Sli::Latency(l) => {
                    let m = selectors(&format!("x{{{}}}", l.matchers))
                        .pop()
                        .map(|s| s.1)
                        .unwrap_or_default();
                    push(format!("{}_count", l.histogram), m.clone(), None);
                    push(format!("{}_bucket", l.histogram), m, l.le().parse().ok());
                    continue;
                }
                Sli::Freshness(f) => {
                    let m = selectors(&format!("x{{{}}}", f.matchers))
                        .pop()
                        .map(|s| s.1)
                        .unwrap_or_default();
                    push(f.metric.clone(), m, None);
                    continue;
                }
            };
            for q in queries {
                for (name, matchers) in selectors(&q) {
                    push(name, matchers, None);
                }
            }
        }
    }
    out
}

fn label<'a>(s: &'a Series, key: &str) -> &'a str {
    s.labels
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Whether some exposed series satisfies `need`.
pub fn satisfied(need: &Need, series: &[Series]) -> bool {
    series.iter().any(|s| {
        s.name == need.name
            && need.matchers.iter().all(|m| m.is_match(label(s, &m.name)))
            && need
                .bucket
                .is_none_or(|le| label(s, "le").parse::<f64>().is_ok_and(|v| v == le))
            && need.group_by.iter().all(|g| !label(s, g).is_empty())
    })
}
