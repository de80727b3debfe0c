//! A run opened read-only (its runbook changed since it started, or its file is gone):
//! why, who started it, and its audit so far in the output pane. It can be aborted or the
//! runbook started afresh; nothing of it runs.

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{sanitize, OutKind, OutLine, WizardState};
use crate::config::theme::Theme;
use crate::runbook::engine::ReadOnly;
use crate::runbook::lease::TAKE_OVER;

/// The audit as output-pane lines, oldest first (times in UTC, as the audit stores them).
pub fn audit_lines(ro: &ReadOnly) -> Vec<OutLine> {
    let mut out = vec![OutLine {
        kind: OutKind::Header,
        text: "── audit of this run ──".into(),
    }];
    for a in &ro.audit {
        let at = DateTime::<Utc>::from_timestamp_millis(a.at_ms)
            .map(|t| t.format("%H:%M:%S").to_string())
            .unwrap_or_default();
        let first = a.detail.lines().next().unwrap_or_default();
        // Who first: a resume from another session shows at a glance.
        out.push(OutLine {
            kind: OutKind::Line,
            text: sanitize(&format!(
                "{at} {} {} {} {first}",
                a.user,
                a.event,
                a.step_id.as_deref().unwrap_or("-"),
            )),
        });
    }
    out
}

/// The step pane of a read-only run: why, whose run it is, what can be done.
pub fn render(frame: &mut Frame, area: Rect, w: &WizardState, ro: &ReadOnly, theme: &Theme) {
    let s = &w.engine.state;
    let started = DateTime::<Utc>::from_timestamp_millis(s.started_ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let mut lines = vec![
        Line::styled(
            format!("Read-only: {}", sanitize(&ro.reason)),
            theme.style("wizard.step.failed"),
        ),
        Line::styled(
            format!(
                "run {} started {started} by {}{}",
                sanitize(&s.run_id),
                sanitize(&s.user),
                s.ssh_client
                    .as_deref()
                    .map(|c| format!(" from {}", sanitize(c)))
                    .unwrap_or_default()
            ),
            theme.style("text.dim"),
        ),
    ];
    if ro.take_over {
        lines.push(Line::styled(
            format!("Type `{TAKE_OVER}` and press Enter to drive it from this session:"),
            theme.style("text"),
        ));
        let ok = TAKE_OVER.starts_with(w.typed.as_str());
        lines.push(Line::styled(
            format!("> {}▏", w.typed),
            theme.style(if ok { "input" } else { "input.invalid" }),
        ));
    } else if ro.held_elsewhere {
        lines.push(Line::styled(
            "It is read-only here while the other session holds it.",
            theme.style("text"),
        ));
    } else {
        lines.push(Line::styled(
            "Its steps are not today's: nothing of it will run.",
            theme.style("text"),
        ));
    }
    lines.push(Line::styled(
        if ro.take_over {
            "Or leave it: nothing of it runs until it is taken over."
        } else if ro.held_elsewhere {
            "Leave it, or come back once its lease has lapsed."
        } else if ro.runbook_missing {
            "Abort it to close it (the runbook's file is gone)."
        } else {
            "Abort it, or start the runbook afresh as a new run."
        },
        theme.style("text"),
    ));
    lines.push(Line::styled(
        format!(
            "Full audit: toban runbook history --run {}",
            sanitize(&s.run_id)
        ),
        theme.style("text.dim"),
    ));
    if let Some(n) = &w.notice {
        lines.push(Line::styled(n.clone(), theme.style("input.invalid")));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
