//! What a command produced: its [`CommandOutcome`] (exit, signal, timeout, cancel, the
//! digest and tail of its output), the output followed line by line as it is written, and
//! read back for a later step.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncSeekExt;
use tokio::sync::mpsc;

use super::run_dir::{read_json, Spec, Status, OUTPUT_FILE, SPEC_FILE, STATUS_FILE};
use crate::sanitize::strip_escapes;

/// Lines of output kept in a [`CommandOutcome`].
pub const TAIL_LINES: usize = 50;

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutcome {
    /// None when it was killed by a signal (or never started).
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub cancelled: bool,
    pub duration: Duration,
    /// Last [`TAIL_LINES`] lines of stdout+stderr, escape sequences stripped.
    pub output_tail: Vec<String>,
    /// Hex SHA-256 of this command's output bytes as written.
    pub output_sha256: String,
    pub output_bytes: u64,
    /// Problems outside the command itself: it could not be started, feeding its stdin
    /// failed (e.g. a corrupt .gz), the supervisor noticed something.
    pub error: Option<String>,
    /// When the supervisor saw it end.
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl CommandOutcome {
    /// Exit code 0, no signal, no timeout, no cancel, no stdin error.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
            && self.signal.is_none()
            && !self.timed_out
            && !self.cancelled
            && self.error.is_none()
    }

    /// One line for the wizard and the audit: "exit code 0", "killed by signal 9 (timed
    /// out after 30s)" …
    pub fn summary(&self) -> String {
        let took =
            humantime::format_duration(Duration::from_millis(self.duration.as_millis() as u64));
        let mut s = if self.exit_code.is_none() && self.signal.is_none() {
            match &self.error {
                Some(e) => return format!("did not run: {e}"),
                None => "no exit status".to_string(),
            }
        } else if self.timed_out {
            format!("timed out after {took} and was stopped")
        } else if self.cancelled {
            format!("cancelled by the operator after {took}")
        } else if let Some(sig) = self.signal {
            format!("killed by signal {sig} ({}) after {took}", signal_name(sig))
        } else {
            format!(
                "exit code {} after {took}",
                self.exit_code.unwrap_or_default()
            )
        };
        if let Some(e) = &self.error {
            s.push_str("; ");
            s.push_str(e);
        }
        s
    }
}

/// Hash, size and escape-stripped tail of `output.log` from `from`.
pub(crate) fn summarize_output(log: &Path, from: u64) -> (String, u64, Vec<String>) {
    let mut hash = Sha256::new();
    let mut bytes = 0u64;
    let mut tail_bytes: Vec<u8> = Vec::new();
    const TAIL_WINDOW: usize = 256 * 1024;
    if let Ok(mut f) = std::fs::File::open(log) {
        if f.seek(SeekFrom::Start(from)).is_ok() {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match f.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        hash.update(&buf[..n]);
                        bytes += n as u64;
                        tail_bytes.extend_from_slice(&buf[..n]);
                        if tail_bytes.len() > 2 * TAIL_WINDOW {
                            tail_bytes.drain(..tail_bytes.len() - TAIL_WINDOW);
                        }
                    }
                }
            }
        }
    }
    (
        format!("{:x}", hash.finalize()),
        bytes,
        tail_lines(&tail_bytes),
    )
}

fn tail_lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    lines[start..].iter().map(|l| strip_escapes(l)).collect()
}

pub(crate) fn outcome_from(run_dir: &Path, status: &Status, spec: Option<&Spec>) -> CommandOutcome {
    let from = spec.map(|s| s.output_offset).unwrap_or(0);
    let (sha, bytes, tail) = summarize_output(&run_dir.join(OUTPUT_FILE), from);
    CommandOutcome {
        exit_code: status.exit_code,
        signal: status.signal,
        timed_out: status.timed_out,
        cancelled: status.cancelled,
        duration: Duration::from_millis(status.duration_ms),
        output_tail: tail,
        output_sha256: sha,
        output_bytes: bytes,
        error: status.error.clone(),
        ended_at: status.ended_at,
    }
}

pub(crate) fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGBUS => "SIGBUS",
        _ => "signal",
    }
}

/// Follows `output.log` from `from`, sending whole lines, until the status exists and
/// everything before it has been sent.
pub(crate) async fn follow_output(run_dir: PathBuf, from: u64, tx: mpsc::Sender<String>) {
    use tokio::io::AsyncReadExt;
    let log = run_dir.join(OUTPUT_FILE);
    let status = run_dir.join(STATUS_FILE);
    let mut file = None;
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // Checked before reading: once it exists, all output is in the file.
        let finished = status.exists();
        if file.is_none() {
            if let Ok(mut f) = tokio::fs::File::open(&log).await {
                if f.seek(SeekFrom::Start(from)).await.is_ok() {
                    file = Some(f);
                }
            }
        }
        let mut got = false;
        if let Some(f) = file.as_mut() {
            loop {
                match f.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        got = true;
                        pending.extend_from_slice(&buf[..n]);
                        while let Some(pos) = pending.iter().position(|b| *b == b'\n') {
                            let line: Vec<u8> = pending.drain(..=pos).collect();
                            let text = strip_escapes(&String::from_utf8_lossy(&line));
                            if tx.send(text).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        }
        if finished && !got {
            if !pending.is_empty() {
                let _ = tx
                    .send(strip_escapes(&String::from_utf8_lossy(&pending)))
                    .await;
            }
            return;
        }
        if !got {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The output of the command last started in `run_dir` (stdout and stderr together, as
/// written), escape sequences stripped, at most its first `max_bytes` bytes: for a later
/// step that uses what this one printed.
pub fn read_command_output(run_dir: &Path, max_bytes: usize) -> std::io::Result<String> {
    let from = read_json::<Spec>(&run_dir.join(SPEC_FILE))
        .map(|s| s.output_offset)
        .unwrap_or(0);
    let log = run_dir.join(OUTPUT_FILE);
    let mut f = std::fs::File::open(&log).map_err(|e| in_file(&log, e))?;
    f.seek(SeekFrom::Start(from))
        .map_err(|e| in_file(&log, e))?;
    let mut buf = Vec::new();
    f.take(max_bytes as u64)
        .read_to_end(&mut buf)
        .map_err(|e| in_file(&log, e))?;
    let text = String::from_utf8_lossy(&buf);
    Ok(text
        .lines()
        .map(strip_escapes)
        .collect::<Vec<_>>()
        .join("\n"))
}

fn in_file(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}
