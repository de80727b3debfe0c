//! The alarm's last state changes, newest first, times in the configured zone.

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::alarms::detail::{Detail, Load};
use crate::config::theme::Theme;

use super::{block, clock, fit, state_style};

pub fn render(
    frame: &mut Frame,
    area: Rect,
    detail: &Detail,
    theme: &Theme,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) {
    let b = block("History".into(), theme);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let w = inner.width as usize;
    let lines: Vec<Line> = match &detail.history {
        Load::Loading => vec![Line::from(Span::styled(
            "loading…",
            theme.style("text.dim"),
        ))],
        Load::Failed(e) => vec![Line::from(Span::styled(
            fit(&format!("history unavailable: {e}"), w),
            theme.style("status.warn"),
        ))],
        Load::None(why) => vec![Line::from(Span::styled(why.clone(), theme.style("empty")))],
        Load::Ready(items) if items.is_empty() => vec![Line::from(Span::styled(
            "no state change recorded",
            theme.style("empty"),
        ))],
        Load::Ready(items) => items
            .iter()
            .take(inner.height as usize)
            .map(|h| {
                let when = format!("{:>11} ", clock(h.at, now, tz));
                let style =
                    h.to.map(|s| state_style(s, theme))
                        .unwrap_or_else(|| theme.style("text"));
                Line::from(vec![
                    Span::styled(when, theme.style("text.dim")),
                    Span::styled(fit(&h.summary, w.saturating_sub(12)), style),
                ])
            })
            .collect(),
    };
    frame.render_widget(Paragraph::new(lines), inner);
}
