//! Wait until something is ready: an HTTP endpoint answers, a port accepts, a file
//! appears, a container runs or is healthy.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::providers::docker::{Endpoint, Engine, EngineError};
use crate::sanitize::strip_escapes;

/// Longest single attempt, however much time is left.
const MAX_ATTEMPT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitCheck {
    /// A GET answers `expect_status` (any 2xx when None). Redirects are not followed.
    Http {
        url: String,
        expect_status: Option<u16>,
    },
    /// A TCP connect to `host:port` succeeds.
    Tcp {
        addr: String,
    },
    FileExists {
        path: PathBuf,
    },
    /// Running, and healthy if the container has a health check. On `engine`, or the
    /// local engine when None.
    ContainerHealthy {
        name: String,
        engine: Option<Endpoint>,
    },
    ContainerRunning {
        name: String,
        engine: Option<Endpoint>,
    },
}

impl WaitCheck {
    /// What is being waited for, for the wizard ("HTTP 200 from http://…/health/ready").
    pub fn describe(&self) -> String {
        match self {
            WaitCheck::Http {
                url,
                expect_status: Some(s),
            } => format!("HTTP {s} from {}", display_url(url)),
            WaitCheck::Http { url, .. } => format!("HTTP 2xx from {}", display_url(url)),
            WaitCheck::Tcp { addr } => format!("TCP port {addr} accepting connections"),
            WaitCheck::FileExists { path } => format!("{} exists", path.display()),
            WaitCheck::ContainerHealthy { name, .. } => format!("container {name} healthy"),
            WaitCheck::ContainerRunning { name, .. } => format!("container {name} running"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WaitOutcome {
    pub ready: bool,
    pub cancelled: bool,
    pub attempts: u32,
    /// Why the last attempt was not ready (escape sequences stripped).
    pub last_error: Option<String>,
    pub elapsed: Duration,
}

/// The URL without credentials or query (either may hold a token).
fn display_url(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    match no_query.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            let path = if path.is_empty() {
                String::new()
            } else {
                format!("/{path}")
            };
            strip_escapes(&format!("{scheme}://{host}{path}"))
        }
        None => strip_escapes(no_query),
    }
}

/// What stays across attempts: an HTTP client, a connected engine.
#[derive(Default)]
struct Probe {
    http: Option<reqwest::Client>,
    engine: Option<Engine>,
}

impl Probe {
    async fn attempt(&mut self, check: &WaitCheck, limit: Duration) -> Result<(), String> {
        match check {
            WaitCheck::Http { url, expect_status } => {
                if self.http.is_none() {
                    self.http = Some(
                        reqwest::Client::builder()
                            .redirect(reqwest::redirect::Policy::none())
                            .build()
                            .map_err(|e| e.to_string())?,
                    );
                }
                let client = self.http.as_ref().expect("just built");
                let resp = client
                    .get(url)
                    .timeout(limit)
                    .send()
                    .await
                    .map_err(|e| e.without_url().to_string())?;
                let got = resp.status().as_u16();
                let ok = match expect_status {
                    Some(want) => got == *want,
                    None => (200..300).contains(&got),
                };
                if ok {
                    Ok(())
                } else {
                    Err(format!("HTTP {got}"))
                }
            }
            WaitCheck::Tcp { addr } => tokio::net::TcpStream::connect(addr.as_str())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            WaitCheck::FileExists { path } => match tokio::fs::metadata(path).await {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(format!("{} does not exist yet", path.display()))
                }
                Err(e) => Err(format!("{}: {e}", path.display())),
            },
            WaitCheck::ContainerHealthy { name, engine }
            | WaitCheck::ContainerRunning { name, engine } => {
                let healthy = matches!(check, WaitCheck::ContainerHealthy { .. });
                if self.engine.is_none() {
                    self.engine = Some(
                        Engine::connect_at(engine.as_ref())
                            .await
                            .map_err(|e| e.to_string())?,
                    );
                }
                let engine = self.engine.as_ref().expect("just connected");
                match engine.inspect(name).await {
                    Ok(info) if info.is_ready(healthy) => Ok(()),
                    Ok(info) => Err(format!("{name} is {}", info.describe())),
                    Err(e) => {
                        if matches!(e, EngineError::Unreachable { .. }) {
                            self.engine = None;
                        }
                        Err(e.to_string())
                    }
                }
            }
        }
    }
}

/// Tries `check` every `interval` until it passes, `timeout` has passed, or `cancel` fires.
/// Each attempt is itself bounded by the time left.
pub async fn wait_until(
    check: &WaitCheck,
    timeout: Duration,
    interval: Duration,
    cancel: &CancellationToken,
) -> WaitOutcome {
    let started = Instant::now();
    let mut probe = Probe::default();
    let mut attempts = 0u32;
    let mut last_error = None;
    let done =
        |ready: bool, cancelled: bool, attempts: u32, last_error: Option<String>| WaitOutcome {
            ready,
            cancelled,
            attempts,
            last_error,
            elapsed: started.elapsed(),
        };
    loop {
        attempts += 1;
        let limit = timeout
            .saturating_sub(started.elapsed())
            .clamp(Duration::from_millis(200), MAX_ATTEMPT);
        let result = tokio::select! {
            r = tokio::time::timeout(limit, probe.attempt(check, limit)) => {
                r.unwrap_or_else(|_| Err(format!("no answer within {:.1}s", limit.as_secs_f64())))
            }
            _ = cancel.cancelled() => return done(false, true, attempts, last_error),
        };
        match result {
            Ok(()) => return done(true, false, attempts, None),
            Err(e) => last_error = Some(strip_escapes(&e)),
        }
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return done(false, false, attempts, last_error);
        }
        tokio::select! {
            _ = tokio::time::sleep(interval.min(left)) => {}
            _ = cancel.cancelled() => return done(false, true, attempts, last_error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::display_url;

    #[test]
    fn urls_are_shown_without_credentials_or_query() {
        assert_eq!(
            display_url("https://user:pw@api.example.com/health/ready?token=abc"),
            "https://api.example.com/health/ready"
        );
        assert_eq!(
            display_url("http://127.0.0.1:8000"),
            "http://127.0.0.1:8000"
        );
    }
}
