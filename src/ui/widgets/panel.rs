//! The bordered block every card uses.

use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Borders};

use crate::config::theme::Theme;

pub fn panel<'a>(title: impl Into<String>, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Plain)
        .border_style(theme.style("border"))
        .title(Span::styled(
            format!(" {} ", title.into()),
            theme.style("title"),
        ))
}
