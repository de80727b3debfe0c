//! Carries out what the engine asks for: saves the run, appends the audit, runs steps
//! through a [`StepExecutor`] and feeds the outcomes back as events.
//!
//! Two drivers share [`record`] and [`perform_step`]: [`run_headless`] (cron, `toban runbook run`), which
//! answers the engine's questions from the command line or fails, and [`RunnerHandle`] (the
//! wizard), a task per run that takes jobs from the UI and answers with [`RunnerMsg`]s.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::engine::{
    initial_params, Engine, EngineEffect, Event, Rendered, RunOptions, RunState, RunStatus,
    StepOutcome, StepState, Waiting,
};
use super::spec::{CheckOp, Runbook, StepAction};
use super::steps::{digest_of, generate_secret, ExecContext, ExecRequest, StepExecutor};
use crate::store::Store;

/// What a run needs from the rest of toban.
#[derive(Clone)]
pub struct RunEnv {
    pub store: Store,
    pub executor: Arc<dyn StepExecutor>,
    /// Per-run folders for command output (`<data dir>/runs`).
    pub runs_dir: PathBuf,
    /// Connection names → database URLs.
    pub connections: BTreeMap<String, String>,
}

impl RunEnv {
    pub fn exec_context(&self, run_id: &str) -> ExecContext {
        ExecContext {
            run_id: run_id.to_string(),
            run_dir: self.runs_dir.join(run_id),
            connections: self.connections.clone(),
        }
    }
}

/// Who is running this: `$USER` (else the uid).
pub fn current_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("uid {}", unsafe { libc::getuid() }))
}

/// Where from: the SSH client's address and port, when logged in over SSH.
pub fn ssh_client() -> Option<String> {
    if let Ok(c) = std::env::var("SSH_CONNECTION") {
        let parts: Vec<&str> = c.split_whitespace().collect();
        if parts.len() >= 2 {
            return Some(format!("{} port {}", parts[0], parts[1]));
        }
    }
    std::env::var("SSH_CLIENT").ok().and_then(|c| {
        let parts: Vec<&str> = c.split_whitespace().collect();
        (parts.len() >= 2).then(|| format!("{} port {}", parts[0], parts[1]))
    })
}

pub fn new_run_id() -> String {
    format!(
        "{}-{:06x}",
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        rand::random::<u32>() & 0xff_ffff
    )
}

/// A new engine for `spec` with `given` parameters (defaults and drill overrides applied).
pub fn new_engine(
    spec: &Runbook,
    given: &BTreeMap<String, String>,
    opts: RunOptions,
) -> Result<Engine, String> {
    let run_id = new_run_id();
    // Drill overrides may name the run (a scratch folder per drill).
    let params = initial_params(spec, given, opts.drill, &run_id)?;
    Ok(Engine::new(
        spec.clone(),
        run_id,
        params,
        opts,
        current_user(),
        ssh_client(),
        Utc::now().timestamp_millis(),
    ))
}

/// Steps the runner does itself (no outside effect beyond the store).
async fn run_internal(env: &RunEnv, state: &RunState, r: &Rendered) -> Option<StepOutcome> {
    let started = std::time::Instant::now();
    let mut o = StepOutcome::failed(r.step, String::new());
    match &r.action {
        StepAction::GenerateSecret { length } => {
            o.ok = true;
            o.secret = Some(generate_secret(*length));
            o.message = format!("generated a {length}-character secret (not shown)");
        }
        StepAction::Check { left, op, right } => {
            o.ok = match op {
                CheckOp::Changed => left.trim() != right.trim(),
                CheckOp::Equal => left.trim() == right.trim(),
                CheckOp::Contains => left.contains(right.as_str()),
            };
            o.message = if o.ok {
                format!("ok: `{}`", left.trim())
            } else {
                format!("check failed: `{}` vs `{}`", left.trim(), right.trim())
            };
            o.output = left.trim().to_string();
        }
        StepAction::ScheduleFollowup { title, due, note } => match humantime::parse_duration(due) {
            Ok(d) => {
                let now = Utc::now();
                let due_at = now + chrono::Duration::from_std(d).unwrap_or_default();
                match env
                    .store
                    .add_followup(title, note.as_deref(), due_at, Some(&state.run_id), now)
                    .await
                {
                    Ok(id) => {
                        o.ok = true;
                        o.output = id.to_string();
                        o.message = format!(
                            "follow-up #{id} due {}: {title}",
                            due_at.format("%Y-%m-%d %H:%M UTC")
                        );
                    }
                    Err(e) => o.message = format!("cannot store the follow-up: {e:#}"),
                }
            }
            Err(e) => o.message = format!("`{due}` is not a duration: {e}"),
        },
        _ => return None,
    }
    o.digest = Some(digest_of(o.message.as_bytes()));
    o.tail = o.message.clone();
    o.duration_ms = started.elapsed().as_millis() as i64;
    Some(o)
}

fn secrets_dir(env: &RunEnv, run_id: &str) -> PathBuf {
    env.runs_dir.join(run_id).join("secrets")
}

/// Keeps the run's secrets (a generated password, a secret parameter) in 0600 files in
/// toban's private run folder — never in the database, the audit or a log — so a run
/// resumed after toban died can still write the password it already set. Removed when the
/// run finishes.
fn keep_secrets(env: &RunEnv, state: &RunState) -> std::io::Result<()> {
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

/// Does one effect that needs no waiting: persist, audit, drill record. Returns an error
/// text when the store fails (the run goes on; the operator is told).
pub async fn record(env: &RunEnv, state: &RunState, effect: &EngineEffect) -> Result<(), String> {
    if matches!(effect, EngineEffect::Persist) {
        keep_secrets(env, state).map_err(|e| format!("keeping the run's secrets: {e}"))?;
    }
    let r = match effect {
        EngineEffect::Persist => env.store.save_run(state, Utc::now()).await,
        EngineEffect::Audit(a) => env.store.append_audit(a).await,
        EngineEffect::RecordDrill(d) => env.store.record_drill(d).await,
        _ => Ok(()),
    };
    r.map_err(|e| format!("the state database failed: {e:#}"))
}

/// Runs one rendered step (internal kinds here, the rest through the executor).
pub async fn perform_step(
    env: &RunEnv,
    state: &RunState,
    r: Rendered,
    lines: Option<mpsc::UnboundedSender<String>>,
    cancel: CancellationToken,
) -> StepOutcome {
    if let Some(o) = run_internal(env, state, &r).await {
        return o;
    }
    env.executor
        .execute(ExecRequest {
            ctx: env.exec_context(&state.run_id),
            step: r,
            lines,
            cancel,
        })
        .await
}

/// Asks the executor what became of each interrupted step of a resumed run.
pub async fn reattach_events(env: &RunEnv, engine: &Engine) -> Vec<Event> {
    let mut out = Vec::new();
    for (i, rec) in engine.state.steps.iter().enumerate() {
        let unknown = matches!(
            rec.reattach,
            None | Some(super::engine::Reattach::StillRunning)
        );
        if rec.state == StepState::Interrupted && unknown {
            let info = env
                .executor
                .reattach(&env.exec_context(&engine.state.run_id), &rec.id)
                .await;
            out.push(Event::Reattached { step: i, info });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Headless

#[derive(Debug, Clone, Default)]
pub struct HeadlessOpts {
    pub dry_run: bool,
    pub drill: bool,
    /// The confirmation: a typed confirmation passes only when this equals the target's
    /// name; a plain one when it is given at all. None: any confirmation fails the run.
    pub yes: Option<String>,
}

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
/// The run needed an answer the command line did not give.
pub const EXIT_NEEDS_CONFIRMATION: i32 = 3;

fn headless_answer(engine: &Engine, yes: &Option<String>) -> Result<Event, String> {
    let step = engine
        .current_step()
        .map(|s| s.id.clone())
        .unwrap_or_default();
    match engine.waiting() {
        Waiting::Continue => match &engine.current_step().map(|s| &s.action) {
            Some(StepAction::Checklist { .. }) if yes.is_none() => Err(format!(
                "step `{step}` is a checklist for a person; run it in the wizard"
            )),
            _ => Ok(Event::Continue),
        },
        Waiting::Confirm => match yes {
            Some(_) => Ok(Event::Confirm(true)),
            None => Err(format!("step `{step}` needs a confirmation: pass --yes")),
        },
        Waiting::Typed(expected) => match yes {
            Some(y) if *y == expected => Ok(Event::Typed(expected)),
            Some(y) => Err(format!(
                "step `{step}` needs --yes {expected} (got --yes {y}); nothing was done"
            )),
            None => Err(format!(
                "step `{step}` needs a typed confirmation: pass --yes {expected}"
            )),
        },
        Waiting::Input { param, current } => {
            let p = engine.spec.params.iter().find(|p| p.name == param);
            match p.map(|p| p.validate(&current)) {
                Some(Ok(())) => Ok(Event::Input(current)),
                Some(Err(e)) => Err(format!("{e}: pass --set {param}=…")),
                None => Err(format!("unknown parameter `{param}`")),
            }
        }
        Waiting::Resolve => Err(format!(
            "step `{step}` was interrupted; resume it in the wizard"
        )),
        Waiting::Outcome | Waiting::Nothing => Err("nothing to answer".into()),
    }
}

/// Runs `engine` to the end without a person. Progress and problems go to `out`.
/// Returns the exit code.
pub async fn drive_headless(
    env: &RunEnv,
    engine: &mut Engine,
    yes: &Option<String>,
    out: &mut (dyn Write + Send),
) -> i32 {
    let mut events: VecDeque<Event> = VecDeque::from([Event::Start]);
    let mut refused = false;
    let mut finished = None;
    while finished.is_none() {
        let ev = match events.pop_front() {
            Some(e) => e,
            None => match headless_answer(engine, yes) {
                Ok(e) => e,
                Err(why) => {
                    let _ = writeln!(out, "error: {why}");
                    refused = true;
                    Event::Abort
                }
            },
        };
        let effects = engine.handle(ev, Utc::now().timestamp_millis());
        for fx in effects {
            match &fx {
                EngineEffect::Execute(r) => {
                    let step = &engine.spec.steps[r.step];
                    let _ = writeln!(out, "==> {} ({})", step.title, step.id);
                    for l in &r.display {
                        let _ = writeln!(out, "    {l}");
                    }
                    let o = perform_step(
                        env,
                        &engine.state,
                        r.clone(),
                        None,
                        CancellationToken::new(),
                    )
                    .await;
                    let _ = writeln!(
                        out,
                        "    {}: {}",
                        if o.ok { "ok" } else { "FAILED" },
                        o.message
                    );
                    if !o.ok && !o.tail.is_empty() {
                        for l in o.tail.lines() {
                            let _ = writeln!(out, "    | {l}");
                        }
                    }
                    events.push_back(Event::StepFinished(o));
                }
                EngineEffect::Notice(n) => {
                    let _ = writeln!(out, "note: {n}");
                }
                EngineEffect::Finished(s) => finished = Some(*s),
                EngineEffect::Interrupt { .. } => {}
                other => {
                    if let Err(e) = record(env, &engine.state, other).await {
                        let _ = writeln!(out, "error: {e}");
                    }
                }
            }
        }
    }
    if engine.state.opts.dry_run {
        for (i, rec) in engine.state.steps.iter().enumerate() {
            if !rec.message.is_empty() {
                let _ = writeln!(
                    out,
                    "{:>2}. {}: {}",
                    i + 1,
                    engine.spec.steps[i].id,
                    rec.message
                );
            }
        }
    }
    let status = finished.unwrap_or(RunStatus::Aborted);
    let _ = writeln!(
        out,
        "run {}: {}{}",
        engine.state.run_id,
        status.as_str(),
        engine
            .state
            .failure
            .as_ref()
            .map(|f| format!(" ({f})"))
            .unwrap_or_default()
    );
    match status {
        RunStatus::Succeeded => EXIT_OK,
        _ if refused => EXIT_NEEDS_CONFIRMATION,
        _ => EXIT_FAILED,
    }
}

/// `toban runbook run NAME [--dry-run] [--drill] [--set k=v]… [--yes TARGET]`.
pub async fn run_headless(
    env: &RunEnv,
    spec: &Runbook,
    params: &BTreeMap<String, String>,
    opts: &HeadlessOpts,
    out: &mut (dyn Write + Send),
) -> i32 {
    let run_opts = RunOptions {
        dry_run: opts.dry_run,
        drill: opts.drill,
        step_by_step: false,
    };
    let mut engine = match new_engine(spec, params, run_opts) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
            return EXIT_USAGE;
        }
    };
    if !opts.dry_run {
        let problems = engine.param_errors();
        if !problems.is_empty() {
            for p in problems {
                let _ = writeln!(out, "error: {p}");
            }
            return EXIT_USAGE;
        }
    }
    drive_headless(env, &mut engine, &opts.yes, out).await
}

// ---------------------------------------------------------------------------------------
// The wizard's driver

/// Work the wizard hands to its run's task.
#[derive(Debug, Clone)]
pub enum Job {
    /// Persist / Audit / RecordDrill (with the state as it was when asked).
    Record(Box<RunState>, EngineEffect),
    Execute(Box<RunState>, Rendered),
    Interrupt {
        step: usize,
    },
    /// Ask what became of the interrupted steps of a resumed run.
    Reattach(Box<Engine>),
}

/// What the run's task tells the wizard.
#[derive(Debug, Clone, PartialEq)]
pub enum RunnerMsg {
    /// Feed this to the engine.
    Event(Event),
    Output {
        step: usize,
        line: String,
    },
    /// The store failed: show it (the run itself goes on).
    Error(String),
}

/// One run's task: jobs in, [`RunnerMsg`]s out. Records are written in order, before a
/// step that follows them starts; steps run concurrently with further jobs so a cancel can
/// reach them.
#[derive(Clone)]
pub struct RunnerHandle {
    tx: mpsc::UnboundedSender<Job>,
}

impl RunnerHandle {
    pub fn spawn(env: RunEnv, msgs: mpsc::UnboundedSender<RunnerMsg>) -> RunnerHandle {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            let mut running: HashMap<usize, CancellationToken> = HashMap::new();
            while let Some(job) = rx.recv().await {
                match job {
                    Job::Record(state, effect) => {
                        if let Err(e) = record(&env, &state, &effect).await {
                            let _ = msgs.send(RunnerMsg::Error(e));
                        }
                    }
                    Job::Execute(state, r) => {
                        let token = CancellationToken::new();
                        running.retain(|_, t| !t.is_cancelled());
                        running.insert(r.step, token.clone());
                        let (env, msgs) = (env.clone(), msgs.clone());
                        tokio::spawn(async move {
                            let (ltx, mut lrx) = mpsc::unbounded_channel::<String>();
                            let step = r.step;
                            let fwd = {
                                let msgs = msgs.clone();
                                tokio::spawn(async move {
                                    while let Some(line) = lrx.recv().await {
                                        let _ = msgs.send(RunnerMsg::Output { step, line });
                                    }
                                })
                            };
                            let o = perform_step(&env, &state, r, Some(ltx), token).await;
                            let _ = fwd.await;
                            let _ = msgs.send(RunnerMsg::Event(Event::StepFinished(o)));
                        });
                    }
                    Job::Interrupt { step } => {
                        if let Some(t) = running.remove(&step) {
                            t.cancel();
                        }
                    }
                    Job::Reattach(engine) => {
                        for ev in reattach_events(&env, &engine).await {
                            let _ = msgs.send(RunnerMsg::Event(ev));
                        }
                    }
                }
            }
        });
        RunnerHandle { tx }
    }

    pub fn submit(&self, job: Job) {
        let _ = self.tx.send(job);
    }

    /// Turns the engine's effects into jobs, in order. Returns the effects meant for the
    /// screen (notices, finished).
    pub fn submit_effects(&self, engine: &Engine, effects: Vec<EngineEffect>) -> Vec<EngineEffect> {
        let (jobs, rest) = engine_jobs(engine, effects);
        for j in jobs {
            self.submit(j);
        }
        rest
    }
}

/// Runs found unfinished at start, loaded and marked interrupted, ready for the wizard:
/// `(engine, reattach events to feed it)`. Runs whose runbook no longer exists are
/// reported by name in the error list.
pub async fn interrupted_runs(
    env: &RunEnv,
    books: &[Runbook],
) -> anyhow::Result<(Vec<(Engine, Vec<Event>)>, Vec<String>)> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for s in env.store.interrupted_runs().await? {
        let Some(state) = env.store.load_run(&s.run_id).await? else {
            continue;
        };
        let Some(spec) = books.iter().find(|b| b.name == state.runbook) else {
            missing.push(format!(
                "run {} of `{}`: that runbook no longer exists",
                s.run_id, s.runbook
            ));
            continue;
        };
        let mut engine = Engine::resume(spec.clone(), state);
        engine.state.secrets = load_secrets(env, &engine.state.run_id);
        let events = reattach_events(env, &engine).await;
        found.push((engine, events));
    }
    Ok((found, missing))
}

/// Parameters for opening `spec` on a backup picked in the Backups tab: the runbook's
/// first `backup` parameter gets the path.
pub fn params_for_backup(spec: &Runbook, path: &str) -> BTreeMap<String, String> {
    spec.params
        .iter()
        .find(|p| p.kind == super::spec::ParamKind::Backup)
        .map(|p| BTreeMap::from([(p.name.clone(), path.to_string())]))
        .unwrap_or_default()
}

/// The shipped runbook that restores a backup at `path`: `restore-postgres` for a
/// `*.sql.gz` dump, `restore-files` for anything else (a dated folder or a tarball).
pub fn restore_runbook_for<'a>(books: &'a [Runbook], path: &str) -> Option<&'a Runbook> {
    let name = if path.ends_with(".sql.gz") {
        "restore-postgres"
    } else {
        "restore-files"
    };
    books.iter().find(|b| b.name == name)
}

/// The jobs for an engine's effects, in order, and the effects meant for the screen.
pub fn engine_jobs(engine: &Engine, effects: Vec<EngineEffect>) -> (Vec<Job>, Vec<EngineEffect>) {
    let mut jobs = Vec::new();
    let mut rest = Vec::new();
    for fx in effects {
        match fx {
            EngineEffect::Execute(r) => jobs.push(Job::Execute(Box::new(engine.state.clone()), r)),
            EngineEffect::Interrupt { step } => jobs.push(Job::Interrupt { step }),
            EngineEffect::Persist | EngineEffect::Audit(_) | EngineEffect::RecordDrill(_) => {
                jobs.push(Job::Record(Box::new(engine.state.clone()), fx))
            }
            other => rest.push(other),
        }
    }
    (jobs, rest)
}
