//! Walks the roots and builds a [`Catalog`].
//!
//! Layouts (first level under a root is the service):
//! - `<root>/<service>/<kind>/YYYY-MM-DD/` with `manifest.json` (seed 000); `<kind>` is the
//!   folder name (`daily`, `weekly`, anything else is kept as is).
//! - `<root>/<service>/YYYYMMDD_HHMMSS.sql.gz` or `<root>/<service>/<sub>/YYYYMMDD_HHMMSS.sql.gz`
//!   (seed 004's `pg_dump | gzip`), successful when it is a complete gzip stream.
//!
//! A [`Scanner`] keeps what it learnt: a backup folder whose mtime and manifest (size,
//! mtime) did not change is not read again, and a dump's gzip check is cached by (size,
//! mtime). Files changed in place without touching folder or manifest are caught by
//! verification and by [`Scanner::forget`] (the provider drops the cache now and then).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::catalog::{
    BackupEntry, BackupKind, BackupStatus, Catalog, Problem, ProblemKind, RootStatus,
    ServiceCatalog, Usage, VerificationState,
};
use super::config::BackupsConfig;
use super::gzip_check::check_gzip_file;
use super::manifest::{
    clip, parse_manifest, read_manifest, Manifest, ManifestStatus, MANIFEST_NAME,
};
use super::rules;
use super::safe_path::{open_nofollow, resolve_inside, Resolved};

type Stamp = (u64, Option<SystemTime>);

#[derive(Debug, Clone)]
struct CachedFolder {
    dir_mtime: Option<SystemTime>,
    manifest: Option<Stamp>,
    entry: BackupEntry,
}

#[derive(Debug, Clone)]
struct CachedGz {
    stamp: Stamp,
    result: Result<u64, String>,
}

/// Scans roots, remembering unchanged backups between scans.
#[derive(Debug, Default)]
pub struct Scanner {
    folders: HashMap<PathBuf, CachedFolder>,
    gz: HashMap<PathBuf, CachedGz>,
    /// Folders and dumps read (not reused) by the last scan, for tests and the status line.
    pub last_fresh: usize,
    /// How long one scan may spend decoding dumps not checked before; the rest are left
    /// `Unchecked` (newest are checked first) for the next scan. `None`: no limit.
    pub check_budget: Option<std::time::Duration>,
    to_check: Vec<PendingGz>,
}

#[derive(Debug)]
struct PendingGz {
    time: DateTime<Utc>,
    path: PathBuf,
    real: PathBuf,
    stamp: Stamp,
}

/// One scan with no cache.
pub fn scan_once(cfg: &BackupsConfig, now: DateTime<Utc>) -> Catalog {
    Scanner::default().scan(cfg, now)
}

impl Scanner {
    pub fn new() -> Scanner {
        Scanner::default()
    }

    /// Drops the cache: the next scan reads every manifest and re-checks every dump.
    pub fn forget(&mut self) {
        self.folders.clear();
        self.gz.clear();
    }

    pub fn scan(&mut self, cfg: &BackupsConfig, now: DateTime<Utc>) -> Catalog {
        let started = Instant::now();
        self.last_fresh = 0;
        let mut seen: HashSet<PathBuf> = HashSet::new();
        let mut roots = Vec::new();
        let mut services: BTreeMap<String, ServiceCatalog> = BTreeMap::new();
        for root in &cfg.roots {
            let mut status = RootStatus {
                path: root.clone(),
                error: None,
                usage: None,
                storage_warn: cfg.storage_warn,
                storage_crit: cfg.storage_crit,
            };
            match std::fs::metadata(root) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    status.error = Some("missing (not mounted?)".into());
                }
                Err(e) => status.error = Some(e.to_string()),
                Ok(m) if !m.is_dir() => status.error = Some("not a folder".into()),
                Ok(_) => {
                    status.usage = statvfs(root);
                    match list_dir(root) {
                        Err(e) => status.error = Some(format!("cannot list: {e}")),
                        Ok(children) => {
                            for (name, path) in children {
                                if name.starts_with('.') || name == "lost+found" || !path.is_dir() {
                                    continue;
                                }
                                let backups = self.scan_service(&name, &path, &mut seen);
                                let svc = services.entry(name.clone()).or_insert_with(|| {
                                    ServiceCatalog {
                                        name: name.clone(),
                                        root: root.clone(),
                                        policy: cfg.policy(&name),
                                        backups: Vec::new(),
                                    }
                                });
                                svc.backups.extend(backups);
                                status.storage_warn =
                                    status.storage_warn.min(cfg.policy(&name).storage_warn);
                            }
                        }
                    }
                }
            }
            roots.push(status);
        }
        self.check_dumps();
        let mut pending_checks = 0;
        for svc in services.values_mut() {
            for b in svc
                .backups
                .iter_mut()
                .filter(|b| b.status == BackupStatus::Unchecked)
            {
                match self.gz.get(&b.path) {
                    Some(c) => apply_gzip_result(b, c.result.clone()),
                    None => pending_checks += 1,
                }
            }
        }
        self.folders.retain(|k, _| seen.contains(k));
        self.gz.retain(|k, _| seen.contains(k));
        let mut catalog = Catalog {
            pending_checks,
            scanned_at: now,
            scan_duration: started.elapsed(),
            roots,
            services: services.into_values().collect(),
            findings: Vec::new(),
            notes: Vec::new(),
        };
        catalog.mark_newest_good();
        rules::update_findings(&mut catalog, now);
        catalog
    }

    fn scan_service(
        &mut self,
        service: &str,
        dir: &Path,
        seen: &mut HashSet<PathBuf>,
    ) -> Vec<BackupEntry> {
        let mut out = Vec::new();
        let Ok(children) = list_dir(dir) else {
            return out;
        };
        for (name, path) in children {
            if name.starts_with('.') {
                continue;
            }
            if let Some(t) = dump_time(&name) {
                out.push(self.scan_dump(service, &path, &name, t, seen));
                continue;
            }
            if !path.is_dir() {
                continue;
            }
            let Ok(grandchildren) = list_dir(&path) else {
                continue;
            };
            let kind = BackupKind::from_name(&name);
            for (gname, gpath) in grandchildren {
                if let Some(t) = dump_time(&gname) {
                    out.push(self.scan_dump(service, &gpath, &gname, t, seen));
                } else if let Some(t) = folder_time(&gname) {
                    if gpath.is_dir() {
                        out.push(self.scan_folder(service, kind.clone(), &gpath, &gname, t, seen));
                    }
                }
            }
        }
        out
    }

    fn scan_folder(
        &mut self,
        service: &str,
        kind: BackupKind,
        dir: &Path,
        name: &str,
        name_time: DateTime<Utc>,
        seen: &mut HashSet<PathBuf>,
    ) -> BackupEntry {
        seen.insert(dir.to_path_buf());
        let dir_mtime = std::fs::metadata(dir).ok().and_then(|m| m.modified().ok());
        let manifest_stamp = std::fs::symlink_metadata(dir.join(MANIFEST_NAME))
            .ok()
            .map(|m| (m.len(), m.modified().ok()));
        if let Some(c) = self.folders.get(dir) {
            if c.dir_mtime == dir_mtime && c.manifest == manifest_stamp && c.entry.kind == kind {
                return c.entry.clone();
            }
        }
        self.last_fresh += 1;
        let entry = read_folder(service, kind, dir, name, name_time);
        self.folders.insert(
            dir.to_path_buf(),
            CachedFolder {
                dir_mtime,
                manifest: manifest_stamp,
                entry: entry.clone(),
            },
        );
        entry
    }

    fn scan_dump(
        &mut self,
        service: &str,
        path: &Path,
        name: &str,
        time: DateTime<Utc>,
        seen: &mut HashSet<PathBuf>,
    ) -> BackupEntry {
        seen.insert(path.to_path_buf());
        let (mut entry, found) = dump_entry(service, path, name, time);
        let Some((real, meta)) = found else {
            return entry;
        };
        let stamp = (meta.len(), meta.modified().ok());
        match self.gz.get(path) {
            Some(c) if c.stamp == stamp => apply_gzip_result(&mut entry, c.result.clone()),
            _ => {
                // Decoded after the walk, newest first, within the budget.
                self.gz.remove(path);
                entry.status = BackupStatus::Unchecked;
                self.to_check.push(PendingGz {
                    time,
                    path: path.to_path_buf(),
                    real,
                    stamp,
                });
            }
        }
        entry
    }

    fn check_dumps(&mut self) {
        let started = Instant::now();
        let mut pending = std::mem::take(&mut self.to_check);
        pending.sort_by_key(|p| std::cmp::Reverse(p.time));
        for p in pending {
            if self.check_budget.is_some_and(|b| started.elapsed() >= b) {
                break;
            }
            self.last_fresh += 1;
            let result = open_nofollow(&p.real)
                .map_err(|e| e.to_string())
                .and_then(check_gzip_file);
            self.gz.insert(
                p.path,
                CachedGz {
                    stamp: p.stamp,
                    result,
                },
            );
        }
    }
}

fn apply_gzip_result(entry: &mut BackupEntry, result: Result<u64, String>) {
    match result {
        Ok(_) => entry.status = BackupStatus::Success,
        Err(why) => {
            entry.status = BackupStatus::Incomplete;
            entry
                .problems
                .push(Problem::new(ProblemKind::IncompleteGzip, why));
        }
    }
}

/// A dump's entry with what is known without reading it: its size and where it really is
/// (resolved inside its folder), or the problem that keeps it from being read.
pub(super) fn dump_entry(
    service: &str,
    path: &Path,
    name: &str,
    time: DateTime<Utc>,
) -> (BackupEntry, Option<(PathBuf, std::fs::Metadata)>) {
    let mut entry = BackupEntry {
        id: path.display().to_string(),
        service: service.to_string(),
        kind: BackupKind::Dump,
        name: name.to_string(),
        path: path.to_path_buf(),
        time,
        size: 0,
        files: 1,
        status: BackupStatus::Unknown,
        problems: Vec::new(),
        verification: VerificationState::Never,
        newest_good: false,
    };
    let resolved = match path.parent().map(std::fs::canonicalize) {
        Some(Ok(base)) => resolve_inside(&base, Path::new(name)),
        Some(Err(e)) => Resolved::Error(e),
        None => Resolved::Missing,
    };
    match resolved {
        Resolved::File(p, m) => {
            entry.size = m.len();
            (entry, Some((p, m)))
        }
        other => {
            entry.problems.push(resolution_problem(name, other));
            (entry, None)
        }
    }
}

/// Reads one backup folder: its manifest, and each listed file's presence and size.
pub(super) fn read_folder(
    service: &str,
    kind: BackupKind,
    dir: &Path,
    name: &str,
    name_time: DateTime<Utc>,
) -> BackupEntry {
    let mut e = BackupEntry {
        id: dir.display().to_string(),
        service: service.to_string(),
        kind,
        name: name.to_string(),
        path: dir.to_path_buf(),
        time: name_time,
        size: 0,
        files: 0,
        status: BackupStatus::Unknown,
        problems: Vec::new(),
        verification: VerificationState::Never,
        newest_good: false,
    };
    let base = match std::fs::canonicalize(dir) {
        Ok(b) => b,
        Err(err) => {
            e.problems.push(Problem::new(
                ProblemKind::Unreadable,
                format!("folder: {err}"),
            ));
            return e;
        }
    };
    let bytes = match read_manifest(&base) {
        Ok(Some(b)) => b,
        Ok(None) => {
            e.problems.push(Problem::new(
                ProblemKind::ManifestMissing,
                "no manifest.json: the job's outcome and checksums are unknown",
            ));
            count_plain_files(&base, &mut e);
            return e;
        }
        Err(p) => {
            e.problems.push(p);
            count_plain_files(&base, &mut e);
            return e;
        }
    };
    let (m, problems) = parse_manifest(&bytes);
    e.problems.extend(problems);
    apply_manifest(&mut e, &base, &m);
    e
}

fn apply_manifest(e: &mut BackupEntry, base: &Path, m: &Manifest) {
    if let Some(t) = m.created {
        e.time = t;
    }
    e.status = match m.status {
        Some(ManifestStatus::Success) => BackupStatus::Success,
        Some(ManifestStatus::Failed) => BackupStatus::Failed,
        None => BackupStatus::Unknown,
    };
    if let Some(s) = &m.service {
        if s != &e.service {
            e.problems.push(Problem::new(
                ProblemKind::ManifestInvalid,
                format!(
                    "manifest names service `{}`, folder is `{}`",
                    clip(s),
                    e.service
                ),
            ));
        }
    }
    e.files = m.files.len();
    for f in &m.files {
        let Some(rel) = &f.path else {
            continue; // refused while parsing; the problem is already listed
        };
        match resolve_inside(base, rel) {
            Resolved::File(_, meta) => {
                e.size += meta.len();
                if let Some(want) = f.size {
                    if want != meta.len() {
                        e.problems.push(Problem::new(
                            ProblemKind::SizeMismatch,
                            format!(
                                "`{}` is {} bytes, manifest says {}",
                                clip(&f.raw_path),
                                meta.len(),
                                want
                            ),
                        ));
                    }
                }
            }
            other => e.problems.push(resolution_problem(&f.raw_path, other)),
        }
    }
}

fn resolution_problem(name: &str, r: Resolved) -> Problem {
    let name = clip(name);
    match r {
        Resolved::File(..) => {
            Problem::new(ProblemKind::Unreadable, format!("`{name}`: unexpected"))
        }
        Resolved::Missing => Problem::new(ProblemKind::MissingFile, format!("`{name}` is missing")),
        Resolved::NotAFile => Problem::new(
            ProblemKind::NotAFile,
            format!("`{name}` is not a regular file"),
        ),
        Resolved::Refused(why) => {
            Problem::new(ProblemKind::UnsafePath, format!("`{name}` refused: {why}"))
        }
        Resolved::Error(err) => Problem::new(ProblemKind::Unreadable, format!("`{name}`: {err}")),
    }
}

fn count_plain_files(base: &Path, e: &mut BackupEntry) {
    if let Ok(rd) = std::fs::read_dir(base) {
        for d in rd.flatten() {
            if let Ok(m) = d.metadata() {
                if m.is_file() {
                    e.files += 1;
                    e.size += m.len();
                }
            }
        }
    }
}

/// Children of a folder as (name, path), names that are not UTF-8 skipped.
fn list_dir(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for d in std::fs::read_dir(dir)? {
        let d = d?;
        if let Ok(name) = d.file_name().into_string() {
            out.push((name, d.path()));
        }
    }
    Ok(out)
}

/// `YYYY-MM-DD` → local midnight.
pub fn folder_time(name: &str) -> Option<DateTime<Utc>> {
    if name.len() != 10 {
        return None;
    }
    let d = NaiveDate::parse_from_str(name, "%Y-%m-%d").ok()?;
    local_to_utc(d.and_hms_opt(0, 0, 0)?)
}

/// `YYYYMMDD_HHMMSS.sql.gz` → that local time (what `date +%Y%m%d_%H%M%S` wrote).
pub fn dump_time(name: &str) -> Option<DateTime<Utc>> {
    let stem = name.strip_suffix(".sql.gz")?;
    if stem.len() != 15 || stem.as_bytes()[8] != b'_' {
        return None;
    }
    local_to_utc(NaiveDateTime::parse_from_str(stem, "%Y%m%d_%H%M%S").ok()?)
}

fn local_to_utc(t: NaiveDateTime) -> Option<DateTime<Utc>> {
    Local
        .from_local_datetime(&t)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| Some(Utc.from_utc_datetime(&t)))
}

/// Size and use of the filesystem holding `path`.
pub fn statvfs(path: &Path) -> Option<Usage> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    let frsize = if s.f_frsize > 0 {
        s.f_frsize
    } else {
        s.f_bsize
    } as u64;
    let blocks = s.f_blocks as u64;
    let bfree = s.f_bfree as u64;
    let bavail = s.f_bavail as u64;
    Some(Usage {
        total: blocks * frsize,
        used: blocks.saturating_sub(bfree) * frsize,
        available: bavail * frsize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_strictly() {
        assert!(dump_time("20261122_030000.sql.gz").is_some());
        assert!(dump_time("20261122_030000.sql.gz.tmp").is_none());
        assert!(dump_time("2026112_030000.sql.gz").is_none());
        assert!(dump_time("20261322_030000.sql.gz").is_none());
        assert!(folder_time("2026-11-22").is_some());
        assert!(folder_time("2026-11-22-old").is_none());
        assert!(folder_time("latest").is_none());
    }

    #[test]
    fn statvfs_reports_a_real_filesystem() {
        let u = statvfs(Path::new("/")).unwrap();
        assert!(u.total > 0 && u.used_pct() >= 0.0 && u.used_pct() <= 100.0);
        assert!(statvfs(Path::new("/definitely/not/here")).is_none());
    }
}
