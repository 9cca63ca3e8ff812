//! A Prometheus HTTP API client: `query` and `query_range`, the latter in chunks under
//! the server's points-per-series limit (11,000), merged per label set. Every error names
//! the query and carries the server's own message. `backtest` fetches base series with
//! it; `report` and `serve` will read recorded series through it.

use serde_json::Value;
use slo_eval::{Millis, Timestamp};
use std::collections::BTreeMap;
use std::time::Duration;

/// Prometheus refuses a range query of more points per series than this.
pub const MAX_POINTS: i64 = 11_000;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("`{url}` is not an http:// URL of a Prometheus server (https is not built in: reach it through a local port, e.g. `kubectl port-forward`)")]
    Url { url: String },
    #[error("cannot reach Prometheus at {url} for `{query}`: {message}")]
    Transport {
        url: String,
        query: String,
        message: String,
    },
    #[error("Prometheus at {url} refused `{query}`: {message}")]
    Server {
        url: String,
        query: String,
        message: String,
    },
}

/// One series of a query's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub samples: Vec<(Timestamp, f64)>,
}

impl Series {
    /// The values of a grouped SLO's group labels on this series (empty for one aggregate).
    pub fn group(&self, group_by: &[String]) -> BTreeMap<String, String> {
        group_by
            .iter()
            .filter_map(|g| self.labels.get(g).map(|v| (g.clone(), v.clone())))
            .collect()
    }
}

pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client whose requests give up after two minutes (long range reads).
    pub fn new(url: &str) -> Result<Client, ApiError> {
        Client::with_timeout(url, Duration::from_secs(120))
    }

    /// A client whose requests give up after `timeout`: a page should say "slow" rather
    /// than hang.
    pub fn with_timeout(url: &str, timeout: Duration) -> Result<Client, ApiError> {
        let base = url.trim_end_matches('/').to_string();
        if !base.starts_with("http://") {
            return Err(ApiError::Url { url: url.into() });
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .new_agent();
        Ok(Client { base, agent })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// The instant vector of `expr` at `at`.
    pub fn query(&self, expr: &str, at: Timestamp) -> Result<Vec<Series>, ApiError> {
        let data = self.call("query", expr, &[("time", seconds(at))])?;
        parse_result(&data, "value")
            .ok_or_else(|| self.server(expr, "the result is not a vector of samples".into()))
    }

    /// `expr` at every `step` from `start` to `end` (both aligned by the caller), in
    /// chunks of at most [`MAX_POINTS`]; `progress(done, total)` after each chunk.
    pub fn query_range(
        &self,
        expr: &str,
        start: Timestamp,
        end: Timestamp,
        step: Millis,
        progress: &mut dyn FnMut(i64, i64),
    ) -> Result<Vec<Series>, ApiError> {
        let step = step.max(1);
        let span = (MAX_POINTS - 1) * step;
        let total = (end - start) / step + 1;
        let mut merged: BTreeMap<BTreeMap<String, String>, Vec<(Timestamp, f64)>> = BTreeMap::new();
        let mut chunk_start = start;
        while chunk_start <= end {
            let chunk_end = (chunk_start + span).min(end);
            let step_text = format!("{}", step as f64 / 1000.0);
            let data = self.call(
                "query_range",
                expr,
                &[
                    ("start", seconds(chunk_start)),
                    ("end", seconds(chunk_end)),
                    ("step", step_text),
                ],
            )?;
            let series = parse_result(&data, "values")
                .ok_or_else(|| self.server(expr, "the result is not a matrix".into()))?;
            for s in series {
                merged.entry(s.labels).or_default().extend(s.samples);
            }
            progress((chunk_end - start) / step + 1, total);
            chunk_start = chunk_end + step;
        }
        Ok(merged
            .into_iter()
            .map(|(labels, samples)| Series { labels, samples })
            .collect())
    }

    /// `data` of `/api/v1/rules`: the rule groups a Prometheus or vmalert has loaded.
    pub fn rules(&self) -> Result<Value, ApiError> {
        let what = "/api/v1/rules";
        let text = self.get(what)?;
        match serde_json::from_str::<Value>(&text) {
            Ok(body) if body["status"] == "success" => Ok(body["data"].clone()),
            _ => Err(self.server(what, format!("not an API answer: {}", excerpt(&text)))),
        }
    }

    /// When the server last loaded its rules: Prometheus' `lastConfigTime`, else vmalert's
    /// `vmalert_config_last_reload_success_timestamp_seconds`; `None` when neither says.
    pub fn rules_loaded_at(&self) -> Option<Timestamp> {
        if let Ok(text) = self.get("/api/v1/status/runtimeinfo") {
            let body: Value = serde_json::from_str(&text).ok()?;
            if let Some(t) = body["data"]["lastConfigTime"].as_str() {
                return t
                    .parse::<jiff::Timestamp>()
                    .ok()
                    .map(|t| Timestamp(t.as_millisecond()));
            }
        }
        let metrics = self.get("/metrics").ok()?;
        metrics.lines().find_map(|l| {
            let v = l.strip_prefix("vmalert_config_last_reload_success_timestamp_seconds ")?;
            Some(Timestamp::from_secs_f64(v.trim().parse().ok()?))
        })
    }

    /// The body of a successful GET of `path`.
    fn get(&self, path: &str) -> Result<String, ApiError> {
        let transport = |message: String| ApiError::Transport {
            url: self.base.clone(),
            query: path.into(),
            message,
        };
        let mut response = self
            .agent
            .get(&format!("{}{path}", self.base))
            .call()
            .map_err(|e| transport(e.to_string()))?;
        let status = response.status();
        let text = body_text(&mut response).map_err(|e| transport(e.to_string()))?;
        if !status.is_success() {
            return Err(self.server(path, format!("HTTP {status}: {}", excerpt(&text))));
        }
        Ok(text)
    }

    fn server(&self, query: &str, message: String) -> ApiError {
        ApiError::Server {
            url: self.base.clone(),
            query: query.into(),
            message,
        }
    }

    /// POSTs a form (queries of any length) and returns `data` of a successful answer.
    fn call(
        &self,
        endpoint: &str,
        query: &str,
        params: &[(&str, String)],
    ) -> Result<Value, ApiError> {
        let url = format!("{}/api/v1/{endpoint}", self.base);
        let transport = |message: String| ApiError::Transport {
            url: self.base.clone(),
            query: query.into(),
            message,
        };
        let mut form: Vec<(&str, &str)> = vec![("query", query)];
        form.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
        let mut response = self
            .agent
            .post(&url)
            .send_form(form)
            .map_err(|e| transport(e.to_string()))?;
        let status = response.status();
        let text = body_text(&mut response).map_err(|e| transport(e.to_string()))?;
        let mut body: Value = serde_json::from_str(&text).map_err(|_| {
            self.server(
                query,
                format!(
                    "HTTP {status}, not a Prometheus API answer: {}",
                    excerpt(&text)
                ),
            )
        })?;
        if body["status"] != "success" {
            let message = match (body["errorType"].as_str(), body["error"].as_str()) {
                (Some(t), Some(e)) => format!("{t}: {e}"),
                _ => format!("HTTP {status}: {}", excerpt(&text)),
            };
            return Err(self.server(query, message));
        }
        // Moved out, not cloned: a range chunk holds up to 11,000 points per series.
        Ok(body["data"].take())
    }
}

/// The whole body of an answer as text (up to 1 GiB: long range reads).
fn body_text(response: &mut ureq::http::Response<ureq::Body>) -> Result<String, ureq::Error> {
    response
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_string()
}

fn excerpt(text: &str) -> String {
    let t = text.trim();
    match t.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

/// Seconds as Prometheus takes them: `1700000000.5`.
fn seconds(t: Timestamp) -> String {
    let ms = t.0;
    if ms % 1000 == 0 {
        (ms / 1000).to_string()
    } else {
        format!("{:.3}", ms as f64 / 1000.0)
    }
}

/// A `vector` (`key` = "value") or `matrix` (`key` = "values") result.
fn parse_result(data: &Value, key: &str) -> Option<Vec<Series>> {
    let result = data["result"].as_array()?;
    result
        .iter()
        .map(|s| {
            let labels = s["metric"]
                .as_object()?
                .iter()
                .map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect::<Option<BTreeMap<_, _>>>()?;
            let points: Vec<&Value> = if key == "value" {
                vec![&s["value"]]
            } else {
                s["values"].as_array()?.iter().collect()
            };
            let samples = points
                .into_iter()
                .map(|p| {
                    let t = p[0].as_f64()?;
                    let v = parse_value(p[1].as_str()?)?;
                    Some((Timestamp::from_secs_f64(t), v))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Series { labels, samples })
        })
        .collect()
}

/// Prometheus writes sample values as strings, with `NaN`, `+Inf` and `-Inf`.
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrices_and_vectors_parse_with_special_values() {
        let data: Value = serde_json::from_str(
            r#"{"resultType":"matrix","result":[{"metric":{"provider":"stripe"},"values":[[1700000000,"1.5"],[1700000028.5,"NaN"],[1700000057,"+Inf"]]}]}"#,
        )
        .unwrap();
        let s = parse_result(&data, "values").unwrap();
        assert_eq!(s[0].labels["provider"], "stripe");
        assert_eq!(s[0].samples[0], (Timestamp(1_700_000_000_000), 1.5));
        assert_eq!(s[0].samples[1].0, Timestamp(1_700_000_028_500));
        assert!(s[0].samples[1].1.is_nan());
        assert_eq!(s[0].samples[2].1, f64::INFINITY);
        let data: Value = serde_json::from_str(
            r#"{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"3"]}]}"#,
        )
        .unwrap();
        assert_eq!(
            parse_result(&data, "value").unwrap()[0].samples,
            vec![(Timestamp(1_700_000_000_000), 3.0)]
        );
        assert!(parse_result(&serde_json::json!({"result": "x"}), "values").is_none());
    }

    #[test]
    fn times_are_written_as_prometheus_reads_them() {
        assert_eq!(seconds(Timestamp(1_700_000_000_000)), "1700000000");
        assert_eq!(seconds(Timestamp(1_700_000_000_500)), "1700000000.500");
        assert_eq!(seconds(Timestamp(-1500)), "-1.500");
    }

    #[test]
    fn only_http_urls_are_taken() {
        assert!(Client::new("https://prom.example.com").is_err());
        assert!(Client::new("prom:9090").is_err());
        assert_eq!(
            Client::new("http://127.0.0.1:9090/").unwrap().url(),
            "http://127.0.0.1:9090"
        );
    }
}
