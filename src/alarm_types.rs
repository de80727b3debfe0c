//! What every check hands to the local alarms ([`Finding`]) and what a local alarm changing
//! state records ([`AlarmTransition`]): shared by the capabilities that raise alarms, the
//! store and the Alarms tab.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::health::Severity;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmTransition {
    pub at: DateTime<Utc>,
    /// Stable key of the alarm: `host.cpu`, `host.memory`, `host.disk:/var`, `backup.rpo:mail`.
    pub key: String,
    pub from: Severity,
    pub to: Severity,
    /// The measured value that caused the change (percent, hours …).
    pub value: f64,
    pub message: String,
}

/// A condition a check found true right now (`backup.rpo:mail`, `container.unhealthy:db`).
/// Each capability computes its findings from its own data; the local alarms raise, keep
/// and clear them by key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable: `<capability>.<rule>:<subject>`.
    pub key: String,
    pub severity: crate::health::Severity,
    pub message: String,
    /// The measured value: hours, percent, or a count (see the key).
    pub value: f64,
    /// What it is about: a service, a container, a mount, a root path.
    pub subject: String,
}
