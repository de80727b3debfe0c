//! The Alarms capability's drawn blocks, one file each: the list of every source's alarms,
//! the detail view (header, chart with the threshold line, history, acknowledgement and
//! runbook), the Alertmanager silences, and the top-bar summary. Pure functions of the state;
//! no key hints (the console draws those from the keymap).

pub mod chart;
pub mod detail;
pub mod history;
pub mod list;
pub mod silences;
pub mod top_bar;

use chrono::{DateTime, TimeDelta, Utc};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};
use unicode_width::UnicodeWidthStr;

use crate::config::alarms::Priority;
use crate::config::theme::Theme;

use super::model::AlarmState;

/// Ages with minute granularity (an idle screen changes at most once a minute).
pub fn age(d: TimeDelta) -> String {
    let m = d.num_minutes();
    if m < 1 {
        "<1m".into()
    } else if m < 60 {
        format!("{m}m")
    } else if m < 48 * 60 {
        let (h, rest) = (m / 60, m % 60);
        if h < 10 && rest > 0 {
            format!("{h}h{rest:02}m")
        } else {
            format!("{h}h")
        }
    } else {
        format!("{}d", m / (24 * 60))
    }
}

/// `s` cut to `width` columns, with an ellipsis when cut (the one all views use).
pub use crate::ui::widgets::format::fit;

/// `s` cut or padded to exactly `width` columns.
pub fn pad(s: &str, width: usize) -> String {
    let mut f = fit(s, width);
    let w = f.width();
    f.extend(std::iter::repeat_n(' ', width.saturating_sub(w)));
    f
}

/// [`pad`], cut in the middle: alarm names often differ only at their end.
pub fn pad_middle(s: &str, width: usize) -> String {
    let mut f = crate::ui::widgets::format::fit_middle(s, width);
    let w = f.width();
    f.extend(std::iter::repeat_n(' ', width.saturating_sub(w)));
    f
}

pub fn state_style(s: AlarmState, theme: &Theme) -> Style {
    theme.style(match s {
        AlarmState::Firing => "alarm.firing",
        AlarmState::InsufficientData => "alarm.nodata",
        AlarmState::Ok => "alarm.ok",
    })
}

pub fn state_span(s: AlarmState, theme: &Theme) -> Span<'static> {
    Span::styled(format!("{:<6}", s.short()), state_style(s, theme))
}

pub fn priority_span(p: Priority, theme: &Theme) -> Span<'static> {
    let el = match p {
        Priority::P1 => "alarm.p1",
        Priority::P2 => "alarm.p2",
        Priority::P3 => "alarm.p3",
        Priority::P4 => "alarm.p4",
    };
    Span::styled(p.as_str().to_string(), theme.style(el))
}

pub fn block<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border"))
        .title(Span::styled(format!(" {title} "), theme.style("title")))
}

/// A time in the configured zone: `HH:MM` today, `MM-DD HH:MM` otherwise.
pub fn clock(t: DateTime<Utc>, now: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let local = t.with_timezone(&tz);
    if local.date_naive() == now.with_timezone(&tz).date_naive() {
        local.format("%H:%M").to_string()
    } else {
        local.format("%m-%d %H:%M").to_string()
    }
}

/// A number in at most 6 columns: 0.0123, 12.5, 1234, 1.2M.
pub fn num(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_fits() {
        assert_eq!(num(0.5), "0.500");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(num(123456.0), "123k");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("日本語", 4), "日… ");
    }
}
