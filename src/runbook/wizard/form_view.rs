//! The parameter form, drawn over the current tab: a row per parameter (label, value,
//! ◀ ▶ where there are choices), the focused parameter's help and problem under the rows,
//! the start button last. Pure.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::form::ParamForm;
use crate::config::theme::Theme;
use crate::runbook::spec::ParamKind;
use crate::ui::widgets::format;
use crate::ui::widgets::hints::{self, Hint};

pub fn render(frame: &mut Frame, area: Rect, f: &ParamForm, theme: &Theme, hint: &[Hint]) {
    let w = area.width.min(100);
    let h = (f.fields.len() as u16 + 10).min(area.height);
    let [popup] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    let mode = match (f.dry_run, f.drill) {
        (true, _) => " [DRY RUN]",
        (false, true) => " [DRILL]",
        _ => "",
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border"))
        .title(Span::styled(
            format!(" {}{mode} — before it starts ", f.title),
            theme.style("popup.title"),
        ))
        .style(theme.style("popup"));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);

    let [rows_a, about_a, hint_a] = Layout::vertical([
        Constraint::Min(2),
        Constraint::Length(4),
        Constraint::Length(1),
    ])
    .areas(inner);

    let label_w = f
        .fields
        .iter()
        .map(|x| x.param.name.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, (inner.width / 3) as usize);
    let value_w = (inner.width as usize).saturating_sub(label_w + 4);
    let mut rows: Vec<Line> = Vec::new();
    for (i, field) in f.fields.iter().enumerate() {
        let focused = i == f.focus;
        let bad = field.touched && field.error().is_some();
        let mark = if bad { "✗" } else { " " };
        let value = if field.param.kind == ParamKind::Secret {
            "•".repeat(field.value().chars().count())
        } else if !field.choices.is_empty() {
            format!("◀ {} ▶", field.value())
        } else {
            field.value()
        };
        let mut value_style = theme.style(if bad { "input.invalid" } else { "input" });
        if focused {
            value_style = value_style.add_modifier(Modifier::REVERSED);
        }
        let shown = if focused && field.choices.is_empty() {
            // The cursor's end of a long value stays visible while typing.
            let chars: Vec<char> = value.chars().collect();
            let skip = chars.len().saturating_sub(value_w.saturating_sub(1));
            format!("{}▏", chars[skip..].iter().collect::<String>())
        } else {
            format::fit(&value, value_w)
        };
        rows.push(Line::from(vec![
            Span::styled(
                format!(
                    "{mark} {:<label_w$} ",
                    format::fit(&field.param.name, label_w)
                ),
                theme.style(if focused { "selection" } else { "text" }),
            ),
            Span::styled(shown, value_style),
        ]));
    }
    let start = match (f.dry_run, f.drill) {
        (true, _) => "[ Show the dry run ]",
        (false, true) => "[ Start the drill ]",
        _ => "[ Start the run ]",
    };
    rows.push(Line::raw(""));
    rows.push(Line::styled(
        format!("  {start}"),
        if f.focus == f.fields.len() {
            theme.style("selection").add_modifier(Modifier::BOLD)
        } else {
            theme.style("text")
        },
    ));
    // Keep the focused row in view on a short terminal.
    let skip = f
        .focus
        .saturating_sub(rows_a.height.saturating_sub(3) as usize);
    frame.render_widget(Paragraph::new(rows).scroll((skip as u16, 0)), rows_a);

    let mut about: Vec<Line> = Vec::new();
    if let Some(n) = &f.notice {
        about.push(Line::styled(n.clone(), theme.style("input.invalid")));
    }
    if let Some(field) = f.focused() {
        if let Some(e) = field.error().filter(|_| field.touched) {
            about.push(Line::styled(e, theme.style("input.invalid")));
        }
        if let Some(l) = field.label() {
            about.push(Line::styled(l.to_string(), theme.style("text")));
        }
        if let Some(h) = &field.param.help {
            about.push(Line::styled(h.clone(), theme.style("text.dim")));
        }
        if field.choices.len() > 1 {
            about.push(Line::styled(
                format!("{} of {} choices", field.choice + 1, field.choices.len()),
                theme.style("text.dim"),
            ));
        }
    }
    frame.render_widget(Paragraph::new(about).wrap(Wrap { trim: true }), about_a);
    frame.render_widget(
        Paragraph::new(Line::styled(
            format::fit(hints::join(hint).trim(), hint_a.width as usize),
            theme.style("text.dim"),
        )),
        hint_a,
    );
}
