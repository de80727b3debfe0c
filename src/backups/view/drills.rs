//! The restore drills block: the last drills with their RTO and result.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{block, clean};
use crate::action::Action;
use crate::backups::state::{BackupsState, DrillResult};
use crate::config::theme::Theme;
use crate::ui::widgets::hints::{self, Hint};

pub(super) fn render_drills(
    frame: &mut Frame,
    area: Rect,
    state: &BackupsState,
    theme: &Theme,
    hints: &[Hint],
) {
    let lines: Vec<Line> = if state.drills.is_empty() {
        let how = hints::key_of(hints, Action::Drill)
            .map(|k| format!(" — run one with `{k}` on a backup"))
            .unwrap_or_default();
        vec![Line::styled(
            format!("{}{how}", super::NO_DRILLS),
            theme.style("empty"),
        )]
    } else {
        state
            .drills
            .iter()
            .rev()
            .take(3)
            .map(|d| {
                let (res, st) = match &d.result {
                    DrillResult::Passed => ("passed".to_string(), "status.ok"),
                    DrillResult::Failed { why } => {
                        (format!("FAILED: {}", clean(why)), "status.crit")
                    }
                    DrillResult::Aborted => ("aborted".to_string(), "status.warn"),
                };
                Line::from(vec![
                    Span::styled(
                        format!(
                            "{}  {} {}  {}  ",
                            state.zone.local(d.at).format("%Y-%m-%d %H:%M"),
                            clean(&d.service),
                            clean(&d.backup),
                            d.rto()
                        ),
                        theme.style("text"),
                    ),
                    Span::styled(res, theme.style(st)),
                    Span::styled(
                        match d.proof_line() {
                            p if p.is_empty() => String::new(),
                            p => format!("  {}", clean(&p)),
                        },
                        theme.style("text.dim"),
                    ),
                ])
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(block(" Restore drills ", theme)),
        area,
    );
}
