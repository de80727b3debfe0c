//! A local alarm changing state: what the store records and the Alarms tab lists.

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
