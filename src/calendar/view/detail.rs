//! One duty in full: when it recurs and in which zone, when it turns overdue, the runbook
//! it starts (and how: as a drill, on the newest good backup), what to do and its
//! checklist, then its history, newest first: who did it from where and when, with the
//! note; skips with their reason; missed occurrences.

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{fit, panel, short, state_style};
use crate::calendar::book::OccState;
use crate::calendar::model::Origin;
use crate::calendar::state::CalendarState;
use crate::config::theme::Theme;
use crate::sanitize::strip_escapes;

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &CalendarState,
    theme: &Theme,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) {
    let Some(detail) = &state.detail else {
        return;
    };
    let Some(d) = state.book.duties.get(detail.duty) else {
        return;
    };
    let block = panel(strip_escapes(&d.title), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let label = |l: &str| Span::styled(format!("{l:<10}"), theme.style("text.dim"));
    let text = |t: String| Span::styled(t, theme.style("text"));

    let origin = match &d.origin {
        Origin::Preset { name } => format!("preset {name}"),
        Origin::Config => "config.toml".into(),
        Origin::Followup {
            created_by_run: Some(run),
            ..
        } => format!("follow-up of run {run}"),
        Origin::Followup { .. } => "follow-up".into(),
    };
    let mut lines = vec![
        Line::from(vec![label("Duty"), text(format!("{} ({origin})", d.id))]),
        Line::from(vec![
            label("When"),
            text(format!("{} · {}", d.schedule, d.zone.name())),
        ]),
        Line::from(vec![
            label("Overdue"),
            text(format!(
                "{} after it is due{}",
                short(d.grace),
                if d.alarm {
                    format!(" · raises a {} alarm", d.severity.label().to_lowercase())
                } else {
                    " · raises no alarm".into()
                }
            )),
        ]),
    ];
    if let Some(r) = &d.runbook {
        let mut how = r.name.clone();
        if r.drill {
            how.push_str(" as a drill");
        }
        if r.backup.as_deref() == Some("newest-good") {
            how.push_str(", newest good backup");
        }
        for (k, v) in &r.params {
            how.push_str(&format!(", {k}={v}"));
        }
        lines.push(Line::from(vec![
            label("Runbook"),
            Span::styled(format!("▶ {}", strip_escapes(&how)), theme.style("title")),
        ]));
    }
    if let Some(o) = state.book.current(detail.duty, now) {
        lines.push(Line::from(vec![
            label("Now"),
            Span::styled(
                format!(
                    "{} {} {}",
                    o.state.symbol(),
                    o.state.label(),
                    o.at.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z")
                ),
                state_style(theme, o.state),
            ),
        ]));
    }
    if let Some(t) = d.text.as_deref().filter(|t| !t.trim().is_empty()) {
        lines.push(Line::raw(""));
        lines.push(Line::from(text(strip_escapes(t))));
    }
    for item in &d.checklist {
        lines.push(Line::from(vec![
            Span::styled("☐ ", theme.style("text.dim")),
            text(strip_escapes(item)),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        format!("History ({})", detail.history.len()),
        theme.style("header"),
    )));
    if detail.history.is_empty() {
        lines.push(Line::from(Span::styled(
            "nothing recorded yet",
            theme.style("empty"),
        )));
    }
    // Narrow: who without where, so the note still fits.
    let who = |a: &crate::calendar::model::Actor| {
        if width >= 70 {
            a.describe()
        } else {
            a.user.clone()
        }
    };
    for h in detail.history.iter().skip(detail.scroll) {
        let when = h.occurrence.with_timezone(&tz).format("%Y-%m-%d %H:%M");
        let what = match (&h.event, h.state) {
            (Some(e), OccState::Snoozed) => format!(
                "snoozed to {} by {}",
                e.until
                    .map(|u| u.with_timezone(&tz).format("%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
                who(&e.by)
            ),
            (Some(e), s) => {
                let mut w = format!(
                    "{} by {} at {}",
                    s.label(),
                    who(&e.by),
                    e.at.with_timezone(&tz).format("%m-%d %H:%M")
                );
                if let Some(run) = &e.run_id {
                    w.push_str(&format!(" · run {run}"));
                }
                w
            }
            (None, s) => s.label().to_string(),
        };
        let note = h
            .event
            .as_ref()
            .and_then(|e| e.note.as_deref())
            .map(|n| format!(" — {}", strip_escapes(n)))
            .unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} ", h.state.symbol()),
                state_style(theme, h.state),
            ),
            Span::styled(format!("{when}  "), theme.style("text.dim")),
            text(fit(&format!("{what}{note}"), width.saturating_sub(20))),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
