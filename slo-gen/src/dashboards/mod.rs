//! Grafana dashboards: one per service (a row per SLO, [`service`]) and an overview of
//! every SLO ([`overview`]), built from the primitives of [`grafana`]. Every query reads
//! only series the generated rules record (or `ALERTS`); every panel uses the
//! `datasource` variable; uids are stable so re-import updates in place.

pub mod grafana;
pub mod overview;
pub mod panel_config;
mod pretty;
pub mod service;

pub use grafana::to_text;
pub use overview::dashboard as overview;
pub use service::dashboard as service;

use crate::names;

/// Grafana file provisioning for the generated dashboards.
pub fn provisioning() -> String {
    format!(
        "{} from slos/. DO NOT EDIT.\n\
         # Copy or mount dashboards/ at /var/lib/grafana/dashboards/slo and this file at\n\
         # /etc/grafana/provisioning/dashboards/slo.yaml; Grafana picks up changes every 30s.\n\
         apiVersion: 1\n\
         providers:\n\
         \x20 - name: slo-gen\n\
         \x20   orgId: 1\n\
         \x20   folder: SLOs\n\
         \x20   type: file\n\
         \x20   disableDeletion: false\n\
         \x20   allowUiUpdates: false\n\
         \x20   updateIntervalSeconds: 30\n\
         \x20   options:\n\
         \x20     path: /var/lib/grafana/dashboards/slo\n\
         \x20     foldersFromFilesStructure: false\n",
        names::MARKER
    )
}
