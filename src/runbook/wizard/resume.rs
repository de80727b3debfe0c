//! What the wizard offers for a step found interrupted after a restart, and which offer
//! starts in focus: never "run again" while the original still runs, never "go on" past a
//! step that never started, and a stray Enter lands on the safe choice.

use super::state::WizardState;
use crate::runbook::engine::{Reattach, ResumeChoice, Waiting};
use crate::runbook::spec::StepAction;

/// What the operator can choose for a step found interrupted after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeOption {
    Resolve(ResumeChoice),
    /// The original is still running: look again (also done by itself every few seconds).
    CheckAgain,
}

impl WizardState {
    /// The options offered for an interrupted step: never "run again" while the original
    /// still runs, and the safe one first in focus.
    pub fn resume_options(&self) -> Vec<(ResumeOption, &'static str)> {
        let rec = self
            .engine
            .state
            .current
            .and_then(|i| self.engine.state.steps.get(i));
        match rec.and_then(|r| r.reattach.as_ref()) {
            Some(Reattach::StillRunning) => vec![
                (
                    ResumeOption::CheckAgain,
                    "Wait for it (checked every few seconds)",
                ),
                (
                    ResumeOption::Resolve(ResumeChoice::Abort),
                    "Abort the run (the command is left running)",
                ),
            ],
            // Nothing ran, so there is nothing to accept: going on would skip the step.
            Some(Reattach::NeverStarted) => vec![
                (
                    ResumeOption::Resolve(ResumeChoice::Rerun),
                    "Run the step (it never started)",
                ),
                (ResumeOption::Resolve(ResumeChoice::Abort), "Abort the run"),
            ],
            _ => vec![
                (
                    ResumeOption::Resolve(ResumeChoice::Accept),
                    "Accept what is known and go on",
                ),
                (
                    ResumeOption::Resolve(ResumeChoice::Rerun),
                    "Run the step again",
                ),
                (ResumeOption::Resolve(ResumeChoice::Abort), "Abort the run"),
            ],
        }
    }

    /// Accept a step that finished well; otherwise rest on aborting (never on re-running
    /// or accepting a failure by a stray Enter).
    pub(super) fn resume_default(&self) -> usize {
        let rec = self
            .engine
            .state
            .current
            .and_then(|i| self.engine.state.steps.get(i));
        let ok_codes = self
            .engine
            .current_step()
            .map(|s| match &s.action {
                StepAction::Command(c) => c.ok_codes.clone(),
                _ => vec![0],
            })
            .unwrap_or_else(|| vec![0]);
        match rec.and_then(|r| r.reattach.as_ref()) {
            Some(Reattach::Finished { exit_code, .. }) if ok_codes.contains(exit_code) => 0,
            Some(Reattach::StillRunning) => 0,
            _ => self
                .resume_options()
                .iter()
                .position(|(o, _)| *o == ResumeOption::Resolve(ResumeChoice::Abort))
                .unwrap_or(0),
        }
    }

    /// Is the step found running after a restart still running (so the console checks again
    /// by itself)?
    pub fn waiting_on_original(&self) -> bool {
        self.engine.waiting() == Waiting::Resolve
            && self
                .engine
                .state
                .current
                .and_then(|i| self.engine.state.steps.get(i))
                .and_then(|r| r.reattach.as_ref())
                == Some(&Reattach::StillRunning)
    }
}
