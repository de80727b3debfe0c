//! Until the calendar view exists, the Calendar tab lists what runbooks scheduled and nobody
//! has done yet, soonest first, so a follow-up (delete the old access key) is never lost.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::config::theme::Theme;
use crate::state::State;
use crate::ui::widgets::format;
use crate::ui::widgets::panel::panel;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let block = panel(format!("Follow-ups ({})", state.followups.len()), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    for f in &state.followups {
        let (when, style) = if f.due <= state.now {
            (
                format!("overdue {}", format::age(state.now - f.due)),
                theme.style("status.crit"),
            )
        } else {
            (
                format!("in {}", format::age(f.due - state.now)),
                theme.style("status.warn"),
            )
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} ", f.due.format("%Y-%m-%d %H:%M")),
                theme.style("text.dim"),
            ),
            Span::styled(format!("{when:<14}"), style),
            Span::styled(
                format::fit(&f.title, (inner.width as usize).saturating_sub(32)),
                theme.style("text"),
            ),
        ]));
        if let Some(n) = f.note.as_deref().filter(|n| !n.is_empty()) {
            lines.push(Line::from(Span::styled(
                format!(
                    "    {}",
                    format::fit(n, (inner.width as usize).saturating_sub(4))
                ),
                theme.style("text.dim"),
            )));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        "Scheduled by runbooks; the duty calendar is not in this build yet.",
        theme.style("text.dim"),
    )));
    frame.render_widget(Paragraph::new(lines), inner);
}
