//! One backup named by its path — a dated folder or a dump file — turned into the entry a
//! scan would have found, so a restore that is handed a path is checked by the same
//! verifier and the same verdict as `toban backups verify`.

use std::path::Path;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::catalog::{BackupEntry, BackupKind};
use super::scan::{dump_entry, dump_time, folder_time, read_folder};
use super::verify::{verify_backup_reading, VerifyReport};

/// The entry for `path`: a folder as `<service>/<kind>/<date>` (its manifest read, listed
/// files resolved), anything else as a dump file (resolved inside its folder; its gzip
/// stream is left to the verification, which reads it anyway).
pub fn entry_at(path: &Path) -> BackupEntry {
    let name = file_name(path);
    let meta = std::fs::metadata(path).ok();
    let mtime = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .map(DateTime::<Utc>::from);
    if meta.as_ref().is_some_and(|m| m.is_dir()) {
        let kind_dir = path.parent();
        let service = kind_dir.and_then(Path::parent).map(file_name);
        let kind = BackupKind::from_name(&kind_dir.map(file_name).unwrap_or_default());
        let time = folder_time(&name).or(mtime).unwrap_or_else(Utc::now);
        return read_folder(&service.unwrap_or_default(), kind, path, &name, time);
    }
    let service = path.parent().map(file_name).unwrap_or_default();
    let time = dump_time(&name).or(mtime).unwrap_or_else(Utc::now);
    dump_entry(&service, path, &name, time).0
}

/// [`entry_at`] and its verification.
pub fn verify_path(path: &Path, cancel: &CancellationToken) -> (BackupEntry, VerifyReport) {
    verify_path_reading(path, cancel, &mut |_| {})
}

/// [`verify_path`]; a dump's decoded bytes also go to `on_decoded` in the same read.
pub fn verify_path_reading(
    path: &Path,
    cancel: &CancellationToken,
    on_decoded: &mut dyn FnMut(&[u8]),
) -> (BackupEntry, VerifyReport) {
    let entry = entry_at(path);
    let report = verify_backup_reading(&entry, cancel, &mut |_| {}, on_decoded);
    (entry, report)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
