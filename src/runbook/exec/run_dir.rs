//! The run folder: the files through which toban and its supervisor tell each other what
//! to run and how it ended (`spec.json`, `status.json`, `output.log`, the pid files and
//! the cancel marker), and how a live supervisor is told from a stranger with its pid.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub(crate) const SPEC_FILE: &str = "spec.json";
pub(crate) const STATUS_FILE: &str = "status.json";
pub(crate) const OUTPUT_FILE: &str = "output.log";
pub(crate) const COMMAND_PID_FILE: &str = "command.pid";
pub(crate) const SUPERVISOR_PID_FILE: &str = "supervisor.pid";
pub(crate) const SUPERVISOR_LOG_FILE: &str = "supervisor.log";
pub(crate) const CANCEL_FILE: &str = "cancel";
/// What [`super::dump_scan`] found in the stream fed to the command (when asked to scan).
pub const DUMP_SCAN_FILE: &str = "dump_scan.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StdinKind {
    None,
    File,
    Gunzip,
    /// The supervisor's own stdin.
    Pipe,
}

/// What the supervisor runs. Never holds the environment (it may hold secrets): that is
/// inherited.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Spec {
    pub argv: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub stdin: StdinKind,
    pub stdin_path: Option<PathBuf>,
    pub timeout_ms: Option<u64>,
    pub grace_ms: u64,
    pub started_at: DateTime<Utc>,
    /// Where this command's output starts in `output.log` (earlier commands' output may
    /// precede it).
    pub output_offset: u64,
    /// Read the stream as a psql script for this database (see [`super::dump_scan`]).
    #[serde(default)]
    pub scan: Option<super::command::SqlScan>,
}

/// What the supervisor records when the command ends.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Status {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub cancelled: bool,
    pub duration_ms: u64,
    pub ended_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The run folder's files are private and replaced whole (see [`crate::atomic_write`]).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::atomic_write::write_atomically(path, bytes, 0o600)
}

/// `pid starttime`: the start time (from /proc) tells a live supervisor from an unrelated
/// process that got its pid later.
pub(crate) fn process_identity(pid: i32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let after = &stat[stat.rfind(')')? + 2..];
    // starttime is field 22 overall, the 20th after the name.
    let start = after.split_whitespace().nth(19)?;
    Some(format!("{pid} {start}"))
}

pub(crate) fn supervisor_alive(run_dir: &Path) -> bool {
    let Ok(recorded) = std::fs::read_to_string(run_dir.join(SUPERVISOR_PID_FILE)) else {
        return false;
    };
    let recorded = recorded.trim();
    let Some(pid) = recorded
        .split_whitespace()
        .next()
        .and_then(|p| p.parse::<i32>().ok())
    else {
        return false;
    };
    // A zombie (dead, not yet reaped by toban) counts as gone.
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').map(|i| s[i + 2..].starts_with('Z')))
        .unwrap_or(true);
    !zombie && process_identity(pid).as_deref() == Some(recorded)
}

/// How long a supervisor may take to record itself after the spec is written.
const SUPERVISOR_START_GRACE: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

/// The supervisor records itself first thing and the command's pid right after the spawn:
/// neither, well after the spec was written, means no supervisor ever ran (toban stopped
/// between writing the spec and starting it).
pub(crate) fn never_started(run_dir: &Path, spec: &Spec) -> bool {
    !run_dir.join(SUPERVISOR_PID_FILE).exists()
        && !run_dir.join(COMMAND_PID_FILE).exists()
        && chrono::Utc::now() - spec.started_at > SUPERVISOR_START_GRACE
}

pub(crate) fn read_pgid(run_dir: &Path) -> i32 {
    std::fs::read_to_string(run_dir.join(COMMAND_PID_FILE))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}
