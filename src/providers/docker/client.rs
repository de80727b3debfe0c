use std::time::{Duration, Instant};

use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    EventsOptions, InspectContainerOptions, ListContainersOptions, LogsOptions,
    RestartContainerOptions, StartContainerOptions, StopContainerOptions,
};
use futures::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use super::{Endpoint, EngineError};
use crate::sanitize::strip_escapes;

/// Each request's limit, besides stop/restart which get their own timeout on top.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a ping may take before the endpoint counts as unreachable.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

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

impl ContainerState {
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "created" => Self::Created,
            "running" => Self::Running,
            "paused" => Self::Paused,
            "restarting" => Self::Restarting,
            "removing" => Self::Removing,
            "exited" | "stopped" => Self::Exited,
            "dead" => Self::Dead,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Restarting => "restarting",
            Self::Removing => "removing",
            Self::Exited => "exited",
            Self::Dead => "dead",
            Self::Other(s) => s,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerHealth {
    /// No health check configured.
    None,
    Starting,
    Healthy,
    Unhealthy,
}

impl ContainerHealth {
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "starting" => Self::Starting,
            "healthy" => Self::Healthy,
            "unhealthy" => Self::Unhealthy,
            _ => Self::None,
        }
    }

    /// From a listing's status text: "Up 3 minutes (healthy)", "(health: starting)".
    fn from_status_text(s: &str) -> Self {
        if s.contains("(unhealthy)") {
            Self::Unhealthy
        } else if s.contains("(healthy)") {
            Self::Healthy
        } else if s.contains("health: starting") {
            Self::Starting
        } else {
            Self::None
        }
    }
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

impl ContainerInfo {
    /// Running, and healthy when it has a health check.
    pub fn is_ready(&self, want_healthy: bool) -> bool {
        self.state == ContainerState::Running
            && (!want_healthy
                || matches!(
                    self.health,
                    ContainerHealth::None | ContainerHealth::Healthy
                ))
    }

    /// "running (healthy)", "exited (code 137)".
    pub fn describe(&self) -> String {
        let mut s = self.state.as_str().to_string();
        match self.health {
            ContainerHealth::None => {}
            ContainerHealth::Starting => s.push_str(" (health: starting)"),
            ContainerHealth::Healthy => s.push_str(" (healthy)"),
            ContainerHealth::Unhealthy => s.push_str(" (unhealthy)"),
        }
        if self.state == ContainerState::Exited {
            if let Some(c) = self.exit_code {
                s.push_str(&format!(" (code {c})"));
            }
        }
        s
    }
}

/// Something that happened to a container, from the engine's event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEvent {
    pub id: String,
    /// Without the leading `/`; empty when the engine did not say.
    pub name: String,
    /// "start", "die", "stop", "health_status: healthy", "destroy" …
    pub action: String,
    pub time: Option<chrono::DateTime<chrono::Utc>>,
}

/// A connected engine.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) docker: bollard::Docker,
    pub endpoint: Endpoint,
    pub kind: EngineKind,
    pub version: String,
}

fn clean(s: impl std::fmt::Display) -> String {
    strip_escapes(&s.to_string())
}

fn status_of(e: &BollardError) -> Option<u16> {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

fn reason(e: &BollardError) -> String {
    match e {
        BollardError::DockerResponseServerError { message, .. } => clean(message.trim()),
        other => {
            // The transport's own words ("invalid peer certificate: UnknownIssuer",
            // "Connection refused") are in the source chain, not the top message.
            let mut text = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(s) = src {
                let more = s.to_string();
                if !text.contains(&more) {
                    text.push_str(": ");
                    text.push_str(&more);
                }
                src = s.source();
            }
            clean(text)
        }
    }
}

impl Engine {
    /// The first of [`EngineEnv::candidates`] (`DOCKER_HOST` with its TLS settings, the
    /// current Docker context, the usual sockets) that answers.
    pub async fn connect() -> Result<Engine, EngineError> {
        let env = super::EngineEnv::from_process();
        let candidates = env.candidates().map_err(|e| EngineError::Unreachable {
            endpoint: env.docker_host.clone().unwrap_or_default(),
            reason: e,
        })?;
        if candidates.len() == 1 {
            return Engine::connect_to(&candidates[0]).await;
        }
        let mut tried = Vec::new();
        for c in &candidates {
            match Engine::connect_to(c).await {
                Ok(e) => return Ok(e),
                Err(EngineError::Unreachable { endpoint, reason }) => {
                    tried.push((endpoint, reason))
                }
                Err(other) => tried.push((c.to_string(), other.to_string())),
            }
        }
        Err(EngineError::NotReachable { tried })
    }

    /// `endpoint` when one is given, else the local engine as [`Engine::connect`] finds it.
    pub async fn connect_at(endpoint: Option<&Endpoint>) -> Result<Engine, EngineError> {
        match endpoint {
            Some(e) => Engine::connect_to(e).await,
            None => Engine::connect().await,
        }
    }

    /// This endpoint only: ping and read its version.
    pub async fn connect_to(endpoint: &Endpoint) -> Result<Engine, EngineError> {
        let unreachable = |reason: String| EngineError::Unreachable {
            endpoint: endpoint.to_string(),
            reason,
        };
        let secs = REQUEST_TIMEOUT.as_secs();
        let docker = match endpoint {
            Endpoint::Unix(path) => {
                if !path.exists() {
                    return Err(unreachable("no socket there".into()));
                }
                bollard::Docker::connect_with_unix(
                    &path.to_string_lossy(),
                    secs,
                    bollard::API_DEFAULT_VERSION,
                )
            }
            Endpoint::Tcp(addr) => bollard::Docker::connect_with_http(
                &format!("http://{addr}"),
                secs,
                bollard::API_DEFAULT_VERSION,
            ),
            // rustls with aws-lc-rs, the engine verified against the given CA.
            Endpoint::Tls { addr, certs } => bollard::Docker::connect_with_ssl(
                &format!("tcp://{addr}"),
                &certs.join("key.pem"),
                &certs.join("cert.pem"),
                &certs.join("ca.pem"),
                secs,
                bollard::API_DEFAULT_VERSION,
            ),
            // The system's ssh runs `docker system dial-stdio` on the host; the address was
            // checked to hold no option or shell text.
            Endpoint::Ssh(dest) => super::ssh::connect(dest, secs),
        }
        .map_err(|e| unreachable(clean(e)))?;
        let version = match tokio::time::timeout(PING_TIMEOUT, docker.version()).await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(unreachable(reason(&e))),
            Err(_) => {
                return Err(unreachable(format!(
                    "no answer within {}s",
                    PING_TIMEOUT.as_secs()
                )))
            }
        };
        let podman = version
            .components
            .iter()
            .flatten()
            .any(|c| c.name.to_lowercase().contains("podman"))
            || version
                .platform
                .as_ref()
                .is_some_and(|p| p.name.to_lowercase().contains("podman"));
        let number = version
            .components
            .iter()
            .flatten()
            .find(|c| c.name.to_lowercase().contains("podman"))
            .map(|c| c.version.clone())
            .or(version.version)
            .unwrap_or_else(|| "?".into());
        // Negotiate down to what an older engine speaks.
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| unreachable(reason(&e)))?;
        Ok(Engine {
            docker,
            endpoint: endpoint.clone(),
            kind: if podman {
                EngineKind::Podman
            } else {
                EngineKind::Docker
            },
            version: clean(number),
        })
    }

    /// "Docker 27.3.1 at unix:///var/run/docker.sock".
    pub fn describe(&self) -> String {
        let kind = match self.kind {
            EngineKind::Docker => "Docker",
            EngineKind::Podman => "Podman",
        };
        format!("{kind} {} at {}", self.version, self.endpoint)
    }

    /// All containers (stopped too when `all`), sorted by name.
    pub async fn list_containers(&self, all: bool) -> Result<Vec<ContainerInfo>, EngineError> {
        let list = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all,
                ..Default::default()
            }))
            .await
            .map_err(|e| self.api_error("list containers", "", &e))?;
        let mut out: Vec<ContainerInfo> = list
            .into_iter()
            .map(|c| {
                let status = clean(c.status.unwrap_or_default());
                ContainerInfo {
                    id: c.id.unwrap_or_default(),
                    name: clean(
                        c.names
                            .and_then(|n| n.into_iter().next())
                            .unwrap_or_default()
                            .trim_start_matches('/'),
                    ),
                    image: clean(c.image.unwrap_or_default()),
                    state: ContainerState::parse(
                        &c.state.map(|s| s.to_string()).unwrap_or_default(),
                    ),
                    health: ContainerHealth::from_status_text(&status),
                    status,
                    exit_code: None,
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub async fn inspect(&self, name: &str) -> Result<ContainerInfo, EngineError> {
        let c = self
            .docker
            .inspect_container(name, None::<InspectContainerOptions>)
            .await
            .map_err(|e| self.api_error("inspect", name, &e))?;
        let state = c.state.unwrap_or_default();
        let st = ContainerState::parse(&state.status.map(|s| s.to_string()).unwrap_or_default());
        let health = state
            .health
            .and_then(|h| h.status)
            .map(|s| ContainerHealth::parse(s.as_ref()))
            .unwrap_or(ContainerHealth::None);
        let mut info = ContainerInfo {
            id: c.id.unwrap_or_default(),
            name: clean(c.name.unwrap_or_default().trim_start_matches('/')),
            image: clean(c.config.and_then(|cfg| cfg.image).unwrap_or_default()),
            state: st,
            health,
            status: String::new(),
            exit_code: state.exit_code,
        };
        info.status = info.describe();
        Ok(info)
    }

    /// Already running is fine.
    pub async fn start(&self, name: &str) -> Result<(), EngineError> {
        match self
            .docker
            .start_container(name, None::<StartContainerOptions>)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if status_of(&e) == Some(304) => Ok(()),
            Err(e) => Err(self.api_error("start", name, &e)),
        }
    }

    /// SIGTERM, SIGKILL after `timeout`. Already stopped is fine.
    pub async fn stop(&self, name: &str, timeout: Duration) -> Result<(), EngineError> {
        let docker = self.docker.clone().with_timeout(REQUEST_TIMEOUT + timeout);
        match docker
            .stop_container(
                name,
                Some(StopContainerOptions {
                    t: Some(timeout.as_secs().min(i32::MAX as u64) as i32),
                    signal: None,
                }),
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if status_of(&e) == Some(304) => Ok(()),
            Err(e) => Err(self.api_error("stop", name, &e)),
        }
    }

    pub async fn restart(&self, name: &str, timeout: Duration) -> Result<(), EngineError> {
        let docker = self.docker.clone().with_timeout(REQUEST_TIMEOUT + timeout);
        docker
            .restart_container(
                name,
                Some(RestartContainerOptions {
                    t: Some(timeout.as_secs().min(i32::MAX as u64) as i32),
                    signal: None,
                }),
            )
            .await
            .map_err(|e| self.api_error("restart", name, &e))
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
        let started = Instant::now();
        let want = if healthy { "healthy" } else { "running" };
        loop {
            let last = match self.inspect(name).await {
                Ok(info) if info.is_ready(healthy) => return Ok(info),
                Ok(info) => info.describe(),
                Err(e @ EngineError::NoSuchContainer(_)) => return Err(e),
                Err(e) => e.to_string(),
            };
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(EngineError::NotReady {
                    name: name.to_string(),
                    want,
                    waited: started.elapsed(),
                    last,
                });
            }
            tokio::select! {
                _ = tokio::time::sleep(interval.min(left)) => {}
                _ = cancel.cancelled() => return Err(EngineError::Cancelled),
            }
        }
    }

    /// The last `lines` lines the container wrote (stdout and stderr together), escape
    /// sequences stripped.
    pub async fn logs_tail(&self, name: &str, lines: usize) -> Result<Vec<String>, EngineError> {
        let mut stream = self.docker.logs(
            name,
            Some(LogsOptions {
                stdout: true,
                stderr: true,
                tail: lines.to_string(),
                ..Default::default()
            }),
        );
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.api_error("logs", name, &e))?;
            bytes.extend_from_slice(&chunk.into_bytes());
        }
        let text = String::from_utf8_lossy(&bytes);
        let all: Vec<String> = text.lines().map(strip_escapes).collect();
        let start = all.len().saturating_sub(lines);
        Ok(all[start..].to_vec())
    }

    /// The container's output as it was written (stdout and stderr together, each line
    /// prefixed with its RFC 3339 time by the engine), from `tail` lines back (all when
    /// `None`), then on as it comes when `follow`. Nothing is stripped: the logs view makes
    /// it drawable and keeps invalid UTF-8 visible.
    pub fn logs_stream(
        &self,
        name: &str,
        follow: bool,
        tail: Option<usize>,
    ) -> impl Stream<Item = Result<Vec<u8>, EngineError>> + use<> {
        let endpoint = self.endpoint.to_string();
        let container = name.to_string();
        self.docker
            .logs(
                name,
                Some(LogsOptions {
                    stdout: true,
                    stderr: true,
                    follow,
                    timestamps: true,
                    tail: tail.map_or_else(|| "all".to_string(), |n| n.to_string()),
                    ..Default::default()
                }),
            )
            .map(move |r| match r {
                Ok(out) => Ok(out.into_bytes().to_vec()),
                Err(e) => Err(match status_of(&e) {
                    Some(404) => EngineError::NoSuchContainer(container.clone()),
                    Some(_) => EngineError::Api {
                        op: "logs",
                        name: container.clone(),
                        reason: reason(&e),
                    },
                    None => EngineError::Unreachable {
                        endpoint: endpoint.clone(),
                        reason: reason(&e),
                    },
                }),
            })
    }

    /// Container events as they happen (push, not poll): for a provider that keeps a
    /// container list fresh. Nothing is asked of the engine until the stream is first
    /// polled; `since` replays events from then on (after a reconnect, or to not miss
    /// what happens meanwhile). The stream ends when the connection does.
    pub fn container_events(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> impl Stream<Item = Result<ContainerEvent, EngineError>> + use<> {
        let endpoint = self.endpoint.to_string();
        let mut filters = std::collections::HashMap::new();
        filters.insert("type".to_string(), vec!["container".to_string()]);
        self.docker
            .events(Some(EventsOptions {
                filters: Some(filters),
                since: since.map(|t| t.timestamp().to_string()),
                ..Default::default()
            }))
            .map(move |r| match r {
                Ok(ev) => {
                    let actor = ev.actor.unwrap_or_default();
                    let name = actor
                        .attributes
                        .as_ref()
                        .and_then(|a| a.get("name"))
                        .cloned()
                        .unwrap_or_default();
                    Ok(ContainerEvent {
                        id: actor.id.unwrap_or_default(),
                        name: clean(name.trim_start_matches('/')),
                        action: clean(ev.action.unwrap_or_default()),
                        time: ev.time.and_then(|t| chrono::DateTime::from_timestamp(t, 0)),
                    })
                }
                Err(e) => Err(EngineError::Unreachable {
                    endpoint: endpoint.clone(),
                    reason: reason(&e),
                }),
            })
    }

    fn api_error(&self, op: &'static str, name: &str, e: &BollardError) -> EngineError {
        match status_of(e) {
            Some(404) if !name.is_empty() => EngineError::NoSuchContainer(name.to_string()),
            Some(_) => EngineError::Api {
                op,
                name: name.to_string(),
                reason: reason(e),
            },
            // Not an answer from the engine: the connection itself.
            None => EngineError::Unreachable {
                endpoint: self.endpoint.to_string(),
                reason: reason(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_is_read_from_the_listing_text() {
        assert_eq!(
            ContainerHealth::from_status_text("Up 3 minutes (healthy)"),
            ContainerHealth::Healthy
        );
        assert_eq!(
            ContainerHealth::from_status_text("Up 1 second (health: starting)"),
            ContainerHealth::Starting
        );
        assert_eq!(
            ContainerHealth::from_status_text("Up 2 hours (unhealthy)"),
            ContainerHealth::Unhealthy
        );
        assert_eq!(
            ContainerHealth::from_status_text("Exited (0) 5 minutes ago"),
            ContainerHealth::None
        );
    }
}
