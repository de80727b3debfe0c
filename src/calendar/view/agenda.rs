//! The agenda: what wants doing now (overdue, due, snoozed), then the duties from the
//! cursor's day on, under a header per day. Each row: the state's symbol, the time, `▶`
//! when the duty has a runbook, the title, and what its state means (overdue for how
//! long, done by whom). Wide terminals add the duty's id, its schedule and the note.

use chrono::{DateTime, NaiveDate, Utc};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{fit, pad, panel, short, state_style};
use crate::calendar::book::{OccState, Occurrence};
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
    let (overdue, due) = state.open_counts();
    let mut title = format!("Agenda from {}", state.cursor.format("%a %d %b"));
    if overdue > 0 {
        title.push_str(&format!(" · {overdue} overdue"));
    }
    if due > 0 {
        title.push_str(&format!(" · {due} due"));
    }
    if !state.filter.is_empty() {
        title.push_str(&format!(" · /{}", strip_escapes(&state.filter)));
    }
    if state.loaded.is_none() {
        title.push_str(" · reading the records…");
    }
    let block = panel(title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;

    if state.rows.is_empty() {
        let text = if state.book.duties.is_empty() {
            "No duties. Turn on a preset ([calendar] presets = [\"seed002\"]) or add \
             [[calendar.duty]] in config.toml."
        } else if !state.filter.is_empty() {
            "Nothing matches the filter."
        } else {
            "Nothing due in these days."
        };
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(text, theme.style("empty"))))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    }

    // Lines with the index of the row they show (None for headers).
    let mut lines: Vec<(Option<usize>, Line)> = Vec::new();
    let mut last: Option<Option<NaiveDate>> = None;
    for (i, o) in state.rows.iter().enumerate() {
        let group = if o.state.open() {
            None
        } else {
            Some(o.at.with_timezone(&tz).date_naive())
        };
        if last != Some(group) {
            let header = match group {
                None => "To do".to_string(),
                Some(d) if d == state.today() => format!("{} · today", d.format("%a %d %b")),
                Some(d) => d.format("%a %d %b").to_string(),
            };
            lines.push((
                None,
                Line::from(Span::styled(header, theme.style("header"))),
            ));
            last = Some(group);
        }
        let selected = i == state.selected;
        lines.push((Some(i), row(state, o, selected, width, theme, now, tz)));
    }

    let height = inner.height as usize;
    let at = lines
        .iter()
        .position(|(r, _)| *r == Some(state.selected))
        .unwrap_or(0);
    // Keep the selected row in view, with its day's header when there is room.
    let offset = if at < height { 0 } else { at + 1 - height };
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(offset)
        .take(height)
        .map(|(_, l)| l)
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

fn row<'a>(
    state: &CalendarState,
    o: &Occurrence,
    selected: bool,
    width: usize,
    theme: &Theme,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Line<'a> {
    let d = &state.book.duties[o.duty];
    let local = o.at.with_timezone(&tz);
    let wide = width >= 80;
    let other_day = o.state.open() && local.date_naive() != state.today();
    // Narrow: an open duty from another day shows its date, the time is in the detail.
    let (when, when_w) = match (wide, other_day) {
        (true, true) => (local.format("%m-%d %H:%M").to_string(), 12),
        (true, false) => (local.format("%H:%M").to_string(), 12),
        (false, true) => (local.format("%m-%d").to_string(), 6),
        (false, false) => (local.format("%H:%M").to_string(), 6),
    };
    let tag = match o.state {
        OccState::Overdue => format!("overdue {}", short(now - o.overdue_at)),
        OccState::Due => format!("due, {} left", short(o.overdue_at - now)),
        OccState::Snoozed => match o.event.as_ref().and_then(|e| e.until) {
            Some(u) => format!("until {}", u.with_timezone(&tz).format("%H:%M")),
            None => "snoozed".into(),
        },
        OccState::Done => match &o.event {
            Some(e) => format!("done by {}", e.by.user),
            None => "done".into(),
        },
        OccState::Skipped => "skipped".into(),
        OccState::Missed => "missed".into(),
        OccState::Upcoming if o.at - now < chrono::Duration::hours(24) => {
            format!("in {}", short(o.at - now))
        }
        OccState::Upcoming => String::new(),
    };
    // The tag sits at the right edge; the title takes whatever it leaves.
    let tag_w = unicode_width::UnicodeWidthStr::width(tag.as_str()).min(if wide { 20 } else { 16 });
    let marker = if d.runbook.is_some() { "▶ " } else { "  " };
    let fixed = 2 + when_w + 2 + 1 + tag_w;
    let extra_w = if wide {
        width.saturating_sub(fixed) * 2 / 5
    } else {
        0
    };
    let title_w = width.saturating_sub(fixed + extra_w);
    let base = if selected {
        theme.style("selection")
    } else {
        Style::default()
    };
    let mut spans = vec![
        Span::styled(
            format!("{} ", o.state.symbol()),
            state_style(theme, o.state).patch(base),
        ),
        Span::styled(pad(&when, when_w), theme.style("text.dim").patch(base)),
        Span::styled(marker.to_string(), theme.style("title").patch(base)),
        Span::styled(
            format!("{} ", pad(&strip_escapes(&d.title), title_w)),
            theme.style("text").patch(base),
        ),
        Span::styled(pad(&tag, tag_w), state_style(theme, o.state).patch(base)),
    ];
    if wide {
        let extra = match (&o.event, o.state) {
            (Some(e), OccState::Done | OccState::Skipped | OccState::Snoozed) => e
                .note
                .as_deref()
                .map(strip_escapes)
                .unwrap_or_else(|| e.by.describe()),
            _ => match &d.runbook {
                Some(r) => format!(
                    "{} · runbook {}{}",
                    d.id,
                    r.name,
                    if r.drill { " (drill)" } else { "" }
                ),
                None => format!("{} · {}", d.id, d.schedule),
            },
        };
        spans.push(Span::styled(
            pad(&fit(&extra, extra_w), extra_w),
            theme.style("text.dim").patch(base),
        ));
    }
    Line::from(spans)
}
