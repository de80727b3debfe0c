//! Carries out what the engine asks for: saves the run, appends the audit, runs steps
//! through the [`StepExecutor`] and feeds the outcomes back as events.
//!
//! Two drivers share [`record`] and [`perform_step`]: [`run_headless`] (cron, `toban
//! runbook run`), which answers the engine's questions from the command line or fails, and
//! [`RunnerHandle`] (the wizard), a task per run that takes jobs from the UI and answers
//! with [`RunnerMsg`]s.
//!
//! - [`headless`]: the command-line driver.
//! - [`handle`]: the wizard's driver; output reaches the screen through bounded channels.
//! - [`secrets`]: a run's secrets between a crash and its resumption, and their end.
//! - [`followup`]: a follow-up's action, run when the operator marks it done.

pub mod followup;
pub mod handle;
pub mod headless;
pub mod lease_keeper;
mod secrets;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use handle::{Job, RunnerHandle, RunnerMsg};
pub use headless::{
    abort_headless, drive_headless, drive_headless_from, run_headless, HeadlessOpts, EXIT_FAILED,
    EXIT_NEEDS_CONFIRMATION, EXIT_OK, EXIT_USAGE,
};
pub use secrets::{load_secrets, secrets_dir, sweep_secrets, ABANDONED_AFTER_MS};

use super::engine::{initial_params, Engine, EngineEffect, Event, RunOptions, RunState, StepState};
use super::spec::Runbook;
use super::steps::{ExecContext, ExecRequest, Rendered, StepExecutor, StepOutcome};
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
    /// Container engines by name (`[services]`), for steps that name one.
    pub engines: BTreeMap<String, crate::providers::docker::EngineTarget>,
}

impl RunEnv {
    pub fn exec_context(&self, run_id: &str) -> ExecContext {
        ExecContext {
            run_id: run_id.to_string(),
            run_dir: self.runs_dir.join(run_id),
            connections: self.connections.clone(),
            engines: self.engines.clone(),
            store: self.store.clone(),
        }
    }
}

pub use crate::actor::{current_user, ssh_client};

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

/// Does one effect that needs no waiting: persist, audit, drill record. Returns an error
/// text when the store fails (the run goes on; the operator is told).
pub async fn record(env: &RunEnv, state: &RunState, effect: &EngineEffect) -> Result<(), String> {
    if matches!(effect, EngineEffect::Persist) {
        secrets::keep_secrets(env, state).map_err(|e| format!("keeping the run's secrets: {e}"))?;
    }
    let r = match effect {
        // A real run is held by the session that first saves it (its keeper renews that).
        EngineEffect::Persist if !state.opts.dry_run && !state.status.is_finished() => {
            let me = super::lease::LeaseHolder::this_session();
            env.store.save_run_held(state, Utc::now(), Some(&me)).await
        }
        EngineEffect::Persist => env.store.save_run(state, Utc::now()).await,
        EngineEffect::Audit(a) => env.store.append_audit(a).await,
        EngineEffect::RecordDrill(d) => env.store.record_drill(d).await,
        _ => Ok(()),
    };
    r.map_err(|e| format!("the state database failed: {e:#}"))
}

/// Runs one rendered step through the executor. `lines` gets its output as it comes
/// (bounded: a slow reader slows the step's output reader, not memory).
pub async fn perform_step(
    env: &RunEnv,
    state: &RunState,
    r: Rendered,
    lines: Option<mpsc::Sender<String>>,
    cancel: CancellationToken,
) -> StepOutcome {
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
            None | Some(super::steps::Reattach::StillRunning)
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

/// Runs found unfinished at start, loaded and marked interrupted, ready for the wizard:
/// `(engine, reattach events to feed it)`, and notes on the runs left alone.
///
/// A run another session drives right now (a live lease) is not interrupted: it is left
/// out and named in the notes (who holds it, since when). A run whose runbook changed or
/// is gone opens read-only with its audit; one whose lease lapsed while its holder may
/// still be alive opens read-only until the operator takes it over.
pub async fn interrupted_runs(
    env: &RunEnv,
    books: &[Runbook],
) -> anyhow::Result<(Vec<(Engine, Vec<Event>)>, Vec<String>)> {
    use super::engine::ReadOnly;
    use super::lease::LeaseHolder;
    for line in sweep_secrets(env).await {
        tracing::info!("{line}");
    }
    let me = LeaseHolder::this_session();
    let now_ms = Utc::now().timestamp_millis();
    let mut found = Vec::new();
    let mut notes = Vec::new();
    for s in env.store.interrupted_runs().await? {
        let Some(state) = env.store.load_run(&s.run_id).await? else {
            continue;
        };
        let lease = env.store.run_lease(&s.run_id).await?;
        if let Some(l) = lease.as_ref().filter(|l| !l.is_held_by(&me)) {
            if l.is_live(now_ms) {
                // Who first: the status line has 80 columns for it.
                notes.push(format!(
                    "`{}` is being driven by another session, {} (run {})",
                    s.runbook,
                    l.describe(now_ms),
                    s.run_id
                ));
                continue;
            }
        }
        let mut engine = match books.iter().find(|b| b.name == state.runbook) {
            Some(spec) => Engine::resume(spec.clone(), state),
            None => {
                let why = format!("the runbook `{}` no longer exists", state.runbook);
                Engine::read_only(None, state, why)
            }
        };
        let audit = env.store.run_audit(&s.run_id).await?;
        match &mut engine.read_only {
            Some(ro) => ro.audit = audit,
            None => {
                if let Some(l) = lease.filter(|l| !l.is_held_by(&me) && !l.holder_dead()) {
                    engine.read_only = Some(ReadOnly {
                        reason: format!("{}; it may still be alive", l.describe(now_ms)),
                        audit,
                        runbook_missing: false,
                        take_over: true,
                        held_elsewhere: true,
                    });
                }
            }
        }
        engine.state.secrets = load_secrets(env, &engine.state.run_id).into();
        let events = reattach_events(env, &engine).await;
        found.push((engine, events));
    }
    Ok((found, notes))
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
