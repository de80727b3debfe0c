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
use std::sync::RwLock;
use std::time::Duration;

use chrono::Utc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::output::{follow_output, outcome_from, summarize_output, CommandOutcome};
use super::process_group;
use super::run_dir::{
    read_json, read_pgid, supervisor_alive, write_atomically, Spec, Status, StdinKind, CANCEL_FILE,
    COMMAND_PID_FILE, OUTPUT_FILE, SPEC_FILE, STATUS_FILE, SUPERVISOR_LOG_FILE,
    SUPERVISOR_PID_FILE,
};
use super::supervise::{HANDSHAKE, SUPERVISE_DIR_ENV};
use crate::sanitize::strip_escapes;

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

/// Read the command's stdin as a psql script meant for `database` on its way (rows of each
/// `COPY` block, lines that leave the database: [`super::dump_scan`]), into
/// `<run_dir>/dump_scan.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SqlScan {
    pub database: String,
    /// Stop the stream before a line that leaves, creates or drops a database reaches the
    /// command, and stop the command itself (a drill: its target is scratch, and nothing
    /// may reach another database). Otherwise such lines are only recorded.
    pub refuse_foreign: bool,
    /// The file is a backup: the catalog's verifier (`toban backups verify`) reads it as it
    /// streams, and a failed verdict stops the command before the end of its input.
    #[serde(default)]
    pub verify: bool,
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
    pub scan: Option<SqlScan>,
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
            scan: None,
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
            .field("scan", &self.scan)
            .finish()
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
    /// toban stopped after writing the spec but before any supervisor ran, so the
    /// command never started: running the step again cannot run it twice.
    NeverStarted,
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
        super::run_dir::DUMP_SCAN_FILE,
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
        scan: req.scan.clone(),
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
    if super::run_dir::never_started(run_dir, &spec) {
        return Reattached::NeverStarted;
    }
    Reattached::Lost {
        what_is_known: what_is_known(run_dir),
    }
}
