//! The Calendar tab's keys and what the calendar hands the rest of the console: notes and
//! reasons asked in a prompt, a duty's runbook opened in the wizard (the quarterly drill on
//! the newest good backup), the duty marked done when that run succeeds, overdue duties as
//! local alarms.

use chrono::Duration;

use crate::action::Action;
use crate::calendar::{Actor, CalendarEffect, RunbookRequest};
use crate::health::Severity;
use crate::runbook::engine::RunStatus;
use crate::runbook::spec::ParamKind;
use crate::state::prompt::{Prompt, PromptFor};
use crate::state::{Effect, Notice, State};

pub fn actor(state: &State) -> Actor {
    Actor {
        user: state.session.user.clone(),
        ssh_client: state.session.ssh_client.clone(),
    }
}

pub fn effects(fx: &mut Vec<Effect>, calendar: Vec<CalendarEffect>) {
    fx.extend(calendar.into_iter().map(Effect::Calendar));
}

/// Overdue duties become local alarms under the `calendar.` prefix.
pub fn findings(state: &mut State, fx: &mut Vec<Effect>) {
    let found = crate::calendar::findings(&state.calendar.book, state.now);
    for t in state.alarms.set_findings("calendar.", &found, state.now) {
        fx.push(Effect::RecordTransition(t));
    }
}

/// Marking a follow-up done runs its action (deletes the old access key): like the
/// mutating actions, read-only mode refuses it (at the one gate, `keys::apply_action`).
pub fn runs_action(state: &State, action: Action) -> bool {
    action == Action::Done
        && state.tab == crate::tab::Tab::Calendar
        && state.calendar.selected_action().is_some()
}

pub fn on_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) -> bool {
    let c = &mut state.calendar;
    if c.detail.is_some() {
        match action {
            Action::Back | Action::Select => c.close_detail(),
            Action::Up => c.detail_scroll(false),
            Action::Down => c.detail_scroll(true),
            Action::Run => run_duty(state, fx),
            _ => return false,
        }
        return true;
    }
    match action {
        Action::Up => c.select_prev(),
        Action::Down => c.select_next(),
        Action::Top => c.top(),
        Action::Bottom => c.bottom(),
        Action::Left => c.prev_day(),
        Action::Right => c.next_day(),
        Action::WeekPrev => c.prev_week(),
        Action::WeekNext => c.next_week(),
        Action::MonthPrev | Action::PageUp => c.prev_month(),
        Action::MonthNext | Action::PageDown => c.next_month(),
        Action::Today => c.jump_today(),
        Action::Select => c.open_detail(),
        Action::Back if !c.filter.is_empty() => c.set_filter(""),
        Action::Filter => {
            let current = c.filter.clone();
            state.prompt = Some(Prompt::new(
                PromptFor::CalendarFilter,
                "Filter the duties".into(),
                "Words in a duty's title or id (empty: every duty)",
                &current,
            ));
        }
        Action::Done | Action::Skip | Action::Snooze => ask(state, action),
        Action::Run => run_duty(state, fx),
        _ => return false,
    }
    true
}

/// Done, skip and snooze ask first: a note, a reason, how long.
fn ask(state: &mut State, action: Action) {
    let Some(o) = state.calendar.selected_row() else {
        state.notice = Some(Notice {
            text: "no duty selected".into(),
            severity: Severity::Unknown,
        });
        return;
    };
    let title = state.calendar.book.duties[o.duty].title.clone();
    let when = state.zone.show(o.at);
    state.prompt = Some(match action {
        Action::Done => Prompt::new(
            PromptFor::DutyDone,
            format!("Done: {title} ({when})"),
            "A note for the history (optional)",
            "",
        ),
        Action::Skip => Prompt::new(
            PromptFor::DutySkip,
            format!("Skip: {title} ({when})"),
            "Why it is skipped this time",
            "",
        )
        .required(),
        _ => Prompt::new(
            PromptFor::DutySnooze,
            format!("Snooze: {title} ({when})"),
            "For how long (30m, 2h, 1d)",
            "1h",
        )
        .required(),
    });
}

/// The prompt's answer for one of the calendar's questions.
pub fn answer(
    state: &mut State,
    purpose: PromptFor,
    text: &str,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    let by = actor(state);
    let c = &mut state.calendar;
    let out = match purpose {
        PromptFor::DutyDone => c.done(text, &by),
        PromptFor::DutySkip => c.skip(text, &by),
        PromptFor::DutySnooze => {
            let d = humantime::parse_duration(text.trim())
                .map_err(|e| format!("`{}` is not a duration like 30m or 2h: {e}", text.trim()))?;
            let d = Duration::from_std(d).map_err(|e| e.to_string())?;
            c.snooze(d, &by)
        }
        PromptFor::CalendarFilter => {
            c.set_filter(text.trim());
            Vec::new()
        }
        _ => return Ok(()),
    };
    effects(fx, out);
    Ok(())
}

/// Opens the selected duty's runbook with its parameters; a backup of `newest-good` is the
/// newest good backup the runbook accepts.
fn run_duty(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(req) = state.calendar.runbook_request() else {
        state.notice = Some(Notice {
            text: "this duty names no runbook".into(),
            severity: Severity::Unknown,
        });
        return;
    };
    let mut params = req.link.params.clone();
    if req.link.backup.as_deref() == Some("newest-good") {
        match newest_good_backup(state, &req) {
            Some((name, path)) => {
                params.insert(name, path);
            }
            None => {
                state.notice = Some(Notice {
                    text: format!(
                        "no good backup that `{}` can restore is in the catalog",
                        req.link.name
                    ),
                    severity: Severity::Warning,
                });
                return;
            }
        }
    }
    let name = req.link.name.clone();
    let drill = req.link.drill;
    state.duty_run = Some((req, None));
    super::runbooks::open_runbook(state, &name, params, drill, false, fx);
}

/// The runbook's backup parameter and the newest good backup it accepts.
fn newest_good_backup(state: &State, req: &RunbookRequest) -> Option<(String, String)> {
    let spec = state.runbooks.iter().find(|b| b.name == req.link.name)?;
    let param = spec.params.iter().find(|p| p.kind == ParamKind::Backup)?;
    let best = state
        .backups
        .rows()
        .filter(|b| b.newest_good)
        .filter(|b| param.validate(&b.path.display().to_string()).is_ok())
        .max_by_key(|b| b.time)?;
    Some((param.name.clone(), best.path.display().to_string()))
}

/// Called when the open run changes: remembers the run started for a duty, and marks the
/// duty done when that run succeeds.
pub fn on_run_update(state: &mut State, fx: &mut Vec<Effect>) {
    let Some((req, run_id)) = state.duty_run.as_mut() else {
        return;
    };
    let Some(w) = state.wizard.as_deref() else {
        if run_id.is_some() {
            // The run's wizard closed without finishing: the duty stays as it was.
            state.duty_run = None;
        }
        return;
    };
    if w.engine.spec.name != req.link.name || w.engine.state.opts.dry_run {
        return;
    }
    let id = w.engine.state.run_id.clone();
    match run_id {
        None => *run_id = Some(id.clone()),
        Some(r) if *r != id => return,
        Some(_) => {}
    }
    match w.engine.state.status {
        RunStatus::Succeeded => {
            let req = req.clone();
            let by = actor(state);
            let out = state.calendar.run_finished(&req, &id, &by);
            effects(fx, out);
            state.duty_run = None;
        }
        s if s.is_finished() => state.duty_run = None,
        _ => {}
    }
}
