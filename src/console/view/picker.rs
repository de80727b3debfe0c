//! The runbook picker popup.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::config::theme::Theme;
use crate::state::picker::PickerState;
use crate::ui::widgets::format;
use crate::ui::widgets::hints::{self, Hint};
use crate::ui::widgets::panel::panel;

/// What the picker offers, with the keys the keymap gives it.
pub fn hints(state: &crate::state::State) -> Vec<Hint> {
    use crate::action::Action;
    use crate::config::keymap::KeyContext;
    let drillable = state
        .picker
        .as_ref()
        .and_then(|p| p.selected())
        .is_some_and(|r| r.drillable);
    let mut wanted = vec![(Action::Select, "open"), (Action::DryRun, "dry run")];
    if drillable {
        wanted.push((Action::Drill, "drill"));
    }
    wanted.push((Action::Back, "close"));
    crate::console::hints::resolve(
        &state.keymap,
        &[KeyContext::Picker, KeyContext::List],
        &wanted,
    )
}

pub fn render(frame: &mut Frame, area: Rect, p: &PickerState, theme: &Theme, keys: &[Hint]) {
    let w = area.width.min(76);
    let h = area.height.min(p.items.len() as u16 + 8).max(8);
    let [popup] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    let title = match &p.purpose {
        Some(x) => format!("Runbooks — {x}"),
        None => "Runbooks".to_string(),
    };
    let block = panel(title, theme).style(theme.style("popup"));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    if p.items.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "No runbooks found. Shipped runbooks are built in; add your own as TOML files in ~/.config/toban/runbooks/.",
                theme.style("empty"),
            ))
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let [list, desc, hint] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(inner);
    let name_w = p
        .items
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(8)
        .min(24);
    let lines: Vec<Line> = p
        .items
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let drill = if r.drillable { " drill" } else { "" };
            let line = Line::from(vec![
                Span::styled(format!(" {:<name_w$} ", r.name), theme.style("help.key")),
                Span::styled(
                    format::fit(&r.title, (list.width as usize).saturating_sub(name_w + 9)),
                    theme.style("text"),
                ),
                Span::styled(drill, theme.style("text.dim")),
            ]);
            if i == p.selected {
                line.style(theme.style("selection"))
            } else {
                line
            }
        })
        .collect();
    let skip = p
        .selected
        .saturating_sub(list.height.saturating_sub(1) as usize);
    frame.render_widget(Paragraph::new(lines).scroll((skip as u16, 0)), list);
    if let Some(r) = p.selected() {
        frame.render_widget(
            Paragraph::new(Span::styled(r.description.clone(), theme.style("text.dim")))
                .wrap(Wrap { trim: true }),
            desc,
        );
    }
    let mut hint_text = hints::join(keys).trim_end().to_string();
    if !p.params.is_empty() {
        let known: Vec<String> = p.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        hint_text.push_str(&format!(" · with {}", known.join(", ")));
    }
    frame.render_widget(
        Paragraph::new(Span::styled(
            format::fit(&hint_text, hint.width as usize),
            theme.style("footer"),
        )),
        hint,
    );
}
