//! `POST /v1/usage`: validating metered events. Every refusal names the field
//! (`events[3].quantity`) and says what would be accepted: 400 for a malformed request
//! (wrong JSON types), 422 for a well-formed event that cannot be billed (unknown account
//! or meter, a quantity that is not a whole number within bounds, a timestamp that is not
//! RFC 3339 or outside the accepted window).

use super::accounts::Accounts;
use super::rating::{Meter, MAX_EVENT_QUANTITY};
use super::store::Event;
use axum::http::StatusCode;
use serde_json::Value;

/// Events per request.
pub const MAX_BATCH: usize = 1000;
/// Usage may arrive this late: the billing month plus a few days of grace.
pub const MAX_EVENT_AGE_SECONDS: i64 = 35 * 86400;
/// Usage may be stamped this far in the future (clock skew between producers and us).
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

/// A refusal: the status and the message.
pub type Refusal = (StatusCode, String);

fn malformed(field: &str, what: &str) -> Refusal {
    (StatusCode::BAD_REQUEST, format!("`{field}` must be {what}"))
}

fn unbillable(field: &str, message: String) -> Refusal {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("`{field}`: {message}"),
    )
}

/// Where a field is in the request (`events[3].quantity`), formatted only for a refusal.
#[derive(Clone, Copy)]
struct At<'a>(usize, &'a str);

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "events[{}].{}", self.0, self.1)
    }
}

/// Validates event `index` of a batch, received at `now` (unix seconds).
pub fn event(index: usize, v: &Value, accounts: &Accounts, now: f64) -> Result<Event, Refusal> {
    let at = |field: &str| format!("events[{index}].{field}");
    let obj = v
        .as_object()
        .ok_or_else(|| malformed(&format!("events[{index}]"), "an object"))?;
    let text = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(&at(k), "a string"))
    };
    let id = text("id")?;
    if id.is_empty() || id.len() > 128 {
        return Err(malformed(&at("id"), "1 to 128 characters long"));
    }
    let account = text("account")?;
    let meter_name = text("meter")?;
    let quantity = quantity(obj.get("quantity"), At(index, "quantity"))?;
    let timestamp = timestamp(obj.get("timestamp"), At(index, "timestamp"), now)?;
    let meter = Meter::parse(meter_name).ok_or_else(|| {
        let meters: Vec<&str> = Meter::ALL.iter().map(|m| m.as_str()).collect();
        unbillable(
            &at("meter"),
            format!(
                "unknown meter `{meter_name}`; meters: {}",
                meters.join(", ")
            ),
        )
    })?;
    if accounts.get(account).is_none() {
        return Err(unbillable(
            &at("account"),
            format!("unknown account `{account}`"),
        ));
    }
    Ok(Event {
        id: id.into(),
        account: account.into(),
        meter: meter.as_str().into(),
        quantity,
        timestamp,
        received: now,
    })
}

/// A whole number of units, written as a JSON integer, at most [`MAX_EVENT_QUANTITY`].
/// Fractions, exponents and `-0.0` are refused rather than rounded: an invoice is only as
/// exact as its inputs.
fn quantity(v: Option<&Value>, at: At) -> Result<u64, Refusal> {
    let refuse = |message: String| unbillable(&at.to_string(), message);
    let Some(Value::Number(n)) = v else {
        return Err(malformed(&at.to_string(), "a JSON integer"));
    };
    if let Some(q) = n.as_u64() {
        if q > MAX_EVENT_QUANTITY {
            return Err(refuse(format!("{q} is more than the {MAX_EVENT_QUANTITY} units one event may carry; split the usage into several events")));
        }
        return Ok(q);
    }
    if n.is_i64() {
        return Err(refuse(format!("{n} is negative; usage is never below 0")));
    }
    Err(refuse(format!("{n} is not a whole number; quantities are whole units of the meter (bytes, byte-hours, transactions), written as JSON integers from 0 to {MAX_EVENT_QUANTITY}")))
}

/// An RFC 3339 time within the accepted window around `now`, as unix seconds.
fn timestamp(v: Option<&Value>, at: At, now: f64) -> Result<i64, Refusal> {
    let refuse = |message: String| unbillable(&at.to_string(), message);
    let Some(Value::String(text)) = v else {
        return Err(malformed(
            &at.to_string(),
            "an RFC 3339 string such as \"2026-11-26T09:15:00Z\"",
        ));
    };
    let t: jiff::Timestamp = text.parse().map_err(|e| {
        refuse(format!(
            "`{text}` is not an RFC 3339 time ({e}); write e.g. \"2026-11-26T09:15:00Z\""
        ))
    })?;
    let seconds = t.as_second();
    let now = now as i64;
    if seconds < now - MAX_EVENT_AGE_SECONDS {
        let days = MAX_EVENT_AGE_SECONDS / 86400;
        return Err(refuse(format!(
            "{text} is more than {days} days ago; late usage is accepted for {days} days"
        )));
    }
    if seconds > now + MAX_CLOCK_SKEW_SECONDS {
        return Err(refuse(format!(
            "{text} is in the future (more than {MAX_CLOCK_SKEW_SECONDS}s ahead of our clock)"
        )));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: f64 = 1_795_000_000.0; // 2026-11-18T11:06:40Z

    fn check(quantity: &str, timestamp: &str) -> Result<(u64, i64), (u16, String)> {
        let v: Value = serde_json::from_str(&format!(
            r#"{{"id":"e","account":"acme","meter":"egress_bytes","quantity":{quantity},"timestamp":{timestamp}}}"#
        ))
        .unwrap();
        event(2, &v, &Accounts::demo(), NOW)
            .map(|e| (e.quantity, e.timestamp))
            .map_err(|(s, m)| (s.as_u16(), m))
    }

    #[test]
    fn quantities_are_whole_units_within_bounds() {
        let ts = r#""2026-11-18T11:00:00Z""#;
        assert_eq!(check("0", ts).unwrap().0, 0);
        assert_eq!(check("1000000000000000", ts).unwrap().0, MAX_EVENT_QUANTITY);
        for (q, status, says) in [
            (
                "1000000000000001",
                422,
                "more than the 1000000000000000 units",
            ),
            ("1e300", 422, "not a whole number"),
            ("1.7e308", 422, "not a whole number"),
            ("1e29", 422, "not a whole number"),
            ("-0.0", 422, "not a whole number"),
            ("2.5", 422, "not a whole number"),
            ("-1", 422, "is negative"),
            ("\"12\"", 400, "must be a JSON integer"),
            ("null", 400, "must be a JSON integer"),
        ] {
            let (got, message) = check(q, ts).unwrap_err();
            assert_eq!(got, status, "{q}: {message}");
            assert!(
                message.starts_with("`events[2].quantity`") && message.contains(says),
                "{q}: {message}"
            );
        }
    }

    #[test]
    fn timestamps_are_rfc3339_within_the_window() {
        assert_eq!(
            check("1", r#""2026-11-18T11:06:40Z""#).unwrap().1,
            1_795_000_000
        );
        assert_eq!(
            check("1", r#""2026-11-18T12:06:40+01:00""#).unwrap().1,
            1_795_000_000
        );
        for (ts, status, says) in [
            (r#""not a time""#, 422, "is not an RFC 3339 time"),
            (r#""2026-11-18""#, 422, "is not an RFC 3339 time"),
            (r#""2026-10-01T00:00:00Z""#, 422, "more than 35 days ago"),
            (r#""2026-11-18T11:12:41Z""#, 422, "in the future"),
            ("1795000000", 400, "an RFC 3339 string"),
        ] {
            let (got, message) = check("1", ts).unwrap_err();
            assert_eq!(got, status, "{ts}: {message}");
            assert!(
                message.starts_with("`events[2].timestamp`") && message.contains(says),
                "{ts}: {message}"
            );
        }
    }

    #[test]
    fn unknown_accounts_and_meters_are_named() {
        let v = json!({"id": "e", "account": "nobody", "meter": "egress_bytes", "quantity": 1, "timestamp": "2026-11-18T11:00:00Z"});
        let (s, m) = event(0, &v, &Accounts::demo(), NOW).unwrap_err();
        assert_eq!(
            (s.as_u16(), m.as_str()),
            (422, "`events[0].account`: unknown account `nobody`")
        );
        let v = json!({"id": "e", "account": "acme", "meter": "bogus", "quantity": 1, "timestamp": "2026-11-18T11:00:00Z"});
        let (s, m) = event(0, &v, &Accounts::demo(), NOW).unwrap_err();
        assert_eq!(s.as_u16(), 422);
        assert!(
            m.starts_with("`events[0].meter`: unknown meter `bogus`; meters: storage_byte_hours"),
            "{m}"
        );
    }
}
