//! A run's secrets (a generated password, a secret parameter, a password read for a
//! rollback): in memory while the run is driven, and in 0600 files in toban's private run
//! folder `<data dir>/runs/<run id>/secrets/` (0700) — so a run resumed after toban died can
//! still write the password it already set. Never in the database, the audit or a log.
//!
//! Their life is bounded: a file is replaced when its secret is made again, removed when
//! the secret is gone from the run, and the whole folder goes when the run ends in any way —
//! finished or aborted (at its last save), or abandoned: an open run nobody has driven for
//! [`ABANDONED_AFTER_MS`] is swept when toban starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::Utc;

use super::RunEnv;
use crate::atomic_write::write_atomically;
use crate::runbook::engine::RunState;

/// An open run whose lease has not been renewed for this long (or never held, started this
/// long ago) is abandoned: its secrets are removed. Long enough to restart toban and resume.
pub const ABANDONED_AFTER_MS: i64 = 24 * 3600 * 1000;

/// Where a run's secrets are kept, for the screen ("kept in …").
pub fn secrets_dir(env: &RunEnv, run_id: &str) -> PathBuf {
    env.runs_dir.join(run_id).join("secrets")
}

fn file_name(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn remove_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Makes the run's secret files match its secrets (called at every save): written when
/// new or changed, removed when gone, all removed once the run has ended.
pub(super) fn keep_secrets(env: &RunEnv, state: &RunState) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = secrets_dir(env, &state.run_id);
    if state.status.is_finished() || state.opts.dry_run {
        return remove_dir(&dir);
    }
    if state.secrets.is_empty() {
        return remove_dir(&dir);
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)?;
    let wanted: BTreeMap<String, &String> = state
        .secrets
        .iter()
        .map(|(k, v)| (file_name(k), v))
        .collect();
    for e in std::fs::read_dir(&dir)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !wanted.contains_key(&name) {
            std::fs::remove_file(e.path())?;
        }
    }
    for (name, v) in wanted {
        let path = dir.join(name);
        // Made again (a step rerun): the new value replaces the old one.
        if std::fs::read(&path).ok().as_deref() != Some(v.as_bytes()) {
            write_atomically(&path, v.as_bytes(), 0o600)?;
        }
    }
    Ok(())
}

/// The secrets a run kept in its private folder, for a resumed run.
pub fn load_secrets(env: &RunEnv, run_id: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(secrets_dir(env, run_id)) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let key: Option<Vec<u8>> = (0..name.len())
            .step_by(2)
            .map(|i| {
                name.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect();
        if let (Some(Ok(k)), Ok(v)) = (
            key.map(String::from_utf8),
            std::fs::read_to_string(e.path()),
        ) {
            out.insert(k, v);
        }
    }
    out
}

/// Removes the secrets of runs that ended (however they ended: a crash may have come before
/// the last save removed them), that the store no longer knows, or that were abandoned.
/// Returns one line per run swept, for the log (run ids only, never a value).
pub async fn sweep_secrets(env: &RunEnv) -> Vec<String> {
    let now_ms = Utc::now().timestamp_millis();
    let mut swept = Vec::new();
    let Ok(entries) = std::fs::read_dir(&env.runs_dir) else {
        return swept;
    };
    for e in entries.flatten() {
        let run_id = e.file_name().to_string_lossy().into_owned();
        let dir = secrets_dir(env, &run_id);
        if !dir.exists() {
            continue;
        }
        let why = match env.store.load_run(&run_id).await {
            Ok(None) => "unknown to the store",
            Ok(Some(s)) if s.status.is_finished() => "ended",
            Ok(Some(s)) => {
                let last = match env.store.run_lease(&run_id).await {
                    Ok(Some(l)) => l.heartbeat_ms,
                    Ok(None) => s.started_ms,
                    Err(_) => continue,
                };
                if now_ms - last < ABANDONED_AFTER_MS {
                    continue;
                }
                "abandoned (not driven for a day)"
            }
            // The store is down: nothing is known, nothing removed.
            Err(_) => continue,
        };
        match remove_dir(&dir) {
            Ok(()) => swept.push(format!("run {run_id}: {why}: its secrets removed")),
            Err(e) => swept.push(format!("run {run_id}: removing {}: {e}", dir.display())),
        }
    }
    swept
}
