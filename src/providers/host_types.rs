//! What the host provider measures, as plain data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostSample {
    pub at: DateTime<Utc>,
    /// Whole-machine CPU use, percent of all cores.
    pub cpu_pct: f64,
    pub mem_used: u64,
    pub mem_total: u64,
    /// 1, 5 and 15 minute load averages.
    pub load: [f64; 3],
    pub cores: usize,
    pub disks: Vec<DiskUsage>,
}

impl HostSample {
    pub fn mem_pct(&self) -> f64 {
        if self.mem_total == 0 {
            0.0
        } else {
            self.mem_used as f64 * 100.0 / self.mem_total as f64
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskUsage {
    pub mount: String,
    pub fs_type: String,
    pub total: u64,
    pub used: u64,
    /// Space an unprivileged user can still write; with `used` it gives the same
    /// percentage as `df` (blocks reserved for root do not count as free).
    #[serde(default)]
    pub avail: u64,
}

impl DiskUsage {
    pub fn pct(&self) -> f64 {
        let denom = if self.avail > 0 {
            self.used + self.avail
        } else {
            self.total
        };
        if denom == 0 {
            0.0
        } else {
            self.used as f64 * 100.0 / denom as f64
        }
    }
}
