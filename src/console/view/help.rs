//! The help overlay, generated from the active keymap.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::config::keymap::{KeyContext, Keymap};
use crate::config::theme::Theme;
use crate::state::HelpState;
use crate::ui::widgets::panel::panel;

pub fn lines(keymap: &Keymap, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for ctx in KeyContext::ALL {
        let bindings = keymap.bindings(ctx);
        let mut seen: Vec<(String, String)> = Vec::new();
        for b in bindings {
            if b.action == crate::action::Action::Noop {
                continue;
            }
            let keys: Vec<String> = b.on.iter().map(|k| k.to_string()).collect();
            let keys = keys.join(" ");
            let desc = if b.desc.is_empty() {
                b.action.to_string()
            } else {
                b.desc.clone()
            };
            // Two keys for one thing (q and C-c) share a line.
            if let Some(e) = seen.iter_mut().find(|(_, d)| *d == desc) {
                e.0.push_str(", ");
                e.0.push_str(&keys);
            } else {
                seen.push((keys, desc));
            }
        }
        if seen.is_empty() {
            continue;
        }
        out.push(Line::from(Span::styled(
            ctx.name().to_string(),
            theme.style("help.context"),
        )));
        for (k, d) in seen {
            out.push(Line::from(vec![
                Span::styled(format!("  {k:<14}"), theme.style("help.key")),
                Span::styled(d, theme.style("help.desc")),
            ]));
        }
    }
    out
}

pub fn render(frame: &mut Frame, area: Rect, keymap: &Keymap, help: &HelpState, theme: &Theme) {
    let w = area.width.min(64);
    let h = area.height;
    let [popup] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    let block = panel(format!("Keys — {} keymap (Esc closes)", keymap.name), theme)
        .style(theme.style("popup"));
    let body = lines(keymap, theme);
    let max_scroll = (body.len() as u16).saturating_sub(popup.height.saturating_sub(2));
    frame.render_widget(
        Paragraph::new(body)
            .block(block)
            .scroll((help.scroll.min(max_scroll), 0)),
        popup,
    );
}
