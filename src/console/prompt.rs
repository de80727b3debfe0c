//! The one-line prompt: typing goes into its field, Enter answers (through the capability
//! that asked), Esc cancels. Drawn as a small box over the screen with its hints from the
//! keymap.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::action::Action;
use crate::config::keymap::KeyContext;
use crate::config::theme::Theme;
use crate::state::prompt::{Prompt, PromptFor};
use crate::state::{Effect, State};
use crate::ui::widgets::{format, hints};

pub fn on_key(state: &mut State, key: KeyEvent) -> bool {
    match state.prompt.as_mut() {
        Some(p) => {
            p.error = None;
            crate::runbook::wizard::text::edit(&mut p.input, key)
        }
        None => false,
    }
}

pub fn on_paste(state: &mut State, text: &str) -> bool {
    match state.prompt.as_mut() {
        Some(p) => {
            crate::runbook::wizard::text::paste(&mut p.input, text);
            true
        }
        None => false,
    }
}

pub fn on_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let Some(p) = state.prompt.as_mut() else {
        return;
    };
    match action {
        Action::Back | Action::Quit => {
            super::logs::cancelled(state, fx);
            state.prompt = None
        }
        Action::Select | Action::Confirm => {
            let text = p.value();
            if p.required && text.trim().is_empty() {
                p.error = Some("an answer is needed here".into());
                return;
            }
            let purpose = p.purpose.clone();
            let answered = match purpose {
                PromptFor::DutyDone
                | PromptFor::DutySkip
                | PromptFor::DutySnooze
                | PromptFor::CalendarFilter => super::calendar::answer(state, purpose, &text, fx),
                PromptFor::AlarmAck | PromptFor::AlarmSilence | PromptFor::AlarmFilter => {
                    super::alarms::answer(state, purpose, &text, fx)
                }
                PromptFor::ServicesFilter => {
                    state.services.set_filter(text.trim());
                    Ok(())
                }
                PromptFor::LogsFilter | PromptFor::LogsOpen | PromptFor::LogsJump => {
                    super::logs::answer(state, purpose, &text, fx)
                }
            };
            match answered {
                Ok(()) => state.prompt = None,
                Err(e) => {
                    if let Some(p) = state.prompt.as_mut() {
                        p.error = Some(e);
                    }
                }
            }
        }
        _ => {}
    }
}

pub fn render(frame: &mut Frame, area: Rect, p: &Prompt, theme: &Theme, state: &State) {
    let w = area.width.min(72);
    let h = 6u16.min(area.height);
    let [popup] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border"))
        .title(Span::styled(
            format!(" {} ", format::fit(&p.title, w.saturating_sub(4) as usize)),
            theme.style("popup.title"),
        ))
        .style(theme.style("popup"));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let keys = super::hints::resolve(
        &state.keymap,
        &[KeyContext::Input],
        &[(Action::Select, "answer"), (Action::Back, "cancel")],
    );
    let value_w = inner.width.saturating_sub(3) as usize;
    let value: Vec<char> = p.value().chars().collect();
    let skip = value.len().saturating_sub(value_w);
    let lines = vec![
        Line::styled(p.label.clone(), theme.style("text.dim")),
        Line::styled(
            format!("> {}▏", value[skip..].iter().collect::<String>()),
            theme.style("input"),
        ),
        match &p.error {
            Some(e) => Line::styled(e.clone(), theme.style("input.invalid")),
            None => Line::raw(""),
        },
        Line::styled(
            hints::join(&keys).trim().to_string(),
            theme.style("text.dim"),
        ),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
}
