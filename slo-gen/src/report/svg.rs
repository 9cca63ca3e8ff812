//! One chart per SLO: the error budget left over the range (100% at its start, the zero
//! line marked) and, under it, the alert intervals (page red, ticket orange, missing data
//! grey). Written with maud, so every text is escaped; no external assets.

use super::SloReport;
use maud::{html, Markup, PreEscaped};
use slo_eval::Timestamp;
use slo_spec::Tier;

const W: f64 = 720.0;
const H: f64 = 170.0;
const PLOT_TOP: f64 = 10.0;
const PLOT_H: f64 = 110.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 10.0;
const BAR_Y: f64 = 135.0;

fn colour(t: Tier) -> &'static str {
    match t {
        Tier::Page => "#d62728",
        Tier::Ticket => "#ff7f0e",
        Tier::Absent => "#7f7f7f",
    }
}

pub fn chart(r: &SloReport, from: Timestamp, to: Timestamp) -> Markup {
    let span = (to - from).max(1) as f64;
    let x = |t: Timestamp| LEFT + (t - from) as f64 / span * (W - LEFT - RIGHT);
    // The y range holds 100% and the lowest budget reached (at least 0%).
    let low = r
        .budget_curve
        .iter()
        .map(|p| p.1)
        .fold(0.0_f64, f64::min)
        .max(-10.0);
    let y = |v: f64| PLOT_TOP + (1.0 - (v.max(low) - low) / (1.0 - low)) * PLOT_H;
    let points: Vec<String> = r
        .budget_curve
        .iter()
        .map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v)))
        .collect();
    let title = format!(
        "{}: error budget left over the range, alerts below",
        r.name()
    );
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(W) height=(H) viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(title) font-family="sans-serif" font-size="10" {
            title { (title) }
            rect x=(LEFT) y=(PLOT_TOP) width=(W - LEFT - RIGHT) height=(PLOT_H) fill="#fafafa" stroke="#ddd" {}
            line x1=(LEFT) x2=(W - RIGHT) y1=(y(0.0)) y2=(y(0.0)) stroke="#d62728" stroke-dasharray="4 3" {}
            text x=(LEFT - 4.0) y=(y(1.0) + 4.0) text-anchor="end" { "100%" }
            text x=(LEFT - 4.0) y=(y(0.0) + 4.0) text-anchor="end" { "0%" }
            @if low < -0.05 {
                text x=(LEFT - 4.0) y=(y(low) + 4.0) text-anchor="end" { (format!("{:.0}%", low * 100.0)) }
            }
            @if points.len() > 1 {
                polyline points=(points.join(" ")) fill="none" stroke="#1f77b4" stroke-width="1.5" {}
            } @else {
                text x=(W / 2.0) y=(PLOT_TOP + PLOT_H / 2.0) text-anchor="middle" fill="#777" { "no data" }
            }
            text x=(LEFT - 4.0) y=(BAR_Y + 8.0) text-anchor="end" { "alerts" }
            rect x=(LEFT) y=(BAR_Y) width=(W - LEFT - RIGHT) height="10" fill="#f0f0f0" {}
            @for f in &r.firings {
                rect x=(format!("{:.1}", x(f.start))) y=(BAR_Y) width=(format!("{:.1}", (x(f.end.unwrap_or(f.start)) - x(f.start)).max(1.0))) height="10" fill=(colour(f.tier)) {
                    title { (f.tier.as_str()) }
                }
            }
            text x=(LEFT) y=(H - 6.0) { (PreEscaped("")) (super::rfc3339(from)) }
            text x=(W - RIGHT) y=(H - 6.0) text-anchor="end" { (super::rfc3339(to)) }
        }
    }
}
