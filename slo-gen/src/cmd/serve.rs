//! `slo-gen serve`: load the specs, bind, serve until SIGINT/SIGTERM. A Prometheus that is
//! down is not a reason to stop: the pages say so until it answers.

use super::{load_valid, Error, Outcome, Result};
use crate::cli::ServeArgs;
use crate::promapi::Client;
use crate::serve::{router, App};
use std::io::Write;

/// The prefix as mounted: `/slo` for `slo`, `/slo/` or `/slo`; empty for `/` or nothing.
pub fn prefix(text: &str) -> std::result::Result<String, String> {
    let t = text.trim().trim_end_matches('/');
    if t.is_empty() {
        return Ok(String::new());
    }
    let t = if t.starts_with('/') {
        t.to_string()
    } else {
        format!("/{t}")
    };
    if t.contains(['{', '}', '?', '#', ' ']) {
        return Err(format!(
            "--route-prefix `{text}` is not a plain path such as /slo"
        ));
    }
    Ok(t)
}

pub fn run(args: &ServeArgs, _out: &mut dyn Write, err: &mut dyn Write) -> Result {
    let loaded = load_valid(&args.specs.paths, "nothing was served", err)?;
    // A page waits at most 15 s for Prometheus, then says it is slow.
    let client = Client::with_timeout(&args.prometheus, std::time::Duration::from_secs(15))
        .map_err(|e| Error::Usage(e.to_string()))?;
    let prefix = prefix(&args.route_prefix).map_err(Error::Usage)?;
    let app = App {
        services: loaded.checked.services,
        texts: loaded.texts,
        client,
        grafana_url: args.grafana_url.clone(),
        prefix: prefix.clone(),
        source: args.layout.source(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", args.listen)))?;
        let addr = listener.local_addr()?;
        writeln!(
            err,
            "slo-gen serve: http://{addr}{prefix}/ (Prometheus {})",
            args.prometheus
        )?;
        axum::serve(listener, router(app))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(Outcome::Clean)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_normalised() {
        assert_eq!(prefix("").unwrap(), "");
        assert_eq!(prefix("/").unwrap(), "");
        assert_eq!(prefix("slo").unwrap(), "/slo");
        assert_eq!(prefix("/slo/").unwrap(), "/slo");
        assert!(prefix("/{x}").is_err());
    }
}
