//! Built-in step executors: what each executable step kind does to the world.
//!
//! The runner talks to these through [`StepExecutor`], so the fuller executors being built
//! in `runbook::exec` (a supervisor that outlives toban, container client, …) replace
//! [`LocalExecutor`] without the engine or the wizard noticing.
//!
//! Commands run as argv (never a shell) in their own process group, with stdout and stderr
//! going to files under the run's folder rather than pipes: if toban dies the command is
//! not killed by a broken pipe, and on restart [`StepExecutor::reattach`] reads its pid and
//! exit files to say what became of it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Row};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::engine::{Reattach, Rendered, StepOutcome};
use super::spec::{ContainerAction, ExtractMode, LoginExpect, StepAction, WaitTarget};

/// Lines of output kept in a step's record and the audit.
pub const TAIL_LINES: usize = 20;
/// Most of a command's stdout kept as `{{steps.ID.output}}`.
const OUTPUT_CAP: usize = 64 * 1024;

/// What the executor needs besides the step.
#[derive(Debug, Clone)]
pub struct ExecContext {
    pub run_id: String,
    /// Folder for this run's command output, pid and exit files (created 0700).
    pub run_dir: PathBuf,
    /// Connection names → database URLs (from the configuration; never shown).
    pub connections: BTreeMap<String, String>,
}

pub struct ExecRequest {
    pub ctx: ExecContext,
    pub step: Rendered,
    /// Output lines as they come, for the wizard's pane.
    pub lines: Option<mpsc::UnboundedSender<String>>,
    pub cancel: CancellationToken,
}

pub trait StepExecutor: Send + Sync {
    fn execute(&self, req: ExecRequest) -> BoxFuture<'static, StepOutcome>;
    /// What became of a step found running after a restart.
    fn reattach(&self, ctx: &ExecContext, step_id: &str) -> BoxFuture<'static, Reattach>;
}

/// The executors in this file.
#[derive(Debug, Clone, Default)]
pub struct LocalExecutor;

impl StepExecutor for LocalExecutor {
    fn execute(&self, req: ExecRequest) -> BoxFuture<'static, StepOutcome> {
        Box::pin(execute(req))
    }

    fn reattach(&self, ctx: &ExecContext, step_id: &str) -> BoxFuture<'static, Reattach> {
        let base = ctx.run_dir.join(safe_name(step_id));
        Box::pin(async move { reattach_files(&base) })
    }
}

fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn reattach_files(base: &Path) -> Reattach {
    let exit = base.with_extension("exit");
    if let Ok(code) = std::fs::read_to_string(&exit) {
        if let Ok(c) = code.trim().parse::<i32>() {
            return Reattach::Finished {
                exit_code: c,
                tail: tail_of(&read_lossy(&base.with_extension("out"))),
            };
        }
    }
    if let Some(pid) = std::fs::read_to_string(base.with_extension("pid"))
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
    {
        // Signal 0: is the process group still there?
        if unsafe { libc::kill(-pid, 0) } == 0 {
            return Reattach::StillRunning;
        }
    }
    Reattach::Lost
}

fn read_lossy(p: &Path) -> String {
    std::fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

pub fn tail_of(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    lines[start..].join("\n")
}

pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

fn outcome(step: usize, ok: bool, message: impl Into<String>, started: Instant) -> StepOutcome {
    let mut o = StepOutcome::failed(step, message);
    o.ok = ok;
    o.duration_ms = started.elapsed().as_millis() as i64;
    o
}

async fn execute(req: ExecRequest) -> StepOutcome {
    let started = Instant::now();
    let i = req.step.step;
    let result = match req.step.action.clone() {
        StepAction::Command {
            argv,
            cwd,
            env,
            timeout,
            stdin,
            ok_codes,
        } => {
            return run_command(&req, argv, cwd, env, timeout, stdin, ok_codes, started).await;
        }
        StepAction::Container { action, names } => container(action, &names).await,
        StepAction::Sql {
            connection,
            database,
            statements,
            expect,
            expect_not,
        } => {
            sql(
                &req.ctx,
                &connection,
                database.as_deref(),
                &statements,
                expect,
                expect_not,
            )
            .await
        }
        StepAction::AlterPassword {
            connection,
            user,
            password,
        } => alter_password(&req.ctx, &connection, &user, &password).await,
        StepAction::CheckLogin {
            connection,
            user,
            password,
            expect,
        } => check_login(&req.ctx, &connection, &user, &password, expect).await,
        StepAction::Wait { target, timeout } => wait(&target, timeout, &req.cancel).await,
        StepAction::VerifyBackup { path } => {
            blocking(move || verify_backup(Path::new(&path))).await
        }
        StepAction::Extract {
            from,
            component,
            target,
            mode,
        } => {
            blocking(move || extract(Path::new(&from), &component, Path::new(&target), mode)).await
        }
        StepAction::WriteFile {
            path,
            content,
            mode,
        } => blocking(move || write_file(Path::new(&path), content.as_bytes(), mode)).await,
        StepAction::RotateFiles { paths } => blocking(move || rotate_files(&paths)).await,
        ref a @ StepAction::UpdateSecret { ref value, .. } => match secret_target(a) {
            Some(target) => target
                .write(&crate::secrets::Secret::new(value.clone()))
                .await
                .map(|()| format!("replaced the secret in {}", target.describe()))
                .map_err(|e| format!("{e:#}")),
            None => Err("unknown secret store".into()),
        },
        other => Err(format!(
            "a {} step is not run by an executor",
            other.kind_name()
        )),
    };
    match result {
        Ok(output) => {
            let mut o = outcome(i, true, first_line(&output), started);
            o.digest = Some(digest_of(output.as_bytes()));
            o.tail = tail_of(&output);
            o.output = output.trim().to_string();
            o
        }
        Err(e) => outcome(i, false, e, started),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("done").to_string()
}

async fn blocking<F>(f: F) -> Result<String, String>
where
    F: FnOnce() -> Result<String, String> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(format!("the step's worker failed: {e}")))
}

// ---------------------------------------------------------------------------------------
// Commands

#[allow(clippy::too_many_arguments)]
async fn run_command(
    req: &ExecRequest,
    argv: Vec<String>,
    cwd: Option<String>,
    env: BTreeMap<String, String>,
    timeout: Duration,
    stdin: Option<super::spec::StdinSpec>,
    ok_codes: Vec<i32>,
    started: Instant,
) -> StepOutcome {
    let i = req.step.step;
    if let Err(e) = create_private_dir(&req.ctx.run_dir) {
        return outcome(i, false, e, started);
    }
    let base = req.ctx.run_dir.join(safe_name(&req.step.id));
    for ext in ["out", "err", "exit", "pid"] {
        let _ = std::fs::remove_file(base.with_extension(ext));
    }
    let open = |ext: &str| std::fs::File::create(base.with_extension(ext));
    let (out, err) = match (open("out"), open("err")) {
        (Ok(o), Ok(e)) => (o, e),
        (Err(e), _) | (_, Err(e)) => {
            return outcome(
                i,
                false,
                format!("cannot create output files: {e}"),
                started,
            )
        }
    };
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .envs(&env)
        .stdout(out)
        .stderr(err)
        .stdin(if stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        // Its own process group: a terminal hang-up aimed at toban does not reach it, and a
        // cancel can stop everything it started.
        .process_group(0)
        .kill_on_drop(false);
    if let Some(c) = &cwd {
        cmd.current_dir(c);
    }
    // Open the stdin file before starting, so a missing dump fails before anything runs.
    let feeder = match &stdin {
        Some(s) => match std::fs::File::open(&s.file) {
            Ok(f) => Some((f, s.gunzip)),
            Err(e) => return outcome(i, false, format!("cannot open {}: {e}", s.file), started),
        },
        None => None,
    };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return outcome(
                i,
                false,
                format!("cannot start `{}`: {e}", argv[0]),
                started,
            )
        }
    };
    let pid = child.id().unwrap_or(0) as i32;
    let _ = std::fs::write(base.with_extension("pid"), pid.to_string());

    let feed_task = match (feeder, child.stdin.take()) {
        (Some((file, gunzip)), Some(sink)) => Some(tokio::spawn(feed_stdin(file, gunzip, sink))),
        _ => None,
    };

    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut shown = 0usize;
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    let (status, why) = loop {
        tokio::select! {
            s = child.wait() => break (s.ok(), None),
            _ = &mut deadline => {
                stop_group(pid).await;
                break (child.wait().await.ok(), Some(format!("timed out after {}", humantime::format_duration(timeout))));
            }
            _ = req.cancel.cancelled() => {
                stop_group(pid).await;
                break (child.wait().await.ok(), Some("interrupted by the operator".to_string()));
            }
            _ = ticker.tick() => {
                shown = forward_new_lines(&base.with_extension("out"), shown, &req.lines);
            }
        }
    };
    forward_new_lines(&base.with_extension("out"), shown, &req.lines);
    let feed_err = match feed_task {
        Some(t) => t.await.ok().and_then(|r| r.err()),
        None => None,
    };
    let code = status.and_then(|s| {
        use std::os::unix::process::ExitStatusExt;
        s.code().or_else(|| s.signal().map(|sig| 128 + sig))
    });
    if let Some(c) = code {
        let _ = std::fs::write(base.with_extension("exit"), c.to_string());
    }
    let stdout = std::fs::read(base.with_extension("out")).unwrap_or_default();
    let stderr = std::fs::read(base.with_extension("err")).unwrap_or_default();
    let mut all = stdout.clone();
    all.extend_from_slice(&stderr);
    let ok = why.is_none() && feed_err.is_none() && code.is_some_and(|c| ok_codes.contains(&c));
    let message = match (&why, &feed_err, code) {
        (Some(w), _, _) => w.clone(),
        (None, Some(e), _) => format!("feeding stdin failed: {e}"),
        (None, None, Some(c)) => format!("exit code {c}"),
        (None, None, None) => "no exit status".into(),
    };
    let stdout_s = String::from_utf8_lossy(&stdout[..stdout.len().min(OUTPUT_CAP)]).into_owned();
    let mut tail = tail_of(&String::from_utf8_lossy(&stdout));
    let err_tail = tail_of(&String::from_utf8_lossy(&stderr));
    if !err_tail.is_empty() {
        if !tail.is_empty() {
            tail.push('\n');
        }
        tail.push_str(&err_tail);
    }
    let tail = tail_of(&tail);
    StepOutcome {
        step: i,
        ok,
        exit_code: code,
        output: stdout_s.trim().to_string(),
        tail,
        digest: Some(digest_of(&all)),
        message,
        secret: None,
        cancelled: why.as_deref() == Some("interrupted by the operator"),
        duration_ms: started.elapsed().as_millis() as i64,
    }
}

fn create_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Sends lines added to `path` since byte `from`; returns the new offset.
fn forward_new_lines(
    path: &Path,
    from: usize,
    lines: &Option<mpsc::UnboundedSender<String>>,
) -> usize {
    let Ok(bytes) = std::fs::read(path) else {
        return from;
    };
    if bytes.len() <= from {
        return from;
    }
    let new = &bytes[from..];
    // Only whole lines; a partial last line waits for the next tick.
    let end = new
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|p| p + 1)
        .unwrap_or(0);
    if let Some(tx) = lines {
        for l in String::from_utf8_lossy(&new[..end]).lines() {
            let _ = tx.send(l.to_string());
        }
    }
    from + end
}

async fn stop_group(pid: i32) {
    if pid <= 0 {
        return;
    }
    unsafe { libc::kill(-pid, libc::SIGTERM) };
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if unsafe { libc::kill(-pid, 0) } != 0 {
            return;
        }
    }
    unsafe { libc::kill(-pid, libc::SIGKILL) };
}

/// Copies the file (decompressed when asked) into the child's stdin, off the async threads.
async fn feed_stdin(
    file: std::fs::File,
    gunzip: bool,
    mut sink: tokio::process::ChildStdin,
) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let (tx, mut rx) = mpsc::channel::<Result<Vec<u8>, String>>(8);
    tokio::task::spawn_blocking(move || {
        let mut reader: Box<dyn Read> = if gunzip {
            Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
                file,
            )))
        } else {
            Box::new(std::io::BufReader::new(file))
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.blocking_send(Ok(buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(format!("reading the input: {e}")));
                    break;
                }
            }
        }
    });
    while let Some(chunk) = rx.recv().await {
        let chunk = chunk?;
        sink.write_all(&chunk)
            .await
            .map_err(|e| format!("the program stopped reading its input: {e}"))?;
    }
    sink.shutdown().await.ok();
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Containers

/// Container steps go through the shared engine client, so `DOCKER_HOST`, the Docker socket
/// and Podman's sockets are all honoured.
async fn container(action: ContainerAction, names: &[String]) -> Result<String, String> {
    let engine = crate::providers::docker::Engine::connect()
        .await
        .map_err(|e| e.to_string())?;
    let grace = std::time::Duration::from_secs(10);
    let mut done = Vec::new();
    for name in names {
        let r = match action {
            ContainerAction::Start => engine.start(name).await,
            ContainerAction::Stop => engine.stop(name, grace).await,
            ContainerAction::Restart => engine.restart(name, grace).await,
        };
        r.map_err(|e| format!("{}: {e}", format!("{action:?}").to_lowercase()))?;
        done.push(name.clone());
    }
    Ok(format!(
        "{} {} ({})",
        format!("{action:?}").to_lowercase(),
        done.join(", "),
        engine.describe()
    ))
}

// ---------------------------------------------------------------------------------------
// SQL

fn pg_options(
    ctx: &ExecContext,
    connection: &str,
    database: Option<&str>,
) -> Result<PgConnectOptions, String> {
    let url = ctx
        .connections
        .get(connection)
        .ok_or_else(|| format!("no connection named `{connection}` in the configuration"))?;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(format!("connection `{connection}` is not a PostgreSQL URL"));
    }
    let mut o = PgConnectOptions::from_str(url)
        .map_err(|_| format!("connection `{connection}` has an invalid URL"))?;
    if let Some(d) = database {
        o = o.database(d);
    }
    Ok(o)
}

/// sqlx errors can quote the server's message; they never include the password we sent.
fn db_error(what: &str, e: sqlx::Error) -> String {
    match e.as_database_error() {
        Some(d) => format!("{what}: {}", d.message()),
        None => format!("{what}: {e}"),
    }
}

async fn sql(
    ctx: &ExecContext,
    connection: &str,
    database: Option<&str>,
    statements: &[String],
    expect: Option<String>,
    expect_not: Option<String>,
) -> Result<String, String> {
    let opts = pg_options(ctx, connection, database)?;
    let mut conn = sqlx::PgConnection::connect_with(&opts)
        .await
        .map_err(|e| db_error(&format!("connecting to `{connection}`"), e))?;
    let mut value = String::new();
    let mut report = Vec::new();
    for s in statements {
        let rows = sqlx::query(s)
            .fetch_all(&mut conn)
            .await
            .map_err(|e| db_error("SQL failed", e))?;
        value = rows.first().map(first_value).unwrap_or_default();
        report.push(if rows.is_empty() {
            "ok".to_string()
        } else {
            format!("{value} ({} row(s))", rows.len())
        });
    }
    let _ = conn.close().await;
    if let Some(e) = expect {
        if value != e {
            return Err(format!("expected `{e}`, got `{value}`"));
        }
    }
    if let Some(e) = expect_not {
        if value == e {
            return Err(format!("got `{value}`, which means the check failed"));
        }
    }
    // The value first: it is what `{{steps.ID.output}}` gives later steps.
    Ok(format!("{value}\n{}", report.join("\n")).trim().to_string())
}

fn first_value(row: &sqlx::postgres::PgRow) -> String {
    if let Ok(v) = row.try_get::<Option<String>, _>(0) {
        return v.unwrap_or_default();
    }
    if let Ok(v) = row.try_get::<Option<i64>, _>(0) {
        return v.map(|v| v.to_string()).unwrap_or_default();
    }
    if let Ok(v) = row.try_get::<Option<i32>, _>(0) {
        return v.map(|v| v.to_string()).unwrap_or_default();
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(0) {
        return v.map(|v| v.to_string()).unwrap_or_default();
    }
    if let Ok(v) = row.try_get::<Option<bool>, _>(0) {
        return v.map(|v| v.to_string()).unwrap_or_default();
    }
    "(value)".into()
}

async fn alter_password(
    ctx: &ExecContext,
    connection: &str,
    user: &str,
    password: &str,
) -> Result<String, String> {
    if password.len() < 16 {
        return Err("refusing a password shorter than 16 characters".into());
    }
    let opts = pg_options(ctx, connection, None)?;
    let mut conn = sqlx::PgConnection::connect_with(&opts)
        .await
        .map_err(|e| db_error(&format!("connecting to `{connection}`"), e))?;
    // The server gets a SCRAM verifier, never the password itself: nothing in its logs
    // (log_statement = all, pg_stat_statements) can reveal it.
    let verifier = scram_verifier(password);
    let stmt = format!(
        "ALTER USER {} WITH PASSWORD {}",
        super::template::quote_ident(user),
        super::template::quote_literal(&verifier)
    );
    sqlx::query(&stmt)
        .execute(&mut conn)
        .await
        .map_err(|e| db_error(&format!("ALTER USER {user}"), e))?;
    let _ = conn.close().await;
    Ok(format!(
        "password of {user} changed (sent as a SCRAM-SHA-256 verifier)"
    ))
}

async fn check_login(
    ctx: &ExecContext,
    connection: &str,
    user: &str,
    password: &str,
    expect: LoginExpect,
) -> Result<String, String> {
    let opts = pg_options(ctx, connection, None)?
        .username(user)
        .password(password);
    let r = sqlx::PgConnection::connect_with(&opts).await;
    match (r, expect) {
        (Ok(c), LoginExpect::Ok) => {
            let _ = c.close().await;
            Ok(format!("{user} logged in with the new password"))
        }
        (Ok(c), LoginExpect::Fail) => {
            let _ = c.close().await;
            Err(format!("{user} can still log in with the old password"))
        }
        (Err(e), LoginExpect::Ok) => Err(db_error(&format!("{user} cannot log in"), e)),
        (Err(e), LoginExpect::Fail) => {
            let auth = e
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c == "28P01" || c == "28000");
            if auth {
                Ok(format!("{user} is refused with the old password"))
            } else {
                Err(db_error("could not tell (not an authentication error)", e))
            }
        }
    }
}

/// PostgreSQL's SCRAM-SHA-256 stored form of a password (RFC 5802/7677), 4096 iterations.
pub fn scram_verifier(password: &str) -> String {
    let salt: [u8; 16] = rand::random();
    scram_verifier_with(password, &salt, 4096)
}

fn scram_verifier_with(password: &str, salt: &[u8], iterations: u32) -> String {
    let salted = pbkdf2_sha256(password.as_bytes(), salt, iterations);
    let client_key = hmac_sha256(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac_sha256(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        base64(salt),
        base64(&stored_key),
        base64(&server_key)
    )
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let ih = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(ih);
    outer.finalize().into()
}

fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut msg = salt.to_vec();
    msg.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac_sha256(password, &msg);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac_sha256(password, &u);
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        s.push(T[(n >> 18) as usize & 63] as char);
        s.push(T[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}

/// A random password of letters and digits (no quoting trouble anywhere it goes).
pub fn generate_secret(length: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..length)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Waiting

/// Wait steps use the shared wait-until checks; only "file being written" is particular to
/// runbooks (log rotation).
async fn wait(
    target: &WaitTarget,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<String, String> {
    use super::exec::wait::{wait_until, WaitCheck};
    let check = match target {
        WaitTarget::Http(url) => WaitCheck::Http {
            url: url.clone(),
            expect_status: None,
        },
        WaitTarget::Tcp(addr) => WaitCheck::Tcp { addr: addr.clone() },
        WaitTarget::File(f) => WaitCheck::FileExists { path: f.into() },
        WaitTarget::Container(c) => WaitCheck::ContainerHealthy { name: c.clone() },
        WaitTarget::Written(f) => return wait_written(Path::new(f), timeout, cancel).await,
    };
    let o = wait_until(&check, timeout, Duration::from_secs(1), cancel).await;
    if o.ready {
        Ok(format!("ready after {:.1}s", o.elapsed.as_secs_f64()))
    } else if o.cancelled {
        Err("interrupted by the operator".into())
    } else {
        Err(format!(
            "not ready after {} (last: {})",
            humantime::format_duration(timeout),
            o.last_error.unwrap_or_else(|| "no answer".into())
        ))
    }
}

/// Until `f` exists and is not empty (a rotated log written to again).
async fn wait_written(
    f: &Path,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<String, String> {
    let start = Instant::now();
    loop {
        if std::fs::metadata(f).map(|m| m.len() > 0).unwrap_or(false) {
            return Ok(format!("ready after {:.1}s", start.elapsed().as_secs_f64()));
        }
        if start.elapsed() >= timeout {
            return Err(format!(
                "{} not written to within {}",
                f.display(),
                humantime::format_duration(timeout)
            ));
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = cancel.cancelled() => return Err("interrupted by the operator".into()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Backups and files

/// Checksums listed in a `manifest.json` next to a backup: accepts `{"files": [{"name" |
/// "path" | "file": …, "sha256": …}]}`, `{"files": {"name": "sha256"}}` or a flat map.
fn manifest_checksums(dir: &Path) -> Result<Option<BTreeMap<String, String>>, String> {
    let path = dir.join("manifest.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = BTreeMap::new();
    let files = v.get("files").unwrap_or(&v);
    match files {
        serde_json::Value::Array(items) => {
            for it in items {
                let name = ["name", "path", "file"]
                    .iter()
                    .find_map(|k| it.get(*k).and_then(|x| x.as_str()));
                let sum = ["sha256", "checksum"]
                    .iter()
                    .find_map(|k| it.get(*k).and_then(|x| x.as_str()));
                if let (Some(n), Some(s)) = (name, sum) {
                    out.insert(
                        n.to_string(),
                        s.trim_start_matches("sha256:").to_lowercase(),
                    );
                }
            }
        }
        serde_json::Value::Object(map) => {
            for (k, s) in map {
                if let Some(s) = s.as_str() {
                    out.insert(k.clone(), s.trim_start_matches("sha256:").to_lowercase());
                }
            }
        }
        _ => {}
    }
    Ok(Some(out))
}

/// Reads the whole file: its SHA-256, and for `.gz` files that the gzip stream is intact.
fn check_file(path: &Path) -> Result<String, String> {
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    struct Hashing<R> {
        inner: R,
        hash: Sha256,
    }
    impl<R: Read> Read for Hashing<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.hash.update(&buf[..n]);
            Ok(n)
        }
    }
    let mut h = Hashing {
        inner: std::io::BufReader::new(f),
        hash: Sha256::new(),
    };
    let is_gz = path.extension().is_some_and(|e| e == "gz" || e == "tgz");
    if is_gz {
        let mut d = flate2::read::MultiGzDecoder::new(&mut h);
        std::io::copy(&mut d, &mut std::io::sink())
            .map_err(|e| format!("{} is not an intact gzip file: {e}", path.display()))?;
        // Anything after the gzip stream still counts in the checksum.
        std::io::copy(&mut h, &mut std::io::sink()).map_err(|e| e.to_string())?;
    } else {
        std::io::copy(&mut h, &mut std::io::sink()).map_err(|e| e.to_string())?;
    }
    Ok(format!("{:x}", h.hash.finalize()))
}

pub fn verify_backup(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (dir, files): (PathBuf, Vec<PathBuf>) = if meta.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "manifest.json"))
            .collect();
        v.sort();
        (path.to_path_buf(), v)
    } else {
        (
            path.parent().unwrap_or(Path::new(".")).to_path_buf(),
            vec![path.to_path_buf()],
        )
    };
    if files.is_empty() {
        return Err(format!("{} holds no backup files", path.display()));
    }
    let manifest = manifest_checksums(&dir)?;
    let mut lines = Vec::new();
    for f in &files {
        let sum = check_file(f)?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match manifest.as_ref().and_then(|m| m.get(&name)) {
            Some(expected) if *expected != sum => {
                return Err(format!(
                    "{name}: checksum {sum} does not match the manifest's {expected}"
                ))
            }
            Some(_) => lines.push(format!("{name}: intact, checksum matches the manifest")),
            None => lines.push(format!("{name}: intact (sha256 {sum}, not in a manifest)")),
        }
    }
    Ok(lines.join("\n"))
}

fn archives(from: &Path, component: &str) -> Result<Vec<PathBuf>, String> {
    if from.is_file() {
        return Ok(vec![from.to_path_buf()]);
    }
    if component != "all" {
        let p = from.join(format!("{component}.tar.gz"));
        return if p.is_file() {
            Ok(vec![p])
        } else {
            Err(format!("no {} in the backup", p.display()))
        };
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(from)
        .map_err(|e| format!("{}: {e}", from.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.to_string_lossy().ends_with(".tar.gz") || p.extension().is_some_and(|e| e == "tgz")
        })
        .collect();
    v.sort();
    if v.is_empty() {
        return Err(format!("no *.tar.gz in {}", from.display()));
    }
    Ok(v)
}

fn open_tar(p: &Path) -> Result<tar::Archive<flate2::read::GzDecoder<std::fs::File>>, String> {
    let f = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(f)))
}

/// A path inside the archive made safe to join to the target: no root, no `..`.
fn inside(target: &Path, entry: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut out = target.to_path_buf();
    for c in entry.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

pub fn extract(
    from: &Path,
    component: &str,
    target: &Path,
    mode: ExtractMode,
) -> Result<String, String> {
    let mut lines = Vec::new();
    let (mut new, mut changed, mut same, mut bad) = (0, 0, 0, 0);
    if mode == ExtractMode::Extract {
        std::fs::create_dir_all(target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    for archive in archives(from, component)? {
        let mut ar = open_tar(&archive)?;
        if mode == ExtractMode::Extract {
            ar.set_preserve_permissions(true);
            ar.set_preserve_mtime(true);
            ar.set_overwrite(true);
            // unpack_in refuses entries that would land outside the target.
            for entry in ar
                .entries()
                .map_err(|e| format!("{}: {e}", archive.display()))?
            {
                let mut entry = entry.map_err(|e| format!("{}: {e}", archive.display()))?;
                let p = entry.path().map_err(|e| e.to_string())?.into_owned();
                let placed = entry
                    .unpack_in(target)
                    .map_err(|e| format!("extracting {}: {e}", p.display()))?;
                if placed && entry.header().entry_type().is_file() {
                    new += 1;
                }
            }
            continue;
        }
        for entry in ar
            .entries()
            .map_err(|e| format!("{}: {e}", archive.display()))?
        {
            let mut entry = entry.map_err(|e| format!("{}: {e}", archive.display()))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let rel = entry.path().map_err(|e| e.to_string())?.into_owned();
            let Some(dest) = inside(target, &rel) else {
                return Err(format!("unsafe path in archive: {}", rel.display()));
            };
            let mut want = Vec::new();
            entry
                .read_to_end(&mut want)
                .map_err(|e| format!("{}: {e}", rel.display()))?;
            match std::fs::read(&dest) {
                Err(_) => {
                    new += 1;
                    lines.push(format!(
                        "{} {}",
                        if mode == ExtractMode::List {
                            "new    "
                        } else {
                            "MISSING"
                        },
                        rel.display()
                    ));
                    bad += 1;
                }
                Ok(have) if have != want => {
                    changed += 1;
                    bad += 1;
                    lines.push(format!(
                        "{} {}",
                        if mode == ExtractMode::List {
                            "changed"
                        } else {
                            "DIFFERS"
                        },
                        rel.display()
                    ));
                }
                Ok(_) => same += 1,
            }
        }
    }
    match mode {
        ExtractMode::Extract => Ok(format!("extracted {new} file(s) into {}", target.display())),
        ExtractMode::List => {
            let mut s = format!("{new} new, {changed} changed, {same} unchanged");
            for l in lines {
                s.push('\n');
                s.push_str(&l);
            }
            Ok(s)
        }
        ExtractMode::Verify => {
            if bad > 0 {
                Err(format!(
                    "{bad} file(s) differ from the backup: {}",
                    lines.join("; ")
                ))
            } else {
                Ok(format!("{same} file(s) identical to the backup"))
            }
        }
    }
}

pub fn write_file(path: &Path, content: &[u8], mode: u32) -> Result<String, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.toban-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let r = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("writing {}: {e}", path.display()));
    }
    Ok(format!("wrote {} (mode {mode:04o})", path.display()))
}

pub fn rotate_files(paths: &[String]) -> Result<String, String> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut lines = Vec::new();
    for p in paths {
        let path = Path::new(p);
        let rotated = PathBuf::from(format!("{p}.{stamp}.gz"));
        let mut src = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| format!("{p}: {e}"))?;
        let out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&rotated)
            .map_err(|e| format!("{}: {e}", rotated.display()))?;
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        let n = std::io::copy(&mut src, &mut gz).map_err(|e| format!("{p}: {e}"))?;
        gz.finish()
            .and_then(|f| f.sync_all())
            .map_err(|e| format!("{}: {e}", rotated.display()))?;
        // Copy-truncate: the writer keeps its descriptor (with O_APPEND it writes at 0).
        src.set_len(0).map_err(|e| format!("truncating {p}: {e}"))?;
        lines.push(format!("{p}: {n} bytes to {}", rotated.display()));
    }
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scram_matches_rfc7677_example() {
        // RFC 7677 §3: password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
        let salt = [
            0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e, 0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36,
            0xfa, 0x81,
        ];
        let v = scram_verifier_with("pencil", &salt, 4096);
        // StoredKey and ServerKey as computed independently (Python hashlib/hmac).
        assert_eq!(
            v,
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$\
             WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
    }

    #[test]
    fn generated_secrets_are_long_and_differ() {
        let a = generate_secret(32);
        let b = generate_secret(32);
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}

// ---------------------------------------------------------------------------------------
// Commands under runexec's supervisor

/// Like [`LocalExecutor`], but command steps run under `runbook::exec`'s supervisor: a
/// process of its own that outlives toban, enforces the time limit even when toban is gone
/// and writes the exit status, so a resumed run learns how the command really ended.
/// Needs toban's `__supervise` subcommand wired (see `exec::supervise_main`).
#[derive(Debug, Clone, Default)]
pub struct SupervisedExecutor;

fn step_dir(ctx: &ExecContext, step_id: &str) -> PathBuf {
    ctx.run_dir.join("steps").join(safe_name(step_id))
}

impl StepExecutor for SupervisedExecutor {
    fn execute(&self, req: ExecRequest) -> BoxFuture<'static, StepOutcome> {
        if !matches!(req.step.action, StepAction::Command { .. }) {
            return LocalExecutor.execute(req);
        }
        Box::pin(supervised_command(req))
    }

    fn reattach(&self, ctx: &ExecContext, step_id: &str) -> BoxFuture<'static, Reattach> {
        let dir = step_dir(ctx, step_id);
        Box::pin(async move {
            match super::exec::reattach(&dir) {
                super::exec::Reattached::Finished(o) => Reattach::Finished {
                    exit_code: o.exit_code.unwrap_or(128 + o.signal.unwrap_or(0)),
                    tail: o.output_tail.join("\n"),
                },
                super::exec::Reattached::StillRunning(_) => Reattach::StillRunning,
                super::exec::Reattached::Lost { .. } => Reattach::Lost,
            }
        })
    }
}

async fn supervised_command(req: ExecRequest) -> StepOutcome {
    use super::exec::{spawn_command, CommandRequest, StdinSource};
    let started = Instant::now();
    let i = req.step.step;
    let StepAction::Command {
        argv,
        cwd,
        env,
        timeout,
        stdin,
        ok_codes,
    } = req.step.action.clone()
    else {
        return outcome(i, false, "not a command step", started);
    };
    let mut cr = CommandRequest::new(argv, step_dir(&req.ctx, &req.step.id));
    cr.cwd = cwd.map(PathBuf::from);
    cr.env = env.into_iter().collect();
    cr.timeout = Some(timeout);
    cr.stdin = match stdin {
        Some(s) if s.gunzip => StdinSource::GunzipFile(PathBuf::from(s.file)),
        Some(s) => StdinSource::File(PathBuf::from(s.file)),
        None => StdinSource::None,
    };
    let running = match spawn_command(cr).await {
        Ok(r) => r,
        Err(e) => return outcome(i, false, e.to_string(), started),
    };
    let mut lines = running.output_lines();
    let fwd = req.lines.clone();
    let forward = tokio::spawn(async move {
        while let Some(l) = lines.recv().await {
            if let Some(tx) = &fwd {
                let _ = tx.send(l);
            }
        }
    });
    let result = running.wait_or_cancel(req.cancel.clone()).await;
    let _ = forward.await;
    match result {
        Err(e) => outcome(i, false, e.to_string(), started),
        Ok(o) => {
            let ok = o.error.is_none()
                && !o.timed_out
                && !o.cancelled
                && o.exit_code.is_some_and(|c| ok_codes.contains(&c));
            let tail = o.output_tail.join("\n");
            StepOutcome {
                step: i,
                ok,
                exit_code: o.exit_code,
                // The supervisor keeps stdout and stderr together: the tail is the output.
                output: tail.trim().to_string(),
                tail: tail_of(&tail),
                digest: Some(format!("sha256:{}", o.output_sha256)),
                message: o.summary(),
                secret: None,
                cancelled: o.cancelled,
                duration_ms: o.duration.as_millis() as i64,
            }
        }
    }
}

/// Where an `update_secret` step writes, from its rendered fields.
pub fn secret_target(a: &StepAction) -> Option<crate::secrets::SecretTarget> {
    let StepAction::UpdateSecret {
        store,
        location,
        field,
        region,
        endpoint_url,
        ..
    } = a
    else {
        return None;
    };
    // A template that rendered empty (an optional parameter left blank) means "not set".
    let set = |o: &Option<String>| o.clone().filter(|s| !s.trim().is_empty());
    match store.as_str() {
        "file" => Some(crate::secrets::SecretTarget::File {
            path: location.into(),
            field: set(field),
        }),
        "aws_secrets_manager" => Some(crate::secrets::SecretTarget::AwsSecretsManager {
            secret_id: location.clone(),
            field: set(field),
            region: set(region),
            endpoint_url: set(endpoint_url),
        }),
        _ => None,
    }
}
