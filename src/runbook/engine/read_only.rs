//! Runs that may be read but not driven: a run whose runbook changed since it started (or
//! whose file is gone) is shown with its own step records, never today's step list, and
//! takes only an abort; a run another session holds takes nothing at all. Also the abort a
//! command line gives a run nobody can drive any more.

use super::{Actor, Engine, EngineEffect, Event, ReadOnly, RunState, RunStatus, StepState};
use crate::runbook::spec::{DrillMode, OnFailure, Runbook, StepAction};

/// Why a saved run cannot be driven by today's `spec`, if it cannot: another digest, other
/// step ids, or a saved step index out of range.
pub fn changed_since(spec: &Runbook, state: &RunState) -> Option<String> {
    if let Some(d) = &state.spec_digest {
        if *d != spec.digest {
            return Some(format!(
                "the runbook `{}` changed since this run started",
                spec.name
            ));
        }
    }
    let ids_then: Vec<&str> = state.steps.iter().map(|r| r.id.as_str()).collect();
    let ids_now: Vec<&str> = spec.steps.iter().map(|s| s.id.as_str()).collect();
    if ids_then != ids_now {
        return Some(format!(
            "the runbook `{}` has other steps than when this run started",
            spec.name
        ));
    }
    let bad = |i: Option<usize>| i.is_some_and(|i| i >= spec.steps.len());
    if bad(state.current) || bad(state.rollback_of) {
        return Some("the saved step is out of range of the runbook".into());
    }
    None
}

impl Engine {
    /// A run that can only be read and aborted: `spec` is today's runbook (None when its
    /// file is gone). The steps shown are the run's own records, so every index the
    /// screen and the engine use stays in range whatever the file says now.
    pub fn read_only(spec: Option<Runbook>, mut state: RunState, reason: String) -> Engine {
        let missing = spec.is_none();
        let (title, source) = spec
            .map(|s| (s.title, s.source))
            .unwrap_or_else(|| (state.runbook.clone(), Default::default()));
        let steps = state
            .steps
            .iter()
            .map(|r| crate::runbook::spec::Step {
                id: r.id.clone(),
                title: r.id.clone(),
                explain: None,
                action: StepAction::Note(crate::runbook::steps::note::Note {
                    text: r.message.clone(),
                }),
                destructive: false,
                dry_run: None,
                when: None,
                unless: None,
                drill: DrillMode::Both,
                on_failure: OnFailure::Stop,
                rollback: None,
                rollback_only: false,
                finally: false,
                line: 0,
            })
            .collect();
        if state.current.is_some_and(|i| i >= state.steps.len()) {
            state.current = None;
        }
        for rec in &mut state.steps {
            if rec.state == StepState::Running {
                rec.state = StepState::Interrupted;
                rec.message = "interrupted: toban stopped while this step was running".into();
            }
        }
        if state.rollback_of.is_some_and(|i| i >= state.steps.len()) {
            state.rollback_of = None;
        }
        state.cancel_requested = false;
        let actor = Actor {
            user: state.user.clone(),
            ssh_client: state.ssh_client.clone(),
        };
        Engine {
            spec: Runbook {
                name: state.runbook.clone(),
                title,
                description: String::new(),
                kind: crate::runbook::spec::RunbookKind::Maintenance,
                drillable: false,
                params: Vec::new(),
                drill: None,
                steps,
                source,
                digest: String::new(),
            },
            state,
            actor,
            read_only: Some(ReadOnly {
                reason,
                audit: Vec::new(),
                runbook_missing: missing,
                take_over: false,
                held_elsewhere: false,
            }),
        }
    }

    /// Ends the run as aborted at once, whatever it waits for, saying who and why (`toban
    /// runbook abort`: a run nobody can drive any more must still be closable).
    pub fn abort_now(&mut self, why: String, now_ms: i64) -> Vec<EngineEffect> {
        let mut fx = Vec::new();
        if self.state.status.is_finished() {
            return fx;
        }
        fx.push(EngineEffect::Audit(self.audit(
            now_ms,
            "abort",
            None,
            why.clone(),
        )));
        self.finish(RunStatus::Aborted, Some(why), now_ms, &mut fx);
        fx
    }

    /// A read-only run takes only an abort; anything else is refused and said so.
    pub(super) fn handle_read_only(
        &mut self,
        event: Event,
        now_ms: i64,
        fx: &mut Vec<EngineEffect>,
    ) {
        let why = self
            .read_only
            .as_ref()
            .map(|r| r.reason.clone())
            .unwrap_or_default();
        match event {
            // Only a run read-only for its lease can be taken over: its spec is today's.
            Event::TookOver(from) if self.read_only.as_ref().is_some_and(|r| r.take_over) => {
                self.read_only = None;
                fx.push(EngineEffect::Audit(self.audit(
                    now_ms,
                    "take_over",
                    None,
                    format!("operator took the run over from {from} (its lease had lapsed)"),
                )));
                fx.push(EngineEffect::Persist);
            }
            Event::Abort | Event::Cancel
                if self.read_only.as_ref().is_some_and(|r| r.held_elsewhere) =>
            {
                fx.push(EngineEffect::Notice(format!(
                    "another session holds this run ({why}): it is not yours to abort"
                )))
            }
            Event::Abort | Event::Cancel => self.finish(
                RunStatus::Aborted,
                Some(format!("aborted read-only: {why}")),
                now_ms,
                fx,
            ),
            // What the executor says of a step is still worth keeping in the audit.
            Event::Reattached { .. } => {}
            _ => fx.push(EngineEffect::Notice(format!(
                "this run is read-only ({why}): abort it or start the runbook afresh"
            ))),
        }
    }
}
