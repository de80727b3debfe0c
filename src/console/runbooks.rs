//! Opening runbooks from the console — the picker, a backup's restore or drill — and feeding
//! the wizard modal its keys and the runner's reports. Pure: the run's id, its operator and
//! the clock come from the state, and the work goes out as effects.

use std::collections::BTreeMap;

use crate::action::Action;
use crate::health::Severity;
use crate::runbook::engine::{Engine, RunOptions};
use crate::runbook::runner::Job;
use crate::runbook::spec::Runbook;
use crate::runbook::wizard::form::{FormOutcome, ParamForm};
use crate::runbook::wizard::{WizardEffect, WizardState};
use crate::state::picker::{PickerState, RunbookSummary};
use crate::state::{Effect, Notice, State};

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
    let Some((path, service)) = state
        .backups
        .selected()
        .map(|b| (b.path.display().to_string(), b.service.clone()))
    else {
        state.notice = Some(Notice {
            text: "no backup selected".into(),
            severity: Severity::Unknown,
        });
        return;
    };
    restore_backup(state, &path, &service, drill, fx);
}

/// A restore drill of `path` on a scratch target (from an alarm on its service).
pub fn drill_backup(state: &mut State, path: &str, service: &str, fx: &mut Vec<Effect>) {
    restore_backup(state, path, service, true, fx);
}

fn restore_backup(state: &mut State, path: &str, service: &str, drill: bool, fx: &mut Vec<Effect>) {
    let path = path.to_string();
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
        let base = state.drill_dir.join(service);
        params.insert("target".into(), base.display().to_string());
    }
    let name = spec.name.clone();
    open_runbook(state, &name, params, drill, false, fx);
}

/// Opens runbook `name` as an operator expects: back to the open run if there is one;
/// otherwise the parameter form first (when anything needs asking), then the wizard.
pub fn open_runbook(
    state: &mut State,
    name: &str,
    given: BTreeMap<String, String>,
    drill: bool,
    dry_run: bool,
    fx: &mut Vec<Effect>,
) {
    if let Some(w) = state.wizard.as_ref() {
        let open = &w.engine.spec.name;
        state.notice = Some(Notice {
            text: if open == name {
                format!("`{name}` already has an open run: here it is")
            } else {
                format!("`{open}` is still open: finish or abort it before starting another run")
            },
            severity: Severity::Unknown,
        });
        state.picker = None;
        state.wizard_hidden = false;
        return;
    }
    let books = state.runbooks.clone();
    let Some(spec) = books.iter().find(|b| b.name == name) else {
        state.notice = Some(Notice {
            text: format!("no runbook named `{name}` is loaded"),
            severity: Severity::Warning,
        });
        return;
    };
    if drill && spec.drill.is_none() {
        state.notice = Some(Notice {
            text: format!("`{}` has no drill mode", spec.name),
            severity: Severity::Warning,
        });
        return;
    }
    let dry_run = dry_run || state.read_only;
    let backups: Vec<String> = state
        .backups
        .rows()
        .map(|b| b.path.display().to_string())
        .collect();
    state.picker = None;
    match ParamForm::new(spec, &given, drill, dry_run, &backups, &state.connections) {
        Some(form) => state.form = Some(form),
        None => open_wizard(state, spec, &given, drill, dry_run, fx),
    }
}

/// Keys in the parameter form.
pub fn form_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let Some(form) = state.form.as_mut() else {
        return;
    };
    match action {
        Action::Help => super::keys::open_help(state),
        Action::Quit => state.form = None,
        _ => match form.on_action(action) {
            FormOutcome::Stay => {}
            FormOutcome::Close => state.form = None,
            FormOutcome::Start(params) => {
                let form = state.form.take().expect("open");
                let books = state.runbooks.clone();
                if let Some(spec) = books.iter().find(|b| b.name == form.runbook) {
                    open_wizard(state, spec, &params, form.drill, form.dry_run, fx);
                }
            }
        },
    }
}

/// What the form's hint line offers, with the keymap's keys.
pub fn form_hints(state: &State) -> Vec<crate::ui::widgets::hints::Hint> {
    let Some(f) = state.form.as_ref() else {
        return Vec::new();
    };
    let mut wanted = vec![(Action::Down, "next field")];
    if f.focused().is_some_and(|x| !x.choices.is_empty()) {
        wanted.push((Action::Right, "next choice"));
    }
    wanted.push((
        Action::Select,
        if f.focus == f.fields.len() {
            "start"
        } else {
            "next"
        },
    ));
    wanted.push((Action::Back, "close"));
    super::hints::resolve(
        &state.keymap,
        &[crate::config::keymap::KeyContext::Form],
        &wanted,
    )
}

/// Pasted text goes to the field being typed in: the form's, or the wizard's.
pub fn on_paste(state: &mut State, text: &str) -> bool {
    if state.help.is_some() {
        return false;
    }
    if state.prompt.is_some() {
        return super::prompt::on_paste(state, text);
    }
    if let Some(f) = state.form.as_mut() {
        return f.on_paste(text);
    }
    match state.wizard.as_mut() {
        Some(w) if !state.wizard_hidden => w.on_paste(text),
        _ => false,
    }
}

/// Every tick: a step found still running after a restart is looked at again every few
/// seconds, so "still running" turns into its outcome without a key press.
pub fn on_tick(state: &mut State, fx: &mut Vec<Effect>) -> bool {
    const EVERY: chrono::Duration = chrono::Duration::seconds(5);
    let now = state.now;
    let Some(w) = state.wizard.as_mut() else {
        return false;
    };
    if !w.waiting_on_original() {
        // A running step's elapsed time moves on screen; nothing else does.
        return !state.wizard_hidden && w.waiting() == crate::runbook::engine::Waiting::Outcome;
    }
    if w.checked_at.is_some_and(|t| now - t < EVERY) {
        // The elapsed time shown moves with the clock.
        return !state.wizard_hidden;
    }
    w.checked_at = Some(now);
    fx.push(Effect::RunnerJobs(vec![Job::Reattach(Box::new(
        w.engine.clone(),
    ))]));
    !state.wizard_hidden
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

/// Starts a run of `spec` in the wizard with its parameters settled. In read-only mode
/// every run is a dry run.
fn open_wizard(
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
    let (mut jobs, _) = wizard_jobs(&w, wfx);
    if !opts.dry_run {
        // This session drives the run: another one sees who holds it.
        jobs.push(Job::Hold {
            run_id: w.engine.state.run_id.clone(),
            take_over: false,
        });
    }
    fx.push(Effect::RunnerJobs(jobs));
    state.picker = None;
    state.wizard = Some(Box::new(w));
    state.wizard_hidden = false;
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
            open_runbook(state, &name, params, drill, action == Action::DryRun, fx);
        }
        // In a popup, quitting means closing the popup.
        Action::Quit => state.picker = None,
        Action::Help => super::keys::open_help(state),
        _ => {}
    }
}

/// Keys in the wizard. Leaving it (Esc, or a tab's key) keeps the run going out of sight —
/// the top bar shows it and the runbooks key returns to it; a finished run closes.
pub fn wizard_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let now = state.now;
    let Some(w) = state.wizard.as_mut() else {
        return;
    };
    let finished = w.engine.state.status.is_finished();
    match action {
        Action::Help => {
            super::keys::open_help(state);
            return;
        }
        Action::Quit => {
            super::keys::quit(state);
            return;
        }
        Action::Tab(t) => {
            if finished {
                close_wizard(state, fx);
            } else {
                state.wizard_hidden = true;
            }
            state.tab = t;
            return;
        }
        Action::Back if !finished && w.ask.is_none() => {
            state.wizard_hidden = true;
            return;
        }
        Action::TabNext | Action::TabPrev | Action::Runbooks => return,
        Action::Select if !finished && w.ask.is_none() && w.engine.read_only.is_some() => {
            match w
                .engine
                .read_only
                .as_ref()
                .map(|r| (r.take_over, r.held_elsewhere))
            {
                Some((true, _)) => super::runbook_resume::take_over(w, fx),
                Some((false, true)) => {}
                _ => super::runbook_resume::start_afresh(state, fx),
            }
            return;
        }
        _ => {}
    }
    let wfx = w.on_action(action, now);
    let (jobs, close) = wizard_jobs(w, wfx);
    if !jobs.is_empty() {
        fx.push(Effect::RunnerJobs(jobs));
    }
    if close {
        close_wizard(state, fx);
    }
}

pub(super) fn close_wizard(state: &mut State, fx: &mut Vec<Effect>) {
    state.wizard = None;
    state.wizard_hidden = false;
    fx.push(Effect::ReloadDrills);
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

/// What the wizard's hint line offers now, with the keys the keymap gives those actions.
pub fn wizard_hints(state: &State) -> Vec<crate::ui::widgets::hints::Hint> {
    use crate::runbook::engine::Waiting;
    let Some(w) = state.wizard.as_deref() else {
        return Vec::new();
    };
    let mut wanted: Vec<(Action, &str)> = if w.ask.is_some() {
        vec![(Action::Confirm, "yes"), (Action::Deny, "no, keep going")]
    } else if w.engine.state.status.is_finished() {
        vec![(Action::Back, "close"), (Action::PageUp, "scroll output")]
    } else {
        match w.waiting() {
            Waiting::Continue | Waiting::Nothing => vec![
                (Action::Select, "do it"),
                (Action::Back, "leave (the run is kept)"),
                (Action::Cancel, "abort"),
            ],
            Waiting::Confirm => vec![
                (Action::Confirm, "yes"),
                (Action::Deny, "no"),
                (Action::Select, "answer"),
                (Action::Back, "leave"),
                (Action::Cancel, "abort"),
            ],
            Waiting::Typed(_) => vec![
                (Action::Select, "confirm"),
                (Action::Back, "leave"),
                (Action::Cancel, "abort"),
            ],
            Waiting::Input { .. } if !w.choices.is_empty() => vec![
                (Action::Down, "next"),
                (Action::Up, "previous"),
                (Action::Select, "choose"),
                (Action::Back, "leave"),
                (Action::Cancel, "abort"),
            ],
            Waiting::Input { .. } => vec![
                (Action::Select, "accept"),
                (Action::Back, "leave"),
                (Action::Cancel, "abort"),
            ],
            // The safe choice may rest at the bottom, so both directions are named; looking
            // again only means something while the original still runs.
            Waiting::Resolve if w.waiting_on_original() => vec![
                (Action::Down, "next"),
                (Action::Up, "previous"),
                (Action::Select, "decide"),
                (Action::Refresh, "check again"),
                (Action::Back, "leave"),
            ],
            Waiting::Resolve => vec![
                (Action::Down, "next"),
                (Action::Up, "previous"),
                (Action::Select, "decide"),
                (Action::Back, "leave"),
            ],
            Waiting::ReadOnly => {
                let ro = w.engine.read_only.as_ref();
                let mut v = Vec::new();
                if ro.is_some_and(|r| r.take_over) {
                    v.push((Action::Select, "take over"));
                } else if !ro.is_some_and(|r| r.held_elsewhere) {
                    v.push((Action::Cancel, "abort the run"));
                    if !ro.is_some_and(|r| r.runbook_missing) {
                        v.push((Action::Select, "start afresh"));
                    }
                }
                v.extend([(Action::PageUp, "scroll audit"), (Action::Back, "leave")]);
                v
            }
            Waiting::Outcome => vec![
                (Action::Back, "leave (it goes on)"),
                (Action::PageUp, "scroll"),
                (Action::Cancel, "interrupt"),
            ],
        }
    };
    if w.can_reveal() && w.ask.is_none() {
        wanted.push((
            Action::Reveal,
            if w.reveal {
                "hide secret"
            } else {
                "reveal secret"
            },
        ));
    }
    super::hints::resolve(
        &state.keymap,
        &[crate::config::keymap::KeyContext::Wizard],
        &wanted,
    )
}
