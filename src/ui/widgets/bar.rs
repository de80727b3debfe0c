//! A percent bar drawn with block characters, coloured by the threshold it crossed.

use ratatui::style::Style;
use ratatui::text::Span;

use crate::config::theme::Theme;
use crate::config::Threshold;

pub fn level_style(theme: &Theme, value: f64, t: Threshold) -> Style {
    if !t.enabled {
        theme.style("gauge.ok")
    } else if value >= t.crit {
        theme.style("gauge.crit")
    } else if value >= t.warn {
        theme.style("gauge.warn")
    } else {
        theme.style("gauge.ok")
    }
}

/// `width` cells: filled part in the level's style, the rest dim.
pub fn bar<'a>(theme: &Theme, value: f64, t: Threshold, width: usize) -> Vec<Span<'a>> {
    let filled = ((value.clamp(0.0, 100.0) / 100.0) * width as f64).round() as usize;
    let filled = filled.min(width);
    vec![
        Span::styled("█".repeat(filled), level_style(theme, value, t)),
        Span::styled("░".repeat(width - filled), theme.style("text.dim")),
    ]
}
