//! Calendar periods: accepted by name with their nominal length; near misses get the
//! spelling that works.

use slo_spec::{check, Calendar, Source};
use std::time::Duration;

fn load(period: &str) -> slo_spec::Checked {
    check(&[Source {
        path: "c.yaml".into(),
        text: format!(
            "version: v1\nservice: s\nowner: o\nperiod: {period}\nslos:\n  - name: a\n    description: d\n    objective: 99.9\n    sli:\n      ratio:\n        errors: sum(rate(x_total{{code=\"500\"}}[{{{{window}}}}]))\n        total: sum(rate(x_total[{{{{window}}}}]))\n"
        ),
    }])
}

#[test]
fn calendar_periods_load_with_their_nominal_length() {
    for (text, calendar, days) in [
        ("calendar-week", Calendar::Week, 7),
        ("calendar-month", Calendar::Month, 30),
        ("calendar-quarter", Calendar::Quarter, 90),
    ] {
        let c = load(text);
        assert!(!c.has_errors(), "{text}: {:?}", c.diagnostics);
        let slo = &c.services[0].slos[0];
        assert_eq!(slo.calendar(), Some(calendar));
        assert_eq!(slo.period.duration, Duration::from_secs(days * 86_400));
        assert_eq!(slo.period.text, text);
    }
    assert_eq!(load("30d").services[0].slos[0].calendar(), None);
}

#[test]
fn near_misses_say_how_to_write_a_calendar_period() {
    for (text, help) in [
        ("monthly", "calendar-month"),
        ("calendar_week", "calendar-week"),
        ("calendar-year", "calendar-month"),
        ("Quarter", "calendar-quarter"),
    ] {
        let c = load(text);
        let d = c
            .diagnostics
            .iter()
            .find(|d| d.message.contains("is not a period"))
            .unwrap_or_else(|| panic!("{text}: {:?}", c.diagnostics));
        assert_eq!((d.span.line, d.span.column), (4, 9), "{text}");
        let h = d.help.as_deref().unwrap_or_default();
        assert!(h.contains(help), "{text}: {h}");
    }
}
