//! Wait until something is ready: an HTTP endpoint answers, a port accepts, a file
//! appears, a container runs or is healthy.

use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

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
    /// Running, and healthy if the container has a health check.
    ContainerHealthy {
        name: String,
    },
    ContainerRunning {
        name: String,
    },
}

impl WaitCheck {
    /// What is being waited for, for the wizard ("HTTP 200 from http://…/health/ready").
    pub fn describe(&self) -> String {
        unimplemented!()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitOutcome {
    pub ready: bool,
    pub cancelled: bool,
    pub attempts: u32,
    /// Why the last attempt was not ready (escape sequences stripped).
    pub last_error: Option<String>,
    pub elapsed: Duration,
}

/// Tries `check` every `interval` until it passes, `timeout` has passed, or `cancel` fires.
/// Each attempt is itself bounded by the time left.
pub async fn wait_until(
    check: &WaitCheck,
    timeout: Duration,
    interval: Duration,
    cancel: &CancellationToken,
) -> WaitOutcome {
    let _ = (check, timeout, interval, cancel);
    unimplemented!()
}
