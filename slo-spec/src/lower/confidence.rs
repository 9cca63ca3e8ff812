//! A tier's `confidence`: how sure the low-traffic test must be that the errors in a long
//! window did not come from a service within its objective before the tier may fire. A
//! percentage from 50 up to, not including, 100; exact decimal.

use super::reader::{self, Cx};
use crate::decimal::Decimal;
use crate::diagnostic::Code;
use crate::significance::Confidence;
use crate::yaml::Node;
use std::cmp::Ordering;

pub(crate) fn read(cx: &mut Cx, node: &Node, what: &str) -> Option<Confidence> {
    let (_, text) = reader::number(cx, node, what)?;
    let value = Decimal::parse(&text).filter(|d| {
        d.compare(Decimal::from_int(50)) != Some(Ordering::Less)
            && d.compare(Decimal::from_int(100)) == Some(Ordering::Less)
    });
    match value {
        Some(value) => Some(Confidence { value, text }),
        None => {
            cx.report(
                node.span,
                Code::InvalidPolicy,
                format!("`{what}` must be a percentage from 50 up to, not including, 100, got {text}"),
                "e.g. `confidence: 99.9`: errors a healthy service would show once in a thousand windows do not page",
            );
            None
        }
    }
}
