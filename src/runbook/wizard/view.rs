//! The runbook wizard, drawn over the current tab: every step with its state on the left;
//! on the right the current step's explanation, exactly what it will do, the question it
//! asks, and its output. Pure: draws `WizardState` and nothing else.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, Paragraph, Wrap};
use ratatui::Frame;

use chrono::{DateTime, Utc};

use crate::config::theme::Theme;
use crate::runbook::engine::{RunStatus, StepState, Waiting};
use crate::runbook::spec::{DrillMode, StepAction};
use crate::runbook::wizard::reattach_view::{elapsed, reattach_lines};
use crate::runbook::wizard::{Ask, OutKind, WizardState};
use crate::ui::widgets::format;
use crate::ui::widgets::hints::{self, Hint};

fn state_mark(s: StepState, current: bool) -> (&'static str, &'static str) {
    match s {
        StepState::Pending if current => ("▶", "wizard.step.running"),
        StepState::Pending => ("·", "wizard.step.pending"),
        StepState::Running => ("▶", "wizard.step.running"),
        StepState::Done => ("✓", "wizard.step.done"),
        StepState::Failed => ("✗", "wizard.step.failed"),
        StepState::Skipped => ("-", "wizard.step.skipped"),
        StepState::Interrupted => ("!", "wizard.step.failed"),
        StepState::Cancelled => ("⊘", "wizard.step.failed"),
    }
}

/// `hints`: the keys for what the operator can do now, resolved from the keymap by the
/// console. `now`: for the running step's elapsed time.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    w: &WizardState,
    theme: &Theme,
    hints: &[Hint],
    now: DateTime<Utc>,
) {
    let e = &w.engine;
    let mode = match (e.state.opts.dry_run, e.state.opts.drill) {
        (true, _) => " [DRY RUN]",
        (false, true) => " [DRILL]",
        _ => "",
    };
    let (done, total) = w.progress();
    let title = format!(" {}{mode} — {done}/{total} ", e.spec.title);
    frame.render_widget(Clear, area);
    let outer = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border"))
        .title(Span::styled(title, theme.style("popup.title")))
        .style(theme.style("popup"));
    let inner = outer.inner(area);
    frame.render_widget(outer, area);

    let [body, hint_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(inner);
    // The step list gives way first: at 80 columns the step's own text (paths, commands)
    // needs the room more than the other steps' titles do.
    let left_w = if body.width < 100 {
        (body.width / 5).clamp(12, 18)
    } else {
        (body.width / 3).clamp(16, 30)
    };
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_w), Constraint::Min(10)]).areas(body);

    // Steps.
    let items: Vec<ListItem> = e
        .spec
        .steps
        .iter()
        .zip(&e.state.steps)
        .enumerate()
        .filter(|(i, (s, rec))| {
            // Steps that cannot run in this mode are left out rather than shown as pending.
            let not_in_mode = match s.drill {
                DrillMode::Only => !e.state.opts.drill,
                DrillMode::Skip => e.state.opts.drill,
                DrillMode::Both => false,
            };
            let idle = rec.state == StepState::Pending && e.state.current != Some(*i);
            !(idle && (s.rollback_only || not_in_mode))
        })
        .map(|(i, (s, rec))| {
            let current = e.state.current == Some(i) && !e.state.status.is_finished();
            let (mark, style) = state_mark(rec.state, current);
            let mut st = theme.style(style);
            if current {
                st = st.add_modifier(Modifier::BOLD);
            }
            // Narrow: the step's short id; wide: its title.
            let name = if left_w < 20 { &s.id } else { &s.title };
            ListItem::new(Line::from(vec![
                Span::styled(format!("{mark} "), st),
                Span::styled(
                    format::fit(name, left_w.saturating_sub(3) as usize),
                    if current { st } else { theme.style("text") },
                ),
            ]))
        })
        .collect();
    frame.render_widget(
        List::new(items).block(
            Block::default()
                .borders(Borders::RIGHT)
                .border_style(theme.style("border")),
        ),
        left,
    );

    let right = Rect {
        x: right.x + 1,
        width: right.width.saturating_sub(1),
        ..right
    };
    render_step(frame, right, w, theme, now);
    frame.render_widget(
        Paragraph::new(Line::styled(
            format::fit(hints::join(hints).trim(), hint_area.width as usize),
            theme.style("text.dim"),
        )),
        hint_area,
    );

    if let Some(ask) = w.ask {
        render_ask(frame, area, ask, theme);
    }
}

fn render_step(frame: &mut Frame, area: Rect, w: &WizardState, theme: &Theme, now: DateTime<Utc>) {
    let e = &w.engine;
    if let (Some(ro), false) = (&e.read_only, e.state.status.is_finished()) {
        let [top, out] = split_output(area, w);
        super::read_only::render(frame, top, w, ro, theme);
        render_output(frame, out, w, theme);
        return;
    }
    let Some(i) = e.state.current else {
        frame.render_widget(
            Paragraph::new("Press Enter to start.").style(theme.style("text")),
            area,
        );
        return;
    };
    let (Some(step), Some(rec)) = (e.spec.steps.get(i), e.state.steps.get(i)) else {
        return;
    };

    if e.state.status.is_finished() {
        let mut lines: Vec<Line> = Vec::new();
        let (text, style) = match e.state.status {
            RunStatus::Succeeded => (
                "Run finished: every step done.".to_string(),
                "wizard.step.done",
            ),
            s => (
                format!(
                    "Run {}: {}",
                    s.as_str(),
                    e.state.failure.clone().unwrap_or_default()
                ),
                "wizard.step.failed",
            ),
        };
        lines.push(Line::styled(text, theme.style(style)));
        lines.push(Line::styled(
            format!("run {} — recorded in the audit log", e.state.run_id),
            theme.style("text.dim"),
        ));
        if e.state.opts.dry_run {
            for (s, r) in e.spec.steps.iter().zip(&e.state.steps) {
                if !r.message.is_empty() {
                    // One line per step: the message folded (a dry run's argv spans lines).
                    let folded: Vec<&str> = r.message.lines().map(str::trim).collect();
                    lines.push(Line::styled(
                        format!("{}: {}", s.id, folded.join(" ")),
                        theme.style("text.dim"),
                    ));
                }
            }
        }
        let [top, out] = split_output(area, w);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), top);
        render_output(frame, out, w, theme);
        return;
    }

    // Above: what the step is and exactly what it will do. Below, always visible: where it
    // stands and the question it asks.
    let mut what: Vec<Line> = Vec::new();
    let mut head = vec![Span::styled(
        step.title.clone(),
        theme.style("text").add_modifier(Modifier::BOLD),
    )];
    head.push(Span::styled(
        format!("  [{}]", step.action.kind_name()),
        theme.style("text.dim"),
    ));
    if step.destructive {
        head.push(Span::styled("  DESTRUCTIVE", theme.style("danger")));
    }
    what.push(Line::from(head));
    if let Some(x) = &step.explain {
        what.push(Line::styled(x.clone(), theme.style("text.dim")));
    }
    let waiting = e.waiting();
    let text_w = area.width.max(1) as usize;
    if !matches!(waiting, Waiting::Input { .. }) {
        if !step.action.is_interactive() {
            what.push(Line::styled("It will:", theme.style("text.dim")));
        }
        for l in step_lines(w, i) {
            for part in crate::ui::widgets::format::wrap_at_separators(&l, text_w) {
                what.push(Line::styled(part, theme.style("wizard.command")));
            }
        }
    }

    let mut ask: Vec<Line> = Vec::new();
    if matches!(rec.state, StepState::Interrupted | StepState::Failed) && !rec.message.is_empty() {
        ask.push(Line::styled(
            rec.message.clone(),
            theme.style("wizard.step.failed"),
        ));
    }
    for (id, v) in w.revealed_secrets() {
        ask.push(Line::styled(
            format!("secret from {id}: {v}"),
            theme.style("danger"),
        ));
    }
    let mut input_h = 0u16;
    let mut choices = false;
    match &waiting {
        Waiting::Confirm => ask.push(buttons(&["No", "Yes"], w.selected, step.destructive, theme)),
        Waiting::Typed(expected) => {
            ask.push(Line::from(vec![
                Span::styled("Type ", theme.style("text")),
                Span::styled(expected.clone(), theme.style("danger")),
                Span::styled(" to confirm:", theme.style("text")),
            ]));
            let style = if w.typed_ok_so_far() {
                theme.style("input")
            } else {
                theme.style("input.invalid")
            };
            ask.push(Line::styled(format!("> {}▏", w.typed), style));
        }
        Waiting::Input { param, .. } => {
            let p = e.spec.params.iter().find(|p| &p.name == param);
            let label = p
                .and_then(|p| p.label.clone())
                .unwrap_or_else(|| param.clone());
            what.push(Line::styled(format!("{label}:"), theme.style("text")));
            if let Some(h) = p.and_then(|p| p.help.as_ref()) {
                what.push(Line::styled(h.clone(), theme.style("text.dim")));
            }
            if w.choices.is_empty() {
                input_h = 3;
                if let Some(err) = w.input_error() {
                    ask.push(Line::styled(err, theme.style("input.invalid")));
                }
            } else {
                choices = true;
            }
        }
        Waiting::Resolve => {
            ask.extend(reattach_lines(w, i, theme, now));
            for (k, (_, label)) in w.resume_options().iter().enumerate() {
                let st = if k == w.selected {
                    theme.style("selection")
                } else {
                    theme.style("text")
                };
                let mark = if k == w.selected { "▸ " } else { "  " };
                ask.push(Line::styled(format!("{mark}{label}"), st));
            }
        }
        Waiting::Outcome => {
            let elapsed = w
                .running_since()
                .map(|t| format!(" {}", elapsed(now - t)))
                .unwrap_or_default();
            ask.push(Line::styled(
                format!("running…{elapsed}"),
                theme.style("wizard.step.running"),
            ));
        }
        Waiting::Continue | Waiting::Nothing | Waiting::ReadOnly => {}
    }
    if let Some(n) = &w.notice {
        ask.push(Line::styled(n.clone(), theme.style("input.invalid")));
    }

    let [top, out] = split_output(area, w);
    let width = top.width.max(1) as usize;
    if choices {
        // As many choices as fit, scrolled so the selected one is always on screen.
        let room = (top.height as usize)
            .saturating_sub(what.len() + ask.len() + 1)
            .max(3);
        let first = w.selected.saturating_sub(room.saturating_sub(1));
        if first > 0 {
            what.push(Line::styled(
                format!("  ↑ {first} more"),
                theme.style("text.dim"),
            ));
        }
        for (k, c) in w.choices.iter().enumerate().skip(first).take(room) {
            let st = if k == w.selected {
                theme.style("selection")
            } else {
                theme.style("text")
            };
            // A mark as well as the colour: the choice reads without colour (NO_COLOR).
            let mark = if k == w.selected { "▸ " } else { "  " };
            what.push(Line::styled(
                format!("{mark}{}", format::fit(c, width - 2)),
                st,
            ));
        }
        let below = w.choices.len().saturating_sub(first + room);
        if below > 0 {
            what.push(Line::styled(
                format!("  ↓ {below} more"),
                theme.style("text.dim"),
            ));
        }
    }
    let ask_h: u16 = ask
        .iter()
        .map(|l| l.width().max(1).div_ceil(width) as u16)
        .sum::<u16>()
        .min(top.height / 2 + 1);
    let what_h: u16 = what
        .iter()
        .map(|l| l.width().max(1).div_ceil(width) as u16)
        .sum();
    // The input box sits right under its label; the question stays at the bottom.
    let [what_area, input_area, _, ask_area] = Layout::vertical([
        Constraint::Max(what_h),
        Constraint::Length(input_h),
        Constraint::Min(0),
        Constraint::Length(ask_h),
    ])
    .areas(top);
    frame.render_widget(
        Paragraph::new(Text::from(what)).wrap(Wrap { trim: false }),
        what_area,
    );
    frame.render_widget(
        Paragraph::new(Text::from(ask)).wrap(Wrap { trim: false }),
        ask_area,
    );
    if input_h > 0 {
        let mut ta = w.input.clone();
        let valid = match &waiting {
            Waiting::Input { param, .. } => e
                .spec
                .params
                .iter()
                .find(|p| &p.name == param)
                .map(|p| p.validate(&w.input.lines().join("")).is_ok())
                .unwrap_or(true),
            _ => true,
        };
        ta.set_block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.style(if valid { "border" } else { "input.invalid" })),
        );
        ta.set_style(theme.style(if valid { "input" } else { "input.invalid" }));
        ta.set_cursor_line_style(Style::default());
        frame.render_widget(&ta, input_area);
    }
    render_output(frame, out, w, theme);
}

/// What the step will do, for the screen: a command's argv as one quoted list (each
/// element exactly as the program gets it), everything else as the engine describes it.
fn step_lines(w: &WizardState, i: usize) -> Vec<String> {
    match w.engine.render(i, true) {
        Ok(r) => match &r.action {
            StepAction::Command(c) => {
                let (argv, cwd, env, stdin, timeout) =
                    (&c.argv, &c.cwd, &c.env, &c.stdin, &c.timeout);
                let quoted: Vec<String> = argv.iter().map(|a| format!("{a:?}")).collect();
                let mut v = vec![format!("argv [{}]", quoted.join(", "))];
                if let Some(c) = cwd {
                    v.push(format!("in {c}"));
                }
                for (k, val) in env {
                    v.push(format!("env {k}={val}"));
                }
                if let Some(s) = stdin {
                    v.push(format!(
                        "stdin ← {}{}",
                        s.file,
                        if s.gunzip { " (gunzip by toban)" } else { "" }
                    ));
                }
                v.push(format!(
                    "time limit {}",
                    humantime::format_duration(*timeout)
                ));
                v
            }
            _ => r.display,
        },
        Err(e) => vec![format!("cannot show this step yet: {e}")],
    }
}

/// The step's text above, its output below (only when there is output).
fn split_output(area: Rect, w: &WizardState) -> [Rect; 2] {
    if w.output.is_empty() {
        return [area, Rect { height: 0, ..area }];
    }
    let out_h = (area.height / 2).max(3);
    Layout::vertical([Constraint::Min(3), Constraint::Length(out_h)]).areas(area)
}

fn render_output(frame: &mut Frame, area: Rect, w: &WizardState, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.style("border"))
        .title(Span::styled(
            if w.scroll > 0 {
                format!(" output (↑{}) ", w.scroll)
            } else {
                " output ".to_string()
            },
            theme.style("text.dim"),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let h = inner.height as usize;
    let end = w.output.len().saturating_sub(w.scroll);
    // Long lines (a path, a server's error, what a failed step left behind) wrap rather than
    // lose their end at the pane's edge: the newest rows that fit are shown.
    let mut lines: Vec<Line> = Vec::new();
    for l in w.output[..end].iter().rev() {
        if lines.len() >= h {
            break;
        }
        let style = match l.kind {
            OutKind::Header => theme.style("text.dim").add_modifier(Modifier::BOLD),
            OutKind::Line => theme.style("text"),
            OutKind::Ok => theme.style("wizard.step.done"),
            OutKind::Failed => theme.style("wizard.step.failed"),
        };
        for row in wrap(&l.text, inner.width as usize).into_iter().rev() {
            lines.push(Line::styled(row, style));
        }
    }
    lines.truncate(h);
    lines.reverse();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `text` in rows of at most `width` columns, broken at spaces where it can; rows after the
/// first are indented by two.
fn wrap(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthChar;
    if width < 8 || unicode_width::UnicodeWidthStr::width(text) <= width {
        return vec![text.to_string()];
    }
    let mut rows = Vec::new();
    let (mut row, mut row_w) = (String::new(), 0usize);
    let mut last_space: Option<usize> = None;
    for c in text.chars() {
        let cw = c.width().unwrap_or(0);
        if row_w + cw > width {
            let cut = last_space.filter(|i| *i > 2).unwrap_or(row.len());
            let rest = row.split_off(cut);
            rows.push(row.trim_end().to_string());
            row = format!("  {}", rest.trim_start());
            row_w = unicode_width::UnicodeWidthStr::width(row.as_str());
            last_space = None;
        }
        if c == ' ' {
            last_space = Some(row.len());
        }
        row.push(c);
        row_w += cw;
    }
    if !row.trim().is_empty() {
        rows.push(row);
    }
    rows
}

fn buttons<'a>(labels: &[&'a str], selected: usize, danger: bool, theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        let st = if i == selected {
            if danger && i == 1 {
                theme.style("danger").add_modifier(Modifier::REVERSED)
            } else {
                theme.style("selection")
            }
        } else {
            theme.style("text")
        };
        spans.push(Span::styled(format!("[ {l} ]"), st));
        spans.push(Span::raw("  "));
    }
    Line::from(spans)
}

fn render_ask(frame: &mut Frame, area: Rect, ask: Ask, theme: &Theme) {
    let (title, text) = match ask {
        Ask::InterruptStep => (
            " Interrupt the running step? ",
            "The command is stopped (TERM, then KILL) and the run ends as cancelled. It may have done part of its work.",
        ),
        Ask::AbortRun => (
            " Abort the run? ",
            "The run ends here and is recorded as aborted. Steps already done are not undone.",
        ),
    };
    let w = area.width.saturating_sub(8).min(60);
    let h = 7u16.min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("danger"))
        .title(Span::styled(title, theme.style("popup.title")))
        .style(theme.style("popup"));
    let lines = vec![
        Line::styled(text, theme.style("text")),
        Line::raw(""),
        buttons(&["No, keep going", "Yes"], 0, true, theme),
    ];
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        r,
    );
}
