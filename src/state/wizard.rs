//! The runbook wizard's state: the run's engine plus what the screen needs (selection, text
//! input, output pane, typed-confirmation buffer). Keys become engine events here; the
//! engine's effects go back to the caller for the runner (see
//! `runbook::runner::RunnerHandle::submit_effects`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use crate::action::Action;
use crate::runbook::engine::{Engine, EngineEffect, Event, ResumeChoice, StepState, Waiting};
use crate::runbook::runner::RunnerMsg;
use crate::runbook::spec::{ParamKind, StepAction};

/// Output lines kept for the pane (the full output is in the run's folder).
pub const OUTPUT_LINES: usize = 2000;

// A handful per key press, never stored: boxing would only add noise at every use.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum WizardEffect {
    /// For the runner: `RunnerHandle::submit_effects(&wizard.engine, …)`.
    Engine(EngineEffect),
    /// Ask the executor again what became of an interrupted step that was still running
    /// (`Job::Reattach`).
    CheckAgain,
    /// The operator closed the wizard (the run is finished, or left to resume later).
    Close,
}

/// A popup over the wizard asking before something irreversible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// Interrupt the running step?
    InterruptStep,
    /// Abandon the run (nothing running)?
    AbortRun,
}

#[derive(Debug, Clone)]
pub struct WizardState {
    pub engine: Engine,
    /// Choice under the cursor: confirm buttons (0 = No, 1 = Yes), resume choices, or an
    /// entry of `choices`.
    pub selected: usize,
    /// Values offered for an input step (backups from the catalog, a choice's options).
    pub choices: Vec<String>,
    pub input: TextArea<'static>,
    /// Typed-confirmation buffer.
    pub typed: String,
    pub output: Vec<String>,
    /// Lines scrolled up from the bottom of the output pane.
    pub scroll: usize,
    pub notice: Option<String>,
    pub ask: Option<Ask>,
    /// Show generated secrets (only when the operator asks).
    pub reveal: bool,
    /// Offered for each input step that picks a backup: set by the app from the catalog.
    pub backups: Vec<String>,
    /// The step the input/choices were prepared for.
    prepared_for: Option<usize>,
}

pub const RESUME_CHOICES: [(ResumeChoice, &str); 3] = [
    (ResumeChoice::Accept, "Accept what is known and go on"),
    (ResumeChoice::Rerun, "Run the step again"),
    (ResumeChoice::Abort, "Abort the run"),
];

impl WizardState {
    /// A wizard on a new (not yet started) or resumed engine. `backups`: catalog entries
    /// offered where a step asks for a backup.
    pub fn new(engine: Engine, backups: Vec<String>) -> WizardState {
        let mut w = WizardState {
            engine,
            selected: 0,
            choices: Vec::new(),
            input: TextArea::default(),
            typed: String::new(),
            output: Vec::new(),
            scroll: 0,
            notice: None,
            ask: None,
            reveal: false,
            backups,
            prepared_for: None,
        };
        w.prepare();
        w
    }

    /// Starts a new run: hand the effects to the runner.
    pub fn start(&mut self) -> Vec<WizardEffect> {
        self.feed(Event::Start)
    }

    pub fn waiting(&self) -> Waiting {
        self.engine.waiting()
    }

    /// Feeds one event to the engine and readies the screen for what comes next.
    pub fn feed(&mut self, event: Event) -> Vec<WizardEffect> {
        let before = self.engine.state.current;
        let fx = self
            .engine
            .handle(event, chrono::Utc::now().timestamp_millis());
        if self.engine.state.current != before {
            self.output.clear();
            self.scroll = 0;
        }
        let mut out = Vec::new();
        for e in fx {
            match e {
                EngineEffect::Notice(n) => self.notice = Some(n),
                other => out.push(WizardEffect::Engine(other)),
            }
        }
        self.prepare();
        out
    }

    /// Sets up selection and input for the current step when it changes.
    fn prepare(&mut self) {
        let cur = self.engine.state.current;
        if cur == self.prepared_for {
            return;
        }
        self.prepared_for = cur;
        self.selected = 0; // No / Cancel first: never the dangerous button
        self.typed.clear();
        self.choices.clear();
        self.input = TextArea::default();
        if let Waiting::Input { param, current } = self.engine.waiting() {
            let p = self.engine.spec.params.iter().find(|p| p.name == param);
            match p.map(|p| p.kind) {
                Some(ParamKind::Choice) => {
                    self.choices = p.map(|p| p.choices.clone()).unwrap_or_default();
                }
                Some(ParamKind::Backup) => self.choices = self.backups.clone(),
                _ => {}
            }
            if let Some(i) = self.choices.iter().position(|c| *c == current) {
                self.selected = i;
            }
            if p.is_some_and(|p| p.kind == ParamKind::Secret) {
                self.input.set_mask_char('•');
            }
            self.input = {
                let mut t = TextArea::new(vec![current]);
                if p.is_some_and(|p| p.kind == ParamKind::Secret) {
                    t.set_mask_char('•');
                }
                t.move_cursor(ratatui_textarea::CursorMove::End);
                t
            };
        }
    }

    fn text_value(&self) -> String {
        self.input.lines().join("")
    }

    /// Messages from the run's task.
    pub fn on_runner(&mut self, msg: RunnerMsg) -> Vec<WizardEffect> {
        match msg {
            RunnerMsg::Event(e) => self.feed(e),
            RunnerMsg::Output { step, line } => {
                if Some(step) == self.engine.state.current {
                    self.output.push(sanitize(&line));
                    if self.output.len() > OUTPUT_LINES {
                        let drop = self.output.len() - OUTPUT_LINES;
                        self.output.drain(..drop);
                    }
                }
                Vec::new()
            }
            RunnerMsg::Error(e) => {
                self.notice = Some(e);
                Vec::new()
            }
        }
    }

    /// Text keys for the input and typed-confirmation fields. Returns true when the key was
    /// used (the caller then does not map it to an action). Enter and Esc are never used
    /// here: they are actions.
    pub fn on_key(&mut self, key: KeyEvent) -> bool {
        if self.ask.is_some() || matches!(key.code, KeyCode::Enter | KeyCode::Esc | KeyCode::Tab) {
            return false;
        }
        match self.engine.waiting() {
            Waiting::Typed(_) => match key.code {
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    self.typed.push(c);
                    true
                }
                KeyCode::Backspace => {
                    self.typed.pop();
                    true
                }
                _ => false,
            },
            Waiting::Input { .. } if self.choices.is_empty() => {
                if matches!(
                    key.code,
                    KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown
                ) {
                    return false;
                }
                self.notice = None;
                self.input.input(key)
            }
            _ => {
                // `v` shows or hides generated secrets: only on request, never by default.
                if key.code == KeyCode::Char('v')
                    && key.modifiers.is_empty()
                    && !self.engine.state.secrets.is_empty()
                {
                    self.reveal = !self.reveal;
                    return true;
                }
                false
            }
        }
    }

    fn option_count(&self) -> usize {
        match self.engine.waiting() {
            Waiting::Confirm => 2,
            Waiting::Resolve => RESUME_CHOICES.len(),
            Waiting::Input { .. } => self.choices.len(),
            _ => 0,
        }
    }

    pub fn on_action(&mut self, action: Action) -> Vec<WizardEffect> {
        if let Some(ask) = self.ask {
            return match action {
                Action::Confirm => {
                    self.ask = None;
                    match ask {
                        Ask::InterruptStep => self.feed(Event::Cancel),
                        Ask::AbortRun => self.feed(Event::Abort),
                    }
                }
                Action::Deny | Action::Back | Action::Cancel | Action::Select => {
                    // Enter on the popup means its default: keep going.
                    self.ask = None;
                    Vec::new()
                }
                _ => Vec::new(),
            };
        }
        let finished = self.engine.state.status.is_finished();
        match action {
            Action::Up | Action::Down => {
                let n = self.option_count();
                if n > 0 {
                    self.selected = if action == Action::Up {
                        self.selected.saturating_sub(1)
                    } else {
                        (self.selected + 1).min(n - 1)
                    };
                } else if action == Action::Up {
                    self.scroll = (self.scroll + 1).min(self.output.len());
                } else {
                    self.scroll = self.scroll.saturating_sub(1);
                }
                Vec::new()
            }
            Action::PageUp => {
                self.scroll = (self.scroll + 10).min(self.output.len());
                Vec::new()
            }
            Action::PageDown => {
                self.scroll = self.scroll.saturating_sub(10);
                Vec::new()
            }
            Action::Top => {
                self.scroll = self.output.len();
                Vec::new()
            }
            Action::Bottom => {
                self.scroll = 0;
                Vec::new()
            }
            Action::Back if finished => vec![WizardEffect::Close],
            Action::Select | Action::Confirm if finished => vec![WizardEffect::Close],
            Action::Back => {
                // Leaving mid-run keeps the run saved; the next start offers to resume it.
                if self.engine.waiting() == Waiting::Outcome {
                    self.notice = Some("a step is running: cancel it first, or wait".into());
                    Vec::new()
                } else {
                    vec![WizardEffect::Close]
                }
            }
            Action::Cancel => {
                self.ask = Some(if self.engine.waiting() == Waiting::Outcome {
                    Ask::InterruptStep
                } else {
                    Ask::AbortRun
                });
                Vec::new()
            }
            Action::Deny => match self.engine.waiting() {
                Waiting::Confirm => self.feed(Event::Confirm(false)),
                _ => Vec::new(),
            },
            Action::Refresh if self.engine.waiting() == Waiting::Resolve => {
                vec![WizardEffect::CheckAgain]
            }
            Action::Select | Action::Confirm => self.select(),
            _ => Vec::new(),
        }
    }

    fn select(&mut self) -> Vec<WizardEffect> {
        self.notice = None;
        match self.engine.waiting() {
            Waiting::Continue => self.feed(Event::Continue),
            Waiting::Confirm => {
                let yes = self.selected == 1;
                self.feed(Event::Confirm(yes))
            }
            Waiting::Typed(_) => {
                let typed = std::mem::take(&mut self.typed);
                self.feed(Event::Typed(typed))
            }
            Waiting::Input { .. } => {
                let value = if self.choices.is_empty() {
                    self.text_value()
                } else {
                    self.choices.get(self.selected).cloned().unwrap_or_default()
                };
                self.feed(Event::Input(value))
            }
            Waiting::Resolve => {
                let choice = RESUME_CHOICES[self.selected.min(RESUME_CHOICES.len() - 1)].0;
                self.feed(Event::Resolve(choice))
            }
            Waiting::Outcome | Waiting::Nothing => Vec::new(),
        }
    }

    /// Is the typed buffer on its way to the expected name (for the input's colour)?
    pub fn typed_ok_so_far(&self) -> bool {
        match self.engine.waiting() {
            Waiting::Typed(expected) => expected.starts_with(&self.typed),
            _ => true,
        }
    }

    /// The generated secret of the current or a finished step, when revealed.
    pub fn revealed_secrets(&self) -> Vec<(String, String)> {
        if !self.reveal {
            return Vec::new();
        }
        self.engine
            .spec
            .steps
            .iter()
            .filter(|s| matches!(s.action, StepAction::GenerateSecret { .. }))
            .filter_map(|s| {
                self.engine
                    .state
                    .secrets
                    .get(&s.id)
                    .map(|v| (s.id.clone(), v.clone()))
            })
            .collect()
    }

    /// Counts of step states, for a header.
    pub fn progress(&self) -> (usize, usize) {
        let done = self
            .engine
            .state
            .steps
            .iter()
            .filter(|s| matches!(s.state, StepState::Done | StepState::Skipped))
            .count();
        (done, self.engine.state.steps.len())
    }
}

/// Output from a command made inert: escape sequences removed, other controls shown as `?`.
pub fn sanitize(line: &str) -> String {
    crate::sanitize::strip_escapes(line).replace('\t', "    ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::engine::RunOptions;
    use crate::runbook::runner::new_engine;
    use crate::runbook::spec::load_all;

    fn wizard(name: &str, kv: &[(&str, &str)]) -> WizardState {
        let (books, _) = load_all(&[]);
        let spec = books.into_iter().find(|b| b.name == name).unwrap();
        let params = kv
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let e = new_engine(
            &spec,
            &params,
            RunOptions {
                step_by_step: true,
                ..Default::default()
            },
        )
        .unwrap();
        WizardState::new(e, vec!["/b/one.sql.gz".into(), "/b/two.sql.gz".into()])
    }

    fn typed(w: &mut WizardState, s: &str) {
        for c in s.chars() {
            assert!(w.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        }
    }

    #[test]
    fn typed_confirmation_needs_the_exact_name_and_focus_starts_on_no() {
        let mut w = wizard("restore-postgres", &[("database", "shop")]);
        w.start();
        // Pick a backup from the catalog list.
        w.on_action(Action::Down);
        w.on_action(Action::Select);
        assert_eq!(w.engine.state.params["dump"], "/b/two.sql.gz");
        // The verify step waits for Enter in the wizard: it shows what it will do first.
        assert_eq!(w.waiting(), Waiting::Continue);
        let fx = w.on_action(Action::Select);
        assert!(fx
            .iter()
            .any(|f| matches!(f, WizardEffect::Engine(EngineEffect::Execute(_)))));
        let step = w.engine.state.current.unwrap();
        w.feed(Event::StepFinished(crate::runbook::engine::StepOutcome {
            ok: true,
            ..crate::runbook::engine::StepOutcome::failed(step, "ok")
        }));
        assert_eq!(w.waiting(), Waiting::Typed("shop".into()));
        typed(&mut w, "sho");
        assert!(w.typed_ok_so_far());
        typed(&mut w, "x");
        assert!(!w.typed_ok_so_far());
        let fx = w.on_action(Action::Select);
        assert!(fx
            .iter()
            .all(|f| !matches!(f, WizardEffect::Engine(EngineEffect::Execute(_)))));
        assert_eq!(w.waiting(), Waiting::Typed("shop".into()));
        assert!(w.notice.as_deref().unwrap().contains("not `shop`"));
        typed(&mut w, "shop");
        w.on_action(Action::Select);
        assert_ne!(w.waiting(), Waiting::Typed("shop".into()));
    }

    #[test]
    fn plain_confirm_defaults_to_no() {
        let (books, _) = load_all(&[]);
        let mut spec = books
            .into_iter()
            .find(|b| b.name == "rotate-access-key")
            .unwrap();
        spec.steps.retain(|s| s.id == "deactivate");
        if let StepAction::Confirm(c) = &mut spec.steps[0].action {
            c.typed = None;
        }
        let e = new_engine(
            &spec,
            &Default::default(),
            RunOptions {
                step_by_step: true,
                ..Default::default()
            },
        )
        .unwrap();
        let mut w = WizardState::new(e, vec![]);
        w.start();
        assert_eq!(w.waiting(), Waiting::Confirm);
        assert_eq!(w.selected, 0);
        w.on_action(Action::Select);
        assert_eq!(
            w.engine.state.status,
            crate::runbook::engine::RunStatus::Aborted
        );
    }

    #[test]
    fn escape_sequences_are_made_inert() {
        assert_eq!(
            sanitize("\u{1b}[31mred\u{1b}[0m \u{1b}]0;title\u{7}x\r"),
            "red x"
        );
    }
}
