//! What a scan found: services, their backups, each backup's state and problems.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::config::Policy;
use super::rules::Finding;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupKind {
    Daily,
    Weekly,
    /// A bare `YYYYMMDD_HHMMSS.sql.gz` file (seed 004).
    Dump,
    /// Any other folder name under the service (`monthly`, `hourly` …).
    #[serde(untagged)]
    Other(String),
}

impl BackupKind {
    pub fn from_name(s: &str) -> BackupKind {
        match s {
            "daily" => BackupKind::Daily,
            "weekly" => BackupKind::Weekly,
            "dump" => BackupKind::Dump,
            other => BackupKind::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            BackupKind::Daily => "daily",
            BackupKind::Weekly => "weekly",
            BackupKind::Dump => "dump",
            BackupKind::Other(s) => s,
        }
    }
}

impl fmt::Display for BackupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the backup job said about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupStatus {
    /// Manifest says `success`, or a dump is a complete gzip stream.
    Success,
    /// Manifest says `failed`.
    Failed,
    /// A dump whose gzip stream ends early (the job died while writing).
    Incomplete,
    /// No readable manifest: the job's outcome is not known.
    Unknown,
    /// A dump whose gzip stream has not been checked yet (a later scan will).
    Unchecked,
}

impl BackupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::Success => "success",
            BackupStatus::Failed => "failed",
            BackupStatus::Incomplete => "incomplete",
            BackupStatus::Unknown => "unknown",
            BackupStatus::Unchecked => "checking",
        }
    }

    /// Counts against the job success rate.
    pub fn is_job_failure(self) -> bool {
        matches!(self, BackupStatus::Failed | BackupStatus::Incomplete)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    ManifestMissing,
    ManifestUnreadable,
    ManifestInvalid,
    /// Absolute path, `..`, or a symlink that leads outside the backup folder.
    UnsafePath,
    MissingFile,
    SizeMismatch,
    NotAFile,
    IncompleteGzip,
    Unreadable,
}

/// Something wrong with one backup, found without reading the data (the scan) — the
/// verification finds the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
}

impl Problem {
    pub fn new(kind: ProblemKind, message: impl Into<String>) -> Problem {
        Problem {
            kind,
            message: message.into(),
        }
    }
}

/// The latest stored verification of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum VerificationState {
    #[default]
    Never,
    Ok {
        at: DateTime<Utc>,
    },
    Failed {
        at: DateTime<Utc>,
        what: String,
    },
}

impl VerificationState {
    pub fn is_failed(&self) -> bool {
        matches!(self, VerificationState::Failed { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupEntry {
    /// Stable identity (the backup's absolute path); the store keys verifications by it.
    pub id: String,
    pub service: String,
    pub kind: BackupKind,
    /// Folder or file name: `2026-11-22`, `20261122_030000.sql.gz`.
    pub name: String,
    /// The backup folder, or the dump file.
    pub path: PathBuf,
    /// `created` from the manifest, else the time in the name.
    pub time: DateTime<Utc>,
    /// Bytes on disk.
    pub size: u64,
    pub files: usize,
    pub status: BackupStatus,
    pub problems: Vec<Problem>,
    pub verification: VerificationState,
    /// The newest good backup of its service (see [`BackupEntry::is_good`]).
    pub newest_good: bool,
}

impl BackupEntry {
    /// Good enough to restore from: the job succeeded, nothing looked wrong, and the last
    /// verification (if any) passed.
    pub fn is_good(&self) -> bool {
        self.status == BackupStatus::Success
            && self.problems.is_empty()
            && !self.verification.is_failed()
    }

    pub fn age(&self, now: DateTime<Utc>) -> Duration {
        (now - self.time).to_std().unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCatalog {
    pub name: String,
    pub root: PathBuf,
    pub policy: Policy,
    /// Newest first.
    pub backups: Vec<BackupEntry>,
}

impl ServiceCatalog {
    pub fn newest_good(&self) -> Option<&BackupEntry> {
        self.backups.iter().find(|b| b.newest_good)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub total: u64,
    pub used: u64,
    /// Available to unprivileged users (what `df` shows).
    pub available: u64,
}

impl Usage {
    /// As `df` computes it: used / (used + available), so reserved blocks count as full.
    pub fn used_pct(&self) -> f64 {
        let denom = self.used + self.available;
        if denom == 0 {
            return 0.0;
        }
        self.used as f64 * 100.0 / denom as f64
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootStatus {
    pub path: PathBuf,
    /// Why the root could not be read (missing, not a folder, permission).
    pub error: Option<String>,
    pub usage: Option<Usage>,
    /// Use (percent) from which the storage alarm warns: `storage_warn`, or the lowest
    /// override of a service on this root.
    pub storage_warn: f64,
    pub storage_crit: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Catalog {
    pub scanned_at: DateTime<Utc>,
    #[serde(with = "crate::config::humantime_serde_compat")]
    pub scan_duration: Duration,
    pub roots: Vec<RootStatus>,
    /// Sorted by name.
    pub services: Vec<ServiceCatalog>,
    /// Alarms from the rules, computed at `scanned_at`.
    pub findings: Vec<Finding>,
    /// Things about the scanning itself the operator should know (file watching off …).
    pub notes: Vec<String>,
    /// Dumps whose gzip check did not fit in this scan's budget; the provider rescans
    /// until this is 0.
    #[serde(default)]
    pub pending_checks: usize,
}

impl Catalog {
    pub fn backup_count(&self) -> usize {
        self.services.iter().map(|s| s.backups.len()).sum()
    }

    pub fn entries(&self) -> impl Iterator<Item = &BackupEntry> {
        self.services.iter().flat_map(|s| s.backups.iter())
    }

    pub fn find(&self, id: &str) -> Option<&BackupEntry> {
        self.entries().find(|b| b.id == id)
    }

    pub fn service(&self, name: &str) -> Option<&ServiceCatalog> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Puts stored verification states on the entries and marks the newest good backup
    /// of each service again.
    pub fn apply_verifications(&mut self, states: &HashMap<String, VerificationState>) {
        for s in &mut self.services {
            for b in &mut s.backups {
                if let Some(v) = states.get(&b.id) {
                    b.verification = v.clone();
                }
            }
        }
        self.mark_newest_good();
    }

    pub fn mark_newest_good(&mut self) {
        for s in &mut self.services {
            s.backups
                .sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.id.cmp(&b.id)));
            let mut found = false;
            for b in &mut s.backups {
                b.newest_good = !found && b.is_good();
                found |= b.newest_good;
            }
        }
    }
}
