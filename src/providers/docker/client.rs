use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Endpoint, EngineError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Docker,
    Podman,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerState {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerHealth {
    /// No health check configured.
    None,
    Starting,
    Healthy,
    Unhealthy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub image: String,
    pub state: ContainerState,
    pub health: ContainerHealth,
    /// The engine's own words ("Up 3 minutes (healthy)"), when listing.
    pub status: String,
    pub exit_code: Option<i64>,
}

/// A connected engine.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) docker: bollard::Docker,
    pub endpoint: Endpoint,
    pub kind: EngineKind,
    pub version: String,
}

impl Engine {
    /// The first of [`super::candidate_endpoints`] (from the environment) that answers.
    pub async fn connect() -> Result<Engine, EngineError> {
        unimplemented!()
    }

    /// This endpoint only: ping and read its version.
    pub async fn connect_to(endpoint: &Endpoint) -> Result<Engine, EngineError> {
        let _ = endpoint;
        unimplemented!()
    }

    /// "Docker 27.3.1 at unix:///var/run/docker.sock".
    pub fn describe(&self) -> String {
        unimplemented!()
    }

    /// All containers (stopped too when `all`), sorted by name.
    pub async fn list_containers(&self, all: bool) -> Result<Vec<ContainerInfo>, EngineError> {
        let _ = all;
        unimplemented!()
    }

    pub async fn inspect(&self, name: &str) -> Result<ContainerInfo, EngineError> {
        let _ = name;
        unimplemented!()
    }

    /// Already running is fine.
    pub async fn start(&self, name: &str) -> Result<(), EngineError> {
        let _ = name;
        unimplemented!()
    }

    /// SIGTERM, SIGKILL after `timeout`. Already stopped is fine.
    pub async fn stop(&self, name: &str, timeout: Duration) -> Result<(), EngineError> {
        let _ = (name, timeout);
        unimplemented!()
    }

    pub async fn restart(&self, name: &str, timeout: Duration) -> Result<(), EngineError> {
        let _ = (name, timeout);
        unimplemented!()
    }

    /// Polls until running (and healthy when `healthy` and it has a health check).
    pub async fn wait_until_ready(
        &self,
        name: &str,
        healthy: bool,
        timeout: Duration,
        interval: Duration,
        cancel: &CancellationToken,
    ) -> Result<ContainerInfo, EngineError> {
        let _ = (name, healthy, timeout, interval, cancel);
        unimplemented!()
    }
}
