//! `toban status`: the same health as the screen, as text or JSON, with monitoring-plugin
//! exit codes so cron and other monitors can use it.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::config::{Config, Threshold};
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

pub fn write(report: &Report, json: bool, out: &mut dyn Write) -> std::io::Result<()> {
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
    Ok(())
}

/// Backup rules over a fresh scan of the roots (none when no roots are configured).
pub fn backup_checks(cfg: &Config) -> Vec<Check> {
    if cfg.backups.roots.is_empty() {
        return Vec::new();
    }
    let now = chrono::Utc::now();
    let catalog = crate::backups::scan::scan_once(&cfg.backups, now);
    let mut out: Vec<Check> = crate::backups::rules::summaries(&catalog, now)
        .into_iter()
        .map(|s| Check {
            key: format!("backup.rpo:{}", s.service),
            severity: s.severity,
            value: s
                .newest_good_age
                .map(|a| (a.as_secs_f64() / 360.0).round() / 10.0),
            message: match s.newest_good_age {
                Some(a) => format!(
                    "{}: newest good backup {} old (RPO {})",
                    s.service,
                    crate::backups::rules::human_age(a),
                    crate::backups::rules::human_policy(s.rpo)
                ),
                None => format!("{}: no good backup", s.service),
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

/// Runs the checks and prints; returns the exit code.
pub fn run(cfg: &Config, data_dir: &Path, json: bool, out: &mut dyn Write) -> std::io::Result<i32> {
    let filter = DiskFilter {
        ignore_fs_types: cfg.host.ignore_fs_types.clone(),
        ignore_mounts: cfg.host.ignore_mounts.clone(),
    };
    let sample = sample_now(&filter, Duration::from_millis(500));
    let mut checks = host_checks(&sample, cfg);
    checks.extend(backup_checks(cfg));
    checks.extend(calendar_checks(cfg, data_dir));
    let report = report(checks);
    write(&report, json, out)?;
    Ok(report.exit_code)
}
