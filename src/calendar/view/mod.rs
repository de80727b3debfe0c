//! The Calendar tab's blocks: the month grid (`month`), the agenda (`agenda`), a duty's
//! detail with its history (`detail`), and [`render`] laying them out for the tab. Every
//! state is drawn with a symbol as well as a colour, so it reads in 16 colours and with
//! NO_COLOR alike. Pure functions of the state; no key hints (the console draws those).

pub mod agenda;
pub mod detail;
pub mod month;

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Borders, Clear};
use ratatui::Frame;

use super::book::OccState;
use super::state::CalendarState;
use crate::config::theme::Theme;

/// The whole tab: the month grid and a summary on the left, the agenda on the right, the
/// open duty's detail over the agenda.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &CalendarState,
    theme: &Theme,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) {
    let left_w = month::width_for(area);
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_w), Constraint::Min(20)]).areas(area);
    month::render(frame, left, state, theme, now, tz);
    if state.detail.is_some() {
        frame.render_widget(Clear, right);
        detail::render(frame, right, state, theme, now, tz);
    } else {
        agenda::render(frame, right, state, theme, now, tz);
    }
}

/// The style a state is drawn in.
pub fn state_style(theme: &Theme, s: OccState) -> Style {
    theme.style(match s {
        OccState::Overdue => "calendar.overdue",
        OccState::Due | OccState::Snoozed => "calendar.due",
        OccState::Missed => "calendar.missed",
        OccState::Done | OccState::Skipped => "calendar.done",
        OccState::Upcoming => "calendar.upcoming",
    })
}

fn panel<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Plain)
        .border_style(theme.style("border"))
        .title(Span::styled(format!(" {title} "), theme.style("title")))
}

/// `s` cut to `width` columns, with an ellipsis when cut.
fn fit(s: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// `s` padded with spaces (or cut) to exactly `width` columns.
fn pad(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    let s = fit(s, width);
    let w = s.width();
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// A duration as the agenda says it: `45m`, `3h`, `2d`.
fn short(d: chrono::Duration) -> String {
    let m = d.num_minutes().max(0);
    if m < 60 {
        format!("{m}m")
    } else if m < 48 * 60 {
        format!("{}h", m / 60)
    } else {
        format!("{}d", m / 1440)
    }
}
