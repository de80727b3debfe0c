//! What the services view is made of: containers (by engine, grouped by compose project and
//! service), HTTP check outcomes and certificates. Plain data; every string that came from
//! an engine, a server or a file is sanitized where it enters (escape sequences inert).

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::providers::docker::{ContainerHealth, ContainerState};

/// One health probe the engine ran (`docker inspect` keeps the last five).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe {
    pub at: Option<DateTime<Utc>>,
    pub exit_code: i64,
    pub output: String,
}

/// A container as the engine last described it.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    /// The engine's configured name (`local` unless named in config).
    pub engine: String,
    pub id: String,
    pub name: String,
    /// `com.docker.compose.project` (or Podman's `io.podman.compose.project`).
    pub project: Option<String>,
    /// `com.docker.compose.service`.
    pub service: Option<String>,
    pub image: String,
    pub state: ContainerState,
    pub health: ContainerHealth,
    /// What the engine counts (restart policy restarts).
    pub restart_count: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub exit_code: Option<i64>,
    pub oom_killed: bool,
    /// `8080->80/tcp`.
    pub ports: Vec<String>,
    pub health_log: Vec<Probe>,
}

impl Container {
    /// What the container belongs to: its compose service, else its own name.
    pub fn service_name(&self) -> &str {
        self.service.as_deref().unwrap_or(&self.name)
    }

    pub fn group(&self) -> &str {
        self.project.as_deref().unwrap_or("-")
    }

    pub fn health_word(&self) -> &'static str {
        match self.health {
            ContainerHealth::None => "-",
            ContainerHealth::Starting => "starting",
            ContainerHealth::Healthy => "healthy",
            ContainerHealth::Unhealthy => "unhealthy",
        }
    }

    /// Running for this long (None unless running).
    pub fn uptime(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        if self.state != ContainerState::Running {
            return None;
        }
        self.started_at
            .map(|t| (now - t).max(chrono::Duration::zero()))
    }
}

/// CPU and memory from one stats read; CPU needs two reads (the counters' difference).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct StatsSample {
    pub at_ms: i64,
    /// Total CPU time of the container, nanoseconds.
    pub cpu_total: u64,
    /// The host's CPU time, nanoseconds (as the engine counts it).
    pub system_total: u64,
    pub online_cpus: u32,
    pub mem_used: u64,
    pub mem_limit: u64,
}

/// The figures shown for a container, from its last two samples.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Usage {
    /// Percent of one core (100 = one core busy), as `docker stats` shows it.
    pub cpu_pct: Option<f64>,
    pub mem_used: u64,
    pub mem_limit: u64,
}

impl Usage {
    pub fn from_samples(prev: Option<&StatsSample>, cur: &StatsSample) -> Usage {
        let cpu_pct = prev.and_then(|p| {
            let cpu = cur.cpu_total.checked_sub(p.cpu_total)? as f64;
            let sys = cur.system_total.checked_sub(p.system_total)? as f64;
            (sys > 0.0).then(|| cpu / sys * cur.online_cpus.max(1) as f64 * 100.0)
        });
        Usage {
            cpu_pct,
            mem_used: cur.mem_used,
            mem_limit: cur.mem_limit,
        }
    }
}

/// One HTTP check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckOutcome {
    pub name: String,
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// Why it failed: "status 503, expected 200", "no answer within 5s".
    pub error: Option<String>,
}

/// A certificate's expiry (or why it could not be read).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertInfo {
    pub name: String,
    /// `host:port` or the file's path.
    pub source: String,
    pub subject: String,
    pub not_after: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub checked: DateTime<Utc>,
    pub warn_days: i64,
    pub critical_days: i64,
}

impl CertInfo {
    pub fn days_left(&self, now: DateTime<Utc>) -> Option<i64> {
        self.not_after.map(|t| (t - now).num_days())
    }
}

/// Remote text made inert: escape sequences removed (`sanitize`) and bidirectional
/// controls too, so a name cannot reorder what is drawn after it.
pub fn clean(s: &str) -> String {
    crate::sanitize::strip_escapes(s)
        .chars()
        .filter(|c| !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_escapes_and_bidi_controls_are_inert() {
        assert_eq!(clean("web\u{1b}[31m-1\u{202e}txt.exe"), "web-1txt.exe");
    }
}

/// A container's death: when and with what code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Death {
    pub at: DateTime<Utc>,
    pub exit_code: Option<i64>,
}
