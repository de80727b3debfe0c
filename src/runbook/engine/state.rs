//! The run's data: what is persisted after every transition ([`RunState`]), what the
//! engine is told ([`Event`]) and what it asks for ([`EngineEffect`]), the audit and drill
//! records, and what the current step waits for ([`Waiting`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::runbook::steps::{Reattach, Rendered, StepOutcome};

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

/// The persisted part of a run. Secrets are not in it: they stay in memory and in the
/// run's private folder until it ends (`runner::secrets`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub run_id: String,
    pub runbook: String,
    pub opts: RunOptions,
    pub params: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
    #[serde(skip)]
    pub secrets: RunSecrets,
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
    /// The runbook's digest when the run started (`Runbook::digest`); None for runs saved
    /// before digests were kept (those are matched by their step ids).
    #[serde(default)]
    pub spec_digest: Option<String>,
    /// The run has ended this way and its `finally` steps are running.
    #[serde(default)]
    pub finishing: Option<Finishing>,
}

/// How a run ended, kept while its `finally` steps run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finishing {
    pub status: RunStatus,
    pub why: Option<String>,
}

/// A run's secrets by key (a step's id, `param:NAME`): never serialized, and shown by
/// `{:?}` as their keys alone, so a debug print of a run cannot leak one.
#[derive(Clone, PartialEq, Default)]
pub struct RunSecrets(pub BTreeMap<String, String>);

impl std::fmt::Debug for RunSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl std::ops::Deref for RunSecrets {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for RunSecrets {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl From<BTreeMap<String, String>> for RunSecrets {
    fn from(m: BTreeMap<String, String>) -> Self {
        RunSecrets(m)
    }
}

/// Who is acting on a run now: the session that resumed it may not be the one that
/// started it, and the audit must say who answered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    pub user: String,
    pub ssh_client: Option<String>,
}

/// Why a resumed run is shown read-only (it can be aborted or started afresh, never
/// driven), and its audit so far for the operator to read.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOnly {
    pub reason: String,
    pub audit: Vec<AuditEntry>,
    /// The runbook's file is gone: nothing to start afresh from.
    pub runbook_missing: bool,
    /// Read-only only because another session held the run and its lease lapsed: the
    /// operator may take it over (typed confirmation), then drive it as usual.
    pub take_over: bool,
    /// Another session holds (or may hold) the run: not even an abort from here.
    pub held_elsewhere: bool,
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
    /// This session now holds the run's lease (taken over from a lapsed one, typed):
    /// the run is driven from here on. The text says from whom.
    TookOver(String),
    /// Another session holds the run: read-only here. The text says who and since when.
    HeldElsewhere {
        why: String,
        take_over: bool,
    },
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
    /// Wall time, start to end, operator pauses included.
    pub duration_ms: i64,
    pub ok: bool,
    pub detail: String,
    /// Machine time: the steps' own durations summed (a headless drill: all of it).
    pub machine_ms: i64,
    /// Driven by an operator in the wizard (its wall time includes their pauses).
    pub interactive: bool,
    /// What proves the restore: each table and its rows (the `compare_counts` output).
    pub proof: String,
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
    /// The runbook changed since the run started: it can only be aborted (or started
    /// afresh as a new run).
    ReadOnly,
}
