//! The run state machine: which step, what answer, what next. Pure: no I/O, no clock (the
//! caller passes `now_ms`), no randomness. Every transition asks for `Persist`, so a run
//! survives toban dying at any point; a step that was running when it died comes back as
//! `Interrupted` and is never run again unless the operator says so.
//!
//! - [`state`]: the persisted run, events, effects, audit and drill records.
//! - [`render`]: parameters and steps with their values; what the current step waits for.
//! - [`answers`]: the operator's answers and the resolution of an interrupted step.

mod answers;
mod finishing;
mod read_only;
mod render;
pub mod state;
#[cfg(test)]
mod tests;

pub use read_only::changed_since;
pub use render::initial_params;
pub use state::*;

use crate::runbook::spec::{OnFailure, ParamKind, Runbook, StepAction};
use crate::runbook::template::{secret_param_key, MASK};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Engine {
    pub spec: Runbook,
    pub state: RunState,
    /// Who answers now (recorded in the audit); the run's starter is `state.user`.
    pub actor: Actor,
    /// Set when the run may not be driven (its runbook changed since it started).
    pub read_only: Option<ReadOnly>,
}

impl Engine {
    pub fn new(
        spec: Runbook,
        run_id: String,
        params: BTreeMap<String, String>,
        opts: RunOptions,
        user: String,
        ssh_client: Option<String>,
        now_ms: i64,
    ) -> Engine {
        let mut params = params;
        let mut secrets = BTreeMap::new();
        for p in spec.params.iter().filter(|p| p.kind == ParamKind::Secret) {
            if let Some(v) = params.remove(&p.name).filter(|v| !v.is_empty()) {
                secrets.insert(secret_param_key(&p.name), v);
            }
        }
        let steps = spec
            .steps
            .iter()
            .map(|s| StepRecord {
                id: s.id.clone(),
                state: StepState::Pending,
                started_ms: None,
                finished_ms: None,
                exit_code: None,
                tail: String::new(),
                digest: None,
                message: String::new(),
                reattach: None,
            })
            .collect();
        let actor = Actor {
            user: user.clone(),
            ssh_client: ssh_client.clone(),
        };
        Engine {
            actor,
            read_only: None,
            state: RunState {
                run_id,
                runbook: spec.name.clone(),
                opts,
                params,
                outputs: BTreeMap::new(),
                secrets: secrets.into(),
                steps,
                current: None,
                rollback_of: None,
                status: RunStatus::Active,
                started_ms: now_ms,
                finished_ms: None,
                user,
                ssh_client,
                failure: None,
                cancel_requested: false,
                spec_digest: Some(spec.digest.clone()),
                finishing: None,
            },
            spec,
        }
    }

    /// A run loaded from the store after a restart: a step that was running is marked
    /// interrupted and waits for the operator's [`ResumeChoice`].
    ///
    /// A run whose runbook changed since it started (another digest, other steps, a saved
    /// step index out of range) is opened read-only instead: never driven against a
    /// different step list.
    pub fn resume(spec: Runbook, mut state: RunState) -> Engine {
        if let Some(reason) = changed_since(&spec, &state) {
            return Engine::read_only(Some(spec), state, reason);
        }
        for rec in &mut state.steps {
            if rec.state == StepState::Running {
                rec.state = StepState::Interrupted;
                rec.message = "interrupted: toban stopped while this step was running".into();
            }
        }
        state.cancel_requested = false;
        let actor = Actor {
            user: state.user.clone(),
            ssh_client: state.ssh_client.clone(),
        };
        Engine {
            spec,
            state,
            actor,
            read_only: None,
        }
    }

    /// The session acting on the run from now on (a resume from another SSH client).
    pub fn set_actor(&mut self, user: String, ssh_client: Option<String>) {
        self.actor = Actor { user, ssh_client };
    }

    pub(super) fn audit(
        &self,
        now_ms: i64,
        event: &str,
        step: Option<usize>,
        detail: String,
    ) -> AuditEntry {
        AuditEntry {
            run_id: self.state.run_id.clone(),
            at_ms: now_ms,
            event: event.into(),
            step_id: step
                .and_then(|i| self.state.steps.get(i))
                .map(|r| r.id.clone()),
            detail,
            exit_code: None,
            duration_ms: None,
            digest: None,
            tail: None,
            dry_run: self.state.opts.dry_run,
            user: self.actor.user.clone(),
            ssh_client: self.actor.ssh_client.clone(),
        }
    }

    pub fn handle(&mut self, event: Event, now_ms: i64) -> Vec<EngineEffect> {
        let mut fx = Vec::new();
        if self.state.status.is_finished() {
            return fx;
        }
        if let Event::HeldElsewhere { why, take_over } = event {
            let audit = self.read_only.take().map(|r| r.audit).unwrap_or_default();
            self.read_only = Some(ReadOnly {
                reason: why,
                audit,
                runbook_missing: false,
                take_over,
                held_elsewhere: true,
            });
            return fx;
        }
        if self.read_only.is_some() && !matches!(event, Event::Reattached { .. }) {
            self.handle_read_only(event, now_ms, &mut fx);
            return fx;
        }
        match event {
            Event::Start => {
                let mode = match (self.state.opts.dry_run, self.state.opts.drill) {
                    (true, true) => "dry run of a drill",
                    (true, false) => "dry run",
                    (false, true) => "drill",
                    (false, false) => "run",
                };
                let params = self.masked_params();
                fx.push(EngineEffect::Audit(self.audit(
                    now_ms,
                    "run_start",
                    None,
                    format!("{mode} of {} with {params}", self.spec.name),
                )));
                self.advance(0, now_ms, &mut fx);
            }
            Event::Continue => self.on_continue(now_ms, &mut fx),
            Event::Confirm(yes) => self.on_confirm(yes, now_ms, &mut fx),
            Event::Typed(text) => self.on_typed(text, now_ms, &mut fx),
            Event::Input(value) => self.on_input(value, now_ms, &mut fx),
            Event::StepFinished(o) => self.on_finished(o, now_ms, &mut fx),
            Event::Cancel => match self.current_in_range() {
                Some(i) if self.state.steps[i].state == StepState::Running => {
                    self.state.cancel_requested = true;
                    fx.push(EngineEffect::Audit(self.audit(
                        now_ms,
                        "cancel",
                        Some(i),
                        "operator asked to interrupt the running step".into(),
                    )));
                    fx.push(EngineEffect::Interrupt { step: i });
                    fx.push(EngineEffect::Persist);
                }
                _ => self.finish(
                    RunStatus::Aborted,
                    Some("cancelled by the operator".into()),
                    now_ms,
                    &mut fx,
                ),
            },
            Event::Reattached { step, info } => {
                if let Some(rec) = self.state.steps.get_mut(step) {
                    rec.message = match &info {
                        Reattach::Finished { exit_code, .. } => {
                            format!("interrupted: the command finished with exit code {exit_code} while toban was away")
                        }
                        Reattach::StillRunning => "interrupted: the command is still running".into(),
                        Reattach::Lost => "interrupted: outcome unknown (the process is gone and left no exit status)".into(),
                        Reattach::NeverStarted => "interrupted before its command started: nothing ran".into(),
                    };
                    if let Reattach::Finished { tail, exit_code } = &info {
                        rec.tail = tail.clone();
                        rec.exit_code = Some(*exit_code);
                    }
                    rec.reattach = Some(info);
                    let msg = rec.message.clone();
                    fx.push(EngineEffect::Audit(self.audit(
                        now_ms,
                        "interrupted",
                        Some(step),
                        msg,
                    )));
                    fx.push(EngineEffect::Persist);
                }
            }
            Event::Resolve(choice) => self.on_resolve(choice, now_ms, &mut fx),
            Event::TookOver(_) | Event::HeldElsewhere { .. } => {}
            Event::Abort => self.finish(
                RunStatus::Aborted,
                Some("aborted by the operator".into()),
                now_ms,
                &mut fx,
            ),
        }
        fx
    }

    /// Every event in turn; all the effects.
    pub fn handle_all(&mut self, events: Vec<Event>, now_ms: i64) -> Vec<EngineEffect> {
        events
            .into_iter()
            .flat_map(|e| self.handle(e, now_ms))
            .collect()
    }

    pub(super) fn masked_params(&self) -> String {
        let parts: Vec<String> = self
            .spec
            .params
            .iter()
            .map(|p| {
                let v = self.param_value(&p.name);
                let v = if p.kind == ParamKind::Secret && !v.is_empty() {
                    MASK.to_string()
                } else {
                    v
                };
                format!("{}={v:?}", p.name)
            })
            .collect();
        if parts.is_empty() {
            "no parameters".into()
        } else {
            parts.join(" ")
        }
    }

    /// Moves to the first runnable step at or after `from` and starts it (or asks for it).
    pub(super) fn advance(&mut self, from: usize, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        if self.state.finishing.is_some() {
            self.advance_finally(from, now_ms, fx);
            return;
        }
        let mut i = from;
        loop {
            if i >= self.spec.steps.len() {
                self.finish(RunStatus::Succeeded, None, now_ms, fx);
                return;
            }
            let step = &self.spec.steps[i];
            // `finally` steps run when the run ends (a dry run shows them in order).
            let skip_reason = if step.rollback_only || (step.finally && !self.state.opts.dry_run) {
                Some(String::new())
            } else {
                self.skip_reason(i)
            };
            if let Some(reason) = skip_reason {
                if !reason.is_empty() {
                    self.state.steps[i].state = StepState::Skipped;
                    self.state.steps[i].message = reason.clone();
                    fx.push(EngineEffect::Audit(self.audit(
                        now_ms,
                        "skip",
                        Some(i),
                        reason,
                    )));
                }
                i += 1;
                continue;
            }
            let step = &self.spec.steps[i];
            self.state.current = Some(i);
            if self.state.opts.dry_run {
                let text = match (&step.dry_run, &step.action) {
                    (Some(t), _) => self
                        .scope(true, true)
                        .render(t)
                        .unwrap_or_else(|_| t.clone()),
                    (None, StepAction::Input(input)) => {
                        let param = &input.param;
                        format!("ask for `{param}` (now {:?})", self.param_value(param))
                    }
                    (None, a) if a.is_interactive() => {
                        format!("ask: {}", self.preview(i).join(" / "))
                    }
                    (None, _) => self.preview(i).join("\n"),
                };
                let rec = &mut self.state.steps[i];
                rec.state = StepState::Skipped;
                rec.message = format!("dry run: would {text}");
                fx.push(EngineEffect::Audit(self.audit(
                    now_ms,
                    "dry_run",
                    Some(i),
                    format!("would {text}"),
                )));
                i += 1;
                continue;
            }
            if step.action.is_interactive() || self.state.opts.step_by_step {
                // Wait for the operator (answers arrive as events).
                fx.push(EngineEffect::Persist);
                return;
            }
            self.execute(i, now_ms, fx);
            return;
        }
    }

    pub(super) fn execute(&mut self, i: usize, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        match self.render(i, false) {
            Ok(r) => {
                let rec = &mut self.state.steps[i];
                rec.state = StepState::Running;
                rec.started_ms = Some(now_ms);
                rec.finished_ms = None;
                rec.exit_code = None;
                rec.reattach = None;
                rec.message = "running".into();
                fx.push(EngineEffect::Audit(self.audit(
                    now_ms,
                    "step_start",
                    Some(i),
                    r.display.join("\n"),
                )));
                // Persist before executing: a crash after this point finds the step running.
                fx.push(EngineEffect::Persist);
                fx.push(EngineEffect::Execute(r));
            }
            Err(e) => {
                self.on_finished(StepOutcome::failed(i, e), now_ms, fx);
            }
        }
    }

    pub(super) fn complete_interactive(
        &mut self,
        i: usize,
        detail: String,
        now_ms: i64,
        fx: &mut Vec<EngineEffect>,
    ) {
        let rec = &mut self.state.steps[i];
        rec.state = StepState::Done;
        rec.started_ms.get_or_insert(now_ms);
        rec.finished_ms = Some(now_ms);
        rec.message = detail.clone();
        fx.push(EngineEffect::Audit(self.audit(
            now_ms,
            "answer",
            Some(i),
            detail,
        )));
        self.advance(i + 1, now_ms, fx);
    }

    pub(super) fn on_finished(&mut self, o: StepOutcome, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let i = o.step;
        if self.state.current != Some(i) || i >= self.state.steps.len() {
            return;
        }
        let Some(id) = self.spec.steps.get(i).map(|s| s.id.clone()) else {
            return;
        };
        if let Some(s) = &o.secret {
            self.state.secrets.insert(id.clone(), s.clone());
        }
        let mut tail = o.tail.clone();
        let mut message = o.message.clone();
        {
            let mut lines = [tail, message];
            self.mask_secret_params(&mut lines);
            [tail, message] = lines;
        }
        let state = if o.cancelled {
            StepState::Cancelled
        } else if o.ok {
            StepState::Done
        } else {
            StepState::Failed
        };
        let rec = &mut self.state.steps[i];
        rec.state = state;
        rec.started_ms.get_or_insert(now_ms - o.duration_ms);
        rec.finished_ms = Some(now_ms);
        rec.exit_code = o.exit_code;
        rec.tail = tail.clone();
        rec.digest = o.digest.clone();
        rec.message = message.clone();
        if o.ok {
            self.state.outputs.insert(id, o.output.clone());
        }
        let mut a = self.audit(
            now_ms,
            "step_end",
            Some(i),
            format!("{}: {message}", state.as_str()),
        );
        a.exit_code = o.exit_code;
        a.duration_ms = Some(o.duration_ms);
        a.digest = o.digest;
        a.tail = Some(tail);
        fx.push(EngineEffect::Audit(a));

        if self.state.finishing.is_some() {
            self.on_finally_finished(i, state, &message, now_ms, fx);
            return;
        }
        if let Some(failed) = self.state.rollback_of.take() {
            // The rollback ran; the run still failed.
            // Both messages: together they say what state things were left in.
            let failed_msg = &self.state.steps[failed].message;
            let failed_msg = failed_msg.strip_prefix("failed: ").unwrap_or(failed_msg);
            let why = format!(
                "step `{}` failed: {failed_msg}; rollback `{}` {}: {message}",
                self.spec.steps[failed].id,
                self.spec.steps[i].id,
                if o.ok { "done" } else { "failed too" }
            );
            self.finish(RunStatus::Failed, Some(why), now_ms, fx);
            return;
        }
        match state {
            StepState::Done => self.advance(i + 1, now_ms, fx),
            StepState::Cancelled => self.finish(
                RunStatus::Aborted,
                Some(format!(
                    "step `{}` was interrupted by the operator",
                    self.spec.steps[i].id
                )),
                now_ms,
                fx,
            ),
            _ => self.on_step_failed(i, now_ms, fx),
        }
    }

    pub(super) fn on_step_failed(&mut self, i: usize, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let step = &self.spec.steps[i];
        if let Some(r) = &step.rollback {
            if let Some(ri) = self.spec.steps.iter().position(|s| &s.id == r) {
                // A rollback is a step like any other: a drill never runs one marked
                // `drill = "skip"` (starting production services), nor one whose `when`
                // is empty.
                match self.skip_reason(ri) {
                    None => {
                        self.state.rollback_of = Some(i);
                        self.state.current = Some(ri);
                        self.execute(ri, now_ms, fx);
                        return;
                    }
                    Some(why) => fx.push(EngineEffect::Audit(self.audit(
                        now_ms,
                        "skip",
                        Some(ri),
                        format!("rollback not run: {why}"),
                    ))),
                }
            }
        }
        if step.on_failure == OnFailure::Continue {
            self.advance(i + 1, now_ms, fx);
            return;
        }
        // The step's own message may already say "failed": say it once.
        let msg = &self.state.steps[i].message;
        let msg = msg.strip_prefix("failed: ").unwrap_or(msg);
        let why = format!("step `{}` failed: {msg}", step.id);
        self.finish(RunStatus::Failed, Some(why), now_ms, fx);
    }

    /// Ends the run now (its `finally` steps done or not wanted): the record, the drill.
    pub(super) fn finish_now(
        &mut self,
        status: RunStatus,
        why: Option<String>,
        now_ms: i64,
        fx: &mut Vec<EngineEffect>,
    ) {
        if self.state.status.is_finished() {
            return;
        }
        self.state.status = status;
        self.state.finished_ms = Some(now_ms);
        self.state.failure = why.clone();
        for rec in &mut self.state.steps {
            if rec.state == StepState::Running {
                rec.state = StepState::Interrupted;
            }
        }
        let detail = match &why {
            Some(w) => format!("{}: {w}", status.as_str()),
            None => status.as_str().to_string(),
        };
        let mut a = self.audit(now_ms, "run_end", None, detail.clone());
        a.duration_ms = Some(now_ms - self.state.started_ms);
        fx.push(EngineEffect::Audit(a));
        if self.state.opts.drill && !self.state.opts.dry_run && self.read_only.is_none() {
            let backup = self
                .spec
                .drill
                .as_ref()
                .and_then(|d| d.backup_param.as_ref())
                .and_then(|p| self.state.params.get(p))
                .cloned();
            fx.push(EngineEffect::RecordDrill(DrillRecord {
                run_id: self.state.run_id.clone(),
                runbook: self.spec.name.clone(),
                backup,
                started_ms: self.state.started_ms,
                duration_ms: now_ms - self.state.started_ms,
                ok: status == RunStatus::Succeeded,
                // The record says passed/failed itself; its text is the why alone.
                detail: why.clone().unwrap_or_else(|| status.as_str().to_string()),
                machine_ms: self.machine_ms(now_ms),
                interactive: self.state.opts.step_by_step,
                proof: self.proof(),
            }));
        }
        fx.push(EngineEffect::Persist);
        fx.push(EngineEffect::Finished(status));
    }
}
