//! `exclusions:`: what is read (file and SLO lists merged, both kinds), and every fault
//! at its line and column.

use super::support::{check_files, diagnostic_lines};
use slo_spec::exclusion::{Weekday, When};

/// A file with `file` under its top-level `exclusions:` and `own` under its SLO's (each
/// a YAML list indented for its place; empty: none) and the period `period`.
fn spec(file: &str, own: &str, period: &str) -> String {
    let mut s = String::from("version: v1\nservice: s\nowner: o\n");
    if !file.is_empty() {
        s += &format!("exclusions:\n{file}");
    }
    s += &format!("slos:\n  - name: a\n    description: d\n    objective: 99.9\n    period: {period}\n    sli:\n      ratio:\n        errors: sum(rate(x_total{{code=\"500\"}}[{{{{window}}}}]))\n        total: sum(rate(x_total[{{{{window}}}}]))\n");
    if !own.is_empty() {
        s += &format!("    exclusions:\n{own}");
    }
    s
}

/// The diagnostics of a spec, as `file:line:col CODE message`.
fn check(file: &str, own: &str, period: &str, expected: &[&str]) {
    let c = check_files(&[("s.yaml", &spec(file, own, period))]);
    assert_eq!(diagnostic_lines(&c), expected);
}

const WEEKLY: &str =
    "  - reason: weekly maintenance\n    weekly: {day: sunday, from: \"02:00\", to: \"04:00\"}\n";

#[test]
fn both_kinds_are_read_and_the_files_come_first() {
    let own = "      - reason: INC-2041\n        from: 2026-10-10T10:00:00Z\n        to: 2026-10-10T11:30:00Z\n";
    let c = check_files(&[("s.yaml", &spec(WEEKLY, own, "30d"))]);
    assert!(c.errors().is_empty(), "{:?}", c.errors());
    let ex = &c.services[0].slos[0].exclusions;
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0].reason, "weekly maintenance");
    assert_eq!(
        ex[0].when,
        When::Weekly {
            day: Weekday::Sunday,
            from: 120,
            to: 240
        }
    );
    assert_eq!(ex[1].reason, "INC-2041");
    assert!(matches!(
        ex[1].when,
        When::Once {
            from: 1_791_626_400,
            to: 1_791_631_800,
            ..
        }
    ));
    assert_eq!((ex[0].span.line, ex[1].span.line), (5, 17));
}

#[test]
fn faults_are_positioned() {
    check(
        "  - reason: w\n    weekly: {day: sundy, from: \"02:00\", to: \"04:00\"}\n",
        "",
        "30d",
        &["s.yaml:6:19 E026 `sundy` is not a day of the week"],
    );
    check(
        "  - reason: w\n    weekly: {day: monday, from: \"04:00\", to: \"02:00\"}\n",
        "",
        "30d",
        &["s.yaml:6:13 E026 the weekly window ends at 02:00 before it starts at 04:00"],
    );
    check(
        "  - reason: w\n    weekly: {day: monday, from: \"4:00\", to: \"24:01\"}\n",
        "",
        "30d",
        &[
            "s.yaml:6:33 E026 `from` `4:00` is not a time of day",
            "s.yaml:6:45 E026 `to` `24:01` is not a time of day",
        ],
    );
    check(
        "",
        "      - reason: m\n        from: 2026-10-10T11:00:00Z\n        to: 2026-10-10T10:00:00Z\n",
        "30d",
        &["s.yaml:16:13 E026 the exclusion ends at 2026-10-10T10:00:00Z, not after it starts at 2026-10-10T11:00:00Z"],
    );
    check(
        "",
        "      - reason: m\n        from: 2026-10-10\n        to: 2026-10-10T10:00:00Z\n",
        "30d",
        &["s.yaml:15:15 E026 `from` `2026-10-10` is not an RFC 3339 time: failed to find time component, which is required for parsing a timestamp"],
    );
}

#[test]
fn kinds_reasons_and_lengths_are_checked() {
    check(
        "",
        "      - reason: close\n        from: 2026-09-30T00:00:00Z\n        to: 2026-10-02T00:00:00Z\n",
        "1d",
        &["s.yaml:14:9 E026 the exclusion lasts 2d, longer than the SLO's period `1d`"],
    );
    check(
        "  - reason: \"\"\n    weekly: {day: monday, from: \"01:00\", to: \"02:00\"}\n",
        "",
        "30d",
        &["s.yaml:5:5 E026 the exclusion's `reason` is empty"],
    );
    check(
        "  - reason: both\n    weekly: {day: monday, from: \"01:00\", to: \"02:00\"}\n    from: 2026-10-10T10:00:00Z\n",
        "",
        "30d",
        &["s.yaml:5:5 E026 an exclusion is either `weekly` or a `from`..`to` interval"],
    );
    check(
        "  - weekly: {day: monday, from: \"01:00\", to: \"02:00\"}\n",
        "",
        "30d",
        &["s.yaml:5:5 E004 missing required field `reason` in the exclusion"],
    );
}

#[test]
fn overlaps_between_the_file_and_the_slo_are_refused() {
    // 2026-10-11 was a Sunday: 03:00-05:00 meets the weekly 02:00-04:00.
    check(
        WEEKLY,
        "      - reason: INC-2041\n        from: 2026-10-11T03:00:00Z\n        to: 2026-10-11T05:00:00Z\n",
        "30d",
        &["s.yaml:17:9 E027 this exclusion overlaps the one at line 5 (`weekly maintenance`)"],
    );
    // Back to back is no overlap; the same weekly twice is.
    check(
        WEEKLY,
        "      - reason: after\n        from: 2026-10-11T04:00:00Z\n        to: 2026-10-11T05:00:00Z\n      - reason: again\n        weekly: {day: sunday, from: \"03:59\", to: \"24:00\"}\n",
        "30d",
        &["s.yaml:20:9 E027 this exclusion overlaps the one at line 5 (`weekly maintenance`)"],
    );
}

#[test]
fn at_most_two_hundred_exclusions_an_slo() {
    let item = |i: usize| {
        format!(
            "      - reason: r{i}\n        from: 2026-01-01T{:02}:{:02}:00Z\n        to: 2026-01-01T{:02}:{:02}:30Z\n",
            i / 60,
            i % 60,
            i / 60,
            i % 60
        )
    };
    let own = |n: usize| (0..n).map(item).collect::<String>();
    let c = check_files(&[("s.yaml", &spec("", &own(200), "30d"))]);
    assert!(c.errors().is_empty(), "{:?}", c.errors());
    assert_eq!(c.services[0].slos[0].exclusions.len(), 200);
    check(
        "",
        &own(201),
        "30d",
        &["s.yaml:614:9 E026 the SLO has 201 exclusions, more than 200"],
    );
}
