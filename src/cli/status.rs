//! `toban status`: the same health as the screen, as text or JSON, with monitoring-plugin
//! exit codes so cron and other monitors can use it. Problems in the configuration files are
//! checks of their own (WARNING), so a monitor sees them; every other check still runs.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::config::{Config, ConfigError, Threshold};
use crate::health::Severity;
use crate::providers::host::{sample_now, DiskFilter};
use crate::providers::host_types::HostSample;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    pub key: String,
    pub severity: Severity,
    pub value: Option<f64>,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub status: Severity,
    pub exit_code: i32,
    pub checks: Vec<Check>,
}

/// Host checks against thresholds, on one sample (no 3-sample rule: a monitor that calls
/// `toban status` does its own retrying).
pub fn host_checks(sample: &HostSample, cfg: &Config) -> Vec<Check> {
    let h = &cfg.host;
    let mut out = vec![
        level("host.cpu", "CPU", sample.cpu_pct, h.cpu),
        level("host.memory", "Memory", sample.mem_pct(), h.memory),
    ];
    for d in &sample.disks {
        let t = h.disk_threshold(Path::new(&d.mount));
        out.push(level(
            &format!("host.disk:{}", d.mount),
            &format!("Disk {}", d.mount),
            d.pct(),
            t,
        ));
    }
    out.retain(|c| c.severity != Severity::Unknown || c.value.is_some());
    out
}

fn level(key: &str, label: &str, v: f64, t: Threshold) -> Check {
    let (severity, message) = if !t.enabled {
        (Severity::Ok, format!("{label} {v:.0}% (not checked)"))
    } else if v >= t.crit {
        (
            Severity::Critical,
            format!("{label} {v:.0}% ≥ critical {:.0}%", t.crit),
        )
    } else if v >= t.warn {
        (
            Severity::Warning,
            format!("{label} {v:.0}% ≥ warning {:.0}%", t.warn),
        )
    } else {
        (Severity::Ok, format!("{label} {v:.0}%"))
    };
    Check {
        key: key.into(),
        severity,
        value: Some((v * 10.0).round() / 10.0),
        message,
    }
}

pub fn report(checks: Vec<Check>) -> Report {
    let status = checks
        .iter()
        .map(|c| c.severity)
        .fold(Severity::Ok, Severity::worst);
    Report {
        status,
        exit_code: status.exit_code(),
        checks,
    }
}

/// Prints the report: the monitoring-plugin line first, then one line per check and when
/// it was made (in the configured zone, named).
pub fn write(
    report: &Report,
    checked: &str,
    json: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, report)?;
        writeln!(out)?;
        return Ok(());
    }
    let bad: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.severity != Severity::Ok)
        .collect();
    let summary = if bad.is_empty() {
        format!("{} checks OK", report.checks.len())
    } else {
        bad.iter()
            .map(|c| c.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    writeln!(out, "TOBAN {} - {summary}", report.status.label())?;
    for c in &report.checks {
        writeln!(out, "{:<8} {:<28} {}", c.severity.label(), c.key, c.message)?;
    }
    writeln!(out, "checked {checked}")?;
    Ok(())
}

/// One WARNING per problem in config.toml, a theme, a keymap or a runbook file: toban runs
/// on the defaults for what is wrong, which a monitor should hear about.
pub fn config_checks(problems: &[ConfigError]) -> Vec<Check> {
    problems
        .iter()
        .map(|p| Check {
            key: "config".into(),
            severity: Severity::Warning,
            value: None,
            message: crate::sanitize::strip_escapes(&p.to_string()),
        })
        .collect()
}

/// Backup rules over a fresh scan of the roots (none when no roots are configured).
pub fn backup_checks(cfg: &Config, now: chrono::DateTime<chrono::Utc>) -> Vec<Check> {
    if cfg.backups.roots.is_empty() {
        return Vec::new();
    }
    let catalog = crate::backups::scan::scan_once(&cfg.backups, now);
    let mut out: Vec<Check> = crate::backups::rules::summaries(&catalog, now)
        .into_iter()
        .map(|s| Check {
            key: format!("backup.rpo:{}", s.service),
            severity: s.severity,
            value: s
                .newest_good_age
                .map(|a| (a.as_secs_f64() / 360.0).round() / 10.0),
            message: match (s.newest_good_age, s.newest_good) {
                (Some(a), Some(at)) => format!(
                    "{}: newest good backup {} old, {} (RPO {})",
                    s.service,
                    crate::backups::rules::human_age(a),
                    cfg.timezone.show_named(at),
                    crate::backups::rules::human_policy(s.rpo)
                ),
                _ => format!("{}: no good backup", s.service),
            },
        })
        .collect();
    for f in crate::backups::rules::evaluate(&catalog, now) {
        if let Some(c) = out.iter_mut().find(|c| c.key == f.key) {
            c.severity = f.severity;
            c.message = f.message;
        } else {
            out.push(Check {
                key: f.key,
                severity: f.severity,
                value: Some(f.value),
                message: f.message,
            });
        }
    }
    out
}

/// Remote alarms (CloudWatch, Alertmanager) not acknowledged, and sources that cannot be read.
pub fn alarm_checks(cfg: &Config, data_dir: &Path) -> Vec<Check> {
    crate::alarms::cli::status_lines(cfg, data_dir)
        .into_iter()
        .map(|l| Check {
            key: l.key,
            severity: l.severity,
            value: None,
            message: l.message,
        })
        .collect()
}

/// Overdue duties of the calendar, from its records in the state store; one unknown check
/// when the store cannot be read.
pub fn calendar_checks(cfg: &Config, data_dir: &Path) -> Vec<Check> {
    match crate::calendar::cli::status_findings(cfg, data_dir) {
        Ok(found) => found
            .into_iter()
            .map(|f| Check {
                key: f.key,
                severity: f.severity,
                value: Some(f.value),
                message: f.message,
            })
            .collect(),
        Err(e) => vec![Check {
            key: "calendar".into(),
            severity: Severity::Unknown,
            value: None,
            message: format!("calendar: completions unknown ({e})"),
        }],
    }
}

/// Containers, HTTP checks and certificates (nothing when none is configured or found).
pub fn service_checks(cfg: &Config) -> Vec<Check> {
    crate::services::cli::status_findings(cfg)
        .into_iter()
        .map(|f| Check {
            key: f.key,
            severity: f.severity,
            value: Some(f.value),
            message: f.message,
        })
        .collect()
}

/// Runs every check the configuration allows, adds one per configuration problem, prints;
/// returns the exit code.
pub fn run(
    cfg: &Config,
    data_dir: &Path,
    problems: &[ConfigError],
    json: bool,
    out: &mut dyn Write,
) -> std::io::Result<i32> {
    let now = chrono::Utc::now();
    let filter = DiskFilter {
        ignore_fs_types: cfg.host.ignore_fs_types.clone(),
        ignore_mounts: cfg.host.ignore_mounts.clone(),
    };
    let sample = sample_now(&filter, Duration::from_millis(500));
    let mut checks = config_checks(problems);
    checks.extend(host_checks(&sample, cfg));
    checks.extend(backup_checks(cfg, now));
    checks.extend(calendar_checks(cfg, data_dir));
    checks.extend(alarm_checks(cfg, data_dir));
    checks.extend(service_checks(cfg));
    let report = report(checks);
    write(&report, &cfg.timezone.show_named(now), json, out)?;
    Ok(report.exit_code)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::time::Zone;

    #[test]
    fn a_backup_check_shows_the_newest_backup_in_the_configured_zone() {
        let root = tempfile::tempdir().unwrap();
        let now = Utc::now();
        // Whole seconds: the dump's name keeps no more.
        let at = Utc.timestamp_opt(now.timestamp() - 2 * 3600, 0).unwrap();
        crate::backups::fixture::dump(root.path(), "db", None, at, b"select 1;", true).unwrap();
        let mut cfg = Config::default();
        cfg.backups.roots = vec![root.path().to_path_buf()];
        cfg.timezone = Zone::parse("Asia/Tokyo").unwrap();
        let checks = backup_checks(&cfg, now);
        let rpo = checks.iter().find(|c| c.key == "backup.rpo:db").unwrap();
        assert_eq!(rpo.severity, Severity::Ok, "{rpo:?}");
        assert_eq!(
            rpo.message,
            format!(
                "db: newest good backup 2h old, {} (RPO 24h)",
                cfg.timezone.show_named(at)
            )
        );
        assert!(rpo.message.contains(" JST "), "{}", rpo.message);
    }

    #[test]
    fn every_config_problem_is_a_warning_of_its_own() {
        let problems = [
            ConfigError::new("/etc/toban/config.toml", "unknown key `x`").at(3, 1),
            ConfigError::new("/etc/toban/themes/t.toml", "bad \u{1b}[31mcolour").field("a.fg"),
        ];
        let checks = config_checks(&problems);
        assert_eq!(checks.len(), 2);
        assert!(checks.iter().all(|c| c.severity == Severity::Warning));
        assert_eq!(
            checks[0].message,
            "/etc/toban/config.toml:3:1: unknown key `x`"
        );
        assert!(!checks[1].message.contains('\u{1b}'), "{:?}", checks[1]);
        assert_eq!(report(checks).exit_code, 1);
    }
}
