//! The whole screen, drawn from the state: the tab bar, the current tab (through the
//! registry), the modals over it, the footer. A pure function of state and theme; nothing
//! here awaits, reads a file or allocates per row of a large buffer.

pub mod alarms;
pub mod footer;
pub mod help;
pub mod overview;
pub mod picker;
pub mod tabs_bar;

use ratatui::layout::{Constraint, Layout};
use ratatui::Frame;

use crate::config::theme::Theme;
use crate::state::State;

pub fn render(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    frame.render_widget(
        ratatui::widgets::Block::default().style(theme.style("text")),
        area,
    );
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    tabs_bar::render(frame, top, state, theme);
    match &state.wizard {
        Some(w) if !state.wizard_hidden => {
            let hints = super::runbooks::wizard_hints(state);
            crate::runbook::wizard::view::render(frame, body, w, theme, &hints, state.now)
        }
        _ => (super::tabs::def(state.tab).view)(frame, body, state, theme),
    }
    if let Some(p) = &state.picker {
        let hints = picker::hints(state);
        picker::render(frame, body, p, theme, &hints);
    }
    if let Some(f) = &state.form {
        let hints = super::runbooks::form_hints(state);
        crate::runbook::wizard::form_view::render(frame, body, f, theme, &hints);
    }
    if let Some(p) = &state.prompt {
        super::prompt::render(frame, body, p, theme, state);
    }
    footer::render(frame, bottom, state, theme);
    if let Some(h) = &state.help {
        help::render(frame, body, &state.keymap, h, theme);
    }
}
