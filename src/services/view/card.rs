//! The Overview's Services card: one summary line, then what needs attention first —
//! containers (project/service, state, restarts, uptime, CPU, memory), checks (status,
//! latency, this month's availability and budget), certificates (days left).

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{
    availability_text, cert_severity, cert_text, check_severity, check_text, container_severity,
    dot, state_text, uptime_text, usage_text,
};
use crate::config::theme::Theme;
use crate::health::Severity;
use crate::services::model::ContainerState;
use crate::services::state::ServicesState;
use crate::ui::widgets::format::fit;
use crate::ui::widgets::panel::panel;

/// Rows the card would like (its border included).
pub fn wanted_height(s: &ServicesState) -> u16 {
    (s.containers.len() + s.checks.len() + s.certs.len() + 1).min(12) as u16 + 2
}

fn rank(sev: Severity) -> u8 {
    match sev {
        Severity::Critical => 0,
        Severity::Warning => 1,
        Severity::Unknown => 2,
        Severity::Ok => 3,
    }
}

pub fn render(
    frame: &mut Frame,
    area: Rect,
    s: &ServicesState,
    theme: &Theme,
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
    title: String,
) {
    let block = panel(title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let w = inner.width as usize;
    let running = s
        .containers
        .iter()
        .filter(|c| c.state == ContainerState::Running)
        .count();
    let troubled = s
        .containers
        .iter()
        .filter(|c| container_severity(s, c, now) == Severity::Critical)
        .count();
    let mut head = vec![Span::styled(
        format!("{running}/{} running", s.containers.len()),
        theme.style("text"),
    )];
    if troubled > 0 {
        head.push(Span::styled(
            format!("  {troubled} failing"),
            theme.style("status.crit"),
        ));
    }
    for (name, _) in &s.engines {
        let style = if s.engines_down.contains_key(name) {
            "status.crit"
        } else {
            "text.dim"
        };
        head.push(Span::styled(
            format!("  {name}: {}", s.engine_word(name, now)),
            theme.style(style),
        ));
    }
    let mut rows: Vec<(u8, Line)> = Vec::new();
    let name_w = if w >= 100 { 28 } else { 18 };
    for c in &s.containers {
        let sev = container_severity(s, c, now);
        let who = match (&c.project, &c.service) {
            (Some(p), Some(sv)) => format!("{p}/{sv}"),
            _ => c.name.clone(),
        };
        // Several engines may each have a `web-1`: say whose.
        let who = if s.engines.len() > 1 {
            format!("{}:{who}", c.engine)
        } else {
            who
        };
        let (cpu, mem) = usage_text(s, c);
        let mut detail = format!(" {:<20}", fit(&state_text(c), 20));
        if w >= 60 {
            detail.push_str(&format!(
                " ↻{:<3} {:>5} {:>6} {:>6}",
                c.restart_count,
                uptime_text(c, now),
                cpu,
                mem
            ));
        }
        rows.push((
            rank(sev),
            Line::from(vec![
                dot(sev, theme),
                Span::styled(
                    format!(" {:<name_w$}", fit(&who, name_w)),
                    theme.style("text"),
                ),
                Span::styled(
                    fit(&detail, w.saturating_sub(name_w + 2)),
                    theme.style("text.dim"),
                ),
            ]),
        ));
    }
    for c in &s.checks {
        let sev = check_severity(c);
        let mut detail = format!(" {:<20}", fit(&check_text(c), 20));
        if w >= 60 {
            detail.push_str(&format!(" {}", availability_text(s, c, now, zone)));
        }
        rows.push((
            rank(sev),
            Line::from(vec![
                dot(sev, theme),
                Span::styled(
                    format!(" {:<name_w$}", fit(&format!("check {}", c.name), name_w)),
                    theme.style("text"),
                ),
                Span::styled(
                    fit(&detail, w.saturating_sub(name_w + 2)),
                    theme.style("text.dim"),
                ),
            ]),
        ));
    }
    for c in &s.certs {
        let sev = cert_severity(c, now);
        rows.push((
            rank(sev),
            Line::from(vec![
                dot(sev, theme),
                Span::styled(
                    format!(" {:<name_w$}", fit(&format!("cert {}", c.name), name_w)),
                    theme.style("text"),
                ),
                Span::styled(
                    fit(
                        &format!(" {}", cert_text(c, now)),
                        w.saturating_sub(name_w + 2),
                    ),
                    theme.style("text.dim"),
                ),
            ]),
        ));
    }
    // Troubles first; the order within a level is the state's (project, name).
    rows.sort_by_key(|(r, _)| *r);
    let room = (inner.height as usize).saturating_sub(1);
    // What does not fit is counted on the first line, so every row of room shows one.
    let hidden = rows.len().saturating_sub(room);
    if hidden > 0 {
        head.insert(
            if troubled > 0 { 2 } else { 1 },
            Span::styled(
                format!("  +{hidden} more on the Services tab"),
                theme.style("text.dim"),
            ),
        );
    }
    let mut lines = vec![Line::from(head)];
    if rows.is_empty() {
        lines.push(Line::styled(
            "no containers, checks or certificates yet",
            theme.style("text.dim"),
        ));
    }
    lines.extend(rows.into_iter().take(room).map(|(_, l)| l));
    frame.render_widget(Paragraph::new(lines), inner);
}
