//! What the wizard shows of a step found running after a restart: still running (for how
//! long, its last lines), finished while toban was away (exit code), or lost.

use chrono::{DateTime, Utc};
use ratatui::text::Line;

use super::WizardState;
use crate::config::theme::Theme;
use crate::runbook::engine::Reattach;

/// What is known of a step found running after a restart: still running (for how long,
/// its last output), finished while toban was away (exit code), or lost.
pub(super) fn reattach_lines<'a>(
    w: &WizardState,
    i: usize,
    theme: &Theme,
    now: DateTime<Utc>,
) -> Vec<Line<'a>> {
    let Some(rec) = w.engine.state.steps.get(i) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let (text, style) = match &rec.reattach {
        Some(Reattach::StillRunning) => {
            let since = w
                .running_since()
                .map(|t| format!(" for {}", elapsed(now - t)))
                .unwrap_or_default();
            (
                format!("The command is still running{since}: it carries on without toban."),
                "wizard.step.running",
            )
        }
        Some(Reattach::Finished { exit_code, .. }) => (
            format!("It finished while toban was away, with exit code {exit_code}."),
            if *exit_code == 0 {
                "wizard.step.done"
            } else {
                "wizard.step.failed"
            },
        ),
        Some(Reattach::Lost) => (
            "What became of it is unknown (no record of its end).".to_string(),
            "wizard.step.failed",
        ),
        Some(Reattach::NeverStarted) => (
            "Nothing ran, so running it now runs it once.".to_string(),
            "wizard.step.pending",
        ),
        None => ("Checking what became of it…".to_string(), "text.dim"),
    };
    out.push(Line::styled(text, theme.style(style)));
    let tail = match &rec.reattach {
        Some(Reattach::Finished { tail, .. }) if !tail.is_empty() => tail.as_str(),
        _ => rec.tail.as_str(),
    };
    for l in tail
        .lines()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        out.push(Line::styled(
            format!("  {}", crate::sanitize::strip_escapes(l)),
            theme.style("text.dim"),
        ));
    }
    out
}

/// `12s`, `4m05s`, `1h02m`: a running step's time so far.
pub(super) fn elapsed(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}
