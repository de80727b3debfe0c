//! The backup catalog provider: rescans when files change under the roots (inotify through
//! `notify`, debounced) and on an interval, and runs verifications in the background. All
//! file work happens in `spawn_blocking`; one scan runs at a time with at most one queued,
//! and one verification run at a time with at most one queued (a newer request replaces the
//! queued one).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use notify::{EventKind, RecursiveMode, Watcher};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::backups::catalog::{BackupEntry, Catalog, VerificationState};
use crate::backups::config::BackupsConfig;
use crate::backups::rules;
use crate::backups::scan::Scanner;
use crate::backups::verify::{verify_backup, VerifyReport};
use crate::store::Store;

/// What to verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VerifyTarget {
    /// One backup, by [`BackupEntry::id`].
    Backup(String),
    Service(String),
    All,
}

impl VerifyTarget {
    pub fn describe(&self) -> String {
        match self {
            VerifyTarget::Backup(id) => id.clone(),
            VerifyTarget::Service(s) => format!("all backups of {s}"),
            VerifyTarget::All => "all backups".into(),
        }
    }
}

/// Where a verification run stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyProgress {
    pub target: VerifyTarget,
    /// The backup being read now.
    pub backup_id: String,
    pub service: String,
    pub name: String,
    pub file: String,
    pub backups_done: usize,
    pub backups_total: usize,
    /// Across the whole run.
    pub bytes_done: u64,
    pub bytes_total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRunSummary {
    pub target: VerifyTarget,
    pub ok: usize,
    pub failed: usize,
    pub cancelled: bool,
    /// Why the run could not start (unknown backup, no catalog), or the store failed.
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub enum BackupsUpdate {
    /// A new snapshot: after every scan, and (at most once a second) as verifications land.
    Catalog(Arc<Catalog>),
    VerifyStarted {
        target: VerifyTarget,
        backups: usize,
        bytes: u64,
    },
    /// Sent at most ten times a second; may be dropped when the channel is full.
    VerifyProgress(VerifyProgress),
    /// One backup verified (already stored).
    Verified(Arc<VerifyReport>),
    VerifyFinished(VerifyRunSummary),
}

#[derive(Debug)]
enum Command {
    Rescan,
    Verify(VerifyTarget),
    CancelVerify,
}

/// Asks the provider for work; cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct BackupsHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl BackupsHandle {
    /// Queue a rescan (coalesced with one already queued).
    pub fn rescan(&self) {
        let _ = self.tx.send(Command::Rescan);
    }

    /// Start verifying, or queue it behind the running verification (replacing anything
    /// queued before).
    pub fn verify(&self, target: VerifyTarget) {
        let _ = self.tx.send(Command::Verify(target));
    }

    /// Stop the running verification (what was finished stays recorded) and drop a queued
    /// one.
    pub fn cancel_verify(&self) {
        let _ = self.tx.send(Command::CancelVerify);
    }
}

/// Starts the provider. It stops when `cancel` fires or `tx`'s receiver is dropped.
pub fn spawn(
    config: BackupsConfig,
    store: Option<Store>,
    tx: mpsc::Sender<BackupsUpdate>,
    cancel: CancellationToken,
) -> BackupsHandle {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    tokio::spawn(run(config, store, tx, cancel, cmd_rx));
    BackupsHandle { tx: cmd_tx }
}

enum JobEvent {
    Report(VerifyReport),
    Done { cancelled: bool },
}

/// Every this many scans the scanner's cache is dropped, so files changed in place (which
/// touch neither folder nor manifest) are noticed.
const FULL_RESCAN_EVERY: u64 = 12;

/// Time one scan may spend decoding new dumps, so the first catalog of a tree full of
/// large dumps arrives in seconds; the rest are checked by the scans that follow at once.
const CHECK_BUDGET: Duration = Duration::from_secs(2);

struct VerifyJob {
    target: VerifyTarget,
    token: CancellationToken,
    ok: usize,
    failed: usize,
    store_error: Option<String>,
}

async fn run(
    cfg: BackupsConfig,
    store: Option<Store>,
    tx: mpsc::Sender<BackupsUpdate>,
    cancel: CancellationToken,
    mut cmd_rx: mpsc::UnboundedReceiver<Command>,
) {
    let (fs_tx, mut fs_rx) = mpsc::unbounded_channel::<()>();
    let (job_tx, mut job_rx) = mpsc::unbounded_channel::<JobEvent>();
    let mut scanner = Some(Scanner::new());
    let mut scans = 0u64;
    let mut scan_job: Option<JoinHandle<(Scanner, Catalog)>> = None;
    let mut scan_queued = true;
    let mut base: Option<Arc<Catalog>> = None;
    let mut published: Option<Arc<Catalog>> = None;
    let mut dirty = false;
    let mut debounce: Option<tokio::time::Instant> = None;
    let mut verify_job: Option<VerifyJob> = None;
    let mut verify_queued: Option<VerifyTarget> = None;
    let mut cmd_open = true;
    let mut notes: Vec<String> = Vec::new();
    let mut _watcher: Option<notify::RecommendedWatcher> = None;
    let mut watch_pending: Option<JoinHandle<(Option<notify::RecommendedWatcher>, Vec<String>)>> =
        None;
    let mut watch_ok = false;
    let mut want_watch = !cfg.roots.is_empty();

    let mut verifications: HashMap<String, VerificationState> = HashMap::new();
    if let Some(s) = &store {
        match s.latest_backup_verifications().await {
            Ok(v) => verifications = v,
            Err(e) => notes.push(format!("stored verifications unavailable: {e:#}")),
        }
    }
    let period = cfg.rescan_interval.max(Duration::from_secs(1));
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut publish_tick = tokio::time::interval(Duration::from_secs(1));
    publish_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        if scan_queued && scan_job.is_none() {
            scan_queued = false;
            let mut sc = scanner.take().unwrap_or_default();
            scans += 1;
            if scans.is_multiple_of(FULL_RESCAN_EVERY) {
                sc.forget();
            }
            sc.check_budget = Some(CHECK_BUDGET);
            let c = cfg.clone();
            scan_job = Some(tokio::task::spawn_blocking(move || {
                let cat = sc.scan(&c, Utc::now());
                (sc, cat)
            }));
        }
        if want_watch && watch_pending.is_none() {
            want_watch = false;
            let roots = cfg.roots.clone();
            let fs_tx = fs_tx.clone();
            _watcher = None;
            watch_pending = Some(tokio::task::spawn_blocking(move || {
                make_watcher(roots, fs_tx)
            }));
        }
        if verify_job.is_none() {
            if let (Some(target), Some(cat)) = (verify_queued.clone(), published.clone()) {
                verify_queued = None;
                match start_verify(&cat, target.clone(), &cancel, &tx, job_tx.clone()) {
                    Ok(job) => verify_job = Some(job),
                    Err(error) => {
                        let s = VerifyRunSummary {
                            target,
                            ok: 0,
                            failed: 0,
                            cancelled: false,
                            error: Some(error),
                        };
                        if tx.send(BackupsUpdate::VerifyFinished(s)).await.is_err() {
                            break;
                        }
                    }
                }
            }
        }

        tokio::select! {
            _ = cancel.cancelled() => {
                if let Some(j) = &verify_job { j.token.cancel(); }
                break;
            }
            cmd = cmd_rx.recv(), if cmd_open => match cmd {
                None => cmd_open = false,
                Some(Command::Rescan) => scan_queued = true,
                Some(Command::Verify(t)) => verify_queued = Some(t),
                Some(Command::CancelVerify) => {
                    verify_queued = None;
                    if let Some(j) = &verify_job { j.token.cancel(); }
                }
            },
            Some(()) = fs_rx.recv() => {
                debounce = Some(tokio::time::Instant::now() + cfg.debounce);
            }
            _ = sleep_until(debounce), if debounce.is_some() => {
                debounce = None;
                scan_queued = true;
            }
            _ = interval.tick() => {
                scan_queued = true;
                // A root that was missing may be mounted now: try watching again.
                want_watch |= !watch_ok && !cfg.roots.is_empty();
            }
            _ = publish_tick.tick(), if dirty => {
                dirty = false;
                if let Some(b) = &base {
                    let c = overlay(b, &verifications, &notes);
                    published = Some(c.clone());
                    if tx.send(BackupsUpdate::Catalog(c)).await.is_err() { break; }
                }
            }
            res = join_opt(&mut watch_pending), if watch_pending.is_some() => {
                watch_pending = None;
                notes.retain(|n| !n.starts_with("file watching"));
                if let Ok((w, errs)) = res {
                    watch_ok = errs.is_empty();
                    // Kept alive here: dropping the watcher stops the events.
                    _watcher = w;
                    notes.extend(errs);
                }
            }
            res = join_opt(&mut scan_job), if scan_job.is_some() => {
                scan_job = None;
                match res {
                    Ok((sc, cat)) => {
                        scanner = Some(sc);
                        // Runbooks record verifications too (a drill's gate): read them again.
                        if let Some(s) = &store {
                            if let Ok(v) = s.latest_backup_verifications().await {
                                verifications = v;
                            }
                        }
                        if cat.pending_checks > 0 {
                            scan_queued = true;
                        }
                        let b = Arc::new(cat);
                        base = Some(b.clone());
                        let c = overlay(&b, &verifications, &notes);
                        published = Some(c.clone());
                        dirty = false;
                        if tx.send(BackupsUpdate::Catalog(c)).await.is_err() { break; }
                    }
                    Err(e) => {
                        notes.push(format!("the scan failed: {e}"));
                    }
                }
            }
            Some(ev) = job_rx.recv() => match ev {
                JobEvent::Report(r) => {
                    let Some(job) = verify_job.as_mut() else { continue };
                    if r.cancelled { continue; }
                    if r.ok() { job.ok += 1 } else { job.failed += 1 }
                    if let Some(s) = &store {
                        if let Err(e) = s.record_backup_verification(&r).await {
                            job.store_error = Some(format!("could not record the verification: {e:#}"));
                        }
                    }
                    verifications.insert(r.backup_id.clone(), r.state());
                    dirty = true;
                    if tx.send(BackupsUpdate::Verified(Arc::new(r))).await.is_err() { break; }
                }
                JobEvent::Done { cancelled } => {
                    if let Some(job) = verify_job.take() {
                        let s = VerifyRunSummary {
                            target: job.target,
                            ok: job.ok,
                            failed: job.failed,
                            cancelled,
                            error: job.store_error,
                        };
                        if let Some(b) = &base {
                            let c = overlay(b, &verifications, &notes);
                            published = Some(c.clone());
                            dirty = false;
                            if tx.send(BackupsUpdate::Catalog(c)).await.is_err() { break; }
                        }
                        if tx.send(BackupsUpdate::VerifyFinished(s)).await.is_err() { break; }
                    }
                }
            },
        }
    }
}

async fn sleep_until(t: Option<tokio::time::Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

async fn join_opt<T>(h: &mut Option<JoinHandle<T>>) -> Result<T, tokio::task::JoinError> {
    match h {
        Some(h) => h.await,
        None => std::future::pending().await,
    }
}

/// The scan's catalog with stored verification states, newest-good marks and findings
/// brought up to date.
fn overlay(
    base: &Catalog,
    verifications: &HashMap<String, VerificationState>,
    notes: &[String],
) -> Arc<Catalog> {
    let mut c = base.clone();
    c.apply_verifications(verifications);
    rules::update_findings(&mut c, Utc::now());
    c.notes.extend(notes.iter().cloned());
    Arc::new(c)
}

/// The entries a target names, from the latest catalog.
pub fn select_entries(cat: &Catalog, target: &VerifyTarget) -> Result<Vec<BackupEntry>, String> {
    let entries: Vec<BackupEntry> = match target {
        VerifyTarget::Backup(id) => cat.find(id).cloned().into_iter().collect(),
        VerifyTarget::Service(s) => cat
            .service(s)
            .map(|s| s.backups.clone())
            .unwrap_or_default(),
        VerifyTarget::All => cat.entries().cloned().collect(),
    };
    if entries.is_empty() {
        return Err(match target {
            VerifyTarget::Backup(id) => format!("no backup {id} in the catalog"),
            VerifyTarget::Service(s) => format!("no backups of service `{s}`"),
            VerifyTarget::All => "no backups to verify".into(),
        });
    }
    Ok(entries)
}

fn start_verify(
    cat: &Catalog,
    target: VerifyTarget,
    cancel: &CancellationToken,
    tx: &mpsc::Sender<BackupsUpdate>,
    job_tx: mpsc::UnboundedSender<JobEvent>,
) -> Result<VerifyJob, String> {
    let entries = select_entries(cat, &target)?;
    let token = cancel.child_token();
    let bytes_total: u64 = entries.iter().map(|e| e.size).sum();
    let _ = tx.try_send(BackupsUpdate::VerifyStarted {
        target: target.clone(),
        backups: entries.len(),
        bytes: bytes_total,
    });
    let t = token.clone();
    let progress_tx = tx.clone();
    let tgt = target.clone();
    tokio::task::spawn_blocking(move || {
        let total = entries.len();
        let mut done_before = 0u64;
        let mut last = Instant::now() - Duration::from_secs(1);
        for (i, e) in entries.iter().enumerate() {
            if t.is_cancelled() {
                break;
            }
            let report = verify_backup(e, &t, &mut |p| {
                if last.elapsed() >= Duration::from_millis(100) {
                    last = Instant::now();
                    let _ = progress_tx.try_send(BackupsUpdate::VerifyProgress(VerifyProgress {
                        target: tgt.clone(),
                        backup_id: e.id.clone(),
                        service: e.service.clone(),
                        name: e.name.clone(),
                        file: p.file.to_string(),
                        backups_done: i,
                        backups_total: total,
                        bytes_done: done_before + p.bytes_done,
                        bytes_total: bytes_total.max(done_before + p.bytes_done),
                    }));
                }
            });
            done_before += e.size;
            if job_tx.send(JobEvent::Report(report)).is_err() {
                return;
            }
        }
        let _ = job_tx.send(JobEvent::Done {
            cancelled: t.is_cancelled(),
        });
    });
    Ok(VerifyJob {
        target,
        token,
        ok: 0,
        failed: 0,
        store_error: None,
    })
}

fn make_watcher(
    roots: Vec<PathBuf>,
    fs_tx: mpsc::UnboundedSender<()>,
) -> (Option<notify::RecommendedWatcher>, Vec<String>) {
    let mut errs = Vec::new();
    let handler = move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            if !matches!(ev.kind, EventKind::Access(_)) {
                let _ = fs_tx.send(());
            }
        }
    };
    let mut w = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            return (
                None,
                vec![format!(
                    "file watching unavailable ({e}); rescanning on the interval only"
                )],
            )
        }
    };
    for r in &roots {
        if let Err(e) = w.watch(r, RecursiveMode::Recursive) {
            errs.push(format!(
                "file watching of {} failed ({e}); rescanning on the interval only",
                r.display()
            ));
        }
    }
    (Some(w), errs)
}
