//! One backup in full, over the Backups tab (`Enter`): where it is, when, how big, what its
//! job reported, every problem, its last verification file by file, and the service's
//! restore drills — what an operator reads before restoring from it.

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::{block, clean};
use crate::backups::catalog::{BackupEntry, VerificationState};
use crate::backups::rules::{human_age, human_size};
use crate::backups::state::{BackupsState, DrillResult};
use crate::config::theme::Theme;
use crate::ui::widgets::hints::{self, Hint};

pub(super) fn render(
    frame: &mut Frame,
    area: Rect,
    state: &BackupsState,
    b: &BackupEntry,
    theme: &Theme,
    now: DateTime<Utc>,
    hints_shown: &[Hint],
) {
    let popup = Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    frame.render_widget(Clear, popup);
    let text = theme.style("text");
    let dim = theme.style("text.dim");
    let bad = theme.style("status.crit");
    let good = theme.style("status.ok");
    let field = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<12}"), dim),
            Span::styled(v, text),
        ])
    };
    let when = state.zone.local(b.time).format("%Y-%m-%d %H:%M %Z");
    let mut lines = vec![
        field("path", clean(&b.path.display().to_string())),
        field("taken", format!("{when} ({} ago)", human_age(b.age(now)))),
        field(
            "size",
            format!("{} in {} file(s)", human_size(b.size), b.files),
        ),
        field("job", b.status.as_str().to_string()),
    ];
    lines.push(if b.newest_good {
        Line::styled("★ the newest good backup of this service", good)
    } else if b.is_good() {
        Line::styled("good: restorable", good)
    } else {
        Line::styled("not good enough to restore from", bad)
    });
    for p in &b.problems {
        lines.push(Line::styled(format!("✗ {}", clean(&p.message)), bad));
    }
    lines.push(Line::raw(""));
    match &b.verification {
        VerificationState::Never => lines.push(Line::styled("Verification: never verified", dim)),
        VerificationState::Ok { at } => lines.push(Line::styled(
            format!(
                "Verification: passed {} ago",
                human_age((now - *at).to_std().unwrap_or_default())
            ),
            good,
        )),
        VerificationState::Failed { at, what } => lines.push(Line::styled(
            format!(
                "Verification: FAILED {} ago: {}",
                human_age((now - *at).to_std().unwrap_or_default()),
                clean(what)
            ),
            bad,
        )),
    }
    if let Some(r) = state.reports.iter().rev().find(|r| r.backup_id == b.id) {
        for f in &r.files {
            let style = if f.outcome.is_ok() { text } else { bad };
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {} ", if f.outcome.is_ok() { "✓" } else { "✗" }),
                    style,
                ),
                Span::styled(clean(&f.path), text),
                Span::styled(
                    format!("  {}  {}", human_size(f.bytes), f.outcome.describe()),
                    dim,
                ),
            ]));
        }
    }
    lines.push(Line::raw(""));
    let drills: Vec<_> = state
        .drills
        .iter()
        .filter(|d| d.service == b.service)
        .collect();
    if drills.is_empty() {
        lines.push(Line::styled(
            format!("Restore drills of {}: none recorded", b.service),
            dim,
        ));
    } else {
        lines.push(Line::styled(
            format!("Restore drills of {}:", b.service),
            text,
        ));
        for d in drills.iter().take(5) {
            let (result, style) = match &d.result {
                DrillResult::Passed => ("passed".to_string(), good),
                DrillResult::Failed { why } => (format!("failed: {}", clean(why)), bad),
                DrillResult::Aborted => ("aborted".to_string(), dim),
            };
            lines.push(Line::from(vec![
                Span::styled(
                    format!(
                        "  {}  {}  {}  ",
                        state.zone.local(d.at).format("%Y-%m-%d %H:%M"),
                        clean(&d.backup),
                        d.rto(),
                    ),
                    text,
                ),
                Span::styled(result, style),
            ]));
            let proof = d.proof_line();
            if !proof.is_empty() {
                lines.push(Line::styled(format!("    tables: {}", clean(&proof)), dim));
            }
        }
    }
    let title = format!(" {} {} · {} ", b.service, b.kind.as_str(), b.name);
    let foot = hints::join(hints_shown);
    let p = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(block(&title, theme).title_bottom(Span::styled(foot, dim)));
    frame.render_widget(p, popup);
}
