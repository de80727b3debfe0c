//! The Logs tab's keys and what the logs hand the rest of the console: the filter applied
//! as it is typed in the prompt (Esc puts the old one back), a file opened by path, and
//! sources over the errors-per-hour threshold as local alarms.

use crate::action::Action;
use crate::logs::update as logs;
use crate::state::prompt::{Prompt, PromptFor};
use crate::state::{Effect, State};

pub fn effects(fx: &mut Vec<Effect>, out: Vec<crate::logs::LogsEffect>) {
    fx.extend(out.into_iter().map(Effect::Logs));
}

/// Rows the Logs body has on this screen: tab bar, panel borders, status, strip, hints and
/// the footer take the rest.
fn page(state: &State) -> usize {
    (state.screen.1 as usize).saturating_sub(8).max(1)
}

pub fn on_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) -> bool {
    let page = page(state);
    let mut out = Vec::new();
    if state.logs.insights.is_some() {
        let now = state.now;
        let taken = super::logs_insights::on_action(&mut state.logs, action, page, now, &mut out);
        effects(fx, out);
        return taken;
    }
    let l = &mut state.logs;
    l.page = page;
    match action {
        Action::Up => l.scroll(-1),
        Action::Down => l.scroll(1),
        Action::PageUp => l.scroll(-(page as isize)),
        Action::PageDown => l.scroll(page as isize),
        Action::Top => l.to_top(),
        Action::Bottom => l.live(),
        Action::Follow => l.toggle_follow(),
        Action::Wrap => {
            l.wrap = !l.wrap;
            l.hscroll = 0;
        }
        Action::Left if !l.wrap => l.hscroll = l.hscroll.saturating_sub(8),
        Action::Right if !l.wrap => l.hscroll += 8,
        Action::SearchNext | Action::SearchPrev => {
            if !l.find(action == Action::SearchNext) {
                state.notice = Some(crate::state::Notice {
                    text: if l.matcher().is_some() {
                        "no other line matches".into()
                    } else {
                        "no filter to search for: / sets one".into()
                    },
                    severity: crate::health::Severity::Unknown,
                });
            }
        }
        Action::Level => logs::cycle_level(l, &mut out),
        Action::SourceNext => logs::next_source(l, &mut out),
        Action::Insights => {
            l.insights = Some(crate::logs::state::Insights::List { selected: 0 });
        }
        Action::JumpTime => {
            state.prompt = Some(
                Prompt::new(
                    PromptFor::LogsJump,
                    "Jump to a time".into(),
                    "HH:MM (today), -15m (that long ago) or 2026-12-03T07:00",
                    "",
                )
                .required(),
            );
        }
        Action::Back if !l.filter.is_empty() || l.level().is_some() => {
            l.query.level = None;
            logs::set_filter(l, "", &mut out);
            logs::restart_search(l, &mut out);
        }
        Action::Filter => {
            let current = l.filter.clone();
            l.filter_before = Some(current.clone());
            state.prompt = Some(Prompt::new(
                PromptFor::LogsFilter,
                "Filter the lines".into(),
                "Text (any case unless it has capitals) or a regex; applied as you type",
                &current,
            ));
        }
        Action::Open => {
            state.prompt = Some(
                Prompt::new(
                    PromptFor::LogsOpen,
                    "Open a log source".into(),
                    "A file's path, container:NAME, journal:PATH or cw:GROUP[:STREAM]",
                    "",
                )
                .required(),
            );
        }
        _ => return false,
    }
    effects(fx, out);
    true
}

/// A key went into the prompt: the filter follows what is typed.
pub fn typed(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(p) = state
        .prompt
        .as_ref()
        .filter(|p| p.purpose == PromptFor::LogsFilter)
    else {
        return;
    };
    let text = p.value();
    let mut out = Vec::new();
    logs::set_filter(&mut state.logs, &text, &mut out);
    effects(fx, out);
}

/// Esc in the filter prompt: the filter from before it opened.
pub fn cancelled(state: &mut State, fx: &mut Vec<Effect>) {
    if state.prompt.as_ref().map(|p| &p.purpose) != Some(&PromptFor::LogsFilter) {
        return;
    }
    if let Some(before) = state.logs.filter_before.take() {
        let mut out = Vec::new();
        logs::set_filter(&mut state.logs, &before, &mut out);
        effects(fx, out);
    }
}

pub fn answer(
    state: &mut State,
    purpose: PromptFor,
    text: &str,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    let mut out = Vec::new();
    match purpose {
        PromptFor::LogsFilter => {
            state.logs.filter_before = None;
            logs::set_filter(&mut state.logs, text, &mut out);
        }
        PromptFor::LogsJump => {
            let at = crate::logs::jump::parse_target(text, state.now, state.zone.tz())?;
            state.logs.page = page(state);
            crate::logs::jump::jump(&mut state.logs, at)?;
        }
        _ => logs::open(&mut state.logs, text, &mut out),
    }
    effects(fx, out);
    Ok(())
}

/// Another tab's "its logs" key: the source (`container:NAME`, a file, `cw:GROUP`) opened
/// or selected in the Logs tab, which comes to the front.
pub fn show_source(state: &mut State, path: &str, fx: &mut Vec<Effect>) {
    let mut out = Vec::new();
    let l = &mut state.logs;
    l.insights = None;
    match l.sources.iter().position(|v| v.name == path) {
        Some(i) => logs::select_source(l, i, &mut out),
        None => logs::open(l, path, &mut out),
    }
    state.tab = crate::tab::Tab::Logs;
    effects(fx, out);
}

/// Sources over the threshold this hour become local alarms under `logs.`.
pub fn findings(state: &mut State, fx: &mut Vec<Effect>) {
    let found = logs::findings(&state.logs, state.now);
    for t in state.alarms.set_findings("logs.", &found, state.now) {
        fx.push(Effect::RecordTransition(t));
    }
}

/// A report from a log source or a search.
pub fn on_msg(state: &mut State, m: crate::logs::LogsMsg, fx: &mut Vec<Effect>) {
    let alarms = !matches!(m, crate::logs::LogsMsg::Rows { .. });
    state.logs.page = page(state);
    let out = logs::update(&mut state.logs, m);
    effects(fx, out);
    if alarms {
        findings(state, fx);
    }
}
