//! `update`: the one place state changes. Pure: a function of state and message that
//! returns whether the screen must be redrawn and which effects to run.

use crossterm::event::{KeyEventKind, KeyModifiers};

use super::msg::{Effect, Msg};
use super::{HelpState, Notice, State};
use crate::action::Action;
use crate::config::keymap::{Key, KeyResult};
use crate::health::Severity;
use crate::providers::poller::Report;
use crate::providers::ProviderId;

/// Returns `(dirty, effects)`.
pub fn update(state: &mut State, msg: Msg) -> (bool, Vec<Effect>) {
    let mut fx = Vec::new();
    let dirty = match msg {
        Msg::Key(k) => {
            if k.kind == KeyEventKind::Release {
                return (false, fx);
            }
            on_key(state, k, &mut fx)
        }
        Msg::Paste(_) => false,
        Msg::Resize(..) => true,
        Msg::Tick(now) => {
            // Redraw only when something visible changes: a provider turning stale, or the
            // minute (ages are shown in minutes). An idle console writes nothing.
            let before = state.freshness_kinds();
            let minute_before = state.now.timestamp() / 60;
            state.now = now;
            let new_minute = minute_before != now.timestamp() / 60;
            if new_minute {
                // A backup ages past its RPO with time alone, without a rescan.
                backup_findings(state, &mut fx);
            }
            before != state.freshness_kinds() || new_minute
        }
        Msg::Host(Report::Data(sample)) => {
            let h = state.providers.entry(ProviderId::Host).or_default();
            h.last_ok = Some(sample.at);
            h.down = None;
            if sample.at > state.now {
                state.now = sample.at;
            }
            for t in state.alarms.observe_host(&sample, &state.host_config) {
                fx.push(Effect::RecordTransition(t));
            }
            fx.push(Effect::StoreSample(sample.clone()));
            state.host.push(sample);
            true
        }
        Msg::Backups(u) => {
            let is_catalog = matches!(u, crate::providers::backups::BackupsUpdate::Catalog(_));
            state.backups.apply(u);
            if is_catalog {
                let now = state.now;
                let h = state.providers.entry(ProviderId::Backups).or_default();
                h.last_ok = Some(now);
                h.down = None;
                backup_findings(state, &mut fx);
            }
            true
        }
        Msg::Host(Report::Failed { reason }) => {
            let now = state.now;
            let h = state.providers.entry(ProviderId::Host).or_default();
            let since = h.down.as_ref().map(|d| d.0).unwrap_or(now);
            h.down = Some((since, reason));
            true
        }
        Msg::Restored {
            transitions,
            samples,
        } => {
            state.alarms.restore(&transitions);
            // Older samples go in front of any already received this run.
            let fresh: Vec<_> = state.host.samples.drain(..).collect();
            for s in samples.into_iter().chain(fresh) {
                state.host.push(s);
            }
            true
        }
        Msg::Runner(m) => {
            if let Some(w) = state.wizard.as_mut() {
                let was_active = w.engine.state.status == crate::runbook::engine::RunStatus::Active;
                let wfx = w.on_runner(m);
                let ended = was_active
                    && w.engine.state.status != crate::runbook::engine::RunStatus::Active;
                let (jobs, close) = crate::runbook::runner::wizard_jobs(w, wfx);
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
            true
        }
        Msg::Resume { runs, missing } => {
            let n = runs.len();
            if let Some((engine, events)) = runs.into_iter().next() {
                let backups = state
                    .backups
                    .rows()
                    .map(|b| b.path.display().to_string())
                    .collect();
                let mut w = crate::state::wizard::WizardState::new(engine, backups);
                let mut jobs = Vec::new();
                for ev in events {
                    let wfx = w.feed(ev);
                    jobs.extend(crate::runbook::runner::wizard_jobs(&w, wfx).0);
                }
                if !jobs.is_empty() {
                    fx.push(Effect::RunnerJobs(jobs));
                }
                state.notice = Some(Notice {
                    text: if n > 1 {
                        format!("a run was interrupted and is open to resume ({} more: toban runbook history)", n - 1)
                    } else {
                        "a run was interrupted and is open to resume".into()
                    },
                    severity: Severity::Warning,
                });
                state.wizard = Some(Box::new(w));
            }
            for m in missing {
                state.problems.push(m);
            }
            true
        }
        Msg::Followups(f) => {
            state.followups = f;
            true
        }
        Msg::Drills(d) => {
            state.backups.drills = d;
            true
        }
        Msg::EffectFailed(text) => {
            state.notice = Some(Notice {
                text,
                severity: Severity::Warning,
            });
            true
        }
        Msg::Signal(_) => {
            state.quit = true;
            false
        }
    };
    (dirty, fx)
}

/// Backup rules become local alarms under the `backup.` prefix. The catalog's findings are
/// brought up to now first, so the Backups tab shows what the alarms say.
fn backup_findings(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(cat) = state.backups.catalog.as_mut() else {
        return;
    };
    let cat = std::sync::Arc::make_mut(cat);
    crate::backups::rules::update_findings(cat, state.now);
    let findings: Vec<crate::state::local_alarms::Finding> = crate::backups::rules::alarming(cat)
        .map(|f| crate::state::local_alarms::Finding {
            key: f.key.clone(),
            severity: f.severity,
            value: f.value,
            message: f.message.clone(),
        })
        .collect();
    for t in state.alarms.set_findings("backup.", &findings, state.now) {
        fx.push(Effect::RecordTransition(t));
    }
}

fn on_key(state: &mut State, event: crossterm::event::KeyEvent, fx: &mut Vec<Effect>) -> bool {
    let key = Key::from(event);
    // Ctrl-C always quits, whatever the keymap says, so nobody is ever stuck.
    if key.mods.contains(KeyModifiers::CONTROL) && key.code == crossterm::event::KeyCode::Char('c')
    {
        state.quit = true;
        return false;
    }
    let had_notice = state.notice.take().is_some();
    // Text typed into a wizard's input field goes there first.
    if state.help.is_none() && state.pending.is_empty() {
        if let Some(w) = state.wizard.as_mut() {
            if w.on_key(event) {
                return true;
            }
        }
    }
    let contexts = state.key_contexts();
    match state.keymap.resolve(&contexts, &state.pending, key) {
        KeyResult::Pending => {
            state.pending.push(key);
            true
        }
        KeyResult::Unbound => {
            let was_pending = !state.pending.is_empty();
            state.pending.clear();
            had_notice || was_pending
        }
        KeyResult::Action(action) => {
            state.pending.clear();
            apply_action(state, action, fx);
            true
        }
    }
}

/// Every action passes here: read-only mode is enforced in this one place.
pub fn apply_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    if state.read_only && action.is_mutating() {
        state.notice = Some(Notice {
            text: format!("read-only mode: `{action}` changes something and is not available"),
            severity: Severity::Warning,
        });
        return;
    }
    if state.help.is_none() && state.wizard.is_some() {
        wizard_action(state, action, fx);
        return;
    }
    if state.help.is_none() && state.picker.is_some() {
        picker_action(state, action, fx);
        return;
    }
    if let Some(help) = state.help.as_mut() {
        match action {
            Action::Back | Action::Help => state.help = None,
            Action::Up => help.scroll = help.scroll.saturating_sub(1),
            Action::Down => help.scroll = help.scroll.saturating_add(1),
            Action::Quit => state.quit = true,
            _ => {}
        }
        return;
    }
    match action {
        Action::Quit => state.quit = true,
        Action::Help => state.help = Some(HelpState::default()),
        Action::TabNext => state.tab = state.tab.next(),
        Action::TabPrev => state.tab = state.tab.prev(),
        Action::Tab(t) => state.tab = t,
        Action::Refresh => {
            fx.push(Effect::Refresh(ProviderId::Host));
            if state.backups.configured {
                fx.push(Effect::Refresh(ProviderId::Backups));
            }
        }
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom
            if state.tab == crate::state::tabs::Tab::Backups =>
        {
            let b = &mut state.backups;
            match action {
                Action::Up => b.select_prev(),
                Action::Down => b.select_next(),
                Action::PageUp => b.page_up(10),
                Action::PageDown => b.page_down(10),
                Action::Top => b.select_first(),
                _ => b.select_last(),
            }
        }
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => move_selection(state, action),
        Action::Runbooks => {
            state.picker = Some(crate::state::picker::PickerState {
                items: summaries(state),
                ..Default::default()
            })
        }
        Action::Restore | Action::Drill if state.tab == crate::state::tabs::Tab::Backups => {
            restore_selected(state, action == Action::Drill, fx)
        }
        Action::Restore | Action::Drill | Action::DryRun => {
            state.notice = Some(Notice {
                text: "select a backup on the Backups tab (3) to restore or drill it; R lists every runbook".into(),
                severity: Severity::Unknown,
            });
        }
        Action::Verify | Action::VerifyAll if !state.backups.configured => {
            state.notice = Some(Notice {
                text: "no backup catalog configured: add [backups] roots to config.toml".into(),
                severity: Severity::Unknown,
            });
        }
        Action::Verify => match state.backups.verify_selected_target() {
            Some(t) => fx.push(Effect::Verify(t)),
            None => {
                state.notice = Some(Notice {
                    text: "no backup selected".into(),
                    severity: Severity::Unknown,
                })
            }
        },
        Action::VerifyAll => fx.push(Effect::Verify(state.backups.verify_service_target())),
        Action::Cancel if state.backups.verify.is_some() => fx.push(Effect::CancelVerify),
        Action::Select
        | Action::Back
        | Action::Cancel
        | Action::Confirm
        | Action::Deny
        | Action::Noop => {}
    }
}

fn move_selection(state: &mut State, action: Action) {
    let len = state.alarms.active.len();
    if len == 0 {
        return;
    }
    let cur = state.alarm_selected.min(len - 1);
    state.alarm_selected = match action {
        Action::Up => cur.saturating_sub(1),
        Action::Down => (cur + 1).min(len - 1),
        Action::PageUp => cur.saturating_sub(10),
        Action::PageDown => (cur + 10).min(len - 1),
        Action::Top => 0,
        _ => len - 1,
    };
}

fn summaries(state: &State) -> Vec<crate::state::picker::RunbookSummary> {
    state
        .runbooks
        .iter()
        .map(|r| crate::state::picker::RunbookSummary {
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
fn restore_selected(state: &mut State, drill: bool, fx: &mut Vec<Effect>) {
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

/// Starts a run of `spec` in the wizard. In read-only mode every run is a dry run.
pub fn open_wizard(
    state: &mut State,
    spec: &crate::runbook::spec::Runbook,
    params: &std::collections::BTreeMap<String, String>,
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
    let opts = crate::runbook::engine::RunOptions {
        dry_run: dry_run || state.read_only,
        drill,
        step_by_step: true,
    };
    let engine = match crate::runbook::runner::new_engine(spec, params, opts) {
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
    let mut w = crate::state::wizard::WizardState::new(engine, backups);
    let wfx = w.start();
    let (jobs, _) = crate::runbook::runner::wizard_jobs(&w, wfx);
    fx.push(Effect::RunnerJobs(jobs));
    state.picker = None;
    state.wizard = Some(Box::new(w));
}

fn picker_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
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
fn wizard_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
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
    let Some(w) = state.wizard.as_mut() else {
        return;
    };
    let wfx = w.on_action(action);
    let (jobs, close) = crate::runbook::runner::wizard_jobs(w, wfx);
    if !jobs.is_empty() {
        fx.push(Effect::RunnerJobs(jobs));
    }
    if close {
        state.wizard = None;
        fx.push(Effect::ReloadDrills);
    }
}
