//! Proves a backup intact: every file's size and sha256 against its manifest (read once,
//! streamed with a large buffer), or a dump's gzip stream decoded to its trailer. Never
//! reads outside the backup folder (see `safe_path`).

use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::catalog::{BackupEntry, BackupKind, VerificationState};
use super::gzip_check::{self, check_gzip_reading};
use super::manifest::{clip, parse_manifest, read_manifest, ManifestFile, ManifestStatus};
use super::safe_path::{check_relative, open_nofollow, resolve_inside, Resolved};

/// Read size for hashing.
pub const HASH_BUF: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FileOutcome {
    Ok,
    SizeMismatch {
        expected: u64,
        actual: u64,
    },
    ChecksumMismatch {
        expected: String,
        actual: String,
    },
    Missing,
    /// Not read: the path is absolute, has `..`, or leads outside the backup.
    Refused {
        reason: String,
    },
    NotAFile,
    Unreadable {
        error: String,
    },
    /// A dump that is not a complete gzip stream.
    IncompleteGzip {
        error: String,
    },
    /// The manifest gives no usable size or sha256 for it.
    NoChecksum,
    /// Verification was cancelled before this file was finished.
    Cancelled,
}

impl FileOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, FileOutcome::Ok)
    }

    pub fn describe(&self) -> String {
        match self {
            FileOutcome::Ok => "ok".into(),
            FileOutcome::SizeMismatch { expected, actual } => {
                format!("size mismatch: {actual} bytes, manifest says {expected}")
            }
            FileOutcome::ChecksumMismatch { expected, actual } => format!(
                "checksum mismatch: sha256 {}…, manifest says {}…",
                &actual[..12.min(actual.len())],
                &expected[..12.min(expected.len())]
            ),
            FileOutcome::Missing => "missing".into(),
            FileOutcome::Refused { reason } => format!("refused: {reason}"),
            FileOutcome::NotAFile => "not a regular file".into(),
            FileOutcome::Unreadable { error } => format!("unreadable: {error}"),
            FileOutcome::IncompleteGzip { error } => error.clone(),
            FileOutcome::NoChecksum => "no size/sha256 in the manifest".into(),
            FileOutcome::Cancelled => "cancelled".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileResult {
    pub path: String,
    /// Bytes read.
    pub bytes: u64,
    #[serde(flatten)]
    pub outcome: FileOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub backup_id: String,
    pub service: String,
    pub kind: BackupKind,
    pub name: String,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub bytes: u64,
    pub files: Vec<FileResult>,
    /// Backup-level defects: no manifest, invalid manifest, the job reported failure.
    pub problems: Vec<String>,
    pub cancelled: bool,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        !self.cancelled && self.problems.is_empty() && self.files.iter().all(|f| f.outcome.is_ok())
    }

    /// One line: `3 files ok, 12 MiB` or the first thing wrong and how many more.
    pub fn summary(&self) -> String {
        if self.cancelled {
            return "cancelled".into();
        }
        let mut bad: Vec<String> = self.problems.clone();
        bad.extend(
            self.files
                .iter()
                .filter(|f| !f.outcome.is_ok())
                .map(|f| format!("{}: {}", clip(&f.path), f.outcome.describe())),
        );
        match bad.len() {
            0 => format!(
                "{} file{} ok, {}",
                self.files.len(),
                if self.files.len() == 1 { "" } else { "s" },
                super::rules::human_size(self.bytes)
            ),
            1 => bad.remove(0),
            n => format!("{} (and {} more)", bad[0], n - 1),
        }
    }

    pub fn state(&self) -> VerificationState {
        if self.ok() {
            VerificationState::Ok { at: self.finished }
        } else {
            VerificationState::Failed {
                at: self.finished,
                what: self.summary(),
            }
        }
    }
}

/// What `toban backups verify` concludes about one backup, and every restore gate with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Intact: the verification passed and the scan found nothing wrong.
    pub ok: bool,
    /// One line: the first thing wrong, or what was verified.
    pub summary: String,
    /// Everything wrong, one line each (empty when ok).
    pub details: Vec<String>,
}

/// The verdict on a backup from its entry (what the scan found) and its verification.
pub fn verdict(entry: &BackupEntry, report: &VerifyReport) -> Verdict {
    let ok = report.ok() && entry.problems.is_empty();
    let summary = if report.ok() && !entry.problems.is_empty() {
        entry.problems[0].message.clone()
    } else {
        report.summary()
    };
    let mut details: Vec<String> = Vec::new();
    if !ok {
        details.extend(entry.problems.iter().map(|p| p.message.clone()));
        details.extend(
            report
                .files
                .iter()
                .filter(|f| !f.outcome.is_ok())
                .map(|f| format!("{}: {}", clip(&f.path), f.outcome.describe())),
        );
    }
    Verdict {
        ok,
        summary,
        details,
    }
}

/// Bytes done of bytes total for the backup being verified, and the file being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProgress<'a> {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub file: &'a str,
}

/// A manifest entry and where it resolved (path, size on disk), or why it is not read.
type Planned<'a> = (
    &'a ManifestFile,
    Result<(std::path::PathBuf, u64), FileOutcome>,
);

/// Verifies one backup. `on_progress` is called after every chunk read (callers throttle);
/// `cancel` is checked between chunks.
pub fn verify_backup(
    entry: &BackupEntry,
    cancel: &CancellationToken,
    on_progress: &mut dyn FnMut(FileProgress<'_>),
) -> VerifyReport {
    verify_backup_reading(entry, cancel, on_progress, &mut |_| {})
}

/// [`verify_backup`]; a dump's decoded bytes also go to `on_decoded` in the same read.
pub fn verify_backup_reading(
    entry: &BackupEntry,
    cancel: &CancellationToken,
    on_progress: &mut dyn FnMut(FileProgress<'_>),
    on_decoded: &mut dyn FnMut(&[u8]),
) -> VerifyReport {
    let started = Utc::now();
    let mut report = VerifyReport {
        backup_id: entry.id.clone(),
        service: entry.service.clone(),
        kind: entry.kind.clone(),
        name: entry.name.clone(),
        started,
        finished: started,
        bytes: 0,
        files: Vec::new(),
        problems: Vec::new(),
        cancelled: false,
    };
    if entry.kind == BackupKind::Dump {
        verify_dump(entry, cancel, on_progress, on_decoded, &mut report);
    } else {
        verify_folder(&entry.path, cancel, on_progress, &mut report);
    }
    report.cancelled = cancel.is_cancelled();
    report.bytes = report.files.iter().map(|f| f.bytes).sum();
    report.finished = Utc::now();
    report
}

fn verify_folder(
    dir: &Path,
    cancel: &CancellationToken,
    on_progress: &mut dyn FnMut(FileProgress<'_>),
    report: &mut VerifyReport,
) {
    let base = match std::fs::canonicalize(dir) {
        Ok(b) => b,
        Err(e) => {
            report.problems.push(format!("backup folder: {e}"));
            return;
        }
    };
    let bytes = match read_manifest(&base) {
        Ok(Some(b)) => b,
        Ok(None) => {
            report
                .problems
                .push("no manifest.json: nothing to verify against".into());
            return;
        }
        Err(p) => {
            report.problems.push(p.message);
            return;
        }
    };
    let (m, problems) = parse_manifest(&bytes);
    // Per-file defects show up on the file; keep only the manifest-wide ones here.
    report.problems.extend(
        problems
            .into_iter()
            .filter(|p| {
                !m.files
                    .iter()
                    .any(|f| p.message.contains(&format!("`{}`", clip(&f.raw_path))))
            })
            .map(|p| p.message),
    );
    if m.status == Some(ManifestStatus::Failed) {
        report
            .problems
            .push("the backup job reported failure".into());
    }
    if m.files.is_empty() {
        report.problems.push("the manifest lists no files".into());
    }
    // First resolve everything, so the progress total is known and refusals cost nothing.
    let mut plan: Vec<Planned> = Vec::new();
    for f in &m.files {
        let r = match (&f.path, check_relative(&f.raw_path)) {
            (_, Err(why)) => Err(FileOutcome::Refused {
                reason: why.to_string(),
            }),
            (Some(rel), Ok(_)) => match resolve_inside(&base, rel) {
                Resolved::File(p, meta) => Ok((p, meta.len())),
                Resolved::Missing => Err(FileOutcome::Missing),
                Resolved::NotAFile => Err(FileOutcome::NotAFile),
                Resolved::Refused(why) => Err(FileOutcome::Refused {
                    reason: why.to_string(),
                }),
                Resolved::Error(e) => Err(FileOutcome::Unreadable {
                    error: e.to_string(),
                }),
            },
            (None, Ok(_)) => Err(FileOutcome::Refused {
                reason: "unsafe path".into(),
            }),
        };
        plan.push((f, r));
    }
    let total: u64 = plan
        .iter()
        .filter_map(|(f, r)| match (r, f.size) {
            (Ok((_, actual)), Some(want)) if *actual == want => Some(want),
            _ => None,
        })
        .sum();
    let mut done = 0u64;
    for (f, r) in plan {
        if cancel.is_cancelled() {
            report.files.push(FileResult {
                path: f.raw_path.clone(),
                bytes: 0,
                outcome: FileOutcome::Cancelled,
            });
            continue;
        }
        let (path, actual) = match r {
            Ok(x) => x,
            Err(outcome) => {
                report.files.push(FileResult {
                    path: f.raw_path.clone(),
                    bytes: 0,
                    outcome,
                });
                continue;
            }
        };
        let (Some(want_size), Some(want_sha)) = (f.size, f.sha256.as_deref()) else {
            report.files.push(FileResult {
                path: f.raw_path.clone(),
                bytes: 0,
                outcome: FileOutcome::NoChecksum,
            });
            continue;
        };
        if actual != want_size {
            report.files.push(FileResult {
                path: f.raw_path.clone(),
                bytes: 0,
                outcome: FileOutcome::SizeMismatch {
                    expected: want_size,
                    actual,
                },
            });
            continue;
        }
        let name = f.raw_path.as_str();
        let before = done;
        let result = hash_file(&path, cancel, &mut |n| {
            done += n;
            on_progress(FileProgress {
                bytes_done: done,
                bytes_total: total,
                file: name,
            });
        });
        let outcome = match result {
            Ok((_, read)) if read != want_size => FileOutcome::SizeMismatch {
                expected: want_size,
                actual: read,
            },
            Ok((sha, _)) if sha == want_sha => FileOutcome::Ok,
            Ok((sha, _)) => FileOutcome::ChecksumMismatch {
                expected: want_sha.to_string(),
                actual: sha,
            },
            Err(e) if gzip_check::is_cancelled(&e) => FileOutcome::Cancelled,
            Err(e) => FileOutcome::Unreadable {
                error: e.to_string(),
            },
        };
        report.files.push(FileResult {
            path: f.raw_path.clone(),
            bytes: done - before,
            outcome,
        });
    }
}

/// sha256 (lowercase hex) and byte count of a file, opened without following a symlink.
/// `on_bytes` gets each chunk's length.
pub fn hash_file(
    path: &Path,
    cancel: &CancellationToken,
    on_bytes: &mut dyn FnMut(u64),
) -> std::io::Result<(String, u64)> {
    let mut f = open_nofollow(path)?;
    advise_sequential(&f);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; HASH_BUF];
    let mut n_total = 0u64;
    loop {
        if cancel.is_cancelled() {
            return Err(std::io::Error::other(gzip_check::CANCELLED));
        }
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        n_total += n as u64;
        on_bytes(n as u64);
    }
    Ok((hex(&h.finalize()), n_total))
}

fn advise_sequential(f: &std::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor; the advice is only a hint.
    unsafe {
        libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL);
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn verify_dump(
    entry: &BackupEntry,
    cancel: &CancellationToken,
    on_progress: &mut dyn FnMut(FileProgress<'_>),
    on_decoded: &mut dyn FnMut(&[u8]),
    report: &mut VerifyReport,
) {
    let name = entry.name.as_str();
    let Some(dir) = entry.path.parent() else {
        report.problems.push("dump has no folder".into());
        return;
    };
    let base = match std::fs::canonicalize(dir) {
        Ok(b) => b,
        Err(e) => {
            report.problems.push(format!("dump folder: {e}"));
            return;
        }
    };
    let (path, size) = match resolve_inside(&base, Path::new(name)) {
        Resolved::File(p, m) => (p, m.len()),
        other => {
            let outcome = match other {
                Resolved::Missing => FileOutcome::Missing,
                Resolved::NotAFile => FileOutcome::NotAFile,
                Resolved::Refused(why) => FileOutcome::Refused {
                    reason: why.to_string(),
                },
                Resolved::Error(e) => FileOutcome::Unreadable {
                    error: e.to_string(),
                },
                Resolved::File(..) => unreachable!("matched above"),
            };
            report.files.push(FileResult {
                path: name.to_string(),
                bytes: 0,
                outcome,
            });
            return;
        }
    };
    // A manifest next to the dumps may list this one; then its checksum is checked too.
    let listed = read_manifest(&base)
        .ok()
        .flatten()
        .map(|b| parse_manifest(&b).0)
        .and_then(|m| {
            m.files
                .into_iter()
                .find(|f| f.path.as_deref() == Some(Path::new(name)))
        });
    if let Some(l) = &listed {
        if let Some(want) = l.size {
            if want != size {
                report.files.push(FileResult {
                    path: name.to_string(),
                    bytes: 0,
                    outcome: FileOutcome::SizeMismatch {
                        expected: want,
                        actual: size,
                    },
                });
                return;
            }
        }
    }
    let file = match open_nofollow(&path) {
        Ok(f) => f,
        Err(e) => {
            report.files.push(FileResult {
                path: name.to_string(),
                bytes: 0,
                outcome: FileOutcome::Unreadable {
                    error: e.to_string(),
                },
            });
            return;
        }
    };
    advise_sequential(&file);
    let mut hasher = listed
        .as_ref()
        .and_then(|l| l.sha256.as_ref())
        .map(|_| Sha256::new());
    let mut done = 0u64;
    let mut on_bytes = |n| {
        done += n;
        on_progress(FileProgress {
            bytes_done: done,
            bytes_total: size,
            file: name,
        });
        !cancel.is_cancelled()
    };
    let result = check_gzip_reading(file, hasher.as_mut(), &mut on_bytes, on_decoded);
    let outcome = match result {
        Err(e) if gzip_check::is_cancelled(&e) => FileOutcome::Cancelled,
        Err(e) => FileOutcome::IncompleteGzip {
            error: gzip_check::describe(&e),
        },
        Ok(_) => match (hasher, listed.as_ref().and_then(|l| l.sha256.clone())) {
            (Some(h), Some(want)) => {
                let got = hex(&h.finalize());
                if got == want {
                    FileOutcome::Ok
                } else {
                    FileOutcome::ChecksumMismatch {
                        expected: want,
                        actual: got,
                    }
                }
            }
            _ => FileOutcome::Ok,
        },
    };
    report.files.push(FileResult {
        path: name.to_string(),
        bytes: done,
        outcome,
    });
}
