//! `toban runbook run`: a run driven from the command line — confirmations from `--yes`,
//! inputs from `--set`, anything that needs a person refused — with progress printed.
//! Everything printed that came from outside is already stripped of escape sequences
//! (see `StepOutcome::from_outcome`); the step's description is stripped here.

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::io::Write;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::{new_engine, perform_step, record, RunEnv};
use crate::runbook::engine::{
    Engine, EngineEffect, Event, RunOptions, RunStatus, StepState, Waiting,
};
use crate::runbook::spec::{Runbook, StepAction};
use crate::runbook::steps::outcome::clean_lines;
use crate::sanitize::strip_escapes;

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
        Waiting::ReadOnly => Err(format!(
            "run {} is read-only ({}): abort it with `toban runbook abort {}`",
            engine.state.run_id,
            engine
                .read_only
                .as_ref()
                .map(|r| r.reason.as_str())
                .unwrap_or_default(),
            engine.state.run_id
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
    drive_headless_from(env, engine, yes, out, vec![Event::Start]).await
}

/// [`drive_headless`] beginning with `first` instead of starting the run (a resumed run:
/// what the executor knows of its interrupted step, then the operator's decision).
pub async fn drive_headless_from(
    env: &RunEnv,
    engine: &mut Engine,
    yes: &Option<String>,
    out: &mut (dyn Write + Send),
    first: Vec<Event>,
) -> i32 {
    drive(env, engine, yes, out, first, Vec::new()).await
}

/// `toban runbook abort` of a run whose runbook is known: the run ends as aborted after its
/// `finally` steps (a drill's scratch database dropped), run here as the console would.
/// 0 when every cleanup step that ran passed, 1 when one failed.
pub async fn abort_headless(
    env: &RunEnv,
    engine: &mut Engine,
    why: String,
    out: &mut (dyn Write + Send),
) -> i32 {
    let fx = engine.abort_now(why, Utc::now().timestamp_millis());
    drive(env, engine, &None, out, Vec::new(), fx).await;
    let cleanup_failed = engine
        .state
        .steps
        .iter()
        .zip(&engine.spec.steps)
        .any(|(rec, step)| step.finally && rec.state == StepState::Failed);
    if cleanup_failed {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// Handles `first_effects`, then `first` events, then the engine's own questions, running
/// each step it asks for, until the run ends.
async fn drive(
    env: &RunEnv,
    engine: &mut Engine,
    yes: &Option<String>,
    out: &mut (dyn Write + Send),
    first: Vec<Event>,
    first_effects: Vec<EngineEffect>,
) -> i32 {
    let mut events: VecDeque<Event> = VecDeque::from(first);
    let mut refused = false;
    let mut finished = None;
    let mut pending = Some(first_effects).filter(|f| !f.is_empty());
    while finished.is_none() {
        let effects = match pending.take() {
            Some(fx) => fx,
            None => {
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
                engine.handle(ev, Utc::now().timestamp_millis())
            }
        };
        for fx in effects {
            match &fx {
                EngineEffect::Execute(r) => {
                    let step = &engine.spec.steps[r.step];
                    let _ = writeln!(out, "==> {} ({})", step.title, step.id);
                    for l in &r.display {
                        let _ = writeln!(out, "    {}", strip_escapes(l));
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
                    let _ = writeln!(out, "note: {}", strip_escapes(n));
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
                    rec.id,
                    clean_lines(&rec.message)
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
            .map(|f| format!(" ({})", clean_lines(f)))
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
    // A real run is held by this command while it runs: another session sees who drives it.
    let keeper = (!opts.dry_run).then(|| {
        super::lease_keeper::keep(env.store.clone(), engine.state.run_id.clone(), false, None)
    });
    let code = drive_headless(env, &mut engine, &opts.yes, out).await;
    if let Some(k) = keeper {
        k.abort();
    }
    code
}
