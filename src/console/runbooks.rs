//! Opening runbooks from the console — the picker, a backup's restore or drill — and feeding
//! the wizard modal its keys and the runner's reports. Pure: the run's id, its operator and
//! the clock come from the state, and the work goes out as effects.

use std::collections::BTreeMap;

use crate::action::Action;
use crate::health::Severity;
use crate::runbook::engine::{Engine, RunOptions};
use crate::runbook::runner::Job;
use crate::runbook::spec::Runbook;
use crate::runbook::wizard::{WizardEffect, WizardState};
use crate::state::picker::{PickerState, RunbookSummary};
use crate::state::{Effect, HelpState, Notice, State};

pub fn open_picker(state: &mut State) {
    state.picker = Some(PickerState {
        items: summaries(state),
        ..Default::default()
    })
}

fn summaries(state: &State) -> Vec<RunbookSummary> {
    state
        .runbooks
        .iter()
        .map(|r| RunbookSummary {
            name: r.name.clone(),
            title: r.title.clone(),
            description: r
                .description
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            drillable: r.drill.is_some(),
        })
        .collect()
}

/// Restore or drill the backup selected on the Backups tab: the restore runbook for its
/// kind opens with the backup chosen.
pub fn restore_selected(state: &mut State, drill: bool, fx: &mut Vec<Effect>) {
    let Some(path) = state
        .backups
        .selected()
        .map(|b| b.path.display().to_string())
    else {
        state.notice = Some(Notice {
            text: "no backup selected".into(),
            severity: Severity::Unknown,
        });
        return;
    };
    let books = state.runbooks.clone();
    let Some(spec) = crate::runbook::runner::restore_runbook_for(&books, &path) else {
        state.notice = Some(Notice {
            text: "no restore runbook (restore-files / restore-postgres) is loaded".into(),
            severity: Severity::Warning,
        });
        return;
    };
    let mut params = crate::runbook::runner::params_for_backup(spec, &path);
    // A drill restores beside a scratch base in toban's data folder, never relative to
    // wherever toban was started.
    if drill && spec.params.iter().any(|p| p.name == "target") {
        let service = state
            .backups
            .selected()
            .map(|b| b.service.clone())
            .unwrap_or_default();
        let base = state.drill_dir.join(service);
        params.insert("target".into(), base.display().to_string());
    }
    open_wizard(state, spec, &params, drill, false, fx);
}

/// A new engine for `spec`: its id from the session, its operator from the session, its
/// start time from the state's clock.
pub fn new_engine(
    state: &mut State,
    spec: &Runbook,
    given: &BTreeMap<String, String>,
    opts: RunOptions,
) -> Result<Engine, String> {
    let run_id = state.session.next_run_id(state.now);
    let params = crate::runbook::engine::initial_params(spec, given, opts.drill, &run_id)?;
    Ok(Engine::new(
        spec.clone(),
        run_id,
        params,
        opts,
        state.session.user.clone(),
        state.session.ssh_client.clone(),
        state.now.timestamp_millis(),
    ))
}

/// Starts a run of `spec` in the wizard. In read-only mode every run is a dry run.
pub fn open_wizard(
    state: &mut State,
    spec: &Runbook,
    params: &BTreeMap<String, String>,
    drill: bool,
    dry_run: bool,
    fx: &mut Vec<Effect>,
) {
    if drill && spec.drill.is_none() {
        state.notice = Some(Notice {
            text: format!("`{}` has no drill mode", spec.name),
            severity: Severity::Warning,
        });
        return;
    }
    let opts = RunOptions {
        dry_run: dry_run || state.read_only,
        drill,
        step_by_step: true,
    };
    let engine = match new_engine(state, spec, params, opts) {
        Ok(e) => e,
        Err(e) => {
            state.notice = Some(Notice {
                text: format!("cannot start `{}`: {e}", spec.name),
                severity: Severity::Warning,
            });
            return;
        }
    };
    let backups = state
        .backups
        .rows()
        .map(|b| b.path.display().to_string())
        .collect();
    let mut w = WizardState::new(engine, backups);
    let wfx = w.start(state.now);
    let (jobs, _) = wizard_jobs(&w, wfx);
    fx.push(Effect::RunnerJobs(jobs));
    state.picker = None;
    state.wizard = Some(Box::new(w));
}

pub fn picker_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let Some(p) = state.picker.as_mut() else {
        return;
    };
    match action {
        Action::Up => p.move_by(-1),
        Action::Down => p.move_by(1),
        Action::PageUp => p.move_by(-10),
        Action::PageDown => p.move_by(10),
        Action::Top => p.move_by(-(p.items.len() as isize)),
        Action::Bottom => p.move_by(p.items.len() as isize),
        Action::Back | Action::Runbooks => state.picker = None,
        Action::Select | Action::DryRun | Action::Drill => {
            let Some(name) = p.selected().map(|r| r.name.clone()) else {
                return;
            };
            let (params, drill) = (p.params.clone(), p.drill || action == Action::Drill);
            let books = state.runbooks.clone();
            if let Some(spec) = books.iter().find(|b| b.name == name) {
                open_wizard(state, spec, &params, drill, action == Action::DryRun, fx);
            }
        }
        Action::Quit => state.quit = true,
        Action::Help => state.help = Some(HelpState::default()),
        _ => {}
    }
}

/// Keys in the wizard: tab switching and quitting are held back so a stray key cannot
/// leave a run; Esc closes the wizard (the run is kept and can be resumed).
pub fn wizard_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    if matches!(
        action,
        Action::Quit | Action::Tab(_) | Action::TabNext | Action::TabPrev | Action::Runbooks
    ) {
        state.notice = Some(Notice {
            text: "a runbook is open: finish it or press Esc to close it (the run is kept)".into(),
            severity: Severity::Unknown,
        });
        return;
    }
    if action == Action::Help {
        state.help = Some(HelpState::default());
        return;
    }
    let now = state.now;
    let Some(w) = state.wizard.as_mut() else {
        return;
    };
    let wfx = w.on_action(action, now);
    let (jobs, close) = wizard_jobs(w, wfx);
    if !jobs.is_empty() {
        fx.push(Effect::RunnerJobs(jobs));
    }
    if close {
        state.wizard = None;
        fx.push(Effect::ReloadDrills);
    }
}

/// The runner's report on the open run.
pub fn on_runner(state: &mut State, msg: crate::runbook::runner::RunnerMsg, fx: &mut Vec<Effect>) {
    let now = state.now;
    let Some(w) = state.wizard.as_mut() else {
        return;
    };
    let active = crate::runbook::engine::RunStatus::Active;
    let was_active = w.engine.state.status == active;
    let wfx = w.on_runner(msg, now);
    let ended = was_active && w.engine.state.status != active;
    let (jobs, close) = wizard_jobs(w, wfx);
    if !jobs.is_empty() {
        fx.push(Effect::RunnerJobs(jobs));
    }
    if close {
        state.wizard = None;
    }
    if ended || close {
        fx.push(Effect::ReloadDrills);
    }
}

/// Runs found unfinished at start: the first reopens in the wizard.
pub fn on_resume(
    state: &mut State,
    runs: Vec<(Engine, Vec<crate::runbook::engine::Event>)>,
    missing: Vec<String>,
    fx: &mut Vec<Effect>,
) {
    let n = runs.len();
    if let Some((engine, events)) = runs.into_iter().next() {
        let backups = state
            .backups
            .rows()
            .map(|b| b.path.display().to_string())
            .collect();
        let mut w = WizardState::new(engine, backups);
        let mut jobs = Vec::new();
        for ev in events {
            let wfx = w.feed(ev, state.now);
            jobs.extend(wizard_jobs(&w, wfx).0);
        }
        if !jobs.is_empty() {
            fx.push(Effect::RunnerJobs(jobs));
        }
        state.notice = Some(Notice {
            text: if n > 1 {
                format!(
                    "a run was interrupted and is open to resume ({} more: toban runbook history)",
                    n - 1
                )
            } else {
                "a run was interrupted and is open to resume".into()
            },
            severity: Severity::Warning,
        });
        state.wizard = Some(Box::new(w));
    }
    state.problems.extend(missing);
}

/// The jobs a wizard's effects ask of the runner, and whether it asked to close.
pub fn wizard_jobs(w: &WizardState, fx: Vec<WizardEffect>) -> (Vec<Job>, bool) {
    let mut close = false;
    let mut jobs = Vec::new();
    let mut engine_fx = Vec::new();
    for f in fx {
        match f {
            WizardEffect::Engine(e) => engine_fx.push(e),
            WizardEffect::CheckAgain => jobs.push(Job::Reattach(Box::new(w.engine.clone()))),
            WizardEffect::Close => close = true,
        }
    }
    jobs.extend(crate::runbook::runner::engine_jobs(&w.engine, engine_fx).0);
    (jobs, close)
}
