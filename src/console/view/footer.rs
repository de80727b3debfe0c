//! The bottom line: a notice if there is one, else key hints; provider health on the right.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::action::Action;
use crate::config::keymap::{KeyContext, Keymap};
use crate::config::theme::Theme;
use crate::health::Severity;
use crate::providers::health::Freshness;
use crate::state::State;
use crate::ui::widgets::format;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    // A message to read wins the room: healthy providers then fold into one count. So do
    // the key hints when every provider's name would not fit beside them (80 columns).
    let speaking = state.notice.is_some() || !state.problems.is_empty();
    let hints = global_hints(&state.keymap);
    let hints_w: usize = hints
        .iter()
        .map(|(k, w)| format!(" {k} {w} ").chars().count())
        .sum();
    let mut health = health_spans(state, theme, speaking);
    let width = |h: &[Span]| h.iter().map(|s| s.width()).sum::<usize>();
    if !speaking && width(&health) + hints_w > area.width as usize {
        health = health_spans(state, theme, true);
    }
    let hw = width(&health) as u16;
    let [left, right] =
        Layout::horizontal([Constraint::Min(10), Constraint::Length(hw)]).areas(area);
    let line = if let Some(n) = &state.notice {
        let style = match n.severity {
            Severity::Ok => theme.style("status.ok"),
            Severity::Warning => theme.style("status.warn"),
            Severity::Critical => theme.style("status.crit"),
            Severity::Unknown => theme.style("status.unknown"),
        };
        Line::from(Span::styled(format!(" {}", n.text), style))
    } else if let Some(p) = state.problems.first() {
        let more = if state.problems.len() > 1 {
            format!(" (+{} more: toban config check)", state.problems.len() - 1)
        } else {
            String::new()
        };
        Line::from(Span::styled(
            format!(" {p}{more}"),
            theme.style("status.warn"),
        ))
    } else if !state.pending.is_empty() {
        let keys: Vec<String> = state.pending.iter().map(|k| k.to_string()).collect();
        Line::from(Span::styled(
            format!(" {} …", keys.join(" ")),
            theme.style("footer.key"),
        ))
    } else {
        let mut spans = Vec::new();
        for (key, what) in hints {
            spans.push(Span::styled(format!(" {key}"), theme.style("footer.key")));
            spans.push(Span::styled(format!(" {what} "), theme.style("footer")));
        }
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line).style(theme.style("footer")), left);
    frame.render_widget(Paragraph::new(Line::from(health)), right);
}

/// Help, tab switching and quitting, with the keys the active keymap gives them.
fn global_hints(keymap: &Keymap) -> Vec<(String, &'static str)> {
    let global = [KeyContext::Global];
    let mut out = Vec::new();
    if let Some(k) = keymap.key_for(&global, Action::Help) {
        out.push((k, "help"));
    }
    if let Some(k) = crate::console::hints::tab_keys(keymap) {
        out.push((k, "tabs"));
    }
    if let Some(k) = keymap.key_for(&global, Action::Quit) {
        out.push((k, "quit"));
    }
    out
}

fn health_spans(state: &State, theme: &Theme, fold_fresh: bool) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    let mut fresh = 0;
    for (id, h) in state.providers.iter() {
        let (text, style) = match h.freshness(state.now) {
            Freshness::Fresh if fold_fresh => {
                fresh += 1;
                continue;
            }
            Freshness::Starting => (format!("{} …", id.name()), theme.style("status.unknown")),
            Freshness::Fresh => (format!("{} ●", id.name()), theme.style("status.ok")),
            Freshness::Stale { age } => (
                format!("{} stale {}", id.name(), format::age(age)),
                theme.style("status.stale"),
            ),
            Freshness::Down { age, .. } => (
                match age {
                    Some(a) => format!("{} down, data {} old", id.name(), format::age(a)),
                    None => format!("{} down", id.name()),
                },
                theme.style("status.crit"),
            ),
        };
        out.push(Span::styled(format!(" {text} "), style));
    }
    if fresh > 0 {
        out.push(Span::styled(
            format!(" {fresh} ● "),
            theme.style("status.ok"),
        ));
    }
    out
}
