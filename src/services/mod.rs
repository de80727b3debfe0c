//! Services: containers on Docker or Podman, HTTP checks, certificates and availability
//! against the objective.
//!
//! - `model`: containers, check outcomes, certificates (remote text made inert)
//! - `containers`: the per-engine provider (list once, then the event stream), stats reads
//! - `checks`, `certs`: the HTTP checker and the certificate checker (pollers)
//! - `availability`: this month's availability and error budget from outages
//! - `state`: the Services tab's state; `findings`: its local alarms
//! - `effects`: stats, logs and confirmed container actions (audited)
//! - `view`: the Overview card, the tab and the detail; `cli`: `toban services`
//! - `demo`: a flapping endpoint and a certificate near expiry for `--demo`

pub mod availability;
pub mod certs;
pub mod checks;
pub mod cli;
pub mod containers;
pub mod demo;
pub mod effects;
pub mod findings;
pub mod model;
pub mod state;
pub mod view;

pub use containers::{ContainerSource, ContainerUpdate, SharedEngine};
pub use state::{ContainerOp, ServicesEffect, ServicesMsg, ServicesState};

use crate::providers::ProviderId;

/// The container provider of engine `name`: `docker:<name>`.
pub fn engine_provider(name: &str) -> ProviderId {
    ProviderId::named("docker", name)
}

/// The engines to watch: the configured ones, else `local` when `DOCKER_HOST` is set or one
/// of the usual sockets is there (a machine without an engine shows none, not one down).
pub fn engines(cfg: &crate::config::services::ServicesConfig) -> Vec<(String, Option<String>)> {
    if !cfg.engines.is_empty() {
        return cfg
            .engines
            .iter()
            .map(|e| (e.name.clone(), e.host.clone()))
            .collect();
    }
    let host = std::env::var("DOCKER_HOST").ok();
    let xdg = std::env::var("XDG_RUNTIME_DIR").ok();
    let present =
        match crate::providers::docker::candidate_endpoints(host.as_deref(), xdg.as_deref()) {
            Ok(c) => c.iter().any(|e| match e {
                crate::providers::docker::Endpoint::Unix(p) => p.exists(),
                crate::providers::docker::Endpoint::Tcp(_) => true,
            }),
            // A DOCKER_HOST that does not parse: shown as the engine being down, with why.
            Err(_) => true,
        };
    if cfg.auto_engine && present {
        vec![("local".into(), None)]
    } else {
        Vec::new()
    }
}
