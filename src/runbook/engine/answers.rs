//! The operator's answers to the current step (continue, y/N, a typed name, a value) and
//! the resolution of a step interrupted by a restart.

use super::{Engine, EngineEffect, Reattach, ResumeChoice, RunStatus, StepOutcome, StepState};
use crate::runbook::spec::{ParamKind, StepAction};
use crate::runbook::template::{secret_param_key, MASK};

impl Engine {
    /// The current step, when both today's step list and the saved records have it (a
    /// resumed run checked by `changed_since` always does; this keeps a bad save from
    /// ever indexing out of range).
    pub(super) fn current_in_range(&self) -> Option<usize> {
        self.state
            .current
            .filter(|&i| i < self.spec.steps.len() && i < self.state.steps.len())
    }

    pub(super) fn on_continue(&mut self, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let Some(i) = self.current_in_range() else {
            return;
        };
        if self.state.steps[i].state != StepState::Pending {
            return;
        }
        match &self.spec.steps[i].action {
            StepAction::Note { .. } | StepAction::Checklist { .. } => {
                let what = if matches!(self.spec.steps[i].action, StepAction::Checklist { .. }) {
                    "operator checked every item"
                } else {
                    "operator read the note"
                };
                self.complete_interactive(i, what.into(), now_ms, fx);
            }
            StepAction::Confirm { .. } | StepAction::Input { .. } => {}
            _ => self.execute(i, now_ms, fx),
        }
    }

    pub(super) fn on_confirm(&mut self, yes: bool, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let Some(i) = self.current_in_range() else {
            return;
        };
        if self.state.steps[i].state != StepState::Pending {
            return;
        }
        let StepAction::Confirm(c) = &self.spec.steps[i].action else {
            return;
        };
        let typed = &c.typed;
        if !yes {
            fx.push(EngineEffect::Audit(self.audit(
                now_ms,
                "answer",
                Some(i),
                "operator answered no".into(),
            )));
            self.state.steps[i].state = StepState::Cancelled;
            self.state.steps[i].message = "declined".into();
            self.finish(
                RunStatus::Aborted,
                Some("the operator declined".into()),
                now_ms,
                fx,
            );
            return;
        }
        if typed.is_some() {
            // A y is not enough where the name must be typed.
            fx.push(EngineEffect::Notice("type the name to confirm".into()));
            return;
        }
        self.complete_interactive(i, "operator answered yes".into(), now_ms, fx);
    }

    pub(super) fn on_typed(&mut self, text: String, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let Some(i) = self.current_in_range() else {
            return;
        };
        if self.state.steps[i].state != StepState::Pending {
            return;
        }
        let StepAction::Confirm(c) = &self.spec.steps[i].action else {
            return;
        };
        let Some(t) = &c.typed else {
            return;
        };
        let expected = match self.scope(false, false).render(t) {
            Ok(e) => e,
            Err(e) => {
                fx.push(EngineEffect::Notice(e));
                return;
            }
        };
        if expected.is_empty() || text != expected {
            fx.push(EngineEffect::Audit(self.audit(
                now_ms,
                "rejected",
                Some(i),
                format!("typed confirmation did not match `{expected}`"),
            )));
            fx.push(EngineEffect::Notice(format!(
                "that is not `{expected}`: nothing was done"
            )));
            return;
        }
        self.complete_interactive(i, format!("operator typed `{expected}`"), now_ms, fx);
    }

    pub(super) fn on_input(&mut self, value: String, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let Some(i) = self.current_in_range() else {
            return;
        };
        if self.state.steps[i].state != StepState::Pending {
            return;
        }
        let StepAction::Input(input) = &self.spec.steps[i].action else {
            return;
        };
        let param = &input.param;
        let Some(p) = self.spec.params.iter().find(|p| &p.name == param) else {
            return;
        };
        if let Err(e) = p.validate(&value) {
            fx.push(EngineEffect::Notice(e));
            return;
        }
        let shown = if p.kind == ParamKind::Secret {
            MASK.to_string()
        } else {
            value.clone()
        };
        let param = param.clone();
        if p.kind == ParamKind::Secret {
            self.state.secrets.insert(secret_param_key(&param), value);
        } else {
            self.state.params.insert(param.clone(), value);
        }
        self.complete_interactive(i, format!("{param} = {shown:?}"), now_ms, fx);
    }

    pub(super) fn on_resolve(
        &mut self,
        choice: ResumeChoice,
        now_ms: i64,
        fx: &mut Vec<EngineEffect>,
    ) {
        let Some(i) = self.current_in_range() else {
            return;
        };
        if self.state.steps[i].state != StepState::Interrupted {
            return;
        }
        let known = self.state.steps[i].reattach.clone();
        // Running the step again while the original command still runs would run it
        // twice at once: refused here, whatever the screen offers.
        if choice == ResumeChoice::Rerun && known == Some(Reattach::StillRunning) {
            fx.push(EngineEffect::Audit(self.audit(
                now_ms,
                "rejected",
                Some(i),
                "run again refused: the original command is still running".into(),
            )));
            fx.push(EngineEffect::Notice(
                "the original command is still running: wait for it or abort the run".into(),
            ));
            return;
        }
        let chose = match choice {
            ResumeChoice::Accept => "accept what is known",
            ResumeChoice::Rerun if known == Some(Reattach::NeverStarted) => "run the step",
            ResumeChoice::Rerun => "run the step again",
            ResumeChoice::Abort => "abort the run",
        };
        let known_text = match &known {
            Some(Reattach::Finished { exit_code, .. }) => {
                format!("it finished with exit code {exit_code} while toban was away")
            }
            Some(Reattach::StillRunning) => "it was still running".into(),
            Some(Reattach::Lost) => "its outcome is unknown".into(),
            Some(Reattach::NeverStarted) => "its command never started".into(),
            None => "nothing is known of it".into(),
        };
        fx.push(EngineEffect::Audit(self.audit(
            now_ms,
            "resolve",
            Some(i),
            format!("operator chose to {chose} for the interrupted step ({known_text})"),
        )));
        match choice {
            ResumeChoice::Abort => self.finish(
                RunStatus::Aborted,
                Some(format!(
                    "aborted after step `{}` was interrupted",
                    self.spec.steps[i].id
                )),
                now_ms,
                fx,
            ),
            ResumeChoice::Rerun => self.execute(i, now_ms, fx),
            ResumeChoice::Accept => {
                let (ok, code, msg) = match known {
                    Some(Reattach::Finished { exit_code, .. }) => {
                        let ok_codes = match &self.spec.steps[i].action {
                            StepAction::Command(c) => c.ok_codes.clone(),
                            _ => vec![0],
                        };
                        (ok_codes.contains(&exit_code), Some(exit_code), format!("accepted: finished with exit code {exit_code} while toban was away"))
                    }
                    Some(Reattach::StillRunning) => {
                        fx.push(EngineEffect::Notice(
                            "the step is still running: wait for it, re-run or abort".into(),
                        ));
                        return;
                    }
                    Some(Reattach::NeverStarted) => {
                        fx.push(EngineEffect::Notice(
                            "the step never started: run it or abort the run".into(),
                        ));
                        return;
                    }
                    _ => (
                        true,
                        None,
                        "accepted by the operator with its outcome unknown".into(),
                    ),
                };
                let outcome = StepOutcome {
                    step: i,
                    ok,
                    exit_code: code,
                    output: String::new(),
                    tail: self.state.steps[i].tail.clone(),
                    digest: None,
                    message: msg,
                    secret: None,
                    cancelled: false,
                    // From when the step started until the operator accepted it: the
                    // real time it took as far as toban knows.
                    duration_ms: self.state.steps[i]
                        .started_ms
                        .map(|t| (now_ms - t).max(0))
                        .unwrap_or(0),
                };
                self.state.steps[i].state = StepState::Running;
                self.on_finished(outcome, now_ms, fx);
            }
        }
    }
}
