//! Honest empty states for tabs whose provider is not configured or not built yet: what
//! would appear there and how it is configured. Never fake data.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::config::theme::Theme;
use crate::ui::widgets::panel::panel;

pub struct EmptyState {
    pub title: &'static str,
    pub what: &'static str,
    pub how: &'static [&'static str],
}

pub const BACKUPS: EmptyState = EmptyState {
    title: "Backups",
    what: "Every backup under the configured roots — daily and weekly folders with manifest.json, \
           pg_dump files — with age against the RPO, size, checksum verification and restore drills.",
    how: &["[backups]", "roots = [\"/mnt/backup-hdd\"]"],
};

pub const LOGS: EmptyState = EmptyState {
    title: "Logs",
    what: "Logs followed from containers, files and CloudWatch Logs, filtered as you type, with \
           errors counted per hour. This build of toban has no log provider yet.",
    how: &["(a [logs] section in config.toml will configure sources)"],
};

pub const CALENDAR: EmptyState = EmptyState {
    title: "Calendar",
    what:
        "The operations calendar: daily checks, weekly backup reviews, quarterly restore drills, \
           90-day key rotations, and follow-ups that runbooks schedule. This build of toban has no \
           calendar view yet.",
    how: &["(a [calendar] section in config.toml will configure duties)"],
};

pub fn render(frame: &mut Frame, area: Rect, e: &EmptyState, theme: &Theme) {
    let block = panel(e.title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = vec![
        Line::from(Span::styled("Nothing to show yet.", theme.style("empty"))),
        Line::raw(""),
        Line::from(Span::styled(e.what, theme.style("text"))),
        Line::raw(""),
        Line::from(Span::styled(
            "Configure it in config.toml:",
            theme.style("text.dim"),
        )),
    ];
    for l in e.how {
        lines.push(Line::from(Span::styled(
            format!("  {l}"),
            theme.style("help.key"),
        )));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
