//! The supervisor: a separate process (toban re-executed as `toban __supervise`) that
//! starts the command, feeds its stdin, enforces the timeout and writes `status.json`, so
//! the exit status is known even if toban's main process died.
//!
//! It runs in its own session (no controlling terminal: a hang-up does not reach it) and
//! never touches a terminal. The run folder comes from `--run-dir DIR` or the
//! [`SUPERVISE_DIR_ENV`] variable; the command's argv, cwd, stdin source and timeout from
//! `<run_dir>/spec.json`; its environment is the supervisor's own (secrets are never
//! written to disk); `Bytes` stdin arrives on the supervisor's stdin.
//!
//! toban's `main` must dispatch to it first thing, before clap, logging, a tokio runtime
//! or the terminal are set up:
//!
//! ```no_run
//! let args: Vec<String> = std::env::args().collect();
//! if args.get(1).map(String::as_str) == Some(toban::runbook::exec::SUPERVISE_SUBCOMMAND) {
//!     std::process::exit(toban::runbook::exec::supervise_main(&args[2..]));
//! }
//! ```

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;

use super::feed::{feed, Input};
use super::process_group;
use super::run_dir::{
    process_identity, read_json, write_atomically, Spec, Status, StdinKind, CANCEL_FILE,
    COMMAND_PID_FILE, OUTPUT_FILE, SPEC_FILE, STATUS_FILE, SUPERVISOR_PID_FILE,
};

/// The hidden subcommand toban's `main` dispatches to [`supervise_main`].
pub const SUPERVISE_SUBCOMMAND: &str = "__supervise";

/// Environment variable naming the run folder (set by `spawn_command`, removed from the
/// command's own environment).
pub const SUPERVISE_DIR_ENV: &str = "TOBAN_SUPERVISE_DIR";

/// Prefix of the one line the supervisor writes on its stdout for toban: `started PID` or
/// `error WHY`. Other lines (a test harness's chatter) are ignored.
pub(crate) const HANDSHAKE: &str = "TOBAN-SUPERVISOR ";

/// Entry point of `toban __supervise …`: `args` are the arguments after the subcommand
/// (`--run-dir DIR`, or none to use [`SUPERVISE_DIR_ENV`]). Returns the process exit code
/// (0 when the status was written, whatever the command's own exit code).
pub fn supervise_main(args: &[String]) -> i32 {
    let from_args = args
        .iter()
        .position(|a| a == "--run-dir")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let Some(run_dir) =
        from_args.or_else(|| std::env::var_os(SUPERVISE_DIR_ENV).map(PathBuf::from))
    else {
        eprintln!("toban {SUPERVISE_SUBCOMMAND}: no run folder (--run-dir or {SUPERVISE_DIR_ENV})");
        return 2;
    };
    match supervise(&run_dir) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("toban {SUPERVISE_SUBCOMMAND}: {e}");
            1
        }
    }
}

/// Writes the handshake straight to fd 1 (a test harness may capture `print!`).
fn handshake(msg: &str) {
    let line = format!("{HANDSHAKE}{msg}\n");
    unsafe {
        libc::write(1, line.as_ptr().cast(), line.len());
    }
    // From now on nothing must go to toban's pipe: it may be gone.
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        unsafe {
            libc::dup2(null.as_raw_fd(), 1);
        }
    }
}

fn write_status(run_dir: &Path, status: &Status) -> Result<(), String> {
    let path = run_dir.join(STATUS_FILE);
    let json = serde_json::to_vec_pretty(status).map_err(|e| e.to_string())?;
    write_atomically(&path, &json).map_err(|e| format!("{}: {e}", path.display()))
}

fn fail_to_start(run_dir: &Path, why: String) -> Result<(), String> {
    handshake(&format!("error {why}"));
    write_status(
        run_dir,
        &Status {
            ended_at: Some(Utc::now()),
            error: Some(why),
            ..Default::default()
        },
    )
}

fn supervise(run_dir: &Path) -> Result<(), String> {
    let me = std::process::id() as i32;
    if let Some(id) = process_identity(me) {
        let p = run_dir.join(SUPERVISOR_PID_FILE);
        write_atomically(&p, id.as_bytes()).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let spec_path = run_dir.join(SPEC_FILE);
    let Some(spec) = read_json::<Spec>(&spec_path) else {
        return fail_to_start(run_dir, format!("cannot read {}", spec_path.display()));
    };
    if spec.argv.is_empty() {
        return fail_to_start(run_dir, "empty command line".into());
    }

    let out_path = run_dir.join(OUTPUT_FILE);
    let out = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&out_path)
    };
    let out = match out {
        Ok(f) => f,
        Err(e) => return fail_to_start(run_dir, format!("{}: {e}", out_path.display())),
    };
    let err = match out.try_clone() {
        Ok(f) => f,
        Err(e) => return fail_to_start(run_dir, format!("{}: {e}", out_path.display())),
    };
    // Open the input before starting, so a vanished dump is "did not run", not a command
    // that read nothing.
    let verify = spec.scan.as_ref().is_some_and(|s| s.verify);
    let input: Option<Input> = match (spec.stdin, &spec.stdin_path) {
        (StdinKind::None, _) => None,
        (StdinKind::Pipe, _) => Some(Input::Read(Box::new(std::io::stdin()))),
        (StdinKind::File | StdinKind::Gunzip, None) => {
            return fail_to_start(run_dir, "no stdin file named".into())
        }
        (kind, Some(p)) => match std::fs::File::open(p) {
            // The catalog's verifier reads (and decompresses) it as it streams.
            Ok(_) if kind == StdinKind::Gunzip && verify => Some(Input::Backup(p.clone())),
            Ok(f) => {
                let f = std::io::BufReader::with_capacity(256 * 1024, f);
                if kind == StdinKind::Gunzip {
                    Some(Input::Read(Box::new(flate2::read::MultiGzDecoder::new(f))))
                } else {
                    Some(Input::Read(Box::new(f)))
                }
            }
            Err(e) => return fail_to_start(run_dir, format!("{}: {e}", p.display())),
        },
    };

    let mut cmd = Command::new(&spec.argv[0]);
    cmd.args(&spec.argv[1..])
        .env_remove(SUPERVISE_DIR_ENV)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(out)
        .stderr(err)
        // Its own process group: cancel and timeout reach everything it started.
        .process_group(0);
    if let Some(cwd) = &spec.cwd {
        cmd.current_dir(cwd);
    }
    let started = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "not found".to_string()
            } else {
                e.to_string()
            };
            return fail_to_start(run_dir, why);
        }
    };
    let pgid = child.id() as i32;
    let pid_path = run_dir.join(COMMAND_PID_FILE);
    let _ = write_atomically(&pid_path, pgid.to_string().as_bytes());
    handshake(&format!("started {pgid}"));

    let feed_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let feeder = match (input, child.stdin.take()) {
        (Some(input), Some(sink)) => {
            let feed_error = feed_error.clone();
            let (scan, dir) = (spec.scan.clone(), run_dir.to_path_buf());
            Some(std::thread::spawn(move || {
                if let Some(why) = feed(input, sink, scan.as_ref(), pgid, &dir) {
                    *feed_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
                }
            }))
        }
        _ => None,
    };

    let deadline = spec
        .timeout_ms
        .map(|ms| started + Duration::from_millis(ms));
    let grace = Duration::from_millis(spec.grace_ms);
    let cancel_path = run_dir.join(CANCEL_FILE);
    let mut timed_out = false;
    let mut cancelled = false;
    // When SIGKILL goes to whatever of the group is left.
    let mut kill_at: Option<Instant> = None;
    let exit = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => {}
            Err(e) => break Err(e),
        }
        let now = Instant::now();
        if !timed_out && !cancelled {
            if cancel_path.exists() {
                // toban sent SIGINT; escalate here in case toban is gone by then.
                cancelled = true;
                kill_at = Some(now + grace);
            } else if deadline.is_some_and(|d| now >= d) {
                timed_out = true;
                process_group::signal(pgid, libc::SIGTERM);
                kill_at = Some(now + grace);
            }
        }
        if kill_at.is_some_and(|k| now >= k) {
            process_group::signal(pgid, libc::SIGKILL);
            kill_at = None;
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    let duration = started.elapsed();
    // On timeout or cancel nothing of the group may outlive the step: whatever the leader
    // left behind gets the rest of the grace period, then SIGKILL.
    if timed_out || cancelled || cancel_path.exists() {
        cancelled = cancelled || (!timed_out && cancel_path.exists());
        process_group::kill_after(pgid, kill_at.unwrap_or_else(Instant::now));
    }
    if let Some(f) = feeder {
        // A grandchild holding the pipe open must not keep the status from being written.
        let wait_until = Instant::now() + Duration::from_secs(2);
        while !f.is_finished() && Instant::now() < wait_until {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let mut status = Status {
        timed_out,
        cancelled,
        duration_ms: duration.as_millis() as u64,
        ended_at: Some(Utc::now()),
        error: feed_error.lock().unwrap_or_else(|p| p.into_inner()).take(),
        ..Default::default()
    };
    match exit {
        Ok(s) => {
            use std::os::unix::process::ExitStatusExt;
            status.exit_code = s.code();
            status.signal = s.signal();
        }
        Err(e) => status.error = Some(format!("waiting for the command failed: {e}")),
    }
    write_status(run_dir, &status)
}
