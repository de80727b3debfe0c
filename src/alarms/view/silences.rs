//! Alertmanager's silences of every source: active and pending first, with who made them,
//! until when, for what (matchers) and why (comment).

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::alarms::state::AlarmsState;
use crate::config::theme::Theme;

use super::{block, clock, fit, pad};

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &AlarmsState,
    theme: &Theme,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) {
    let selected = state.silences_open.unwrap_or(usize::MAX);
    let all = state.silences();
    let b = block(format!("Silences ({})", all.len()), theme);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let w = inner.width as usize;
    if all.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "No Alertmanager silences.",
                theme.style("empty"),
            )),
            inner,
        );
        return;
    }
    let room = inner.height as usize;
    let offset = state
        .silences_open
        .unwrap_or(0)
        .saturating_sub(room.saturating_sub(1));
    let lines: Vec<Line> = all
        .iter()
        .enumerate()
        .skip(offset)
        .take(room)
        .map(|(i, (src, s))| {
            let style = if s.state == "active" {
                "text"
            } else {
                "text.dim"
            };
            let matchers = s
                .matchers
                .iter()
                .map(|m| m.text())
                .collect::<Vec<_>>()
                .join(",");
            let text = format!(
                "{} {} until {:>11}  {}  {}  {}",
                pad(&s.state, 7),
                pad(src.name(), 18),
                clock(s.ends, now, tz),
                pad(&s.created_by, 18),
                s.comment,
                matchers
            );
            let line = Line::from(Span::styled(fit(&text, w), theme.style(style)));
            if i == selected {
                line.style(theme.style("selection"))
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
