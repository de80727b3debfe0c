//! Rendering: a pure function of state and theme. One file per drawn block; nothing here
//! awaits, reads a file or allocates per row of a large buffer.

pub mod alarms;
pub mod backups;
pub mod empty;
pub mod followups;
pub mod footer;
pub mod help;
pub mod overview;
pub mod picker;
pub mod tabs_bar;
pub mod widgets;
pub mod wizard;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::Frame;

use crate::config::theme::Theme;
use crate::state::tabs::Tab;
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
        Some(w) => wizard::render(frame, body, w, theme),
        None => render_tab(frame, body, state, theme),
    }
    if let Some(p) = &state.picker {
        picker::render(frame, body, p, theme);
    }
    footer::render(frame, bottom, state, theme);
    if let Some(h) = &state.help {
        help::render(frame, body, &state.keymap, h, theme);
    }
}

fn render_tab(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    match state.tab {
        Tab::Overview => overview::render(frame, area, state, theme),
        Tab::Alarms => alarms::render(frame, area, state, theme),
        Tab::Backups => backups::render(frame, area, &state.backups, theme, state.now),
        Tab::Logs => empty::render(frame, area, &empty::LOGS, theme),
        Tab::Calendar if !state.followups.is_empty() => {
            followups::render(frame, area, state, theme)
        }
        Tab::Calendar => empty::render(frame, area, &empty::CALENDAR, theme),
    }
}
