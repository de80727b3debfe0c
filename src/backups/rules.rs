//! The backup rules as pure functions of a catalog and a time.
//!
//! | key                              | raised when                                        | severity |
//! |----------------------------------|----------------------------------------------------|----------|
//! | `backup.rpo:<service>`           | newest good backup older than the RPO              | warning; critical past 2×RPO or when there is none |
//! | `backup.success_rate:<service>`  | successful jobs in the window below `success_rate` | warning  |
//! | `backup.storage:<root>`          | backup volume use ≥ `storage_warn` (≥ `storage_crit`) | warning (critical) |
//! | `backup.root:<root>`             | root missing or unreadable                         | critical |
//! | `backup.retention:<service>`     | fewer good daily/weekly backups than the policy keeps | warning |
//! | `backup.retention_excess:<service>` | backups older than the policy keeps             | warning  |
//! | `backup.integrity:<service>`     | backups with problems or a failed verification     | warning  |
//!
//! "Good" is [`BackupEntry::is_good`]: job succeeded, no problem found, last verification
//! not failed.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Local, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::catalog::{BackupEntry, BackupKind, BackupStatus, Catalog, ServiceCatalog};
use crate::health::Severity;

const DAY: Duration = Duration::from_secs(86400);
/// Slack for a job that runs a little late or a cleanup that runs after the backup.
const GRACE: Duration = DAY;

pub use crate::alarm_types::Finding;

/// Brings `catalog.findings` up to `now`: the one place findings are computed. The scan,
/// the provider (after stored verifications are applied) and the console (when time alone
/// ages a backup past its RPO) all call this, so the Backups tab and the alarms agree.
pub fn update_findings(catalog: &mut Catalog, now: DateTime<Utc>) {
    catalog.findings = evaluate(catalog, now);
}

/// The findings that raise an alarm (anything worse than ok).
pub fn alarming(catalog: &Catalog) -> impl Iterator<Item = &Finding> {
    catalog
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Ok)
}

/// Every rule over every service and root, worst first.
pub fn evaluate(catalog: &Catalog, now: DateTime<Utc>) -> Vec<Finding> {
    let mut out = Vec::new();
    for root in &catalog.roots {
        let subject = root.path.display().to_string();
        if let Some(err) = &root.error {
            out.push(Finding {
                key: format!("backup.root:{subject}"),
                severity: Severity::Critical,
                message: format!("backup root {subject}: {err}"),
                value: 1.0,
                subject: subject.clone(),
            });
        }
        if let Some(u) = root.usage {
            let pct = u.used_pct();
            if pct >= root.storage_warn {
                let severity = if pct >= root.storage_crit {
                    Severity::Critical
                } else {
                    Severity::Warning
                };
                out.push(Finding {
                    key: format!("backup.storage:{subject}"),
                    severity,
                    message: format!(
                        "backup volume {subject} is {pct:.0}% full (limit {:.0}%)",
                        root.storage_warn
                    ),
                    value: pct,
                    subject: subject.clone(),
                });
            }
        }
    }
    for s in &catalog.services {
        out.extend(rpo(s, now));
        out.extend(success_rate(s, now));
        out.extend(retention(s, now));
        out.extend(retention_excess(s, now));
        out.extend(integrity(s));
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.key.cmp(&b.key)));
    out
}

pub fn rpo_severity(age: Option<Duration>, rpo: Duration) -> Severity {
    match age {
        None => Severity::Critical,
        Some(a) if a > rpo * 2 => Severity::Critical,
        Some(a) if a > rpo => Severity::Warning,
        Some(_) => Severity::Ok,
    }
}

pub fn rpo(s: &ServiceCatalog, now: DateTime<Utc>) -> Option<Finding> {
    let rpo = s.policy.rpo;
    let newest = s.newest_good();
    let age = newest.map(|b| b.age(now));
    let severity = rpo_severity(age, rpo);
    if severity == Severity::Ok {
        return None;
    }
    let message = match (newest, age) {
        (Some(b), Some(a)) => format!(
            "{}: newest good backup is {} old ({}), RPO {}",
            s.name,
            human_age(a),
            b.name,
            human_policy(rpo)
        ),
        _ => format!(
            "{}: no good backup at all (RPO {})",
            s.name,
            human_policy(rpo)
        ),
    };
    Some(Finding {
        key: format!("backup.rpo:{}", s.name),
        severity,
        message,
        value: age.map(|a| a.as_secs_f64() / 3600.0).unwrap_or(-1.0),
        subject: s.name.clone(),
    })
}

/// Jobs in the window: successes over successes + failures (failed manifests, truncated
/// dumps). Backups with unknown outcome are not counted here (integrity reports them).
pub fn job_counts(s: &ServiceCatalog, now: DateTime<Utc>) -> (usize, usize) {
    let since = now - chrono::Duration::from_std(s.policy.success_window).unwrap_or_default();
    let in_window = s
        .backups
        .iter()
        .filter(|b| b.time >= since && b.time <= now);
    let mut ok = 0;
    let mut failed = 0;
    for b in in_window {
        match b.status {
            BackupStatus::Success => ok += 1,
            st if st.is_job_failure() => failed += 1,
            _ => {}
        }
    }
    (ok, failed)
}

pub fn success_rate(s: &ServiceCatalog, now: DateTime<Utc>) -> Option<Finding> {
    let (ok, failed) = job_counts(s, now);
    let total = ok + failed;
    if total == 0 {
        return None;
    }
    let rate = ok as f64 * 100.0 / total as f64;
    if rate >= s.policy.success_rate {
        return None;
    }
    Some(Finding {
        key: format!("backup.success_rate:{}", s.name),
        severity: Severity::Warning,
        message: format!(
            "{}: {rate:.1}% of backup jobs succeeded over {} ({failed} of {total} failed), minimum {:.0}%",
            s.name,
            human_policy(s.policy.success_window),
            s.policy.success_rate
        ),
        value: rate,
        subject: s.name.clone(),
    })
}

fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Local).date_naive()
}

fn of_kind(s: &ServiceCatalog, kind: BackupKind) -> impl Iterator<Item = &BackupEntry> {
    s.backups.iter().filter(move |b| b.kind == kind)
}

pub fn retention(s: &ServiceCatalog, now: DateTime<Utc>) -> Option<Finding> {
    let uses_folders = s
        .backups
        .iter()
        .any(|b| matches!(b.kind, BackupKind::Daily | BackupKind::Weekly));
    if !uses_folders {
        return None;
    }
    let r = s.policy.retention;
    let mut short = Vec::new();
    let mut value = 0.0;
    for (kind, keep, period) in [
        (BackupKind::Daily, r.daily, DAY),
        (BackupKind::Weekly, r.weekly, DAY * 7),
    ] {
        if keep == 0 {
            continue;
        }
        let window = period * keep + GRACE;
        let good: Vec<&BackupEntry> = of_kind(s, kind.clone())
            .filter(|b| b.is_good() && b.age(now) <= window)
            .collect();
        if good.len() >= keep as usize {
            continue;
        }
        value += (keep as usize - good.len()) as f64;
        let mut msg = format!("{} of {keep} {kind}", good.len());
        if kind == BackupKind::Daily {
            let missing = missing_days(s, now, keep);
            if !missing.is_empty() {
                let mut list: Vec<String> = missing.iter().take(5).map(|d| d.to_string()).collect();
                // Never cut silently: the rest is counted.
                if missing.len() > 5 {
                    list.push(format!("and {} more days", missing.len() - 5));
                }
                msg.push_str(&format!(" (none on {})", list.join(", ")));
            }
        }
        short.push(msg);
    }
    if short.is_empty() {
        return None;
    }
    Some(Finding {
        key: format!("backup.retention:{}", s.name),
        severity: Severity::Warning,
        message: format!("{}: retention not met: {}", s.name, short.join("; ")),
        value,
        subject: s.name.clone(),
    })
}

/// Days among the last `keep` (ending at the newest daily backup's day, or today when
/// none) with no good daily backup: the gaps an operator would want to see.
pub fn missing_days(s: &ServiceCatalog, now: DateTime<Utc>, keep: u32) -> Vec<NaiveDate> {
    let have: BTreeSet<NaiveDate> = of_kind(s, BackupKind::Daily)
        .filter(|b| b.is_good())
        .map(|b| local_date(b.time))
        .collect();
    let end = of_kind(s, BackupKind::Daily)
        .map(|b| local_date(b.time))
        .max()
        .unwrap_or_else(|| local_date(now))
        .min(local_date(now));
    (0..keep as i64)
        .rev()
        .filter_map(|i| end.checked_sub_days(chrono::Days::new(i as u64)))
        .filter(|d| !have.contains(d))
        .collect()
}

/// Backups the policy should have deleted: beyond the newest `keep` of their kind and older
/// than `keep` periods (plus a day's grace); dumps older than `dump_days`.
pub fn excess(s: &ServiceCatalog, now: DateTime<Utc>) -> Vec<&BackupEntry> {
    let r = s.policy.retention;
    let mut out = Vec::new();
    for (kind, keep, period) in [
        (BackupKind::Daily, r.daily, DAY),
        (BackupKind::Weekly, r.weekly, DAY * 7),
    ] {
        let limit = period * keep + GRACE;
        out.extend(
            of_kind(s, kind.clone())
                .skip(keep as usize)
                .filter(|b| b.age(now) > limit),
        );
    }
    let dump_limit = DAY * r.dump_days + GRACE;
    out.extend(of_kind(s, BackupKind::Dump).filter(|b| b.age(now) > dump_limit));
    out
}

pub fn retention_excess(s: &ServiceCatalog, now: DateTime<Utc>) -> Option<Finding> {
    let ex = excess(s, now);
    let oldest = ex.iter().min_by_key(|b| b.time)?;
    Some(Finding {
        key: format!("backup.retention_excess:{}", s.name),
        severity: Severity::Warning,
        message: format!(
            "{}: {} backup{} kept past retention (oldest {} {}, {} old)",
            s.name,
            ex.len(),
            if ex.len() == 1 { "" } else { "s" },
            oldest.kind,
            oldest.name,
            human_age(oldest.age(now))
        ),
        value: ex.len() as f64,
        subject: s.name.clone(),
    })
}

pub fn integrity(s: &ServiceCatalog) -> Option<Finding> {
    let bad: Vec<&BackupEntry> = s
        .backups
        .iter()
        .filter(|b| !b.problems.is_empty() || b.verification.is_failed())
        .collect();
    let first = bad.first()?;
    let what = first
        .problems
        .first()
        .map(|p| p.message.clone())
        .or_else(|| match &first.verification {
            super::catalog::VerificationState::Failed { what, .. } => {
                Some(format!("verification failed: {what}"))
            }
            _ => None,
        })
        .unwrap_or_default();
    Some(Finding {
        key: format!("backup.integrity:{}", s.name),
        severity: Severity::Warning,
        message: format!(
            "{}: {} backup{} with problems; newest {} {}: {}",
            s.name,
            bad.len(),
            if bad.len() == 1 { "" } else { "s" },
            first.kind,
            first.name,
            what
        ),
        value: bad.len() as f64,
        subject: s.name.clone(),
    })
}

/// What Overview shows per service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub service: String,
    pub newest_good: Option<DateTime<Utc>>,
    pub newest_good_age: Option<Duration>,
    pub rpo: Duration,
    /// The worst of the RPO rule at `now` and the service's findings.
    pub severity: Severity,
    pub backups: usize,
    /// Percent of successful jobs in the window, `None` when there were none.
    pub success_rate: Option<f64>,
}

pub fn summaries(catalog: &Catalog, now: DateTime<Utc>) -> Vec<ServiceSummary> {
    catalog
        .services
        .iter()
        .map(|s| {
            let newest = s.newest_good();
            let age = newest.map(|b| b.age(now));
            let (ok, failed) = job_counts(s, now);
            ServiceSummary {
                service: s.name.clone(),
                newest_good: newest.map(|b| b.time),
                newest_good_age: age,
                rpo: s.policy.rpo,
                // The service's worst finding, not the RPO alone: a service short of its
                // retention is not "OK".
                severity: catalog
                    .findings
                    .iter()
                    .filter(|f| f.subject == s.name)
                    .map(|f| f.severity)
                    .fold(rpo_severity(age, s.policy.rpo), Severity::worst),
                backups: s.backups.len(),
                success_rate: (ok + failed > 0).then(|| ok as f64 * 100.0 / (ok + failed) as f64),
            }
        })
        .collect()
}

/// `45s`, `12m`, `5h`, `5h 20m`, `3d 4h`.
pub fn human_age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        // The screen is redrawn once a minute when nothing else changes: seconds would
        // stand still on it and lie.
        0..=59 => "<1m".to_string(),
        60..=3599 => format!("{}m", s / 60),
        3600..=86399 => {
            let (h, m) = (s / 3600, (s % 3600) / 60);
            if m == 0 || h >= 10 {
                format!("{h}h")
            } else {
                format!("{h}h {m}m")
            }
        }
        _ => {
            let (d, h) = (s / 86400, (s % 86400) / 3600);
            if h == 0 || d >= 10 {
                format!("{d}d")
            } else {
                format!("{d}d {h}h")
            }
        }
    }
}

/// A policy duration as people say it: `24h`, `36h`, `7d`, `30d`, `90m`.
pub fn human_policy(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86400) && s >= 4 * 86400 {
        format!("{}d", s / 86400)
    } else if s.is_multiple_of(3600) && s >= 3600 {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) && s >= 60 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// A measured span with seconds kept below an hour: `42s`, `4m 12s`, `1h 3m`.
pub fn human_span(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        // The screen is redrawn once a minute when nothing else changes: seconds would
        // stand still on it and lie.
        0..=59 => "<1m".to_string(),
        60..=3599 if !s.is_multiple_of(60) => format!("{}m {}s", s / 60, s % 60),
        _ => human_age(d),
    }
}

/// `512 B`, `1.5 KiB`, `20 MiB`, `1.2 GiB`.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else if v < 10.0 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.0} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backups::catalog::{RootStatus, Usage};

    fn with_usage(used: u64, available: u64) -> Catalog {
        Catalog {
            roots: vec![RootStatus {
                path: "/mnt/backup-hdd".into(),
                error: None,
                usage: Some(Usage {
                    total: used + available,
                    used,
                    available,
                }),
                storage_warn: 80.0,
                storage_crit: 95.0,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn storage_warns_from_80_and_is_critical_from_95_percent() {
        let now = Utc::now();
        assert!(evaluate(&with_usage(79, 21), now).is_empty());
        let f = evaluate(&with_usage(80, 20), now);
        assert_eq!(f[0].key, "backup.storage:/mnt/backup-hdd");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].value, 80.0);
        assert!(f[0].message.contains("80% full"), "{}", f[0].message);
        assert_eq!(
            evaluate(&with_usage(96, 4), now)[0].severity,
            Severity::Critical
        );
    }

    #[test]
    fn rpo_severity_steps() {
        let h = |n: u64| Some(Duration::from_secs(n * 3600));
        let rpo = Duration::from_secs(24 * 3600);
        assert_eq!(rpo_severity(h(23), rpo), Severity::Ok);
        assert_eq!(rpo_severity(h(24), rpo), Severity::Ok);
        assert_eq!(rpo_severity(h(25), rpo), Severity::Warning);
        assert_eq!(rpo_severity(h(49), rpo), Severity::Critical);
        assert_eq!(rpo_severity(None, rpo), Severity::Critical);
    }

    #[test]
    fn durations_and_sizes_read_as_people_write_them() {
        assert_eq!(human_policy(Duration::from_secs(86400)), "24h");
        assert_eq!(human_policy(Duration::from_secs(30 * 86400)), "30d");
        assert_eq!(human_policy(Duration::from_secs(90 * 60)), "90m");
        assert_eq!(human_age(Duration::from_secs(30 * 3600)), "1d 6h");
        assert_eq!(human_age(Duration::from_secs(5 * 3600 + 20 * 60)), "5h 20m");
        assert_eq!(human_span(Duration::from_secs(252)), "4m 12s");
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(48 << 20), "48 MiB");
    }
}
