//! The runbook wizard, drawn over the current tab: every step with its state on the left;
//! on the right the current step's explanation, exactly what it will do, the question it
//! asks, and its output. Pure: draws `WizardState` and nothing else.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, Paragraph, Wrap};
use ratatui::Frame;

use crate::config::theme::Theme;
use crate::runbook::engine::{RunStatus, StepState, Waiting};
use crate::runbook::spec::{DrillMode, StepAction};
use crate::state::wizard::{Ask, WizardState, RESUME_CHOICES};

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

pub fn render(frame: &mut Frame, area: Rect, w: &WizardState, theme: &Theme) {
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

    let [body, hints] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(inner);
    let left_w = (body.width / 3).clamp(16, 30);
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
            ListItem::new(Line::from(vec![
                Span::styled(format!("{mark} "), st),
                Span::styled(
                    s.title.clone(),
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
    render_step(frame, right, w, theme);
    render_hints(frame, hints, w, theme);

    if let Some(ask) = w.ask {
        render_ask(frame, area, ask, theme);
    }
}

fn render_step(frame: &mut Frame, area: Rect, w: &WizardState, theme: &Theme) {
    let e = &w.engine;
    let Some(i) = e.state.current else {
        frame.render_widget(
            Paragraph::new("Press Enter to start.").style(theme.style("text")),
            area,
        );
        return;
    };
    let step = &e.spec.steps[i];
    let rec = &e.state.steps[i];

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
    if !matches!(waiting, Waiting::Input { .. }) {
        if !step.action.is_interactive() {
            what.push(Line::styled("It will:", theme.style("text.dim")));
        }
        for l in step_lines(w, i) {
            what.push(Line::styled(l, theme.style("wizard.command")));
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
            if w.choices.is_empty() {
                input_h = 3;
            } else {
                for (k, c) in w.choices.iter().enumerate() {
                    let st = if k == w.selected {
                        theme.style("selection")
                    } else {
                        theme.style("text")
                    };
                    what.push(Line::styled(format!("  {c}"), st));
                }
            }
        }
        Waiting::Resolve => {
            for (k, (_, label)) in RESUME_CHOICES.iter().enumerate() {
                let st = if k == w.selected {
                    theme.style("selection")
                } else {
                    theme.style("text")
                };
                ask.push(Line::styled(format!("  {label}"), st));
            }
        }
        Waiting::Outcome => ask.push(Line::styled("running…", theme.style("wizard.step.running"))),
        Waiting::Continue | Waiting::Nothing => {}
    }
    if let Some(n) = &w.notice {
        ask.push(Line::styled(n.clone(), theme.style("input.invalid")));
    }

    let [top, out] = split_output(area, w);
    let width = top.width.max(1) as usize;
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
    let start = end.saturating_sub(h);
    let lines: Vec<Line> = w.output[start..end]
        .iter()
        .map(|l| Line::styled(l.clone(), theme.style("text")))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
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

fn render_hints(frame: &mut Frame, area: Rect, w: &WizardState, theme: &Theme) {
    let hint = if w.ask.is_some() {
        "y confirm · n/Esc keep going"
    } else if w.engine.state.status.is_finished() {
        "Enter/Esc close · ↑↓ scroll output"
    } else {
        match w.engine.waiting() {
            Waiting::Continue => "Enter do it · Esc leave (run is kept) · c abort",
            Waiting::Confirm => "←→/↑↓ choose · Enter answer · n no · c abort",
            Waiting::Typed(_) => "type the name · Enter confirm · c abort",
            Waiting::Input { .. } => "Enter accept · ↑↓ choose · c abort",
            Waiting::Resolve => "↑↓ choose · Enter decide · r check again",
            Waiting::Outcome => "↑↓/PgUp scroll · c interrupt the step",
            Waiting::Nothing => "Enter start",
        }
    };
    let mut spans = vec![Span::styled(hint, theme.style("text.dim"))];
    if !w.engine.state.secrets.is_empty() && w.ask.is_none() {
        spans.push(Span::styled(
            if w.reveal {
                " · v hide secret"
            } else {
                " · v reveal secret"
            },
            theme.style("text.dim"),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::runbook::engine::{Event, Reattach, RunOptions, StepOutcome};
    use crate::runbook::runner::{new_engine, RunnerMsg};
    use crate::runbook::spec::{load_all, Runbook};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn book(name: &str) -> Runbook {
        load_all(&[])
            .0
            .into_iter()
            .find(|b| b.name == name)
            .unwrap()
    }

    fn wizard_on(spec: Runbook, kv: &[(&str, &str)], dry_run: bool) -> WizardState {
        let params = kv
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut e = new_engine(
            &spec,
            &params,
            RunOptions {
                step_by_step: true,
                dry_run,
                ..Default::default()
            },
        )
        .unwrap();
        e.state.run_id = "20261123T030000Z-abcdef".into();
        WizardState::new(
            e,
            vec![
                "/backup/db/20260225_030000.sql.gz".into(),
                "/backup/db/20260224_030000.sql.gz".into(),
            ],
        )
    }

    /// A runbook reduced to the steps up to `id`, so that step is the current one.
    fn at_step(name: &str, id: &str, kv: &[(&str, &str)]) -> WizardState {
        let mut spec = book(name);
        let pos = spec.steps.iter().position(|s| s.id == id).unwrap();
        spec.steps.drain(..pos);
        let mut w = wizard_on(spec, kv, false);
        w.start();
        w
    }

    fn draw(w: &WizardState) -> String {
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| render(f, f.area(), w, &Theme::fallback()))
            .unwrap();
        let buf = t.backend().buffer().clone();
        let mut s = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                s.push_str(buf[(x, y)].symbol());
            }
            s.push('\n');
        }
        s
    }

    fn draw_at(w: &WizardState, width: u16, height: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
        t.draw(|f| render(f, f.area(), w, &Theme::fallback()))
            .unwrap();
        let buf = t.backend().buffer().clone();
        let mut s = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                s.push_str(buf[(x, y)].symbol());
            }
            s.push('\n');
        }
        s
    }

    #[test]
    fn wizard_command_running_160x48() {
        let mut w = at_step("restore-postgres", "restore", PG);
        w.on_action(Action::Select);
        for i in 0..60 {
            w.on_runner(RunnerMsg::Output {
                step: 0,
                line: format!("ALTER TABLE {i}"),
            });
        }
        w.on_action(Action::PageUp);
        insta::assert_snapshot!(draw_at(&w, 160, 48));
    }

    const PG: &[(&str, &str)] = &[
        ("database", "backup_mgmt"),
        ("dump", "/backup/db/20260225_030000.sql.gz"),
    ];

    #[test]
    fn wizard_note() {
        let w = at_step(
            "rotate-db-password",
            "restart-note",
            &[("user", "app"), ("secret_file", "/etc/app/db_password")],
        );
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_checklist() {
        let w = at_step("rotate-access-key", "create", &[("old_key_id", "AKIAOLD")]);
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_input_choice_of_backups() {
        let w = at_step("restore-postgres", "choose", &[]);
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_input_text() {
        let mut w = wizard_on(
            book("restore-files"),
            &[
                ("target", "/srv/mail"),
                ("backup", "/mnt/backup-hdd/mailserver/daily/2026-11-20"),
            ],
            false,
        );
        w.backups.clear();
        w.start();
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_confirm_typed_wrong_name() {
        let mut w = at_step("restore-postgres", "confirm", PG);
        for c in "backup_mgnt".chars() {
            w.on_key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char(c),
                crossterm::event::KeyModifiers::NONE,
            ));
        }
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_confirm_plain_focus_on_no() {
        let mut spec = book("rotate-access-key");
        let pos = spec
            .steps
            .iter()
            .position(|s| s.id == "deactivate")
            .unwrap();
        spec.steps.drain(..pos);
        if let crate::runbook::spec::StepAction::Confirm(c) = &mut spec.steps[0].action {
            c.typed = None;
        }
        let mut w = wizard_on(spec, &[("old_key_id", "AKIAOLD")], false);
        w.start();
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_command_before_it_runs() {
        let w = at_step(
            "restore-postgres",
            "restore",
            &[
                ("database", "backup_mgmt"),
                ("dump", "/backup/db/20260225_030000.sql.gz"),
                ("passfile", "/root/.pgpass"),
            ],
        );
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_command_running_with_output() {
        let mut w = at_step("restore-postgres", "restore", PG);
        w.on_action(Action::Select);
        for i in 0..30 {
            w.on_runner(RunnerMsg::Output {
                step: 0,
                line: format!("\u{1b}[32mSET\u{1b}[0m line {i}"),
            });
        }
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_cancel_asks_first() {
        let mut w = at_step("restore-postgres", "restore", PG);
        w.on_action(Action::Select);
        w.on_action(Action::Cancel);
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_container() {
        let w = at_step("restore-postgres", "stop", PG);
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_sql() {
        let w = at_step("restore-postgres", "tables", PG);
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_alter_password_masked() {
        let mut w = at_step(
            "rotate-db-password",
            "generate",
            &[("user", "app"), ("secret_file", "/etc/app/db_password")],
        );
        w.on_action(Action::Select);
        w.feed(Event::StepFinished(StepOutcome {
            ok: true,
            secret: Some("Sup3rSecretPasswordValue12345678".into()),
            ..StepOutcome::failed(0, "generated")
        }));
        w.typed = "app".into();
        w.on_action(Action::Select);
        assert_eq!(w.engine.current_step().unwrap().id, "alter");
        let s = draw(&w);
        assert!(!s.contains("Sup3rSecret"), "{s}");
        insta::assert_snapshot!(s);
    }

    #[test]
    fn wizard_wait() {
        let w = at_step(
            "restore-postgres",
            "health",
            &[
                ("database", "db"),
                ("dump", "/d.sql.gz"),
                ("health_url", "https://backup-mgmt.example.com/health/ready"),
            ],
        );
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_verify_backup() {
        let w = at_step("restore-postgres", "verify", PG);
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_extract_preview() {
        let w = at_step(
            "restore-files",
            "preview",
            &[
                ("backup", "/mnt/backup-hdd/mailserver/daily/2026-11-20"),
                ("target", "/srv/mail"),
            ],
        );
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_schedule_followup() {
        let w = at_step(
            "rotate-access-key",
            "schedule-delete",
            &[("old_key_id", "AKIAOLD")],
        );
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_generate_secret() {
        let w = at_step(
            "rotate-db-password",
            "generate",
            &[("user", "app"), ("secret_file", "/etc/app/db_password")],
        );
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_interrupted_after_restart() {
        let mut w = at_step("restore-postgres", "restore", PG);
        w.on_action(Action::Select);
        let e =
            crate::runbook::engine::Engine::resume(w.engine.spec.clone(), w.engine.state.clone());
        let mut w = WizardState::new(e, vec![]);
        w.feed(Event::Reattached {
            step: 0,
            info: Reattach::Finished {
                exit_code: 0,
                tail: "COMMIT".into(),
            },
        });
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_dry_run_finished() {
        let mut w = wizard_on(book("restore-postgres"), PG, true);
        w.start();
        insta::assert_snapshot!(draw(&w));
    }

    #[test]
    fn wizard_failed_run() {
        let mut w = at_step("restore-postgres", "restore", PG);
        w.on_action(Action::Select);
        w.feed(Event::StepFinished(StepOutcome {
            exit_code: Some(3),
            ..StepOutcome::failed(0, "exit code 3")
        }));
        insta::assert_snapshot!(draw(&w));
    }
}
