//! The run state machine: which step, what answer, what next. Pure: no I/O, no clock (the
//! caller passes `now_ms`), no randomness. Every transition asks for `Persist`, so a run
//! survives toban dying at any point; a step that was running when it died comes back as
//! `Interrupted` and is never run again unless the operator says so.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::spec::{DrillMode, OnFailure, ParamKind, Runbook, Step, StepAction, WaitTarget};
use super::template::{secret_param_key, Scope, MASK};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Running,
    Done,
    Failed,
    Skipped,
    Interrupted,
    Cancelled,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Done => "done",
            StepState::Failed => "failed",
            StepState::Skipped => "skipped",
            StepState::Interrupted => "interrupted",
            StepState::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Active,
    Succeeded,
    Failed,
    Aborted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Active => "active",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Aborted => "aborted",
        }
    }
    pub fn is_finished(self) -> bool {
        self != RunStatus::Active
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub id: String,
    pub state: StepState,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub exit_code: Option<i32>,
    /// Last lines of output (secrets never reach here: executors do not echo them).
    pub tail: String,
    pub digest: Option<String>,
    /// What happened, in words ("exit 0", "dry run: would …", "interrupted: still running").
    pub message: String,
    /// What the executor said about a step found running after a restart.
    pub reattach: Option<Reattach>,
}

/// What is known of a step that was running when toban died.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reattach {
    Finished { exit_code: i32, tail: String },
    StillRunning,
    Lost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResumeChoice {
    /// Take what is known (finished with code X) as the step's result; an unknown outcome
    /// is accepted as done on the operator's word, and the audit says so.
    Accept,
    Rerun,
    Abort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RunOptions {
    pub dry_run: bool,
    pub drill: bool,
    /// Wait for the operator before each executable step (the wizard); headless runs go on.
    pub step_by_step: bool,
}

/// The persisted part of a run. Secrets are kept in memory only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub run_id: String,
    pub runbook: String,
    pub opts: RunOptions,
    pub params: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
    #[serde(skip)]
    pub secrets: BTreeMap<String, String>,
    pub steps: Vec<StepRecord>,
    /// The step being asked or run; None once finished.
    pub current: Option<usize>,
    /// The failed step whose rollback is running.
    pub rollback_of: Option<usize>,
    pub status: RunStatus,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    pub user: String,
    pub ssh_client: Option<String>,
    pub failure: Option<String>,
    pub cancel_requested: bool,
}

/// One step made concrete: values substituted, ready to execute or show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rendered {
    pub step: usize,
    pub id: String,
    /// With real values (secrets included): for the executor only.
    pub action: StepAction,
    /// What it will do, secrets masked: for the screen and the audit.
    pub display: Vec<String>,
    pub destructive: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    pub step: usize,
    pub ok: bool,
    pub exit_code: Option<i32>,
    /// The value `{{steps.ID.output}}` gives later steps (trimmed stdout, a query's value).
    pub output: String,
    pub tail: String,
    pub digest: Option<String>,
    pub message: String,
    /// A generated secret (kept in memory only).
    pub secret: Option<String>,
    pub cancelled: bool,
    pub duration_ms: i64,
}

impl StepOutcome {
    pub fn failed(step: usize, message: impl Into<String>) -> Self {
        StepOutcome {
            step,
            ok: false,
            exit_code: None,
            output: String::new(),
            tail: String::new(),
            digest: None,
            message: message.into(),
            secret: None,
            cancelled: false,
            duration_ms: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Start,
    /// Acknowledge a note or a checklist (all items done), or run the shown step.
    Continue,
    /// A plain y/N answer.
    Confirm(bool),
    /// The text typed for a typed confirmation.
    Typed(String),
    /// A value for an input step.
    Input(String),
    StepFinished(StepOutcome),
    /// Interrupt the running step (the wizard has already asked "are you sure").
    Cancel,
    /// What the executor knows of the interrupted step.
    Reattached {
        step: usize,
        info: Reattach,
    },
    Resolve(ResumeChoice),
    Abort,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub run_id: String,
    pub at_ms: i64,
    /// run_start, step_start, step_end, answer, skip, dry_run, interrupted, resolve, cancel,
    /// run_end, rejected.
    pub event: String,
    pub step_id: Option<String>,
    /// Secrets masked.
    pub detail: String,
    pub exit_code: Option<i32>,
    pub duration_ms: Option<i64>,
    pub digest: Option<String>,
    pub tail: Option<String>,
    pub dry_run: bool,
    pub user: String,
    pub ssh_client: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillRecord {
    pub run_id: String,
    pub runbook: String,
    pub backup: Option<String>,
    pub started_ms: i64,
    pub duration_ms: i64,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EngineEffect {
    Execute(Rendered),
    Interrupt {
        step: usize,
    },
    /// Save `state` (the runs table).
    Persist,
    Audit(AuditEntry),
    RecordDrill(DrillRecord),
    /// Something for the operator: a wrong typed name, an invalid input.
    Notice(String),
    Finished(RunStatus),
}

/// What the current step waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum Waiting {
    Nothing,
    Continue,
    Confirm,
    Typed(String),
    Input {
        param: String,
        current: String,
    },
    /// Running: its outcome.
    Outcome,
    /// Interrupted by a restart: the operator's choice.
    Resolve,
}

#[derive(Debug, Clone)]
pub struct Engine {
    pub spec: Runbook,
    pub state: RunState,
}

/// Parameters: defaults, then `given`, then (in a drill) the drill overrides rendered over
/// those.
pub fn initial_params(
    spec: &Runbook,
    given: &BTreeMap<String, String>,
    drill: bool,
    run_id: &str,
) -> Result<BTreeMap<String, String>, String> {
    let mut params = BTreeMap::new();
    for p in &spec.params {
        params.insert(p.name.clone(), p.default.clone().unwrap_or_default());
    }
    for (k, v) in given {
        if !spec.params.iter().any(|p| &p.name == k) {
            return Err(format!("`{}` has no parameter `{k}`", spec.name));
        }
        params.insert(k.clone(), v.clone());
    }
    if drill {
        let d = spec
            .drill
            .as_ref()
            .filter(|_| spec.drillable)
            .ok_or_else(|| format!("`{}` has no drill mode", spec.name))?;
        let base = params.clone();
        let scope = Scope {
            params: Some(&base),
            run_id,
            ..Default::default()
        };
        for (k, t) in &d.set {
            params.insert(k.clone(), scope.render(t)?);
        }
    }
    Ok(params)
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
        Engine {
            state: RunState {
                run_id,
                runbook: spec.name.clone(),
                opts,
                params,
                outputs: BTreeMap::new(),
                secrets,
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
            },
            spec,
        }
    }

    /// A run loaded from the store after a restart: a step that was running is marked
    /// interrupted and waits for the operator's [`ResumeChoice`].
    pub fn resume(spec: Runbook, mut state: RunState) -> Engine {
        for rec in &mut state.steps {
            if rec.state == StepState::Running {
                rec.state = StepState::Interrupted;
                rec.message = "interrupted: toban stopped while this step was running".into();
            }
        }
        state.cancel_requested = false;
        Engine { spec, state }
    }

    /// A parameter's value (secret ones from memory).
    pub fn param_value(&self, name: &str) -> String {
        self.state
            .params
            .get(name)
            .or_else(|| self.state.secrets.get(&secret_param_key(name)))
            .cloned()
            .unwrap_or_default()
    }

    /// Parameter problems that would stop a run (for headless runs before starting).
    pub fn param_errors(&self) -> Vec<String> {
        let asked: Vec<&str> = self
            .spec
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                StepAction::Input { param, .. } => Some(param.as_str()),
                _ => None,
            })
            .collect();
        self.spec
            .params
            .iter()
            .filter(|p| !(self.state.opts.step_by_step && asked.contains(&p.name.as_str())))
            .filter_map(|p| p.validate(&self.param_value(&p.name)).err())
            .collect()
    }

    pub fn current_step(&self) -> Option<&Step> {
        self.state.current.map(|i| &self.spec.steps[i])
    }

    pub fn waiting(&self) -> Waiting {
        let Some(i) = self.state.current else {
            return Waiting::Nothing;
        };
        if self.state.status.is_finished() {
            return Waiting::Nothing;
        }
        let rec = &self.state.steps[i];
        match rec.state {
            StepState::Running => return Waiting::Outcome,
            StepState::Interrupted => return Waiting::Resolve,
            _ => {}
        }
        match &self.spec.steps[i].action {
            StepAction::Confirm { typed: Some(t), .. } => {
                Waiting::Typed(self.scope(false, true).render(t).unwrap_or_default())
            }
            StepAction::Confirm { .. } => Waiting::Confirm,
            StepAction::Input { param, .. } => Waiting::Input {
                param: param.clone(),
                current: self.param_value(param),
            },
            _ => Waiting::Continue,
        }
    }

    fn list_params(&self) -> Vec<String> {
        self.spec
            .params
            .iter()
            .filter(|p| p.kind == ParamKind::List)
            .map(|p| p.name.clone())
            .collect()
    }

    fn scope(&self, mask: bool, lenient: bool) -> Scope<'_> {
        Scope {
            params: Some(&self.state.params),
            outputs: Some(&self.state.outputs),
            secrets: Some(&self.state.secrets),
            run_id: &self.state.run_id,
            mask,
            lenient,
        }
    }

    /// The step with values substituted. `lenient`: unknown values shown as `<…>`
    /// (previews and dry runs) instead of an error.
    pub fn render(&self, i: usize, lenient: bool) -> Result<Rendered, String> {
        let step = &self.spec.steps[i];
        let lists = self.list_params();
        let masked = render_action(&step.action, &self.scope(true, lenient), &lists)?;
        let mut display = describe(&masked);
        self.mask_secret_params(&mut display);
        let action = if lenient {
            masked
        } else {
            render_action(&step.action, &self.scope(false, false), &lists)?
        };
        Ok(Rendered {
            step: i,
            id: step.id.clone(),
            action,
            display,
            destructive: step.destructive,
        })
    }

    fn mask_secret_params(&self, lines: &mut [String]) {
        for p in self
            .spec
            .params
            .iter()
            .filter(|p| p.kind == ParamKind::Secret)
        {
            if let Some(v) = self.state.params.get(&p.name).filter(|v| !v.is_empty()) {
                for l in lines.iter_mut() {
                    *l = l.replace(v.as_str(), MASK);
                }
            }
        }
        for v in self.state.secrets.values().filter(|v| !v.is_empty()) {
            for l in lines.iter_mut() {
                *l = l.replace(v.as_str(), MASK);
            }
        }
    }

    /// What the step will do, for the screen (never fails: unknowns shown as `<…>`).
    pub fn preview(&self, i: usize) -> Vec<String> {
        match self.render(i, true) {
            Ok(r) => r.display,
            Err(e) => vec![format!("cannot show this step yet: {e}")],
        }
    }

    fn audit(&self, now_ms: i64, event: &str, step: Option<usize>, detail: String) -> AuditEntry {
        AuditEntry {
            run_id: self.state.run_id.clone(),
            at_ms: now_ms,
            event: event.into(),
            step_id: step.map(|i| self.spec.steps[i].id.clone()),
            detail,
            exit_code: None,
            duration_ms: None,
            digest: None,
            tail: None,
            dry_run: self.state.opts.dry_run,
            user: self.state.user.clone(),
            ssh_client: self.state.ssh_client.clone(),
        }
    }

    pub fn handle(&mut self, event: Event, now_ms: i64) -> Vec<EngineEffect> {
        let mut fx = Vec::new();
        if self.state.status.is_finished() {
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
            Event::Cancel => match self.state.current {
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
            Event::Abort => self.finish(
                RunStatus::Aborted,
                Some("aborted by the operator".into()),
                now_ms,
                &mut fx,
            ),
        }
        fx
    }

    fn masked_params(&self) -> String {
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
    fn advance(&mut self, from: usize, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let mut i = from;
        loop {
            if i >= self.spec.steps.len() {
                self.finish(RunStatus::Succeeded, None, now_ms, fx);
                return;
            }
            let step = &self.spec.steps[i];
            let skip_reason = if step.rollback_only {
                Some(String::new())
            } else if step.drill == DrillMode::Skip && self.state.opts.drill {
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
            self.state.current = Some(i);
            if self.state.opts.dry_run {
                let text = match (&step.dry_run, &step.action) {
                    (Some(t), _) => self
                        .scope(true, true)
                        .render(t)
                        .unwrap_or_else(|_| t.clone()),
                    (None, StepAction::Input { param, .. }) => {
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

    fn execute(&mut self, i: usize, now_ms: i64, fx: &mut Vec<EngineEffect>) {
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

    fn on_continue(&mut self, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let Some(i) = self.state.current else { return };
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

    fn complete_interactive(
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

    fn on_confirm(&mut self, yes: bool, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let Some(i) = self.state.current else { return };
        if self.state.steps[i].state != StepState::Pending {
            return;
        }
        let StepAction::Confirm { typed, .. } = &self.spec.steps[i].action else {
            return;
        };
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

    fn on_typed(&mut self, text: String, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let Some(i) = self.state.current else { return };
        if self.state.steps[i].state != StepState::Pending {
            return;
        }
        let StepAction::Confirm { typed: Some(t), .. } = &self.spec.steps[i].action else {
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

    fn on_input(&mut self, value: String, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let Some(i) = self.state.current else { return };
        if self.state.steps[i].state != StepState::Pending {
            return;
        }
        let StepAction::Input { param, .. } = &self.spec.steps[i].action else {
            return;
        };
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

    fn on_finished(&mut self, o: StepOutcome, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let i = o.step;
        if self.state.current != Some(i) || i >= self.state.steps.len() {
            return;
        }
        let id = self.spec.steps[i].id.clone();
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

        if let Some(failed) = self.state.rollback_of.take() {
            // The rollback ran; the run still failed.
            let why = format!(
                "step `{}` failed; rollback `{}` {}",
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

    fn on_step_failed(&mut self, i: usize, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let step = &self.spec.steps[i];
        if let Some(r) = &step.rollback {
            if let Some(ri) = self.spec.steps.iter().position(|s| &s.id == r) {
                self.state.rollback_of = Some(i);
                self.state.current = Some(ri);
                self.execute(ri, now_ms, fx);
                return;
            }
        }
        if step.on_failure == OnFailure::Continue {
            self.advance(i + 1, now_ms, fx);
            return;
        }
        let why = format!("step `{}` failed: {}", step.id, self.state.steps[i].message);
        self.finish(RunStatus::Failed, Some(why), now_ms, fx);
    }

    fn on_resolve(&mut self, choice: ResumeChoice, now_ms: i64, fx: &mut Vec<EngineEffect>) {
        let Some(i) = self.state.current else { return };
        if self.state.steps[i].state != StepState::Interrupted {
            return;
        }
        let known = self.state.steps[i].reattach.clone();
        fx.push(EngineEffect::Audit(
            self.audit(
                now_ms,
                "resolve",
                Some(i),
                format!("operator chose {choice:?} for the interrupted step ({known:?})")
                    .to_lowercase(),
            ),
        ));
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
                            StepAction::Command { ok_codes, .. } => ok_codes.clone(),
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
                    duration_ms: 0,
                };
                self.state.steps[i].state = StepState::Running;
                self.on_finished(outcome, now_ms, fx);
            }
        }
    }

    fn finish(
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
        if self.state.opts.drill && !self.state.opts.dry_run {
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
                detail,
            }));
        }
        fx.push(EngineEffect::Persist);
        fx.push(EngineEffect::Finished(status));
    }
}

/// Substitutes every template in an action.
pub fn render_action(
    a: &StepAction,
    s: &Scope<'_>,
    lists: &[String],
) -> Result<StepAction, String> {
    let r = |t: &String| s.render(t);
    let ro = |t: &Option<String>| t.as_ref().map(|x| s.render(x)).transpose();
    Ok(match a {
        StepAction::Note { text } => StepAction::Note { text: r(text)? },
        StepAction::Checklist { items } => StepAction::Checklist {
            items: items.iter().map(r).collect::<Result<_, _>>()?,
        },
        StepAction::Input { param, prompt } => StepAction::Input {
            param: param.clone(),
            prompt: ro(prompt)?,
        },
        StepAction::Confirm { prompt, typed } => StepAction::Confirm {
            prompt: ro(prompt)?,
            typed: ro(typed)?,
        },
        StepAction::Command {
            argv,
            cwd,
            env,
            timeout,
            stdin,
            ok_codes,
        } => {
            let mut env_out = BTreeMap::new();
            for (k, v) in env {
                let v = r(v)?;
                // An empty value leaves the variable unset (an optional setting not given).
                if !v.is_empty() {
                    env_out.insert(k.clone(), v);
                }
            }
            StepAction::Command {
                argv: s.render_list(argv, lists)?,
                cwd: ro(cwd)?.filter(|c| !c.is_empty()),
                env: env_out,
                timeout: *timeout,
                stdin: match stdin {
                    Some(st) => Some(super::spec::StdinSpec {
                        file: r(&st.file)?,
                        gunzip: st.gunzip,
                    }),
                    None => None,
                },
                ok_codes: ok_codes.clone(),
            }
        }
        StepAction::Container { action, names } => StepAction::Container {
            action: *action,
            names: s.render_list(names, lists)?,
        },
        StepAction::Sql {
            connection,
            database,
            statements,
            expect,
            expect_not,
        } => StepAction::Sql {
            connection: r(connection)?,
            database: ro(database)?.filter(|d| !d.is_empty()),
            statements: statements.iter().map(r).collect::<Result<_, _>>()?,
            expect: ro(expect)?,
            expect_not: ro(expect_not)?,
        },
        StepAction::AlterPassword {
            connection,
            user,
            password,
        } => StepAction::AlterPassword {
            connection: r(connection)?,
            user: r(user)?,
            password: r(password)?,
        },
        StepAction::CheckLogin {
            connection,
            user,
            password,
            expect,
        } => StepAction::CheckLogin {
            connection: r(connection)?,
            user: r(user)?,
            password: r(password)?,
            expect: *expect,
        },
        StepAction::Wait { target, timeout } => StepAction::Wait {
            target: match target {
                WaitTarget::Http(x) => WaitTarget::Http(r(x)?),
                WaitTarget::Tcp(x) => WaitTarget::Tcp(r(x)?),
                WaitTarget::File(x) => WaitTarget::File(r(x)?),
                WaitTarget::Container(x) => WaitTarget::Container(r(x)?),
                WaitTarget::Written(x) => WaitTarget::Written(r(x)?),
            },
            timeout: *timeout,
        },
        StepAction::VerifyBackup { path } => StepAction::VerifyBackup { path: r(path)? },
        StepAction::Extract {
            from,
            component,
            target,
            mode,
        } => StepAction::Extract {
            from: r(from)?,
            component: r(component)?,
            target: r(target)?,
            mode: *mode,
        },
        StepAction::WriteFile {
            path,
            content,
            mode,
        } => StepAction::WriteFile {
            path: r(path)?,
            content: r(content)?,
            mode: *mode,
        },
        StepAction::UpdateSecret {
            store,
            location,
            field,
            region,
            endpoint_url,
            value,
        } => StepAction::UpdateSecret {
            store: store.clone(),
            location: r(location)?,
            field: field.as_ref().map(&r).transpose()?,
            region: region.as_ref().map(&r).transpose()?,
            endpoint_url: endpoint_url.as_ref().map(&r).transpose()?,
            value: r(value)?,
        },
        StepAction::RotateFiles { paths } => StepAction::RotateFiles {
            paths: s.render_list(paths, lists)?,
        },
        StepAction::Check { left, op, right } => StepAction::Check {
            left: r(left)?,
            op: *op,
            right: r(right)?,
        },
        StepAction::ScheduleFollowup { title, due, note } => StepAction::ScheduleFollowup {
            title: r(title)?,
            due: r(due)?,
            note: ro(note)?,
        },
        StepAction::GenerateSecret { length } => StepAction::GenerateSecret { length: *length },
    })
}

/// Exactly what a (masked) action does, as lines for the screen and the audit.
pub fn describe(a: &StepAction) -> Vec<String> {
    match a {
        StepAction::Note { text } => text.lines().map(str::to_string).collect(),
        StepAction::Checklist { items } => items.iter().map(|i| format!("[ ] {i}")).collect(),
        StepAction::Input { param, prompt } => {
            vec![prompt.clone().unwrap_or_else(|| format!("enter `{param}`"))]
        }
        StepAction::Confirm { prompt, typed } => {
            let mut v = vec![prompt.clone().unwrap_or_else(|| "continue?".into())];
            if let Some(t) = typed {
                v.push(format!("type `{t}` to confirm"));
            }
            v
        }
        StepAction::Command {
            argv,
            cwd,
            env,
            timeout,
            stdin,
            ..
        } => {
            let mut v = vec!["run the program (no shell), argv:".to_string()];
            for (i, a) in argv.iter().enumerate() {
                v.push(format!("  [{i}] {a}"));
            }
            if let Some(c) = cwd {
                v.push(format!("in folder {c}"));
            }
            for (k, val) in env {
                v.push(format!("env {k}={val}"));
            }
            if let Some(s) = stdin {
                v.push(format!(
                    "stdin: {}{}",
                    s.file,
                    if s.gunzip {
                        " (decompressed by toban)"
                    } else {
                        ""
                    }
                ));
            }
            v.push(format!(
                "time limit {}",
                humantime::format_duration(*timeout)
            ));
            v
        }
        StepAction::Container { action, names } => vec![format!(
            "{} container(s): {}",
            format!("{action:?}").to_lowercase(),
            names.join(", ")
        )],
        StepAction::Sql {
            connection,
            database,
            statements,
            ..
        } => {
            let mut v = vec![format!(
                "SQL on connection `{connection}`{}:",
                database
                    .as_ref()
                    .map(|d| format!(", database `{d}`"))
                    .unwrap_or_default()
            )];
            v.extend(statements.iter().map(|s| format!("  {s}")));
            v
        }
        StepAction::AlterPassword {
            connection, user, ..
        } => vec![format!(
            "on `{connection}`: ALTER USER \"{user}\" WITH PASSWORD '{MASK}'"
        )],
        StepAction::CheckLogin {
            connection,
            user,
            expect,
            ..
        } => vec![format!(
            "log in to `{connection}` as `{user}` with the {} password: must {}",
            if *expect == super::spec::LoginExpect::Ok {
                "new"
            } else {
                "old"
            },
            if *expect == super::spec::LoginExpect::Ok {
                "succeed"
            } else {
                "be refused"
            }
        )],
        StepAction::Wait { target, timeout } => vec![format!(
            "wait up to {} until {}",
            humantime::format_duration(*timeout),
            match target {
                WaitTarget::Http(u) => format!("{u} answers 2xx"),
                WaitTarget::Tcp(a) => format!("{a} accepts connections"),
                WaitTarget::File(f) => format!("{f} exists"),
                WaitTarget::Container(c) => format!("container {c} is healthy"),
                WaitTarget::Written(f) => format!("{f} is being written (not empty)"),
            }
        )],
        StepAction::VerifyBackup { path } => vec![format!(
            "verify {path}: gzip integrity, and its checksum if a manifest lists it"
        )],
        StepAction::Extract {
            from,
            component,
            target,
            mode,
        } => vec![match mode {
            super::spec::ExtractMode::List => {
                format!("list what restoring `{component}` from {from} would change in {target} (changes nothing)")
            }
            super::spec::ExtractMode::Extract => {
                format!("extract `{component}` from {from} into {target} (overwrites files)")
            }
            super::spec::ExtractMode::Verify => {
                format!("compare {target} with `{component}` in {from}, byte for byte")
            }
        }],
        StepAction::WriteFile { path, mode, .. } => {
            vec![format!("write {path} (mode {mode:04o}), content not shown")]
        }
        StepAction::UpdateSecret { .. } => match crate::runbook::steps::secret_target(a) {
            Some(t) => vec![format!(
                "replace the secret in {}, value not shown",
                t.describe()
            )],
            None => vec!["replace a secret (unknown store)".into()],
        },
        StepAction::RotateFiles { paths } => paths
            .iter()
            .map(|p| format!("copy {p} to {p}.<time>.gz and truncate it"))
            .collect(),
        StepAction::Check { left, op, right } => vec![format!(
            "check that `{left}` {} `{right}`",
            match op {
                super::spec::CheckOp::Changed => "differs from",
                super::spec::CheckOp::Equal => "equals",
                super::spec::CheckOp::Contains => "contains",
            }
        )],
        StepAction::ScheduleFollowup { title, due, note } => {
            let mut v = vec![format!(
                "add a follow-up to the calendar, due in {due}: {title}"
            )];
            if let Some(n) = note {
                v.push(n.clone());
            }
            v
        }
        StepAction::GenerateSecret { length } => vec![format!(
            "generate a random {length}-character secret (kept in memory, never shown or logged)"
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::spec::parse;

    const BOOK: &str = r#"
name = "t"
title = "T"
kind = "maintenance"

[[step]]
id = "risky"
kind = "command"
argv = ["false"]
rollback = "undo"

[[step]]
id = "never"
kind = "command"
argv = ["true"]

[[step]]
id = "undo"
kind = "command"
argv = ["true"]
rollback_only = true
"#;

    fn engine(src: &str) -> Engine {
        let spec = parse(std::path::Path::new("t.toml"), src).unwrap();
        Engine::new(
            spec,
            "r".into(),
            BTreeMap::new(),
            RunOptions::default(),
            "u".into(),
            None,
            0,
        )
    }

    fn executed(fx: &[EngineEffect]) -> Vec<String> {
        fx.iter()
            .filter_map(|f| match f {
                EngineEffect::Execute(r) => Some(r.id.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_failed_step_runs_its_rollback_then_the_run_fails() {
        let mut e = engine(BOOK);
        let fx = e.handle(Event::Start, 1);
        assert_eq!(executed(&fx), ["risky"]);
        // Persisted before it runs: a crash now finds the step running.
        let persist = fx.iter().position(|f| *f == EngineEffect::Persist).unwrap();
        let exec = fx
            .iter()
            .position(|f| matches!(f, EngineEffect::Execute(_)))
            .unwrap();
        assert!(persist < exec);
        let fx = e.handle(
            Event::StepFinished(StepOutcome::failed(0, "exit code 1")),
            2,
        );
        assert_eq!(executed(&fx), ["undo"]);
        let mut ok = StepOutcome::failed(2, "exit code 0");
        ok.ok = true;
        let fx = e.handle(Event::StepFinished(ok), 3);
        assert!(fx.contains(&EngineEffect::Finished(RunStatus::Failed)));
        assert_eq!(e.state.steps[1].state, StepState::Pending, "never ran");
        assert!(e
            .state
            .failure
            .as_deref()
            .unwrap()
            .contains("rollback `undo` done"));
    }

    #[test]
    fn on_failure_continue_goes_on() {
        let src = BOOK.replace("rollback = \"undo\"", "on_failure = \"continue\"");
        let mut e = engine(&src);
        e.handle(Event::Start, 1);
        let fx = e.handle(
            Event::StepFinished(StepOutcome::failed(0, "exit code 1")),
            2,
        );
        assert_eq!(executed(&fx), ["never"]);
        assert_eq!(e.state.steps[0].state, StepState::Failed);
    }

    #[test]
    fn a_late_outcome_for_another_step_is_ignored() {
        let mut e = engine(BOOK);
        e.handle(Event::Start, 1);
        let fx = e.handle(Event::StepFinished(StepOutcome::failed(1, "stray")), 2);
        assert!(fx.is_empty());
        assert_eq!(e.state.steps[0].state, StepState::Running);
    }

    #[test]
    fn state_round_trips_through_json_without_secrets() {
        let mut e = engine(BOOK);
        e.state
            .secrets
            .insert("pw".into(), "hunter2hunter2hunter2".into());
        e.handle(Event::Start, 1);
        let json = serde_json::to_string(&e.state).unwrap();
        assert!(!json.contains("hunter2"));
        let back: RunState = serde_json::from_str(&json).unwrap();
        let resumed = Engine::resume(e.spec.clone(), back);
        assert_eq!(resumed.state.steps[0].state, StepState::Interrupted);
        assert_eq!(resumed.waiting(), Waiting::Resolve);
    }
}
