//! Services: containers on Docker or Podman, HTTP checks, certificates and availability
//! against the objective.
//!
//! - `model`: containers, check outcomes, certificates (remote text made inert)
//! - `containers`: the per-engine provider (list once, then the event stream), stats reads
//! - `checks`, `certs`: the HTTP checker and the certificate checker (pollers)
//! - `availability`: this month's availability and error budget from outages; `outages`:
//!   their transitions in the store, read back at start
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
pub mod outages;
pub mod state;
pub mod view;

pub use containers::{ContainerSource, ContainerUpdate, SharedEngine};
pub use state::{ContainerOp, ServicesEffect, ServicesMsg, ServicesState};

use crate::providers::ProviderId;

/// The container provider of engine `name`: `docker:<name>`.
pub fn engine_provider(name: &str) -> ProviderId {
    ProviderId::named("docker", name)
}

pub use crate::providers::docker::EngineTarget;

/// The engines to watch: the configured ones, else `local` when `DOCKER_HOST` or a Docker
/// context is set or one of the usual sockets is there (a machine without an engine shows
/// none, not one down).
pub fn engines(cfg: &crate::config::services::ServicesConfig) -> Vec<(String, EngineTarget)> {
    engines_in(cfg, &crate::providers::docker::EngineEnv::from_process())
}

/// [`engines`] with the docker CLI's environment given.
pub fn engines_in(
    cfg: &crate::config::services::ServicesConfig,
    env: &crate::providers::docker::EngineEnv,
) -> Vec<(String, EngineTarget)> {
    use crate::providers::docker::Endpoint;
    if !cfg.engines.is_empty() {
        return cfg
            .engines
            .iter()
            .map(|e| (e.name.clone(), target(e, env)))
            .collect();
    }
    let present = match env.candidates() {
        Ok(c) => c.iter().any(|e| match e {
            Endpoint::Unix(p) => p.exists(),
            _ => true,
        }),
        // A DOCKER_HOST or context that does not resolve: shown as the engine down, with why.
        Err(_) => true,
    };
    if cfg.auto_engine && present {
        vec![("local".into(), Ok(None))]
    } else {
        Vec::new()
    }
}

fn target(
    e: &crate::config::services::EngineConfig,
    env: &crate::providers::docker::EngineEnv,
) -> EngineTarget {
    use crate::providers::docker::Endpoint;
    if let Some(ctx) = &e.context {
        return env.context_endpoint(ctx).map(Some);
    }
    let Some(host) = &e.host else {
        return Ok(None);
    };
    let ep = Endpoint::parse_with(host, env.xdg_runtime_dir.as_deref())?;
    if !e.tls_verify {
        return Ok(Some(ep));
    }
    let dir = e
        .cert_path
        .clone()
        .or_else(|| env.config_dir.clone())
        .ok_or("tls_verify: no cert_path and no ~/.docker")?;
    ep.with_tls(&dir).map(Some)
}
