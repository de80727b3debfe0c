//! A run's secrets (a generated password, a secret parameter) kept in 0600 files in
//! toban's private run folder — never in the database, the audit or a log — so a run
//! resumed after toban died can still write the password it already set.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use super::RunEnv;
use crate::runbook::engine::RunState;

fn secrets_dir(env: &RunEnv, run_id: &str) -> PathBuf {
    env.runs_dir.join(run_id).join("secrets")
}

/// Keeps the run's secrets (a generated password, a secret parameter) in 0600 files in
/// toban's private run folder — never in the database, the audit or a log — so a run
/// resumed after toban died can still write the password it already set. Removed when the
/// run finishes.
pub(super) fn keep_secrets(env: &RunEnv, state: &RunState) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = secrets_dir(env, &state.run_id);
    if state.status.is_finished() {
        return match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    if state.secrets.is_empty() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)?;
    for (k, v) in &state.secrets {
        let name: String = k.bytes().map(|b| format!("{b:02x}")).collect();
        let path = dir.join(name);
        if path.exists() {
            continue;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(v.as_bytes())?;
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
