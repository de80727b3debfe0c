//! The Backups tab's state: plain data, changed by provider updates and key actions.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::backups::catalog::{BackupEntry, Catalog};
use crate::backups::provider::{BackupsUpdate, VerifyProgress, VerifyRunSummary, VerifyTarget};
use crate::backups::verify::VerifyReport;

/// One restore drill: when, which backup, how long the restore took (the RTO), result.
/// Filled by the runbook engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillRecord {
    pub at: DateTime<Utc>,
    pub service: String,
    /// The backup restored (its name, e.g. `2026-11-22` or `20261122_030000.sql.gz`).
    pub backup: String,
    /// Wall time, start to end (with an operator's pauses in an interactive drill).
    #[serde(with = "crate::config::humantime_serde_compat")]
    pub duration: Duration,
    pub result: DrillResult,
    /// Machine time: the steps' own durations (None: recorded before it was kept).
    #[serde(default)]
    pub machine: Option<Duration>,
    /// Driven from the wizard: its wall time holds the operator's pauses.
    #[serde(default)]
    pub interactive: bool,
    /// Each table restored and its rows, as compared with the dump.
    #[serde(default)]
    pub proof: String,
}

impl DrillRecord {
    /// `RTO 1.9s machine` (headless: all machine time), or `RTO 1.9s machine / 4m wall`
    /// when an operator's pauses make the two differ.
    pub fn rto(&self) -> String {
        // A recorded time stands still: seconds are worth showing under a minute.
        let span = |d: Duration| {
            if d < Duration::from_secs(60) {
                format!("{:.1}s", d.as_secs_f64())
            } else {
                crate::backups::rules::human_span(d)
            }
        };
        match self.machine {
            Some(m) if self.interactive => {
                format!("RTO {} machine / {} wall", span(m), span(self.duration))
            }
            Some(m) => format!("RTO {} machine", span(m)),
            None => format!("RTO {} wall", span(self.duration)),
        }
    }

    /// The proof in one line: `public.items 2000, public.notes 2`.
    pub fn proof_line(&self) -> String {
        self.proof
            .lines()
            .skip_while(|l| l.starts_with("every table matches"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum DrillResult {
    Passed,
    Failed { why: String },
    Aborted,
}

/// A verification run in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRun {
    pub target: VerifyTarget,
    pub backups_total: usize,
    pub bytes_total: u64,
    /// The latest progress report, if any came yet.
    pub progress: Option<VerifyProgress>,
}

impl VerifyRun {
    /// 0.0 ..= 1.0
    pub fn ratio(&self) -> f64 {
        match &self.progress {
            Some(p) if p.bytes_total > 0 => {
                (p.bytes_done as f64 / p.bytes_total as f64).clamp(0.0, 1.0)
            }
            _ => 0.0,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct BackupsState {
    /// `false` when `[backups] roots` is empty: the tab shows how to configure it.
    pub configured: bool,
    pub catalog: Option<Arc<Catalog>>,
    /// Index into [`BackupsState::rows`] (every backup, services in order, newest first).
    pub selected: usize,
    pub verify: Option<VerifyRun>,
    pub last_run: Option<VerifyRunSummary>,
    /// Reports of this session, newest last (bounded), for a detail view.
    pub reports: Vec<Arc<VerifyReport>>,
    pub drills: Vec<DrillRecord>,
    /// The selected backup is shown in full (`Enter`).
    pub detail: bool,
    /// The zone times are shown in (config `timezone`).
    pub zone: crate::time::Zone,
}

const MAX_REPORTS: usize = 200;

impl BackupsState {
    pub fn new(configured: bool) -> Self {
        BackupsState {
            configured,
            ..Default::default()
        }
    }

    pub fn apply(&mut self, update: BackupsUpdate) {
        match update {
            BackupsUpdate::Catalog(c) => {
                // Keep the same backup selected when the list changes under it.
                let id = self.selected().map(|b| b.id.clone());
                self.catalog = Some(c);
                if let Some(i) = id.and_then(|id| self.rows().position(|b| b.id == id)) {
                    self.selected = i;
                }
                self.clamp();
            }
            BackupsUpdate::VerifyStarted {
                target,
                backups,
                bytes,
            } => {
                self.verify = Some(VerifyRun {
                    target,
                    backups_total: backups,
                    bytes_total: bytes,
                    progress: None,
                });
            }
            BackupsUpdate::VerifyProgress(p) => match &mut self.verify {
                Some(run) if run.target == p.target => run.progress = Some(p),
                _ => {
                    self.verify = Some(VerifyRun {
                        target: p.target.clone(),
                        backups_total: p.backups_total,
                        bytes_total: p.bytes_total,
                        progress: Some(p),
                    })
                }
            },
            BackupsUpdate::Verified(r) => {
                self.reports.push(r);
                if self.reports.len() > MAX_REPORTS {
                    self.reports.remove(0);
                }
            }
            BackupsUpdate::VerifyFinished(s) => {
                self.verify = None;
                self.last_run = Some(s);
            }
        }
    }

    /// Every backup in display order.
    pub fn rows(&self) -> impl Iterator<Item = &BackupEntry> {
        self.catalog.iter().flat_map(|c| c.entries())
    }

    pub fn len(&self) -> usize {
        self.catalog.as_ref().map(|c| c.backup_count()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn selected(&self) -> Option<&BackupEntry> {
        self.rows().nth(self.selected)
    }

    pub fn select_next(&mut self) {
        if self.selected + 1 < self.len() {
            self.selected += 1;
        }
    }

    pub fn select_prev(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn select_first(&mut self) {
        self.selected = 0;
    }

    pub fn select_last(&mut self) {
        self.selected = self.len().saturating_sub(1);
    }

    pub fn page_down(&mut self, n: usize) {
        self.selected = (self.selected + n).min(self.len().saturating_sub(1));
    }

    pub fn page_up(&mut self, n: usize) {
        self.selected = self.selected.saturating_sub(n);
    }

    /// What `verify` on the selection asks for.
    pub fn verify_selected_target(&self) -> Option<VerifyTarget> {
        self.selected().map(|b| VerifyTarget::Backup(b.id.clone()))
    }

    /// What `verify_all` asks for: every backup of the selected service, or all.
    pub fn verify_service_target(&self) -> VerifyTarget {
        match self.selected() {
            Some(b) => VerifyTarget::Service(b.service.clone()),
            None => VerifyTarget::All,
        }
    }

    /// The latest report of this session for a backup.
    pub fn report_for(&self, id: &str) -> Option<&VerifyReport> {
        self.reports
            .iter()
            .rev()
            .find(|r| r.backup_id == id)
            .map(|r| r.as_ref())
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.len().saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backups::catalog::{BackupKind, BackupStatus, ServiceCatalog, VerificationState};
    use crate::backups::config::BackupsConfig;

    fn entry(service: &str, name: &str, hours_ago: i64) -> BackupEntry {
        BackupEntry {
            id: format!("/b/{service}/{name}"),
            service: service.into(),
            kind: BackupKind::Daily,
            name: name.into(),
            path: format!("/b/{service}/{name}").into(),
            time: Utc::now() - chrono::Duration::hours(hours_ago),
            size: 1,
            files: 1,
            status: BackupStatus::Success,
            problems: vec![],
            verification: VerificationState::Never,
            newest_good: false,
        }
    }

    fn catalog(entries: Vec<BackupEntry>) -> Arc<Catalog> {
        let mut services: Vec<ServiceCatalog> = Vec::new();
        for e in entries {
            match services.iter_mut().find(|s| s.name == e.service) {
                Some(s) => s.backups.push(e),
                None => services.push(ServiceCatalog {
                    name: e.service.clone(),
                    root: "/b".into(),
                    policy: BackupsConfig::default().policy(&e.service),
                    backups: vec![e],
                }),
            }
        }
        let mut c = Catalog {
            services,
            ..Default::default()
        };
        c.mark_newest_good();
        Arc::new(c)
    }

    #[test]
    fn selection_moves_within_bounds_and_follows_the_backup_across_rescans() {
        let mut s = BackupsState::new(true);
        assert!(s.selected().is_none());
        s.select_next();
        assert_eq!(s.selected, 0);
        s.apply(BackupsUpdate::Catalog(catalog(vec![
            entry("a", "1", 1),
            entry("a", "2", 30),
            entry("b", "3", 2),
        ])));
        s.select_next();
        s.select_next();
        s.select_next();
        assert_eq!(s.selected().unwrap().name, "3");
        s.select_prev();
        assert_eq!(s.selected().unwrap().name, "2");
        // A new backup of `a` arrives above the selection: the selection stays on "2".
        s.apply(BackupsUpdate::Catalog(catalog(vec![
            entry("a", "0", 0),
            entry("a", "1", 1),
            entry("a", "2", 30),
            entry("b", "3", 2),
        ])));
        assert_eq!(s.selected().unwrap().name, "2");
        s.select_last();
        assert_eq!(s.selected().unwrap().name, "3");
        s.select_first();
        assert_eq!(s.selected().unwrap().name, "0");
        assert_eq!(s.verify_service_target(), VerifyTarget::Service("a".into()));
        // The list shrinks: the selection is clamped.
        s.select_last();
        s.apply(BackupsUpdate::Catalog(catalog(vec![entry("a", "9", 1)])));
        assert_eq!(s.selected().unwrap().name, "9");
    }

    #[test]
    fn verification_progress_then_finish() {
        let mut s = BackupsState::new(true);
        s.apply(BackupsUpdate::VerifyStarted {
            target: VerifyTarget::All,
            backups: 2,
            bytes: 100,
        });
        assert_eq!(s.verify.as_ref().unwrap().ratio(), 0.0);
        s.apply(BackupsUpdate::VerifyProgress(VerifyProgress {
            target: VerifyTarget::All,
            backup_id: "x".into(),
            service: "a".into(),
            name: "1".into(),
            file: "f".into(),
            backups_done: 0,
            backups_total: 2,
            bytes_done: 25,
            bytes_total: 100,
        }));
        assert_eq!(s.verify.as_ref().unwrap().ratio(), 0.25);
        s.apply(BackupsUpdate::VerifyFinished(VerifyRunSummary {
            target: VerifyTarget::All,
            ok: 1,
            failed: 1,
            cancelled: false,
            error: None,
        }));
        assert!(s.verify.is_none());
        assert_eq!(s.last_run.as_ref().unwrap().failed, 1);
    }
}
