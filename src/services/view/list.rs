//! The Services tab: containers (grouped by compose project), then checks, then
//! certificates, one row each; the selected row highlighted; the sort and filter in the
//! header; the key hints at the bottom; a container's detail or the confirmation over it.

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::{
    availability_text, cert_severity, cert_text, check_severity, check_text, container_severity,
    dot, spark, state_text, uptime_text, usage_text,
};
use crate::config::theme::Theme;
use crate::services::state::{Confirm, Row, ServicesState};
use crate::ui::widgets::format::fit;
use crate::ui::widgets::hints::{join, Hint};
use crate::ui::widgets::panel::panel;

/// Lines above and below the rows inside the tab: border, header, hints, one engines row.
pub const CHROME: u16 = 5;

/// The engines at the top of the tab, `w` columns wide, each row with whether it tells of
/// an engine that is down: such an engine gets its own rows, wrapped (up to 3), so its
/// reason can be read at 80 columns; the ones that answer share a row.
pub fn engine_rows(s: &ServicesState, now: DateTime<Utc>, w: usize) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut up = Vec::new();
    for (n, _) in &s.engines {
        let word = format!("{n}: {}", s.engine_word(n, now));
        if !s.engines_down.contains_key(n) {
            up.push(word);
            continue;
        }
        let rows = crate::ui::widgets::format::wrap_at_separators(&word, w.saturating_sub(9));
        let more = rows.len() > 3;
        for (i, row) in rows.into_iter().take(3).enumerate() {
            let row = if more && i == 2 {
                format!("{}…", row.trim_end())
            } else {
                row
            };
            out.push((row, true));
        }
    }
    if s.engines.is_empty() {
        up.push("none (no Docker or Podman socket found)".to_string());
    }
    if !up.is_empty() {
        out.push((up.join("  "), false));
    }
    out
}

#[allow(clippy::too_many_arguments)]
pub fn render(
    frame: &mut Frame,
    area: Rect,
    s: &ServicesState,
    theme: &Theme,
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
    hints: &[Hint],
    confirm_hints: &[Hint],
) {
    let [body, foot] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    if s.detail.is_some() {
        super::detail::render(frame, body, s, theme, now);
    } else {
        list(frame, body, s, theme, now, zone);
    }
    let text = match &s.notice {
        Some(n) => n.clone(),
        None => join(hints).trim().to_string(),
    };
    frame.render_widget(
        Paragraph::new(Line::styled(
            fit(&text, foot.width as usize),
            theme.style("text.dim"),
        )),
        foot,
    );
    if let Some(c) = &s.confirm {
        confirm(frame, body, c, theme, confirm_hints);
    }
}

fn list(
    frame: &mut Frame,
    area: Rect,
    s: &ServicesState,
    theme: &Theme,
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
) {
    let mut title = format!("Services — sort: {}", s.sort.word());
    if !s.filter.is_empty() {
        title.push_str(&format!(" — filter: {}", s.filter));
    }
    let block = panel(title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let w = inner.width as usize;
    let wide = w >= 120;
    // Several engines side by side: each container says which.
    let several = s.engines.len() > 1;
    let mut lines: Vec<Line> = Vec::new();
    for (i, (row, down)) in engine_rows(s, now, w).into_iter().enumerate() {
        let lead = if i == 0 { "engines  " } else { "         " };
        let style = if down { "status.crit" } else { "text.dim" };
        lines.push(Line::styled(
            fit(&format!("{lead}{row}"), w),
            theme.style(style),
        ));
    }
    let rows = s.rows();
    if rows.is_empty() {
        lines.push(Line::styled(
            if s.filter.is_empty() {
                "no containers, checks or certificates: see [services] in config.toml"
            } else {
                "nothing matches the filter"
            },
            theme.style("empty"),
        ));
    }
    let room = (inner.height as usize).saturating_sub(1);
    let mut last_kind = None;
    for (i, row) in rows.iter().enumerate().skip(s.offset) {
        if lines.len() > room {
            break;
        }
        let kind = std::mem::discriminant(row);
        if last_kind != Some(kind) {
            last_kind = Some(kind);
            let head = match row {
                Row::Container(_) => {
                    if wide {
                        format!(
                            "  {:<28} {:<14} {:<22} {:>4} {:>6} {:>7} {:>7}  {}",
                            "CONTAINER", "PROJECT", "STATE", "↻", "UP", "CPU", "MEM", "IMAGE"
                        )
                    } else {
                        format!(
                            "  {:<20} {:<20} {:>3} {:>6} {:>6}  {}",
                            "CONTAINER",
                            "STATE",
                            "↻",
                            "CPU",
                            "MEM",
                            if several { "ENGINE/PROJECT" } else { "PROJECT" }
                        )
                    }
                }
                Row::Check(_) => format!("  {:<20} {:<22} {}", "CHECK", "LAST", "LATENCY · MONTH"),
                Row::Cert(_) => format!("  {:<20} {:<22} {}", "CERTIFICATE", "EXPIRY", "SOURCE"),
            };
            lines.push(Line::styled(fit(&head, w), theme.style("header")));
        }
        let mut spans = match row {
            Row::Container(ci) => {
                let c = &s.containers[*ci];
                let group = if several {
                    format!("{}/{}", c.engine, c.group())
                } else {
                    c.group().to_string()
                };
                let (cpu, mem) = usage_text(s, c);
                let text = if wide {
                    format!(
                        " {:<28} {:<14} {:<22} {:>4} {:>6} {:>7} {:>7}  {}",
                        fit(&c.name, 28),
                        fit(&group, 14),
                        fit(&state_text(c), 22),
                        c.restart_count,
                        uptime_text(c, now),
                        cpu,
                        mem,
                        c.image
                    )
                } else {
                    // The project last: at 80 columns it fits whole, and sorted by
                    // project the rows read as groups.
                    format!(
                        " {:<20} {:<20} {:>3} {:>6} {:>6}  {}",
                        fit(&c.name, 20),
                        fit(&state_text(c), 20),
                        c.restart_count,
                        cpu,
                        mem,
                        group
                    )
                };
                vec![
                    dot(container_severity(s, c, now), theme),
                    Span::raw(fit(&text, w.saturating_sub(1))),
                ]
            }
            Row::Check(ci) => {
                let c = &s.checks[*ci];
                let lat: Vec<u64> = c.latencies.iter().copied().collect();
                let text = format!(
                    " {:<20} {:<22} {} {}",
                    fit(&c.name, 20),
                    fit(&check_text(c), 22),
                    spark(&lat, if wide { 30 } else { 10 }),
                    availability_text(s, c, now, zone)
                );
                vec![
                    dot(check_severity(c), theme),
                    Span::raw(fit(&text, w.saturating_sub(1))),
                ]
            }
            Row::Cert(ci) => {
                let c = &s.certs[*ci];
                let text = format!(
                    " {:<20} {:<22} {}",
                    fit(&c.name, 20),
                    fit(&cert_text(c, now), 22),
                    c.source
                );
                vec![
                    dot(cert_severity(c, now), theme),
                    Span::raw(fit(&text, w.saturating_sub(1))),
                ]
            }
        };
        if i == s.selected {
            for sp in spans.iter_mut().skip(1) {
                sp.style = theme.style("selection");
            }
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// "Restart container web-1?" — Cancel focused until moved.
fn confirm(frame: &mut Frame, area: Rect, c: &Confirm, theme: &Theme, hints: &[Hint]) {
    let w = area.width.min(64);
    let [popup] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(6.min(area.height))])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    let verb = c.op.verb();
    let title = format!("{}{} container", verb[..1].to_uppercase(), &verb[1..]);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border.focus"))
        .title(Span::styled(
            format!(" {title} "),
            theme.style("popup.title"),
        ))
        .style(theme.style("popup"));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let (cancel, yes) = if c.yes_focused {
        (theme.style("text"), theme.style("danger"))
    } else {
        (theme.style("selection"), theme.style("text"))
    };
    let lines = vec![
        Line::styled(
            fit(
                &format!("{} {} on {}?", title, c.name, c.engine),
                inner.width as usize,
            ),
            theme.style("text"),
        ),
        Line::raw(""),
        Line::from(vec![
            Span::styled(" Cancel ", cancel),
            Span::raw("   "),
            Span::styled(format!(" {title} "), yes),
        ]),
        Line::styled(
            fit(join(hints).trim(), inner.width as usize),
            theme.style("text.dim"),
        ),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
}
