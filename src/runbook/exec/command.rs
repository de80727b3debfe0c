//! Commands as argv (never a shell), run under a supervisor process so they survive toban.
//!
//! `spawn_command` starts `toban __supervise` (see [`super::supervise`]) in a new session.
//! The supervisor starts the command in its own process group with stdout and stderr
//! appended to `<run_dir>/output.log`, feeds its stdin, enforces the timeout, and writes
//! `<run_dir>/status.json` (exit code, signal, end time) when it ends. Toban only follows
//! those files, so if toban dies or the SSH session drops the command carries on and
//! [`reattach`] later finds out what became of it.

use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::process_group;
use super::supervise::{HANDSHAKE, SUPERVISE_DIR_ENV};
use crate::sanitize::strip_escapes;

/// Lines of output kept in a [`CommandOutcome`].
pub const TAIL_LINES: usize = 50;

/// Bytes that must not be shown or logged (a password piped into a program).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(pub Vec<u8>);

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

/// What the command reads on its stdin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StdinSource {
    /// `/dev/null`.
    #[default]
    None,
    /// The file's bytes.
    File(PathBuf),
    /// The file decompressed in-process (gzip, multi-member), so `gunzip -c dump | psql`
    /// needs neither a shell nor a second process.
    GunzipFile(PathBuf),
    /// These bytes, then end of input. They go to the supervisor over a pipe, never into
    /// a file or an argument list.
    Bytes(SecretBytes),
}

/// One command to run.
#[derive(Clone)]
pub struct CommandRequest {
    /// Program and arguments; `argv[0]` is looked up on `PATH` (after `env`) unless it
    /// contains a `/`.
    pub argv: Vec<String>,
    pub cwd: Option<PathBuf>,
    /// Added to toban's environment. Values may be secrets: never logged or written.
    pub env: Vec<(String, String)>,
    /// The whole process group is stopped (SIGTERM, then SIGKILL after `kill_grace`) when
    /// this runs out. Enforced by the supervisor, so it holds even if toban is gone.
    pub timeout: Option<Duration>,
    pub stdin: StdinSource,
    /// Folder (created 0700) for `output.log`, `status.json` and the pid files. One
    /// command at a time per folder.
    pub run_dir: PathBuf,
    /// Between the polite signal and SIGKILL on cancel or timeout.
    pub kill_grace: Duration,
}

impl CommandRequest {
    /// A request with no cwd, env, timeout or stdin and a 5 s kill grace.
    pub fn new(argv: Vec<String>, run_dir: impl Into<PathBuf>) -> Self {
        CommandRequest {
            argv,
            cwd: None,
            env: Vec::new(),
            timeout: None,
            stdin: StdinSource::None,
            run_dir: run_dir.into(),
            kill_grace: Duration::from_secs(5),
        }
    }
}

impl fmt::Debug for CommandRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<String> = self.env.iter().map(|(k, _)| format!("{k}=…")).collect();
        f.debug_struct("CommandRequest")
            .field("argv", &self.argv)
            .field("cwd", &self.cwd)
            .field("env", &env)
            .field("timeout", &self.timeout)
            .field("stdin", &self.stdin)
            .field("run_dir", &self.run_dir)
            .field("kill_grace", &self.kill_grace)
            .finish()
    }
}

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

/// Errors before the command could be started.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("empty command line")]
    EmptyArgv,
    #[error("`{program}` not found (looked in PATH)")]
    NotFound { program: String },
    #[error("cannot start `{program}`: {reason}")]
    Spawn { program: String, reason: String },
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("a command is still running in {0}")]
    Busy(PathBuf),
    #[error("the supervisor failed: {0}")]
    Supervisor(String),
}

/// How toban starts its supervisor: normally its own executable with `__supervise`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supervisor {
    pub program: PathBuf,
    /// Its arguments (`["__supervise"]` for toban). The run folder is passed in the
    /// environment as [`SUPERVISE_DIR_ENV`](super::supervise::SUPERVISE_DIR_ENV), so a
    /// test harness can stand in for toban.
    pub args: Vec<String>,
}

impl Supervisor {
    /// `current_exe() __supervise`.
    pub fn current_exe() -> std::io::Result<Self> {
        Ok(Supervisor {
            program: std::env::current_exe()?,
            args: vec![super::supervise::SUPERVISE_SUBCOMMAND.to_string()],
        })
    }
}

static SUPERVISOR: RwLock<Option<Supervisor>> = RwLock::new(None);

/// Replaces the supervisor used by later `spawn_command` calls (tests, or a toban built
/// under another name).
pub fn set_supervisor(s: Supervisor) {
    *SUPERVISOR.write().unwrap_or_else(|e| e.into_inner()) = Some(s);
}

fn supervisor() -> Result<Supervisor, ExecError> {
    if let Some(s) = SUPERVISOR.read().unwrap_or_else(|e| e.into_inner()).clone() {
        return Ok(s);
    }
    Supervisor::current_exe()
        .map_err(|e| ExecError::Supervisor(format!("cannot find toban's own executable: {e}")))
}

/// Stops a running command; cloneable so the UI can cancel while another task waits.
#[derive(Debug, Clone)]
pub struct CancelHandle {
    pub(crate) run_dir: PathBuf,
    pub(crate) pgid: i32,
    pub(crate) grace: Duration,
}

/// A command that is running (started now, or found after a restart).
pub struct RunningCommand {
    pub(crate) run_dir: PathBuf,
    pub(crate) pgid: i32,
    pub(crate) grace: Duration,
    pub(crate) supervisor: Option<tokio::process::Child>,
    pub(crate) output_from: u64,
}

impl fmt::Debug for RunningCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningCommand")
            .field("run_dir", &self.run_dir)
            .field("pgid", &self.pgid)
            .finish()
    }
}

/// What [`reattach`] found in a run folder.
#[derive(Debug)]
pub enum Reattached {
    Finished(CommandOutcome),
    StillRunning(RunningCommand),
    /// No status and no live supervisor: what the files say (command, start time, pid,
    /// whether its group is still alive, output so far).
    Lost {
        what_is_known: String,
    },
}

// ---------------------------------------------------------------------------------------
// The run folder: what toban and the supervisor tell each other.

pub(crate) const SPEC_FILE: &str = "spec.json";
pub(crate) const STATUS_FILE: &str = "status.json";
pub(crate) const OUTPUT_FILE: &str = "output.log";
pub(crate) const COMMAND_PID_FILE: &str = "command.pid";
pub(crate) const SUPERVISOR_PID_FILE: &str = "supervisor.pid";
pub(crate) const SUPERVISOR_LOG_FILE: &str = "supervisor.log";
pub(crate) const CANCEL_FILE: &str = "cancel";

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

fn supervisor_alive(run_dir: &Path) -> bool {
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

fn read_pgid(run_dir: &Path) -> i32 {
    std::fs::read_to_string(run_dir.join(COMMAND_PID_FILE))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn io_err(path: &Path, e: impl fmt::Display) -> ExecError {
    ExecError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn create_private_dir(dir: &Path) -> Result<(), ExecError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io_err(dir, e))
}

/// `program` as it would be found by exec: with a `/` relative to `cwd`, else on `PATH`.
fn find_program(program: &str, cwd: Option<&Path>, path_var: Option<&str>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if program.contains('/') {
        let p = match cwd {
            Some(c) if !program.starts_with('/') => c.join(program),
            _ => PathBuf::from(program),
        };
        return runnable(&p).then_some(p);
    }
    let path = path_var
        .map(str::to_string)
        .or_else(|| std::env::var("PATH").ok())?;
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| runnable(p))
}

// ---------------------------------------------------------------------------------------
// Output

/// Hash, size and escape-stripped tail of `output.log` from `from`.
fn summarize_output(log: &Path, from: u64) -> (String, u64, Vec<String>) {
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

fn outcome_from(run_dir: &Path, status: &Status, spec: Option<&Spec>) -> CommandOutcome {
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
async fn follow_output(run_dir: PathBuf, from: u64, tx: mpsc::Sender<String>) {
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

// ---------------------------------------------------------------------------------------
// Cancel

impl CancelHandle {
    /// SIGINT to the command's process group, SIGKILL after the grace period if anything
    /// in the group is still alive. Records that the operator cancelled.
    pub async fn cancel(&self) {
        // The marker first: the supervisor records `cancelled` from it, and escalates to
        // SIGKILL itself should toban die during the grace period.
        let _ = write_atomically(
            &self.run_dir.join(CANCEL_FILE),
            Utc::now().to_rfc3339().as_bytes(),
        );
        let pgid = if self.pgid > 0 {
            self.pgid
        } else {
            read_pgid(&self.run_dir)
        };
        process_group::stop(pgid, libc::SIGINT, self.grace).await;
    }
}

// ---------------------------------------------------------------------------------------
// Running

impl RunningCommand {
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The command's process group (= its pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    pub fn output_log(&self) -> PathBuf {
        self.run_dir.join(OUTPUT_FILE)
    }

    /// Output lines as they are written (escape sequences stripped), from the start of
    /// this command's output, until it ends. A task follows `output.log`; lines wait in a
    /// bounded channel for the reader.
    pub fn output_lines(&self) -> mpsc::Receiver<String> {
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(follow_output(self.run_dir.clone(), self.output_from, tx));
        rx
    }

    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            run_dir: self.run_dir.clone(),
            pgid: self.pgid,
            grace: self.grace,
        }
    }

    /// See [`CancelHandle::cancel`].
    pub async fn cancel(&self) {
        self.cancel_handle().cancel().await
    }

    /// Until the supervisor writes the status. An error when the supervisor vanished
    /// without writing it.
    pub async fn wait(self) -> Result<CommandOutcome, ExecError> {
        self.wait_or_cancel(tokio_util::sync::CancellationToken::new())
            .await
    }

    /// [`wait`](Self::wait), cancelling the command when `cancel` fires.
    pub async fn wait_or_cancel(
        mut self,
        cancel: tokio_util::sync::CancellationToken,
    ) -> Result<CommandOutcome, ExecError> {
        let status_path = self.run_dir.join(STATUS_FILE);
        let mut cancelling: Option<tokio::task::JoinHandle<()>> = None;
        let mut gone_checks = 0;
        loop {
            if let Some(status) = read_json::<Status>(&status_path) {
                if let Some(mut child) = self.supervisor.take() {
                    // It exits right after writing the status; reap it.
                    let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
                }
                if let Some(c) = cancelling {
                    let _ = c.await;
                }
                let spec = read_json::<Spec>(&self.run_dir.join(SPEC_FILE));
                return Ok(outcome_from(&self.run_dir, &status, spec.as_ref()));
            }
            let supervisor_gone = match self.supervisor.as_mut() {
                Some(child) => matches!(child.try_wait(), Ok(Some(_)) | Err(_)),
                None => !supervisor_alive(&self.run_dir),
            };
            if supervisor_gone {
                // Once more, in case the status landed just before the exit was seen.
                gone_checks += 1;
                if gone_checks > 2 {
                    return Err(ExecError::Supervisor(format!(
                        "it ended without recording the command's exit status; {}",
                        what_is_known(&self.run_dir)
                    )));
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = cancel.cancelled(), if cancelling.is_none() => {
                    let h = self.cancel_handle();
                    cancelling = Some(tokio::spawn(async move { h.cancel().await }));
                }
            }
        }
    }
}

/// What the files in `run_dir` say about a command whose status is missing.
fn what_is_known(run_dir: &Path) -> String {
    let Some(spec) = read_json::<Spec>(&run_dir.join(SPEC_FILE)) else {
        return format!("no command was started in {}", run_dir.display());
    };
    let mut parts = vec![format!(
        "`{}` started at {}",
        spec.argv.join(" "),
        spec.started_at.format("%Y-%m-%d %H:%M:%S UTC")
    )];
    let pgid = read_pgid(run_dir);
    if pgid > 0 {
        parts.push(format!(
            "process group {pgid} is {}",
            if process_group::alive(pgid) {
                "still running"
            } else {
                "no longer running"
            }
        ));
    } else {
        parts.push("it may never have started".into());
    }
    parts.push("no exit status was recorded".into());
    let (_, bytes, tail) = summarize_output(&run_dir.join(OUTPUT_FILE), spec.output_offset);
    match tail.last() {
        Some(last) => parts.push(format!("{bytes} bytes of output, the last line: {last}")),
        None => parts.push("no output".into()),
    }
    parts.join("; ")
}

/// Starts the command under a supervisor; returns once the command's process exists (or
/// with the reason it could not start).
pub async fn spawn_command(req: CommandRequest) -> Result<RunningCommand, ExecError> {
    let program = req.argv.first().ok_or(ExecError::EmptyArgv)?.clone();
    if program.is_empty() {
        return Err(ExecError::EmptyArgv);
    }
    let path_var = req
        .env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str());
    if find_program(&program, req.cwd.as_deref(), path_var).is_none() {
        return Err(ExecError::NotFound { program });
    }
    if let Some(cwd) = &req.cwd {
        if !cwd.is_dir() {
            return Err(io_err(cwd, "not a folder"));
        }
    }
    let (stdin_kind, stdin_path) = match &req.stdin {
        StdinSource::None => (StdinKind::None, None),
        StdinSource::File(p) => (StdinKind::File, Some(p.clone())),
        StdinSource::GunzipFile(p) => (StdinKind::Gunzip, Some(p.clone())),
        StdinSource::Bytes(_) => (StdinKind::Pipe, None),
    };
    // A missing dump fails here, before anything runs.
    if let Some(p) = &stdin_path {
        std::fs::File::open(p).map_err(|e| io_err(p, e))?;
    }

    // Absolute, so the supervisor and a later reattach agree whatever their cwd.
    let dir = &std::path::absolute(&req.run_dir).map_err(|e| io_err(&req.run_dir, e))?;
    create_private_dir(dir)?;
    if !dir.join(STATUS_FILE).exists() && supervisor_alive(dir) {
        return Err(ExecError::Busy(dir.clone()));
    }
    for f in [
        STATUS_FILE,
        COMMAND_PID_FILE,
        SUPERVISOR_PID_FILE,
        CANCEL_FILE,
    ] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    let output_offset = std::fs::metadata(dir.join(OUTPUT_FILE))
        .map(|m| m.len())
        .unwrap_or(0);
    let spec = Spec {
        argv: req.argv.clone(),
        cwd: req.cwd.clone(),
        stdin: stdin_kind,
        stdin_path,
        timeout_ms: req.timeout.map(|t| t.as_millis() as u64),
        grace_ms: req.kill_grace.as_millis() as u64,
        started_at: Utc::now(),
        output_offset,
    };
    let spec_path = dir.join(SPEC_FILE);
    let json = serde_json::to_vec_pretty(&spec).map_err(|e| io_err(&spec_path, e))?;
    write_atomically(&spec_path, &json).map_err(|e| io_err(&spec_path, e))?;

    let sup = supervisor()?;
    let log_path = dir.join(SUPERVISOR_LOG_FILE);
    let sup_log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| io_err(&log_path, e))?;
    let mut cmd = tokio::process::Command::new(&sup.program);
    cmd.args(&sup.args)
        .envs(req.env.iter().map(|(k, v)| (k, v)))
        .env(SUPERVISE_DIR_ENV, dir)
        .stdin(if stdin_kind == StdinKind::Pipe {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(sup_log)
        .kill_on_drop(false);
    // A session of its own: no controlling terminal, so neither a hang-up of toban's SSH
    // session nor a Ctrl-C in toban's terminal reaches it or the command.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| {
        ExecError::Supervisor(format!("cannot start {}: {e}", sup.program.display()))
    })?;
    if let (StdinSource::Bytes(bytes), Some(mut sink)) = (&req.stdin, child.stdin.take()) {
        let bytes = bytes.0.clone();
        tokio::spawn(async move {
            let _ = sink.write_all(&bytes).await;
            let _ = sink.shutdown().await;
        });
    }
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| ExecError::Supervisor("no handshake pipe".into()))?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let handshake = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix(HANDSHAKE) {
                return Some(rest.trim().to_string());
            }
        }
        None
    })
    .await;
    match handshake {
        Ok(Some(rest)) => {
            if let Some(pid) = rest.strip_prefix("started ") {
                let pgid = pid.trim().parse().unwrap_or(0);
                Ok(RunningCommand {
                    run_dir: dir.clone(),
                    pgid,
                    grace: req.kill_grace,
                    supervisor: Some(child),
                    output_from: output_offset,
                })
            } else {
                let reason = rest.strip_prefix("error ").unwrap_or(&rest).to_string();
                let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
                Err(ExecError::Spawn { program, reason })
            }
        }
        Ok(None) | Err(_) => {
            let _ = child.start_kill();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let last = log
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            Err(ExecError::Supervisor(format!(
                "it did not start the command{}",
                if last.is_empty() {
                    String::new()
                } else {
                    format!(": {}", strip_escapes(last))
                }
            )))
        }
    }
}

/// The output of the command last started in `run_dir` (stdout and stderr together, as
/// written), escape sequences stripped, at most its first `max_bytes` bytes: for a later
/// step that uses what this one printed.
pub fn read_command_output(run_dir: &Path, max_bytes: usize) -> Result<String, ExecError> {
    let from = read_json::<Spec>(&run_dir.join(SPEC_FILE))
        .map(|s| s.output_offset)
        .unwrap_or(0);
    let log = run_dir.join(OUTPUT_FILE);
    let mut f = std::fs::File::open(&log).map_err(|e| io_err(&log, e))?;
    f.seek(SeekFrom::Start(from)).map_err(|e| io_err(&log, e))?;
    let mut buf = Vec::new();
    f.take(max_bytes as u64)
        .read_to_end(&mut buf)
        .map_err(|e| io_err(&log, e))?;
    let text = String::from_utf8_lossy(&buf);
    Ok(text
        .lines()
        .map(strip_escapes)
        .collect::<Vec<_>>()
        .join("\n"))
}

/// After a restart: what became of the command last started in `run_dir`.
pub fn reattach(run_dir: &Path) -> Reattached {
    let spec = read_json::<Spec>(&run_dir.join(SPEC_FILE));
    if let Some(status) = read_json::<Status>(&run_dir.join(STATUS_FILE)) {
        return Reattached::Finished(outcome_from(run_dir, &status, spec.as_ref()));
    }
    let Some(spec) = spec else {
        return Reattached::Lost {
            what_is_known: what_is_known(run_dir),
        };
    };
    if supervisor_alive(run_dir) {
        return Reattached::StillRunning(RunningCommand {
            run_dir: run_dir.to_path_buf(),
            pgid: read_pgid(run_dir),
            grace: Duration::from_millis(spec.grace_ms),
            supervisor: None,
            output_from: spec.output_offset,
        });
    }
    // The supervisor may have written the status between the two looks.
    if let Some(status) = read_json::<Status>(&run_dir.join(STATUS_FILE)) {
        return Reattached::Finished(outcome_from(run_dir, &status, Some(&spec)));
    }
    Reattached::Lost {
        what_is_known: what_is_known(run_dir),
    }
}
