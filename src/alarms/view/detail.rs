//! One alarm in full: what, how bad and since when, the reason, the threshold; the metric
//! chart with the threshold line; the last state changes; who acknowledged or silenced it;
//! the runbook it leads to; and for CloudWatch what toban's API calls cost.

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::alarms::acks::AckKind;
use crate::alarms::cost;
use crate::alarms::model::{Alarm, AlarmKind, MetricQuery};
use crate::alarms::state::AlarmsState;
use crate::config::theme::Theme;

use super::{age, block, clock, fit, num, priority_span, state_span};

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &AlarmsState,
    theme: &Theme,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) {
    let (Some(d), Some(a)) = (state.detail.as_ref(), state.detail_alarm()) else {
        let msg = match &state.detail {
            Some(d) => format!("{} is no longer reported by its source.", d.key),
            None => "No alarm selected.".into(),
        };
        frame.render_widget(
            Paragraph::new(Span::styled(msg, theme.style("empty")))
                .block(block("Alarm".into(), theme)),
            area,
        );
        return;
    };
    let wide = area.width >= 120;
    let bottom_h = if wide {
        (area.height / 4).clamp(6, 12)
    } else {
        5
    };
    let [head, chart_area, bottom] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(6),
        Constraint::Length(if wide { bottom_h } else { bottom_h * 2 }),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(header(a, state, theme, now, tz, head.width as usize)),
        head,
    );
    super::chart::render(frame, chart_area, a, d, theme, tz);
    let (hist, info) = if wide {
        let [h, i] = Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
            .areas(bottom);
        (h, i)
    } else {
        let [h, i] = Layout::vertical([Constraint::Length(bottom_h), Constraint::Length(bottom_h)])
            .areas(bottom);
        (h, i)
    };
    super::history::render(frame, hist, d, theme, now, tz);
    let b = block("Response".into(), theme);
    let inner = b.inner(info);
    frame.render_widget(b, info);
    frame.render_widget(
        Paragraph::new(response(a, state, theme, now, tz)).wrap(Wrap { trim: true }),
        inner,
    );
}

fn header(
    a: &Alarm,
    state: &AlarmsState,
    theme: &Theme,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
    w: usize,
) -> Vec<Line<'static>> {
    let place = match &a.region {
        Some(r) => format!("{} · {r}", a.source),
        None => a.source.to_string(),
    };
    let kind = match a.kind {
        AlarmKind::Metric => "metric alarm",
        AlarmKind::Composite => "composite alarm",
        AlarmKind::Alert => "alert",
        AlarmKind::Local => "local check",
    };
    let name_w = w.saturating_sub(12 + place.len() + 3);
    let first = Line::from(vec![
        state_span(a.state, theme),
        Span::raw(" "),
        priority_span(a.priority, theme),
        Span::raw(" "),
        Span::styled(fit(&a.name, name_w), theme.style("title")),
        Span::styled(format!("  {place}"), theme.style("text.dim")),
    ]);
    let mut second = vec![Span::styled(
        format!(
            "{kind} · {} since {} ({})",
            a.state.label(),
            clock(a.since, now, tz),
            age(now - a.since)
        ),
        theme.style("text"),
    )];
    if let Some(t) = &a.threshold {
        let what = match &a.metric {
            Some(MetricQuery::CloudWatch(q)) => q
                .iter()
                .find_map(|q| q.metric.as_ref())
                .map(|m| format!("{} {} ", m.metric, m.stat))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let over = t
            .over
            .as_ref()
            .map(|o| format!(" for {o}"))
            .unwrap_or_default();
        second.push(Span::styled(
            format!(" · {what}{} {}{over}", t.comparison.symbol(), num(t.value)),
            theme.style("text"),
        ));
    }
    let used: usize = second.iter().map(|s| s.width()).sum();
    let meaning = format!(" · {}", a.priority.meaning());
    if used + meaning.chars().count() <= w {
        second.push(Span::styled(meaning, theme.style("text.dim")));
    }
    let _ = state;
    let reason = if a.reason.is_empty() {
        a.description
            .clone()
            .unwrap_or_else(|| "(no reason given)".into())
    } else {
        a.reason.clone()
    };
    vec![
        first,
        Line::from(second),
        Line::from(Span::styled(fit(&reason, w), theme.style("text"))),
    ]
}

fn response(
    a: &Alarm,
    state: &AlarmsState,
    theme: &Theme,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut any = false;
    for k in state.acks_of(a) {
        any = true;
        let from = k
            .ssh_client
            .as_ref()
            .map(|c| format!(" from {c}"))
            .unwrap_or_default();
        let what = match (k.kind, k.until) {
            (AckKind::Silence, Some(u)) => format!("silenced until {}", clock(u, now, tz)),
            _ => "acknowledged".into(),
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{what} by {}{from} {} ago", k.who, age(now - k.at)),
                theme.style("alarm.handled"),
            ),
            Span::styled(
                if k.note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", k.note)
                },
                theme.style("text"),
            ),
        ]));
    }
    if !a.silenced_by.is_empty() {
        any = true;
        let ids = a.silenced_by.join(", ");
        let detail = state
            .silences()
            .into_iter()
            .find(|(_, s)| a.silenced_by.contains(&s.id))
            .map(|(_, s)| {
                format!(
                    " by {} until {}: {}",
                    s.created_by,
                    clock(s.ends, now, tz),
                    s.comment
                )
            })
            .unwrap_or_default();
        lines.push(Line::from(Span::styled(
            format!("silenced in Alertmanager ({ids}){detail}"),
            theme.style("alarm.handled"),
        )));
    }
    if !a.inhibited_by.is_empty() {
        any = true;
        lines.push(Line::from(Span::styled(
            format!("inhibited by {} other alert(s)", a.inhibited_by.len()),
            theme.style("alarm.handled"),
        )));
    }
    if !any {
        lines.push(Line::from(Span::styled(
            "not acknowledged",
            theme.style("text.dim"),
        )));
    }
    if let Some(MetricQuery::Prometheus { expr }) = &a.metric {
        lines.push(Line::from(vec![
            Span::styled("expr ", theme.style("text.dim")),
            Span::styled(expr.clone(), theme.style("text")),
        ]));
    }
    match &a.runbook {
        Some(r) => {
            let params = r
                .params
                .iter()
                .filter(|(k, _)| !k.starts_with("alarm_"))
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ");
            lines.push(Line::from(vec![
                Span::styled("runbook ", theme.style("text.dim")),
                Span::styled(r.name.clone(), theme.style("alarm.runbook")),
                Span::styled(format!(" ({}) {params}", r.from), theme.style("text.dim")),
            ]));
        }
        None => lines.push(Line::from(Span::styled(
            "no runbook linked (tag toban:runbook, annotation runbook or [[alarms.runbook]])",
            theme.style("text.dim"),
        ))),
    }
    let src = match a.kind {
        AlarmKind::Metric | AlarmKind::Composite => cost::describe(&state.meter.last_hour(now)),
        AlarmKind::Alert => {
            let mut s = a
                .group
                .as_ref()
                .map(|g| format!("group {g}"))
                .unwrap_or_default();
            if a.seen_on > 1 {
                s.push_str(&format!(" · reported by {} members", a.seen_on));
            }
            s
        }
        AlarmKind::Local => String::new(),
    };
    if !src.is_empty() {
        lines.push(Line::from(Span::styled(src, theme.style("text.dim"))));
    }
    lines
}
