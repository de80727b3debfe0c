//! A container's detail: image, engine, ports, state and uptime, restarts with times and
//! exit codes, the last health probes and the last log lines.

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{state_text, uptime_text};
use crate::config::theme::Theme;
use crate::services::state::ServicesState;
use crate::ui::widgets::format::fit;
use crate::ui::widgets::panel::panel;

pub fn render(frame: &mut Frame, area: Rect, s: &ServicesState, theme: &Theme, now: DateTime<Utc>) {
    let Some(c) = s.detail_container() else {
        let block = panel("Container", theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(
            Paragraph::new(Line::styled("the container is gone", theme.style("empty"))),
            inner,
        );
        return;
    };
    let block = panel(format!("Container {}", c.name), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let w = inner.width as usize;
    let field = |k: &str, v: String| {
        Line::from(vec![
            ratatui::text::Span::styled(format!("{k:<10}"), theme.style("header")),
            ratatui::text::Span::styled(fit(&v, w.saturating_sub(10)), theme.style("text")),
        ])
    };
    let short: String = c.id.chars().take(12).collect();
    let mut lines = vec![
        field("image", c.image.clone()),
        field("engine", format!("{} · id {short}", c.engine)),
        field(
            "compose",
            match (&c.project, &c.service) {
                (Some(p), Some(sv)) => format!("{p} / {sv}"),
                _ => "-".into(),
            },
        ),
        field(
            "state",
            format!("{} · up {}", state_text(c), uptime_text(c, now)),
        ),
        field(
            "ports",
            if c.ports.is_empty() {
                "-".into()
            } else {
                c.ports.join(", ")
            },
        ),
    ];
    let deaths: Vec<String> = s
        .deaths
        .get(&c.id)
        .map(|d| {
            d.iter()
                .rev()
                .take(5)
                .map(|x| {
                    format!(
                        "{} exit {}",
                        x.at.format("%m-%d %H:%M:%S"),
                        x.exit_code.map(|e| e.to_string()).unwrap_or("?".into())
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    lines.push(field(
        "restarts",
        format!(
            "{} by the engine{}{}",
            c.restart_count,
            if deaths.is_empty() {
                ""
            } else {
                " · exits seen: "
            },
            deaths.join(", ")
        ),
    ));
    lines.push(Line::styled("health probes", theme.style("header")));
    if c.health_log.is_empty() {
        lines.push(Line::styled("  no health check", theme.style("text.dim")));
    }
    for p in c.health_log.iter().rev().take(5) {
        let at =
            p.at.map(|t| t.format("%H:%M:%S").to_string())
                .unwrap_or_default();
        let out = p.output.lines().next().unwrap_or("");
        let style = if p.exit_code == 0 {
            "status.ok"
        } else {
            "status.crit"
        };
        lines.push(Line::styled(
            fit(&format!("  {at} exit {} {out}", p.exit_code), w),
            theme.style(style),
        ));
    }
    lines.push(Line::styled("last log lines", theme.style("header")));
    match s.detail.as_ref().and_then(|d| d.logs.as_ref()) {
        None => lines.push(Line::styled("  reading…", theme.style("text.dim"))),
        Some(Err(e)) => lines.push(Line::styled(
            fit(&format!("  {e}"), w),
            theme.style("status.warn"),
        )),
        Some(Ok(l)) if l.is_empty() => {
            lines.push(Line::styled("  (nothing written)", theme.style("text.dim")))
        }
        Some(Ok(l)) => {
            let room = (inner.height as usize).saturating_sub(lines.len());
            let start = l.len().saturating_sub(room);
            for x in &l[start..] {
                lines.push(Line::styled(fit(&format!("  {x}"), w), theme.style("text")));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
