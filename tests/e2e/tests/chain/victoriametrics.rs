//! The payments scenario on the second engine: `victoria-metrics` scraping the exporter
//! and `vmalert` evaluating the generated rules unchanged, notifying the same Alertmanager.

use e2e::Engine;

#[test]
fn payments_fault_pages_on_victoriametrics_and_vmalert() {
    super::payments::run(Engine::VictoriaMetrics);
}

#[test]
fn a_stopped_exporter_raises_the_absent_alert_on_victoriametrics() {
    super::absent::run(Engine::VictoriaMetrics);
}

#[test]
fn payments_fault_pages_through_a_prometheus_agent_remote_writing_to_victoriametrics() {
    super::payments::run(Engine::AgentToVictoriaMetrics);
}
