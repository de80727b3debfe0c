//! How a run ends: its `finally` steps (cleanup that runs however the run ends — a drill's
//! scratch database dropped after a failure or a cancel as after a success), then the
//! record, with the drill's proof and its machine and wall times.

use super::{Engine, EngineEffect, Finishing, RunStatus, StepState};
use crate::runbook::spec::{DrillMode, StepAction};

impl Engine {
    /// Why step `i` does not run in this run (drill mode, an empty `when`, a set
    /// `unless`), or None when it runs. The normal flow, rollbacks and `finally` steps all
    /// ask here.
    pub(super) fn skip_reason(&self, i: usize) -> Option<String> {
        let step = &self.spec.steps[i];
        if step.drill == DrillMode::Skip && self.state.opts.drill {
            Some("skipped in a drill".to_string())
        } else if step.drill == DrillMode::Only && !self.state.opts.drill {
            Some("only in a drill".to_string())
        } else if let Some(w) = &step.when {
            match self.scope(false, self.state.opts.dry_run).render(w) {
                Ok(v) if v.trim().is_empty() => Some(format!("not needed (`{w}` is empty)")),
                _ => None,
            }
        } else if let Some(w) = &step.unless {
            match self.scope(false, self.state.opts.dry_run).render(w) {
                Ok(v) if !v.trim().is_empty() => Some(format!("not needed (`{w}` is set)")),
                _ => None,
            }
        } else {
            None
        }
    }

    /// The `finally` steps that would run in this run, in order.
    fn finally_steps(&self, from: usize) -> impl Iterator<Item = usize> + '_ {
        (from..self.spec.steps.len())
            .filter(|&i| self.spec.steps[i].finally && self.skip_reason(i).is_none())
    }

    /// Ends the run with `status`: first its `finally` steps, if it has any to run; a
    /// second end (an abort during the cleanup) ends it at once.
    pub(super) fn finish(
        &mut self,
        status: RunStatus,
        why: Option<String>,
        now_ms: i64,
        fx: &mut Vec<EngineEffect>,
    ) {
        if self.state.status.is_finished() {
            return;
        }
        let wanted = !self.state.opts.dry_run
            && self.read_only.is_none()
            && self.finally_steps(0).next().is_some();
        if self.state.finishing.is_some() || !wanted {
            let (status, why) = match self.state.finishing.take() {
                Some(f) => (f.status, join_why(f.why, why)),
                None => (status, why),
            };
            self.finish_now(status, why, now_ms, fx);
            return;
        }
        for rec in &mut self.state.steps {
            if rec.state == StepState::Running {
                rec.state = StepState::Interrupted;
            }
        }
        self.state.rollback_of = None;
        self.state.finishing = Some(Finishing { status, why });
        fx.push(EngineEffect::Audit(self.audit(
            now_ms,
            "finally",
            None,
            format!("the run ended ({}): cleanup steps run", status.as_str()),
        )));
        self.advance_finally(0, now_ms, fx);
    }

    /// Runs the next `finally` step at or after `from`, or ends the run.
    pub(super) fn advance_finally(&mut self, from: usize, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let next = self.finally_steps(from).next();
        match next {
            Some(i) => {
                self.state.current = Some(i);
                self.execute(i, now_ms, fx);
            }
            None => {
                let f = self.state.finishing.take().unwrap_or(Finishing {
                    status: RunStatus::Succeeded,
                    why: None,
                });
                self.finish_now(f.status, f.why, now_ms, fx);
            }
        }
    }

    /// A `finally` step ended: a failed cleanup fails a run that had succeeded, and is
    /// named in the run's why either way; the next one runs.
    pub(super) fn on_finally_finished(
        &mut self,
        i: usize,
        state: StepState,
        message: &str,
        now_ms: i64,
        fx: &mut Vec<EngineEffect>,
    ) {
        if state != StepState::Done {
            if let Some(f) = self.state.finishing.as_mut() {
                let what = format!(
                    "cleanup step `{}` {}: {message}",
                    self.spec.steps[i].id,
                    state.as_str()
                );
                f.why = join_why(f.why.take(), Some(what));
                if f.status == RunStatus::Succeeded {
                    f.status = RunStatus::Failed;
                }
            }
        }
        self.advance_finally(i + 1, now_ms, fx);
    }

    /// The steps' own time, summed: what the restore cost the machine. An interactive
    /// run's wall time also holds the operator's pauses; a headless run has none, so all
    /// of its time is machine time.
    pub(super) fn machine_ms(&self, now_ms: i64) -> i64 {
        if !self.state.opts.step_by_step {
            return now_ms - self.state.started_ms;
        }
        self.spec
            .steps
            .iter()
            .zip(&self.state.steps)
            .filter(|(s, _)| !s.action.is_interactive())
            .filter_map(|(_, r)| Some(r.finished_ms? - r.started_ms?))
            .sum()
    }

    /// Each `compare_counts` step's account: the tables and their rows, or what did not
    /// match.
    pub(super) fn proof(&self) -> String {
        self.spec
            .steps
            .iter()
            .zip(&self.state.steps)
            .filter(|(s, _)| matches!(s.action, StepAction::CompareCounts(_)))
            .filter_map(|(s, r)| match r.state {
                StepState::Done => self.state.outputs.get(&s.id).cloned(),
                StepState::Failed => Some(r.message.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn join_why(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}
