//! The runbook wizard's state: the run's engine plus what the screen needs (selection, text
//! input, the run's output log, typed-confirmation buffer). Keys become engine events here;
//! the engine's effects go back to the console for the runner. Pure: the clock comes in
//! with each call.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

pub use super::resume::ResumeOption;
use super::text;
use crate::action::Action;
use crate::runbook::engine::{Engine, EngineEffect, Event, Reattach, StepState, Waiting};
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

/// One line of the run's output pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutLine {
    pub kind: OutKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutKind {
    /// `── Verify the dump ──`: a step began.
    Header,
    /// What a command printed, or what a step found (a listing, a comparison).
    Line,
    /// How a step ended.
    Ok,
    Failed,
}

#[derive(Debug, Clone)]
pub struct WizardState {
    pub engine: Engine,
    /// Choice under the cursor: confirm buttons (0 = No, 1 = Yes), resume options, or an
    /// entry of `choices`.
    pub selected: usize,
    /// Values offered for an input step (backups from the catalog, a choice's options).
    pub choices: Vec<String>,
    pub input: TextArea<'static>,
    /// Typed-confirmation buffer.
    pub typed: String,
    /// The whole run's output: a header per step, what it printed or found, how it ended.
    pub output: Vec<OutLine>,
    /// Lines scrolled up from the bottom of the output pane.
    pub scroll: usize,
    pub notice: Option<String>,
    pub ask: Option<Ask>,
    /// Show generated secrets (only when the operator asks).
    pub reveal: bool,
    /// Offered for each input step that picks a backup: set by the console from the catalog.
    pub backups: Vec<String>,
    /// The step the input/choices were prepared for, and what was known of it when it was
    /// found interrupted: the safe default is chosen again when that knowledge changes
    /// (still running → finished).
    prepared_for: Option<(usize, StepState, Option<Reattach>)>,
    /// Steps that printed lines of their own (the rest show their findings when they end).
    streamed: Vec<usize>,
    /// When the console last asked what became of a step still running after a restart.
    pub checked_at: Option<DateTime<Utc>>,
}

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
            streamed: Vec::new(),
            checked_at: None,
        };
        if let Some(ro) = &w.engine.read_only {
            w.output = super::read_only::audit_lines(ro);
        }
        w.prepare();
        w
    }

    /// Starts a new run: hand the effects to the runner.
    pub fn start(&mut self, now: DateTime<Utc>) -> Vec<WizardEffect> {
        self.feed(Event::Start, now)
    }

    pub fn waiting(&self) -> Waiting {
        self.engine.waiting()
    }

    /// Feeds one event to the engine and readies the screen for what comes next.
    pub fn feed(&mut self, event: Event, now: DateTime<Utc>) -> Vec<WizardEffect> {
        let before: Vec<StepState> = self.engine.state.steps.iter().map(|s| s.state).collect();
        let finished = match &event {
            Event::StepFinished(o) => Some(o.clone()),
            _ => None,
        };
        let fx = self.engine.handle(event, now.timestamp_millis());
        if let Some(o) = finished {
            self.log_outcome(o.step, o.ok, &o.output, &o.message);
        }
        let started: Vec<usize> = (self.engine.state.steps.iter().enumerate())
            .filter(|(i, r)| {
                r.state == StepState::Running && before.get(*i) != Some(&StepState::Running)
            })
            .map(|(i, _)| i)
            .collect();
        for i in started {
            let title = (self.engine.spec.steps.get(i)).map_or(String::new(), |s| s.title.clone());
            self.push(OutKind::Header, format!("── {title} ──"));
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

    /// A step ended: what it found (when it printed nothing itself) and how it ended.
    fn log_outcome(&mut self, step: usize, ok: bool, output: &str, message: &str) {
        if !self.streamed.contains(&step) {
            for l in output.lines().filter(|l| !l.trim().is_empty()) {
                self.push(OutKind::Line, sanitize(l));
            }
        }
        let kind = if ok { OutKind::Ok } else { OutKind::Failed };
        let mark = if ok { "✓" } else { "✗" };
        let message = sanitize(message.lines().next().unwrap_or_default());
        self.push(kind, format!("{mark} {message}"));
    }

    fn push(&mut self, kind: OutKind, text: String) {
        self.output.push(OutLine { kind, text });
        if self.scroll > 0 {
            // Keep the lines the operator scrolled to where they are.
            self.scroll += 1;
        }
        if self.output.len() > OUTPUT_LINES {
            let drop = self.output.len() - OUTPUT_LINES;
            self.output.drain(..drop);
            self.scroll = self.scroll.min(self.output.len());
        }
    }

    /// Sets up selection and input for the current step when it (or its state) changes.
    fn prepare(&mut self) {
        let cur = self.engine.state.current.and_then(|i| {
            (self.engine.state.steps.get(i)).map(|r| (i, r.state, r.reattach.clone()))
        });
        if cur == self.prepared_for {
            return;
        }
        self.prepared_for = cur;
        self.selected = 0; // No / Cancel first: never the dangerous button
        self.typed.clear();
        self.choices.clear();
        self.input = TextArea::default();
        match self.engine.waiting() {
            Waiting::Input { param, current } => {
                let p = self.engine.spec.params.iter().find(|p| p.name == param);
                match p.map(|p| p.kind) {
                    Some(ParamKind::Choice) => {
                        self.choices = p.map(|p| p.choices.clone()).unwrap_or_default();
                    }
                    // Only backups this parameter accepts (a dump for `*.sql.gz`).
                    Some(ParamKind::Backup) => {
                        self.choices = self
                            .backups
                            .iter()
                            .filter(|b| p.is_none_or(|p| p.validate(b).is_ok()))
                            .cloned()
                            .collect();
                    }
                    _ => {}
                }
                if let Some(i) = self.choices.iter().position(|c| *c == current) {
                    self.selected = i;
                }
                let secret = p.is_some_and(|p| p.kind == ParamKind::Secret);
                self.input = text::field(&current, secret);
            }
            Waiting::Resolve => {
                self.selected = self.resume_default();
            }
            _ => {}
        }
    }

    fn text_value(&self) -> String {
        text::value(&self.input)
    }

    /// The parameter an input step asks for, and what is wrong with the value typed so far.
    pub fn input_error(&self) -> Option<String> {
        let Waiting::Input { param, .. } = self.engine.waiting() else {
            return None;
        };
        if !self.choices.is_empty() {
            return None;
        }
        let p = self.engine.spec.params.iter().find(|p| p.name == param)?;
        p.validate(&self.text_value()).err()
    }

    /// Messages from the run's task.
    pub fn on_runner(&mut self, msg: RunnerMsg, now: DateTime<Utc>) -> Vec<WizardEffect> {
        match msg {
            RunnerMsg::Event(e) => self.feed(e, now),
            RunnerMsg::Output { step, line } => {
                if !self.streamed.contains(&step) {
                    self.streamed.push(step);
                }
                self.push(OutKind::Line, sanitize(&line));
                Vec::new()
            }
            RunnerMsg::Error(e) => {
                self.notice = Some(e);
                Vec::new()
            }
        }
    }

    /// Text keys for the input and typed-confirmation fields. Returns true when the key was
    /// used (the caller then does not map it to an action). Enter, Esc and Tab are never
    /// used here: they are actions.
    pub fn on_key(&mut self, key: KeyEvent) -> bool {
        if self.ask.is_some() || matches!(key.code, KeyCode::Enter | KeyCode::Esc | KeyCode::Tab) {
            return false;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match self.engine.waiting() {
            Waiting::Typed(_) | Waiting::ReadOnly if self.typing() => match key.code {
                KeyCode::Char('u') if ctrl => {
                    self.typed.clear();
                    true
                }
                KeyCode::Char(c) if !ctrl => {
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
                self.notice = None;
                text::edit(&mut self.input, key)
            }
            _ => false,
        }
    }

    /// Pasted text goes into the field being typed in, if any.
    pub fn on_paste(&mut self, pasted: &str) -> bool {
        if self.ask.is_some() {
            return false;
        }
        match self.engine.waiting() {
            Waiting::Typed(_) | Waiting::ReadOnly if self.typing() => {
                let line = pasted.lines().next().unwrap_or_default();
                self.typed.extend(line.chars().filter(|c| !c.is_control()));
                true
            }
            Waiting::Input { .. } if self.choices.is_empty() => {
                text::paste(&mut self.input, pasted);
                true
            }
            _ => false,
        }
    }

    fn option_count(&self) -> usize {
        match self.engine.waiting() {
            Waiting::Confirm => 2,
            Waiting::Resolve => self.resume_options().len(),
            Waiting::Input { .. } => self.choices.len(),
            _ => 0,
        }
    }

    fn scroll_by(&mut self, up: isize) {
        let max = self.output.len();
        self.scroll = (self.scroll as isize + up).clamp(0, max as isize) as usize;
    }

    pub fn on_action(&mut self, action: Action, now: DateTime<Utc>) -> Vec<WizardEffect> {
        if let Some(ask) = self.ask {
            return match action {
                Action::Confirm => {
                    self.ask = None;
                    match ask {
                        Ask::InterruptStep => self.feed(Event::Cancel, now),
                        Ask::AbortRun => self.feed(Event::Abort, now),
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
        let waiting = self.engine.waiting();
        match action {
            Action::Up | Action::Down | Action::Left | Action::Right => {
                let n = self.option_count();
                let back = matches!(action, Action::Up | Action::Left);
                if n > 0 {
                    self.selected = if back {
                        self.selected.saturating_sub(1)
                    } else {
                        (self.selected + 1).min(n - 1)
                    };
                } else if matches!(action, Action::Up | Action::Down) {
                    self.scroll_by(if back { 1 } else { -1 });
                }
                Vec::new()
            }
            Action::PageUp => {
                self.scroll_by(10);
                Vec::new()
            }
            Action::PageDown => {
                self.scroll_by(-10);
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
            Action::Reveal if self.can_reveal() => {
                self.reveal = !self.reveal;
                Vec::new()
            }
            Action::Back | Action::Select | Action::Confirm if finished => {
                vec![WizardEffect::Close]
            }
            Action::Cancel if finished => Vec::new(),
            Action::Cancel => {
                self.ask = Some(if waiting == Waiting::Outcome {
                    Ask::InterruptStep
                } else {
                    Ask::AbortRun
                });
                Vec::new()
            }
            // A plain question: `y` is yes and `n` is no, whatever has the focus.
            Action::Confirm if waiting == Waiting::Confirm => {
                self.notice = None;
                self.feed(Event::Confirm(true), now)
            }
            Action::Deny if waiting == Waiting::Confirm => {
                self.notice = None;
                self.feed(Event::Confirm(false), now)
            }
            Action::Refresh if waiting == Waiting::Resolve => vec![WizardEffect::CheckAgain],
            Action::Select => self.select(now),
            _ => Vec::new(),
        }
    }

    fn select(&mut self, now: DateTime<Utc>) -> Vec<WizardEffect> {
        self.notice = None;
        match self.engine.waiting() {
            Waiting::Continue => self.feed(Event::Continue, now),
            Waiting::Confirm => {
                let yes = self.selected == 1;
                self.feed(Event::Confirm(yes), now)
            }
            Waiting::Typed(_) => {
                let typed = std::mem::take(&mut self.typed);
                self.feed(Event::Typed(typed), now)
            }
            Waiting::Input { .. } => {
                if let Some(e) = self.input_error() {
                    self.notice = Some(e);
                    return Vec::new();
                }
                let value = if self.choices.is_empty() {
                    self.text_value()
                } else {
                    self.choices.get(self.selected).cloned().unwrap_or_default()
                };
                self.feed(Event::Input(value), now)
            }
            Waiting::Resolve => {
                let options = self.resume_options();
                match options[self.selected.min(options.len() - 1)].0 {
                    ResumeOption::CheckAgain => vec![WizardEffect::CheckAgain],
                    ResumeOption::Resolve(c) => self.feed(Event::Resolve(c), now),
                }
            }
            // Starting afresh is the console's (it opens a new run).
            Waiting::Outcome | Waiting::Nothing | Waiting::ReadOnly => Vec::new(),
        }
    }

    /// Does the typed-confirmation buffer take keys now (a typed confirmation, or taking
    /// over a run whose lease lapsed)?
    pub fn typing(&self) -> bool {
        match self.engine.waiting() {
            Waiting::Typed(_) => true,
            Waiting::ReadOnly => self.engine.read_only.as_ref().is_some_and(|r| r.take_over),
            _ => false,
        }
    }

    /// Is the typed buffer on its way to the expected name (for the input's colour)?
    pub fn typed_ok_so_far(&self) -> bool {
        match self.engine.waiting() {
            Waiting::Typed(expected) => expected.starts_with(&self.typed),
            _ => true,
        }
    }

    /// A generated password can be shown on request; an access key's secret never is.
    pub fn can_reveal(&self) -> bool {
        self.engine.spec.steps.iter().any(|s| {
            matches!(s.action, StepAction::GenerateSecret { .. })
                && self.engine.state.secrets.contains_key(&s.id)
        })
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

    /// When the current step started running, for the elapsed time.
    pub fn running_since(&self) -> Option<DateTime<Utc>> {
        let i = self.engine.state.current?;
        let rec = self.engine.state.steps.get(i)?;
        if !matches!(rec.state, StepState::Running | StepState::Interrupted) {
            return None;
        }
        rec.started_ms.and_then(DateTime::from_timestamp_millis)
    }
}

/// Output from a command made inert: escape sequences removed, other controls shown as `?`.
pub fn sanitize(line: &str) -> String {
    crate::sanitize::strip_escapes(line).replace('\t', "    ")
}
