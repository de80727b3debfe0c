//! Commands as argv (never a shell), run under a supervisor process so they survive toban.
//!
//! `spawn_command` starts `toban __supervise` (see [`super::supervise`]) in a new session.
//! The supervisor starts the command in its own process group with stdout and stderr
//! appended to `<run_dir>/output.log`, feeds its stdin, enforces the timeout, and writes
//! `<run_dir>/status.json` (exit code, signal, end time) when it ends. Toban only follows
//! those files, so if toban dies or the SSH session drops the command carries on and
//! [`reattach`] later finds out what became of it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::mpsc;

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
        unimplemented!()
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
    /// Arguments before the supervisor's own (`["__supervise"]` for toban).
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

/// Replaces the supervisor used by later `spawn_command` calls (tests, or a toban built
/// under another name).
pub fn set_supervisor(s: Supervisor) {
    let _ = s;
    unimplemented!()
}

/// Stops a running command; cloneable so the UI can cancel while another task waits.
#[derive(Debug, Clone)]
pub struct CancelHandle {
    pub(crate) run_dir: PathBuf,
    pub(crate) pgid: i32,
    pub(crate) grace: Duration,
}

impl CancelHandle {
    /// SIGINT to the command's process group, SIGKILL after the grace period if anything
    /// in the group is still alive. Records that the operator cancelled.
    pub async fn cancel(&self) {
        unimplemented!()
    }
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

impl RunningCommand {
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The command's process group (= its pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    pub fn output_log(&self) -> PathBuf {
        self.run_dir.join("output.log")
    }

    /// Output lines as they are written (escape sequences stripped), from the start of
    /// this command's output, until it ends. A task follows `output.log`; lines wait in a
    /// bounded channel for the reader.
    pub fn output_lines(&self) -> mpsc::Receiver<String> {
        unimplemented!()
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
        unimplemented!()
    }

    /// [`wait`](Self::wait), cancelling the command when `cancel` fires.
    pub async fn wait_or_cancel(
        self,
        cancel: tokio_util::sync::CancellationToken,
    ) -> Result<CommandOutcome, ExecError> {
        let _ = cancel;
        unimplemented!()
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

/// Starts the command under a supervisor; returns once the command's process exists (or
/// with the reason it could not start).
pub async fn spawn_command(req: CommandRequest) -> Result<RunningCommand, ExecError> {
    let _ = req;
    unimplemented!()
}

/// After a restart: what became of the command last started in `run_dir`.
pub fn reattach(run_dir: &Path) -> Reattached {
    let _ = run_dir;
    unimplemented!()
}
