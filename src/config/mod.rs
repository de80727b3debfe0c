//! Configuration: `config.toml`, themes and keymaps. Every field has a default so toban runs
//! with no file at all; a mistake is reported with file, line and field and costs only the
//! field it is in (see [`lenient`]).
//!
//! A section is a `#[serde(default, deny_unknown_fields)]` struct with a `Default` that
//! encodes the seeds' defaults, added as one field of [`Config`]; its semantic checks return
//! `(dotted field, message)` pairs and are called from `validate.rs`. Nothing else is needed
//! for its mistakes to be reported and its good fields kept.

pub mod alarms;
pub mod backups;
pub mod calendar;
pub mod check;
pub mod color;
pub mod error;
pub mod keymap;
pub mod lenient;
pub mod load;
pub mod locate;
pub mod logs;
pub mod paths;
pub mod runbooks;
pub mod services;
pub mod suggest;
pub mod theme;
pub mod timezone;
pub mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use check::check;
pub use error::ConfigError;
pub use load::{load, LoadOptions, Loaded};
pub use paths::Paths;

/// The whole of `config.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Theme name (shipped or from the user's `themes/` folder). `None`: default, or
    /// monochrome when `NO_COLOR` is set.
    pub theme: Option<String>,
    /// Keymap name (shipped or from the user's `keymaps/` folder).
    pub keymap: String,
    /// `sqlite:///path` or `postgres://…`. `None`: SQLite in the user's data directory.
    pub database_url: Option<String>,
    /// Refuse every action that changes something.
    pub read_only: bool,
    /// The zone times are shown in, an IANA name (`"Asia/Tokyo"`). Default: the system's
    /// (`TZ`, else `/etc/localtime`).
    #[serde(deserialize_with = "timezone::deserialize")]
    pub timezone: crate::time::Zone,
    pub host: HostConfig,
    pub backups: backups::BackupsConfig,
    pub runbooks: runbooks::RunbooksConfig,
    pub calendar: calendar::CalendarConfig,
    pub alarms: alarms::AlarmsConfig,
    pub services: services::ServicesConfig,
    pub logs: logs::LogsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            theme: None,
            keymap: "default".into(),
            database_url: None,
            read_only: false,
            timezone: crate::time::Zone::system(),
            host: HostConfig::default(),
            backups: Default::default(),
            runbooks: Default::default(),
            calendar: Default::default(),
            alarms: Default::default(),
            services: Default::default(),
            logs: Default::default(),
        }
    }
}

/// Host health: sampling and the local alarm thresholds (seed 000 §2.3).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HostConfig {
    /// Sample interval, e.g. "2s".
    #[serde(with = "humantime_serde_compat")]
    pub interval: Duration,
    /// How much history the sparklines show, e.g. "10m".
    #[serde(with = "humantime_serde_compat")]
    pub history: Duration,
    /// Consecutive breaching samples before an alarm is raised.
    pub raise_after: u32,
    /// Consecutive calm samples before an alarm is lowered or cleared.
    pub clear_after: u32,
    /// Percentage points below a threshold a value must fall to count as calm.
    pub hysteresis: f64,
    #[serde(deserialize_with = "threshold_fill::cpu")]
    pub cpu: Threshold,
    #[serde(deserialize_with = "threshold_fill::memory")]
    pub memory: Threshold,
    #[serde(deserialize_with = "threshold_fill::disk")]
    pub disk: Threshold,
    /// Filesystem types never shown (pseudo filesystems).
    pub ignore_fs_types: Vec<String>,
    /// Mount points never shown.
    pub ignore_mounts: Vec<PathBuf>,
    /// Per-mount threshold overrides.
    #[serde(rename = "mount")]
    pub mounts: Vec<MountOverride>,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            interval: Duration::from_secs(2),
            history: Duration::from_secs(600),
            raise_after: 3,
            clear_after: 3,
            hysteresis: 5.0,
            cpu: Threshold::CPU,
            memory: Threshold::MEMORY,
            disk: Threshold::DISK,
            ignore_fs_types: [
                "tmpfs",
                "devtmpfs",
                "squashfs",
                "proc",
                "sysfs",
                "devpts",
                "cgroup",
                "cgroup2",
                "nsfs",
                "overlayfs-lower",
                "autofs",
                "mqueue",
                "tracefs",
                "debugfs",
                "securityfs",
                "pstore",
                "bpf",
                "fusectl",
                "configfs",
                "hugetlbfs",
                "ramfs",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            ignore_mounts: Vec::new(),
            mounts: Vec::new(),
        }
    }
}

impl HostConfig {
    /// The disk threshold for one mount point, after per-mount overrides.
    pub fn disk_threshold(&self, mount: &Path) -> Threshold {
        self.mounts
            .iter()
            .find(|m| m.path == mount)
            .map(|m| Threshold {
                warn: m.warn.unwrap_or(self.disk.warn),
                crit: m.crit.unwrap_or(self.disk.crit),
                enabled: m.enabled.unwrap_or(self.disk.enabled),
            })
            .unwrap_or(self.disk)
    }
}

/// Warn and critical levels in percent; `value >= warn` breaches.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Threshold {
    pub warn: f64,
    pub crit: f64,
    pub enabled: bool,
}

impl Threshold {
    /// Seed 000 §2.3: CPU and memory 80/95 %, disks 70/85 %.
    pub const CPU: Threshold = Threshold::new(80.0, 95.0);
    pub const MEMORY: Threshold = Threshold::new(80.0, 95.0);
    pub const DISK: Threshold = Threshold::new(70.0, 85.0);

    pub const fn new(warn: f64, crit: f64) -> Self {
        Threshold {
            warn,
            crit,
            enabled: true,
        }
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold::new(80.0, 95.0)
    }
}

/// A `[host.cpu]`/`[host.memory]`/`[host.disk]` table fills what it leaves out from that
/// metric's own default (`[host.disk] warn = 75` keeps the disk's critical 85, not the CPU's
/// 95).
mod threshold_fill {
    use serde::{Deserialize, Deserializer};

    use super::Threshold;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Partial {
        warn: Option<f64>,
        crit: Option<f64>,
        enabled: Option<bool>,
    }

    fn fill<'de, D: Deserializer<'de>>(d: D, base: Threshold) -> Result<Threshold, D::Error> {
        let p = Partial::deserialize(d)?;
        Ok(Threshold {
            warn: p.warn.unwrap_or(base.warn),
            crit: p.crit.unwrap_or(base.crit),
            enabled: p.enabled.unwrap_or(base.enabled),
        })
    }

    pub fn cpu<'de, D: Deserializer<'de>>(d: D) -> Result<Threshold, D::Error> {
        fill(d, Threshold::CPU)
    }

    pub fn memory<'de, D: Deserializer<'de>>(d: D) -> Result<Threshold, D::Error> {
        fill(d, Threshold::MEMORY)
    }

    pub fn disk<'de, D: Deserializer<'de>>(d: D) -> Result<Threshold, D::Error> {
        fill(d, Threshold::DISK)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MountOverride {
    pub path: PathBuf,
    pub warn: Option<f64>,
    pub crit: Option<f64>,
    pub enabled: Option<bool>,
}

/// `"2s"`, `"10m"`, `"24h"` ↔ `Duration`.
pub mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{s}` is not a duration like \"2s\" or \"24h\": {e}"
            ))
        })
    }

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}
