//! The Services tab's keys and what the services hand the rest of the console: the
//! confirmation before a container action (Cancel focused; the action itself passed the
//! read-only gate in `keys`), the filter prompt, stats for the rows on screen at the
//! screen's pace, and the services' findings as local alarms.

use crate::action::Action;
use crate::health::Severity;
use crate::services::state::{Confirm, ContainerOp, Detail, ServicesEffect, ServicesMsg};
use crate::state::prompt::{Prompt, PromptFor};
use crate::state::{Effect, Notice, State};
use crate::tab::Tab;

/// Rows of the list that fit on the screen (the terminal's height less the bars and the
/// tab's own chrome).
pub fn list_height(state: &State) -> usize {
    use crate::services::view::list::{engine_rows, CHROME};
    // An engine that is down may take more than the one engines row CHROME counts.
    let inner = state.screen.0.saturating_sub(2) as usize;
    let engines = engine_rows(&state.services, state.now, inner).len();
    (state.screen.1 as usize).saturating_sub(2 + CHROME as usize + engines.saturating_sub(1))
}

pub fn on_msg(state: &mut State, m: ServicesMsg, fx: &mut Vec<Effect>) {
    let outages = |s: &crate::services::ServicesState| -> Vec<_> {
        s.checks
            .iter()
            .map(|c| (c.name.clone(), c.outages.last().copied()))
            .collect()
    };
    let restored = matches!(m, ServicesMsg::Outages(_));
    let before = outages(&state.services);
    state.services.apply(m);
    // Transitions only (an outage began or ended), not every probe; after a restore every
    // outage as merged, so a join of stored and new ones is kept.
    for (c, was) in state.services.checks.iter().zip(before) {
        let changed: Vec<_> = if restored {
            c.outages.clone()
        } else {
            c.outages
                .last()
                .copied()
                .filter(|o| Some(*o) != was.1)
                .into_iter()
                .collect()
        };
        for outage in changed {
            fx.push(Effect::Services(ServicesEffect::RecordOutage {
                service: c.name.clone(),
                outage,
            }));
        }
    }
    findings(state, fx);
}

/// A container engine's provider reported: the tab and the card say when it is down, why,
/// and how old its data is.
pub fn on_health(state: &mut State, id: &crate::providers::ProviderId) {
    use crate::providers::health::Freshness;
    if id.kind() != "docker" {
        return;
    }
    let name = id.name().split_once(':').map_or("", |(_, n)| n).to_string();
    let Some(h) = state.providers.get(id) else {
        return;
    };
    match h.freshness(state.now) {
        Freshness::Down { reason, .. } => {
            let last_ok = h.last_ok;
            state
                .services
                .engines_down
                .insert(name, crate::services::state::EngineDown { reason, last_ok });
        }
        _ => {
            state.services.engines_down.remove(&name);
        }
    }
}

/// The services' findings become local alarms under the `services.` prefix.
pub fn findings(state: &mut State, fx: &mut Vec<Effect>) {
    let found = crate::services::findings::findings(&state.services, state.now, state.zone.tz());
    for t in state.alarms.set_findings("services.", &found, state.now) {
        fx.push(Effect::RecordTransition(t));
    }
}

/// On each tick: CPU and memory of the containers on screen, at most once per
/// `stats_interval`; nothing while no container is on screen.
pub fn on_tick(state: &mut State, fx: &mut Vec<Effect>) {
    let s = &state.services;
    let visible = match state.tab {
        Tab::Services if s.detail.is_none() => s.visible_running(s.offset, list_height(state)),
        Tab::Overview => s.visible_running(0, (state.screen.1 / 4) as usize),
        _ => Vec::new(),
    };
    if let Some(e) = state.services.stats_due(state.now, visible) {
        fx.push(Effect::Services(e));
    }
    // Restart loops age out and certificates count down with time alone.
    findings(state, fx);
}

/// The container's logs (the detail's, else the selected row's) in the Logs tab.
fn open_logs(state: &mut State, detail: bool, fx: &mut Vec<Effect>) {
    let s = &state.services;
    let c = if detail {
        s.detail_container()
    } else {
        s.selected_container()
    };
    match c.map(|c| format!("{}{}", crate::logs::container::PREFIX, c.name)) {
        Some(src) => super::logs::show_source(state, &src, fx),
        None => state.services.notice = Some("no container selected".into()),
    }
}

pub fn on_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) -> bool {
    state.services.notice = None;
    if state.services.confirm.is_some() {
        confirm_action(state, action, fx);
        return true;
    }
    let height = list_height(state);
    let s = &mut state.services;
    if s.detail.is_some() {
        match action {
            Action::Back | Action::Select => s.detail = None,
            Action::OpenLogs => open_logs(state, true, fx),
            Action::ContainerRestart | Action::ContainerStop | Action::ContainerStart => {
                ask(state, action)
            }
            _ => return false,
        }
        return true;
    }
    match action {
        Action::Up => s.move_by(-1),
        Action::Down => s.move_by(1),
        Action::PageUp => s.move_by(-(height.max(1) as isize)),
        Action::PageDown => s.move_by(height.max(1) as isize),
        Action::Top => s.to_end(false),
        Action::Bottom => s.to_end(true),
        Action::Sort => {
            s.sort = s.sort.next();
            s.selected = 0;
            s.offset = 0;
        }
        Action::Back if !s.filter.is_empty() => s.set_filter(""),
        Action::Filter => {
            let current = s.filter.clone();
            state.prompt = Some(Prompt::new(
                PromptFor::ServicesFilter,
                "Filter the services".into(),
                "Words in a name, project, service or image (empty: all)",
                &current,
            ));
        }
        Action::Select => match s.selected_container() {
            Some(c) => {
                let (engine, id) = (c.engine.clone(), c.id.clone());
                s.detail = Some(Detail {
                    id: id.clone(),
                    logs: None,
                });
                fx.push(Effect::Services(ServicesEffect::Logs { engine, id }));
            }
            None => return true,
        },
        Action::ContainerRestart | Action::ContainerStop | Action::ContainerStart => {
            ask(state, action)
        }
        Action::OpenLogs => {
            open_logs(state, false, fx);
            return true;
        }
        _ => return false,
    }
    state.services.scroll_to_selection(height);
    true
}

/// Opens the confirmation for the container in the detail or under the cursor.
fn ask(state: &mut State, action: Action) {
    let op = match action {
        Action::ContainerRestart => ContainerOp::Restart,
        Action::ContainerStop => ContainerOp::Stop,
        _ => ContainerOp::Start,
    };
    let s = &state.services;
    let target = if s.detail.is_some() {
        s.detail_container()
    } else {
        s.selected_container()
    };
    let Some(c) = target else {
        state.notice = Some(Notice {
            text: "select a container first".into(),
            severity: Severity::Unknown,
        });
        return;
    };
    state.services.confirm = Some(Confirm {
        op,
        engine: c.engine.clone(),
        id: c.id.clone(),
        name: c.name.clone(),
        yes_focused: false,
    });
}

fn confirm_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let Some(c) = state.services.confirm.as_mut() else {
        return;
    };
    let go = match action {
        Action::Left | Action::Right | Action::TabNext | Action::TabPrev => {
            c.yes_focused = !c.yes_focused;
            return;
        }
        Action::Confirm => true,
        Action::Select => c.yes_focused,
        Action::Deny | Action::Back | Action::Cancel | Action::Quit => false,
        _ => return,
    };
    let c = state.services.confirm.take().expect("checked above");
    // The gate refused the key that opened this in read-only mode; never act there anyway.
    if !go || state.read_only {
        return;
    }
    state.services.notice = Some(format!("{} {}…", c.op.verb(), c.name));
    fx.push(Effect::Services(ServicesEffect::Act {
        op: c.op,
        engine: c.engine,
        id: c.id,
        name: c.name,
        user: state.session.user.clone(),
        ssh_client: state.session.ssh_client.clone(),
    }));
}
