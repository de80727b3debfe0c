//! Keys become actions through the active keymap, looked up in the contexts of whatever has
//! the focus (help, a modal, the tab); every action then passes [`apply_action`], the one
//! place read-only mode is enforced.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tabs;
use crate::action::Action;
use crate::config::keymap::{Key, KeyContext, KeyResult};
use crate::health::Severity;
use crate::state::{Effect, HelpState, Notice, State};

/// Where keys are looked up now, most specific first (`Global` is always tried last).
pub fn key_contexts(state: &State) -> Vec<KeyContext> {
    if state.help.is_some() {
        return vec![KeyContext::Help];
    }
    if state.prompt.is_some() {
        return vec![KeyContext::Input];
    }
    if state.form.is_some() {
        return vec![KeyContext::Form];
    }
    if state.wizard.is_some() && !state.wizard_hidden {
        return vec![KeyContext::Wizard];
    }
    if state.picker.is_some() {
        return vec![KeyContext::Picker, KeyContext::List];
    }
    tabs::def(state.tab).contexts.to_vec()
}

/// Returns whether the screen must be redrawn.
pub fn on_key(state: &mut State, event: KeyEvent, fx: &mut Vec<Effect>) -> bool {
    let key = Key::from(event);
    // Ctrl-C always quits, whatever the keymap says, so nobody is ever stuck.
    if key.mods.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        state.quit = true;
        return false;
    }
    let had_notice = state.notice.take().is_some();
    // Text typed into a field goes there first.
    if state.help.is_none() && state.pending.is_empty() {
        if state.prompt.is_some() {
            if super::prompt::on_key(state, event) {
                super::logs::typed(state, fx);
                return true;
            }
        } else if let Some(f) = state.form.as_mut() {
            if f.on_key(event) {
                return true;
            }
        } else if let Some(w) = state.wizard.as_mut().filter(|_| !state.wizard_hidden) {
            if w.on_key(event) {
                return true;
            }
        }
    }
    let contexts = key_contexts(state);
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
    if state.read_only && (action.is_mutating() || super::calendar::runs_action(state, action)) {
        state.notice = Some(Notice {
            text: format!("read-only mode: `{action}` changes something and is not available"),
            severity: Severity::Warning,
        });
        return;
    }
    if action != Action::Quit {
        state.quit_armed = false;
    }
    if let Some(help) = state.help.as_mut() {
        let page = super::view::help::visible_rows(state.screen.1).max(1);
        let total = super::view::help::rows(&state.keymap, &help.contexts).len() as u16;
        let last = total.saturating_sub(page);
        match action {
            // In a popup, quitting means closing the popup.
            Action::Back | Action::Help | Action::Quit => state.help = None,
            Action::Up => help.scroll = help.scroll.saturating_sub(1),
            Action::Down => help.scroll = help.scroll.saturating_add(1),
            Action::PageUp => help.scroll = help.scroll.saturating_sub(page),
            Action::PageDown => help.scroll = help.scroll.saturating_add(page),
            Action::Top => help.scroll = 0,
            Action::Bottom => help.scroll = last,
            _ => {}
        }
        if let Some(help) = state.help.as_mut() {
            help.scroll = help.scroll.min(last);
        }
        return;
    }
    if state.prompt.is_some() {
        super::prompt::on_action(state, action, fx);
        return;
    }
    if state.form.is_some() {
        super::runbooks::form_action(state, action, fx);
        return;
    }
    if state.wizard.is_some() && !state.wizard_hidden {
        super::runbooks::wizard_action(state, action, fx);
        return;
    }
    if state.picker.is_some() {
        super::runbooks::picker_action(state, action, fx);
        return;
    }
    // A container action's confirmation answers every key until it is answered.
    if state.services.confirm.is_some() && state.tab == crate::tab::Tab::Services {
        super::services::on_action(state, action, fx);
        return;
    }
    match action {
        Action::Quit => quit(state),
        Action::Help => open_help(state),
        Action::TabNext => state.tab = state.tab.next(),
        Action::TabPrev => state.tab = state.tab.prev(),
        Action::Tab(t) => state.tab = t,
        Action::Refresh => {
            for (id, _) in state.providers.iter() {
                fx.push(Effect::Refresh(id.clone()));
            }
        }
        Action::Runbooks if state.wizard.is_some() => state.wizard_hidden = false,
        Action::Runbooks => super::runbooks::open_picker(state),
        other => {
            if !(tabs::def(state.tab).on_action)(state, other, fx) {
                unhandled(state, other);
            }
        }
    }
}

/// Quits, unless a run is open: then the first press says what happens to it.
pub fn quit(state: &mut State) {
    let open = state
        .wizard
        .as_ref()
        .is_some_and(|w| !w.engine.state.status.is_finished());
    if open && !state.quit_armed {
        state.quit_armed = true;
        let key = state
            .keymap
            .key_for(&[KeyContext::Global], Action::Quit)
            .unwrap_or_else(|| "q".into());
        state.notice = Some(Notice {
            text: format!(
                "a run is open: press {key} again to quit — it is kept, and offered again at the next start"
            ),
            severity: Severity::Warning,
        });
        return;
    }
    state.quit = true;
}

/// An action the current tab has no use for: say where it does something, when that helps.
fn unhandled(state: &mut State, action: Action) {
    if matches!(action, Action::Restore | Action::Drill | Action::DryRun) {
        let tab = crate::tab::Tab::Backups;
        let key = super::hints::tab_key(&state.keymap, tab)
            .map(|k| format!(" ({k})"))
            .unwrap_or_default();
        let runbooks = state
            .keymap
            .key_for(&[KeyContext::Global], Action::Runbooks)
            .map(|k| format!("; {k} lists every runbook"))
            .unwrap_or_default();
        state.notice = Some(Notice {
            text: format!(
                "select a backup on the {} tab{key} to restore or drill it{runbooks}",
                tab.title()
            ),
            severity: Severity::Unknown,
        });
    }
}

/// The Backups tab: move through the catalog, verify, restore or drill the selection.
pub fn backups_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) -> bool {
    let b = &mut state.backups;
    match action {
        Action::Up => b.select_prev(),
        Action::Down => b.select_next(),
        Action::PageUp => b.page_up(10),
        Action::PageDown => b.page_down(10),
        Action::Top => b.select_first(),
        Action::Bottom => b.select_last(),
        Action::Select if b.selected().is_some() => b.detail = !b.detail,
        Action::Back if b.detail => b.detail = false,
        Action::Restore | Action::Drill => {
            super::runbooks::restore_selected(state, action == Action::Drill, fx)
        }
        Action::Verify | Action::VerifyAll if !b.configured => {
            state.notice = Some(Notice {
                text: "no backup catalog configured: add [backups] roots to config.toml".into(),
                severity: Severity::Unknown,
            });
        }
        Action::Verify => match b.verify_selected_target() {
            Some(t) => fx.push(Effect::Verify(t)),
            None => {
                state.notice = Some(Notice {
                    text: "no backup selected".into(),
                    severity: Severity::Unknown,
                })
            }
        },
        Action::VerifyAll => fx.push(Effect::Verify(b.verify_service_target())),
        Action::Cancel if b.verify.is_some() => fx.push(Effect::CancelVerify),
        _ => return false,
    }
    true
}

/// Help opens on the keys of where the operator is.
pub fn open_help(state: &mut State) {
    let contexts = key_contexts(state);
    state.help = Some(HelpState {
        scroll: 0,
        contexts,
    });
}
