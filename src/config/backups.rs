//! `[backups]` in config.toml.
//!
//! ```toml
//! [backups]
//! roots = ["/mnt/backup-hdd"]
//! rpo = "24h"
//! retention = { daily = 7, weekly = 4, dump_days = 30 }
//! success_rate = 95.0
//! success_window = "30d"
//! storage_warn = 80.0
//!
//! [backups.service.mailserver]
//! rpo = "12h"
//! retention = { daily = 14 }
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::humantime_serde_compat;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BackupsConfig {
    /// Folders whose first level is the service: `<root>/<service>/{daily,weekly}/YYYY-MM-DD/`
    /// or `<root>/<service>/[<sub>/]YYYYMMDD_HHMMSS.sql.gz`.
    pub roots: Vec<PathBuf>,
    /// Recovery point objective: the newest good backup must be younger than this.
    #[serde(with = "humantime_serde_compat")]
    pub rpo: Duration,
    pub retention: Retention,
    /// Minimum share of successful backup jobs, in percent, over `success_window`.
    pub success_rate: f64,
    #[serde(with = "humantime_serde_compat")]
    pub success_window: Duration,
    /// Backup volume use (percent) from which a warning is raised.
    pub storage_warn: f64,
    /// Backup volume use (percent) from which the storage alarm is critical.
    pub storage_crit: f64,
    /// Rescan this often even when no file change was noticed.
    #[serde(with = "humantime_serde_compat")]
    pub rescan_interval: Duration,
    /// Wait this long after the last file change before rescanning.
    #[serde(with = "humantime_serde_compat")]
    pub debounce: Duration,
    /// Per-service overrides: `[backups.service.NAME]`.
    #[serde(rename = "service")]
    pub services: BTreeMap<String, ServiceOverride>,
}

impl Default for BackupsConfig {
    fn default() -> Self {
        BackupsConfig {
            roots: Vec::new(),
            rpo: Duration::from_secs(24 * 3600),
            retention: Retention::default(),
            success_rate: 95.0,
            success_window: Duration::from_secs(30 * 86400),
            storage_warn: 80.0,
            storage_crit: 95.0,
            rescan_interval: Duration::from_secs(300),
            debounce: Duration::from_secs(2),
            services: BTreeMap::new(),
        }
    }
}

/// How many backups the policy keeps (seed 000 §3.2: 7 daily, 4 weekly; seed 004 §4.1: 30
/// days of dumps).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    pub daily: u32,
    pub weekly: u32,
    pub dump_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            daily: 7,
            weekly: 4,
            dump_days: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionOverride {
    pub daily: Option<u32>,
    pub weekly: Option<u32>,
    pub dump_days: Option<u32>,
}

/// `[backups.service.NAME]`: any field left out takes the `[backups]` value.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceOverride {
    #[serde(with = "opt_duration")]
    pub rpo: Option<Duration>,
    pub retention: Option<RetentionOverride>,
    pub success_rate: Option<f64>,
    #[serde(with = "opt_duration")]
    pub success_window: Option<Duration>,
    pub storage_warn: Option<f64>,
}

/// The rules that apply to one service, overrides resolved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    #[serde(with = "humantime_serde_compat")]
    pub rpo: Duration,
    pub retention: Retention,
    pub success_rate: f64,
    #[serde(with = "humantime_serde_compat")]
    pub success_window: Duration,
    pub storage_warn: f64,
    pub storage_crit: f64,
}

impl BackupsConfig {
    pub fn policy(&self, service: &str) -> Policy {
        let o = self.services.get(service).cloned().unwrap_or_default();
        let r = o.retention.unwrap_or_default();
        Policy {
            rpo: o.rpo.unwrap_or(self.rpo),
            retention: Retention {
                daily: r.daily.unwrap_or(self.retention.daily),
                weekly: r.weekly.unwrap_or(self.retention.weekly),
                dump_days: r.dump_days.unwrap_or(self.retention.dump_days),
            },
            success_rate: o.success_rate.unwrap_or(self.success_rate),
            success_window: o.success_window.unwrap_or(self.success_window),
            storage_warn: o.storage_warn.unwrap_or(self.storage_warn),
            storage_crit: self.storage_crit,
        }
    }

    /// Values that parse but make no sense, as `(field, message)`; the config loader turns
    /// them into `ConfigError`s with the file name.
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let pct = |field: String, v: f64, out: &mut Vec<(String, String)>| {
            if !(0.0..=100.0).contains(&v) || v.is_nan() {
                out.push((field, format!("{v} is not a percentage between 0 and 100")));
            }
        };
        pct("backups.success_rate".into(), self.success_rate, &mut out);
        pct("backups.storage_warn".into(), self.storage_warn, &mut out);
        pct("backups.storage_crit".into(), self.storage_crit, &mut out);
        if self.rpo.is_zero() {
            out.push(("backups.rpo".into(), "must be longer than 0s".into()));
        }
        if self.rescan_interval < Duration::from_secs(1) {
            out.push((
                "backups.rescan_interval".into(),
                "must be at least 1s".into(),
            ));
        }
        for (name, o) in &self.services {
            if let Some(v) = o.success_rate {
                pct(format!("backups.service.{name}.success_rate"), v, &mut out);
            }
            if let Some(v) = o.storage_warn {
                pct(format!("backups.service.{name}.storage_warn"), v, &mut out);
            }
            if o.rpo.is_some_and(|d| d.is_zero()) {
                out.push((
                    format!("backups.service.{name}.rpo"),
                    "must be longer than 0s".into(),
                ));
            }
        }
        out
    }
}

/// `Option<Duration>` as an optional humantime string.
mod opt_duration {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        crate::config::humantime_serde_compat::deserialize(d).map(Some)
    }

    #[allow(dead_code)]
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => crate::config::humantime_serde_compat::serialize(d, s),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_seeds() {
        let c: BackupsConfig = toml::from_str("").unwrap();
        assert_eq!(c, BackupsConfig::default());
        let p = c.policy("anything");
        assert_eq!(p.rpo, Duration::from_secs(86400));
        assert_eq!(
            p.retention,
            Retention {
                daily: 7,
                weekly: 4,
                dump_days: 30
            }
        );
        assert_eq!(p.success_rate, 95.0);
        assert_eq!(p.success_window, Duration::from_secs(30 * 86400));
        assert_eq!(p.storage_warn, 80.0);
    }

    #[test]
    fn service_overrides_replace_only_what_they_name() {
        let c: BackupsConfig = toml::from_str(
            r#"
roots = ["/mnt/backup-hdd"]
rpo = "24h"
retention = { daily = 7, weekly = 4, dump_days = 30 }

[service.mailserver]
rpo = "12h"
retention = { daily = 14 }
success_rate = 99.0
"#,
        )
        .unwrap();
        let p = c.policy("mailserver");
        assert_eq!(p.rpo, Duration::from_secs(12 * 3600));
        assert_eq!(p.retention.daily, 14);
        assert_eq!(p.retention.weekly, 4);
        assert_eq!(p.success_rate, 99.0);
        assert_eq!(c.policy("blog").rpo, Duration::from_secs(86400));
    }

    #[test]
    fn unknown_fields_and_bad_durations_are_errors_naming_the_field() {
        let e = toml::from_str::<BackupsConfig>("rpo = \"soon\"").unwrap_err();
        assert!(e.to_string().contains("soon"), "{e}");
        let e = toml::from_str::<BackupsConfig>("[service.x]\nrpoo = \"1h\"").unwrap_err();
        assert!(e.to_string().contains("rpoo"), "{e}");
        let e = toml::from_str::<BackupsConfig>("retention = { daly = 3 }").unwrap_err();
        assert!(e.to_string().contains("daly"), "{e}");
    }

    #[test]
    fn validate_names_nonsense_values() {
        let c: BackupsConfig =
            toml::from_str("success_rate = 120.0\n[service.m]\nstorage_warn = -1.0").unwrap();
        let v = c.validate();
        assert!(v.iter().any(|(f, _)| f == "backups.success_rate"));
        assert!(v.iter().any(|(f, _)| f == "backups.service.m.storage_warn"));
        assert!(BackupsConfig::default().validate().is_empty());
    }
}
