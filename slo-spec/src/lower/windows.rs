//! Window pairs as a tier writes them (`windows: [{long, short, burn_rate}]`), each
//! checked where it is written; [`super::alerting`] checks them against the period.

use super::common;
use super::reader::{self, fields, Cx, DurationBounds};
use crate::decimal::Decimal;
use crate::diagnostic::{Code, Span};
use crate::model::WindowPair;
use crate::yaml::Node;
use std::time::Duration;

/// A window pair as written, with the positions of its windows.
pub(crate) struct WrittenPair {
    pub pair: WindowPair,
    pub long: Span,
    pub short: Span,
}

/// Alert windows: anything up to the longest period.
const WINDOW_BOUNDS: DurationBounds = DurationBounds {
    min: Duration::from_secs(1),
    max: common::PERIOD_BOUNDS.max,
    unit: "m",
};

/// Fields of one window pair.
pub(crate) const WINDOW_FIELDS: &[&str] = &["long", "short", "burn_rate"];

pub(crate) fn window_pairs(cx: &mut Cx, node: &Node, what: &str) -> Option<Vec<WrittenPair>> {
    let items = reader::list(cx, node, what)?;
    if items.is_empty() {
        cx.report(
            node.span,
            Code::InvalidPolicy,
            format!("`{what}` is empty"),
            "give at least one `{long, short, burn_rate}`, or set `disabled: true`",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for item in items {
        match window_pair(cx, item, what) {
            Some(pair) => out.push(pair),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn window_pair(cx: &mut Cx, item: &Node, what: &str) -> Option<WrittenPair> {
    let f = fields(cx, item, what, WINDOW_FIELDS)?;
    let mut window = |key: &str| {
        let node = f.require(cx, key, what)?;
        reader::duration(cx, node, &format!("{what}.{key}"), WINDOW_BOUNDS).map(|w| (w, node.span))
    };
    let (long, short) = (window("long"), window("short"));
    let burn = f.require(cx, "burn_rate", what).and_then(|n| {
        let (_, text) = reader::number(cx, n, &format!("{what}.burn_rate"))?;
        let burn = Decimal::parse(&text).filter(|d| d.is_positive());
        if burn.is_none() {
            cx.report(
                n.span,
                Code::InvalidPolicy,
                format!("burn rate must be a positive number, got {text}"),
                "a burn rate of 1 spends the budget exactly over the period; pages use 6 to 14.4",
            );
        }
        burn
    });
    let ((long, long_span), (short, short_span), burn_rate) = (long?, short?, burn?);
    if short.duration >= long.duration {
        cx.report(
            f.span,
            Code::InvalidPolicy,
            format!(
                "short window `{}` is not shorter than long window `{}`",
                short.text, long.text
            ),
            "the short window (about 1/12 of the long one) makes the alert reset quickly",
        );
        return None;
    }
    Some(WrittenPair {
        pair: WindowPair {
            long: long.duration,
            short: short.duration,
            burn_rate,
        },
        long: long_span,
        short: short_span,
    })
}
