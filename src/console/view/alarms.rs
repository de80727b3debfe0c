//! Alarms tab: toban's own alarms from local checks, worst first, and their recent history.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::config::theme::Theme;
use crate::health::Severity;
use crate::state::State;
use crate::ui::widgets::format;
use crate::ui::widgets::panel::panel;

pub fn severity_span(sev: Severity, theme: &Theme) -> Span<'static> {
    match sev {
        Severity::Critical => Span::styled("CRIT", theme.style("status.crit")),
        Severity::Warning => Span::styled("WARN", theme.style("status.warn")),
        Severity::Unknown => Span::styled("UNKN", theme.style("status.unknown")),
        Severity::Ok => Span::styled(" OK ", theme.style("status.ok")),
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let [active, history] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Min(4)]).areas(area);
    let block = panel(format!("Firing ({})", state.alarms.active.len()), theme);
    let inner = block.inner(active);
    frame.render_widget(block, active);
    if state.alarms.active.is_empty() {
        let lines = vec![
            Line::from(Span::styled("Nothing is firing.", theme.style("status.ok"))),
            Line::from(Span::styled(
                "Local checks: CPU and memory warn 80 % / critical 95 %, disks 70 % / 85 %,",
                theme.style("text.dim"),
            )),
            Line::from(Span::styled(
                "raised after 3 samples in a row ([host] in config.toml).",
                theme.style("text.dim"),
            )),
            Line::from(Span::styled(
                "CloudWatch alarms: not in this build yet.",
                theme.style("text.dim"),
            )),
        ];
        frame.render_widget(Paragraph::new(lines), inner);
    } else {
        let sel = state.alarm_selected.min(state.alarms.active.len() - 1);
        let lines: Vec<Line> = state
            .alarms
            .sorted()
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                let row = Line::from(vec![
                    severity_span(a.severity, theme),
                    Span::styled(
                        format!(" {:<6}", format::age(state.now - a.since)),
                        theme.style("text.dim"),
                    ),
                    Span::styled(
                        format::fit(&a.message, inner.width.saturating_sub(12) as usize),
                        theme.style("text"),
                    ),
                ]);
                if i == sel {
                    row.style(theme.style("selection"))
                } else {
                    row
                }
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }

    let block = panel("History", theme);
    let inner = block.inner(history);
    frame.render_widget(block, history);
    if state.alarms.recent.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "No alarm has changed state yet.",
                theme.style("text.dim"),
            )),
            inner,
        );
        return;
    }
    let lines: Vec<Line> = state
        .alarms
        .recent
        .iter()
        .rev()
        .take(inner.height as usize)
        .map(|t| {
            Line::from(vec![
                Span::styled(
                    t.at.format("%m-%d %H:%M ").to_string(),
                    theme.style("text.dim"),
                ),
                severity_span(t.from, theme),
                Span::styled("→", theme.style("text.dim")),
                severity_span(t.to, theme),
                Span::raw(" "),
                Span::styled(
                    format::fit(&t.message, inner.width.saturating_sub(24) as usize),
                    theme.style("text"),
                ),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
