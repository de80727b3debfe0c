//! The help overlay, generated from the active keymap.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::action::Action;
use crate::config::keymap::{KeyContext, Keymap};
use crate::config::theme::Theme;
use crate::state::HelpState;
use crate::ui::widgets::format;
use crate::ui::widgets::panel::panel;

/// One row of the help: a context's heading, or keys and what they do.
pub enum Row {
    Context(&'static str),
    Keys(String, String),
}

/// Every binding of the keymap by context, the contexts in use where help was opened first.
pub fn rows(keymap: &Keymap, first: &[KeyContext]) -> Vec<Row> {
    let mut order: Vec<KeyContext> = first.to_vec();
    if !order.contains(&KeyContext::Global) {
        order.push(KeyContext::Global);
    }
    order.extend(
        KeyContext::ALL
            .iter()
            .filter(|c| !first.contains(c) && **c != KeyContext::Global),
    );
    let mut out = Vec::new();
    for ctx in order {
        let mut seen: Vec<(String, String)> = Vec::new();
        for b in keymap.bindings(ctx) {
            if b.action == crate::action::Action::Noop {
                continue;
            }
            let keys: Vec<String> = b.on.iter().map(|k| k.short()).collect();
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
        out.push(Row::Context(ctx.name()));
        out.extend(seen.into_iter().map(|(k, d)| Row::Keys(k, d)));
    }
    out
}

/// Rows the help shows at once on a screen `height` rows tall (tab bar, footer, borders off).
pub fn visible_rows(height: u16) -> u16 {
    height.saturating_sub(4)
}

pub fn render(frame: &mut Frame, area: Rect, keymap: &Keymap, help: &HelpState, theme: &Theme) {
    let w = area.width.min(76);
    let h = area.height;
    let [popup] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    let key_w = 14;
    let desc_w = (w as usize).saturating_sub(key_w + 4);
    let body: Vec<Line> = rows(keymap, &help.contexts)
        .into_iter()
        .map(|r| match r {
            Row::Context(name) => Line::styled(name.to_string(), theme.style("help.context")),
            Row::Keys(k, d) => Line::from(vec![
                Span::styled(
                    format!("  {:<key_w$}", format::fit(&k, key_w - 1)),
                    theme.style("help.key"),
                ),
                Span::styled(format::fit(&d, desc_w), theme.style("help.desc")),
            ]),
        })
        .collect();
    let rows = popup.height.saturating_sub(2);
    let max_scroll = (body.len() as u16).saturating_sub(rows);
    let top = help.scroll.min(max_scroll);
    // Where the view is, so a cut-off list never looks complete.
    let position = if max_scroll == 0 {
        String::new()
    } else {
        format!(
            " {}-{} of {} ",
            top + 1,
            (top + rows).min(body.len() as u16),
            body.len()
        )
    };
    let ctx = [KeyContext::Help];
    let mut how = Vec::new();
    if let Some(k) = keymap.key_for(&ctx, Action::Back) {
        how.push(format!("{k} closes"));
    }
    if let (Some(up), Some(down)) = (
        keymap.key_for(&ctx, Action::PageUp),
        keymap.key_for(&ctx, Action::PageDown),
    ) {
        how.push(format!("{up}/{down} scroll"));
    }
    let block = panel(format!("Keys — {} keymap", keymap.name), theme)
        .title_bottom(Line::styled(
            format!("{position}{} ", how.join(" · ")),
            theme.style("text.dim"),
        ))
        .style(theme.style("popup"));
    frame.render_widget(Paragraph::new(body).block(block).scroll((top, 0)), popup);
}
