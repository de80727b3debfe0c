//! Severity shared by local alarms, `toban status` and the screen.

use serde::{Deserialize, Serialize};

/// Ordered from best to worst, so `max()` is the worst state.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Severity {
    /// Monitoring-plugin exit code: 0 OK, 1 warning, 2 critical, 3 unknown.
    pub fn exit_code(self) -> i32 {
        match self {
            Severity::Ok => 0,
            Severity::Warning => 1,
            Severity::Critical => 2,
            Severity::Unknown => 3,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Ok => "OK",
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
            Severity::Unknown => "UNKNOWN",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
            Severity::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "ok" => Some(Severity::Ok),
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            "unknown" => Some(Severity::Unknown),
            _ => None,
        }
    }

    /// Worst of two where `Unknown` does not mask a known critical: critical beats unknown
    /// for exit codes is a matter of taste; monitoring plugins report the worst known state
    /// first, then unknown.
    pub fn worst(self, other: Severity) -> Severity {
        use Severity::*;
        match (self, other) {
            (Critical, _) | (_, Critical) => Critical,
            (Unknown, _) | (_, Unknown) => Unknown,
            (Warning, _) | (_, Warning) => Warning,
            _ => Ok,
        }
    }
}
