//! The alarms list: every source's health on one line, the filter, then one row per alarm,
//! worst first — state, priority, ack/silence mark, source, name, age, reason.

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::alarms::state::AlarmsState;
use crate::config::theme::Theme;
use crate::providers::health::Freshness;

use super::{age, block, fit, pad, pad_middle, priority_span, state_span};

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &AlarmsState,
    theme: &Theme,
    now: DateTime<Utc>,
    _tz: chrono_tz::Tz,
) {
    let firing = state.unhandled_firing().count();
    let title = if state.filter_text.is_empty() {
        format!("Alarms — {} · {firing} firing", state.rows.len())
    } else {
        format!(
            "Alarms — {} of {} · {firing} firing",
            state.visible.len(),
            state.rows.len()
        )
    };
    let b = block(title, theme);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    if inner.height == 0 || inner.width < 20 {
        return;
    }
    let w = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    lines.push(sources_line(state, theme, now, w));
    if !state.filter_text.is_empty() || state.notice.is_some() {
        let mut spans = Vec::new();
        if !state.filter_text.is_empty() {
            spans.push(Span::styled("filter: ", theme.style("text.dim")));
            spans.push(Span::styled(
                state.filter_text.clone(),
                theme.style("input"),
            ));
            for p in &state.filter.problems {
                spans.push(Span::styled(
                    format!("  `{p}` not understood"),
                    theme.style("input.invalid"),
                ));
            }
            spans.push(Span::raw("  "));
        }
        if let Some(n) = &state.notice {
            spans.push(Span::styled(n.clone(), theme.style("text.dim")));
        }
        lines.push(Line::from(spans));
    }

    // Columns: state 6, priority 2, mark 3, source, name, age 5, reason (the rest).
    let narrow = w < 120;
    let src_w = if narrow { 10 } else { 22 };
    let name_w = if narrow { 27 } else { 44 };
    let fixed = 6 + 1 + 2 + 1 + 3 + 1 + src_w + 1 + name_w + 1 + 5 + 1;
    let reason_w = w.saturating_sub(fixed);
    lines.push(Line::from(Span::styled(
        fit(
            &format!(
                "{} {} {} {} {} {:>5} {}",
                pad("STATE", 6),
                "P ",
                "   ",
                pad("SOURCE", src_w),
                pad("NAME", name_w),
                "AGE",
                "REASON"
            ),
            w,
        ),
        theme.style("header"),
    )));

    let room = (inner.height as usize).saturating_sub(lines.len());
    if state.visible.is_empty() {
        let msg = if state.rows.is_empty() {
            if state.sources.values().all(|s| s.received) {
                "No alarms in any source."
            } else {
                "Waiting for the first answer of every source…"
            }
        } else {
            "No alarm matches the filter."
        };
        lines.push(Line::from(Span::styled(msg, theme.style("empty"))));
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let offset = state.selected.saturating_sub(room.saturating_sub(1));
    for (vi, &ri) in state.visible.iter().enumerate().skip(offset).take(room) {
        let a = &state.rows[ri];
        let m = state.marks[ri];
        let is_new = state
            .new_firing
            .iter()
            .any(|n| n.key == a.key && !m.handled);
        let mark = if m.silenced {
            "sil"
        } else if m.handled {
            "ack"
        } else if is_new {
            "new"
        } else {
            "   "
        };
        let text = if m.handled { "alarm.handled" } else { "text" };
        let mut row = Line::from(vec![
            state_span(a.state, theme),
            Span::raw(" "),
            priority_span(a.priority, theme),
            Span::raw(" "),
            Span::styled(
                mark,
                theme.style(if is_new && !m.handled {
                    "alarm.new"
                } else {
                    "text.dim"
                }),
            ),
            Span::raw(" "),
            Span::styled(
                pad(&source_name(a.source.name(), narrow), src_w),
                theme.style("text.dim"),
            ),
            Span::raw(" "),
            Span::styled(pad_middle(&a.name, name_w), theme.style(text)),
            Span::raw(" "),
            Span::styled(
                format!("{:>5}", age(now - a.since)),
                theme.style("text.dim"),
            ),
            Span::raw(" "),
            Span::styled(fit(&a.reason, reason_w), theme.style(text)),
        ]);
        if vi == state.selected {
            row = row.style(theme.style("selection"));
        }
        lines.push(row);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `cloudwatch:prod ok · alertmanager:main DOWN 3m: connection refused`.
fn sources_line(state: &AlarmsState, theme: &Theme, now: DateTime<Utc>, w: usize) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used = 0;
    for (i, (id, e)) in state.sources.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.style("text.dim")));
            used += 3;
        }
        let (word, style, extra) = match e.health.as_ref().map(|h| h.freshness(now)) {
            None if e.received => ("ok".to_string(), "status.ok", String::new()),
            None | Some(Freshness::Starting) => {
                ("starting".into(), "status.unknown", String::new())
            }
            Some(Freshness::Fresh) => match &e.degraded {
                Some(d) => ("degraded".into(), "status.warn", format!(": {d}")),
                None => ("ok".into(), "status.ok", String::new()),
            },
            Some(Freshness::Stale { age: a }) => {
                (format!("stale {}", age(a)), "status.stale", String::new())
            }
            Some(Freshness::Down { reason, age: a }) => (
                match a {
                    Some(a) => format!("DOWN, data {} old", age(a)),
                    None => "DOWN".into(),
                },
                "status.crit",
                format!(": {reason}"),
            ),
        };
        let name = format!("{id} ");
        used += name.len() + word.len();
        spans.push(Span::styled(name, theme.style("text.dim")));
        spans.push(Span::styled(word, theme.style(style)));
        if !extra.is_empty() {
            let room = w.saturating_sub(used);
            let e = fit(&extra, room);
            used += e.len();
            spans.push(Span::styled(e, theme.style("text.dim")));
        }
    }
    if spans.is_empty() {
        spans.push(Span::styled(
            "local checks only — add [[alarms.cloudwatch]] or [[alarms.alertmanager]] to config.toml",
            theme.style("text.dim"),
        ));
    }
    Line::from(spans)
}

/// `cw:prod`, `am:main` where columns are scarce.
pub fn source_name(name: &str, narrow: bool) -> String {
    if !narrow {
        return name.to_string();
    }
    if let Some(rest) = name.strip_prefix("cloudwatch:") {
        format!("cw:{rest}")
    } else if let Some(rest) = name.strip_prefix("alertmanager:") {
        format!("am:{rest}")
    } else {
        name.to_string()
    }
}
