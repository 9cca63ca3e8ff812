//! Exclusions through the real promtool at the scrapes users run (15s and 1m), grouped and
//! not, both kinds: `slo-gen test` generates a boundary test per kind and each passes.

use crate::support::run;

fn spec(service: &str, scrape: &str, group_by: &str, by: &str) -> String {
    format!(
        r#"version: v1
service: {service}
owner: o
scrape_interval: {scrape}
exclusions:
  - reason: weekly maintenance
    weekly: {{day: sunday, from: "02:00", to: "04:00"}}
slos:
  - name: a
    description: d
    objective: 99.5
{group_by}    sli:
      ratio:
        errors: sum{by}(rate(x_total{{code="500"}}[{{{{window}}}}]))
        total: sum{by}(rate(x_total[{{{{window}}}}]))
    alerting:
      annotations: {{runbook_url: https://runbooks.example.com/a}}
    exclusions:
      - reason: INC-2041
        from: 2026-10-10T10:00:00Z
        to: 2026-10-10T11:00:00Z
"#
    )
}

#[test]
#[ignore = "slow: promtool over every scenario of four SLOs"]
fn both_kinds_hold_at_15s_and_1m_scrapes() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("slos");
    std::fs::create_dir_all(&specs).unwrap();
    for (name, scrape, group_by, by) in [
        ("at-15s", "15s", "", ""),
        ("at-1m", "1m", "", ""),
        (
            "grouped-15s",
            "15s",
            "    group_by: [account]\n",
            " by (account) ",
        ),
        (
            "grouped-1m",
            "1m",
            "    group_by: [account]\n",
            " by (account) ",
        ),
    ] {
        std::fs::write(
            specs.join(format!("{name}.yaml")),
            spec(name, scrape, group_by, by),
        )
        .unwrap();
    }
    let (code, out, err) = run(dir.path(), &["test", "slos", "--keep", "kept"]);
    let text = format!("{out}{err}");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("4 SLOs tested with promtool, 0 failed"),
        "{text}"
    );
    // A boundary test per kind and SLO ran.
    let mut found: Vec<String> = Vec::new();
    let mut stack = vec![dir.path().join("kept")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(n) = p.file_name().and_then(|n| n.to_str()) {
                if n.starts_with("exclusion-") {
                    found.push(n.to_string());
                }
            }
        }
    }
    found.sort();
    assert_eq!(found.len(), 8, "{found:?}");
    assert_eq!(
        found
            .iter()
            .filter(|n| *n == "exclusion-weekly.yaml")
            .count(),
        4
    );
}
