//! Container engine client (Docker Engine or Podman's Docker-compatible API) over bollard.
//!
//! General, not runbook-specific: the services provider lists containers with it, runbook
//! steps start/stop/restart them and wait for health.

mod client;
mod context;
mod endpoint;
mod ssh;

pub use client::{
    ContainerEvent, ContainerHealth, ContainerInfo, ContainerState, Engine, EngineKind,
};
pub use endpoint::{candidate_endpoints, Endpoint, EngineEnv, PODMAN_ROOTFUL};

use std::time::Duration;

/// An engine's address as configured: None for the local engine (found when connecting),
/// or why the configuration names none that can be used.
pub type EngineTarget = Result<Option<Endpoint>, String>;

/// Errors worded for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Every candidate endpoint failed: each with why.
    #[error("no container engine reachable: {}", .tried.iter().map(|(e, why)| format!("{e} ({why})")).collect::<Vec<_>>().join("; "))]
    NotReachable { tried: Vec<(String, String)> },
    #[error("engine not reachable at {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error("no container named {0}")]
    NoSuchContainer(String),
    #[error("{op} {name}: {reason}")]
    Api {
        op: &'static str,
        name: String,
        reason: String,
    },
    #[error("{name} not {want} after {waited:?}: {last}")]
    NotReady {
        name: String,
        want: &'static str,
        waited: Duration,
        last: String,
    },
    #[error("cancelled")]
    Cancelled,
}
