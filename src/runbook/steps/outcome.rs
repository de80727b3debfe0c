//! What goes into and comes out of running a step: the rendered step ([`Rendered`]), what
//! a kind reports ([`Outcome`]), what the engine is told ([`StepOutcome`]), and what is
//! known of a step found running after a restart ([`Reattach`]). One definition each of a
//! step's output, its tail and its digest.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::StepAction;
use crate::runbook::exec::TAIL_LINES;
use crate::sanitize::strip_escapes;

/// One step made concrete: values substituted, ready to execute or show.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub step: usize,
    pub id: String,
    /// With real values (secrets included): for the executor only.
    pub action: StepAction,
    /// What it will do, secrets masked: for the screen and the audit.
    pub display: Vec<String>,
    pub destructive: bool,
    /// When the last step that ran before this one started (ms since the epoch): a wait for
    /// a log to be written again counts only bytes written since the rotation began.
    pub since_ms: Option<i64>,
    /// Part of a drill (the step's context says so to the kind).
    pub drill: bool,
}

/// What a kind's `execute` reports.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub ok: bool,
    /// Stopped because the operator asked.
    pub cancelled: bool,
    pub exit_code: Option<i32>,
    /// What `{{steps.ID.output}}` gives later steps.
    pub output: String,
    /// What happened, in words.
    pub message: String,
    pub tail: String,
    pub digest: Option<String>,
    /// A generated secret: never stored, audited or logged (see `runner::secrets`).
    pub secret: Option<String>,
    /// How long it took by the kind's own clock (a command's, measured by its supervisor).
    pub duration: Option<Duration>,
}

impl Outcome {
    /// Success with this text: its first line is the message, all of it the output.
    pub fn done(text: impl Into<String>) -> Outcome {
        let text = text.into();
        Outcome {
            ok: true,
            message: text.lines().next().unwrap_or("done").to_string(),
            digest: Some(digest_of(text.as_bytes())),
            tail: tail_of(&text),
            output: text.trim().to_string(),
            ..Default::default()
        }
    }

    pub fn fail(message: impl Into<String>) -> Outcome {
        Outcome {
            message: message.into(),
            ..Default::default()
        }
    }

    pub fn from_result(r: Result<String, String>) -> Outcome {
        r.map_or_else(Outcome::fail, Outcome::done)
    }

    /// An outcome that is its own record: the message is the tail and the digest.
    pub fn said(ok: bool, message: impl Into<String>) -> Outcome {
        let message = message.into();
        Outcome {
            ok,
            digest: Some(digest_of(message.as_bytes())),
            tail: message.clone(),
            message,
            ..Default::default()
        }
    }
}

/// What the engine is told when a step ends.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    pub step: usize,
    pub ok: bool,
    pub exit_code: Option<i32>,
    /// The value `{{steps.ID.output}}` gives later steps (a command's output, a query's
    /// value), escape sequences stripped.
    pub output: String,
    pub tail: String,
    pub digest: Option<String>,
    pub message: String,
    /// A generated secret: never stored, audited or logged (see `runner::secrets`).
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

    /// The engine's record of a kind's outcome. Text from outside (a server's error, a
    /// command's output) is stripped of terminal escape sequences here, before anything
    /// stores, shows or prints it.
    pub fn from_outcome(step: usize, o: Outcome, measured: Duration) -> Self {
        StepOutcome {
            step,
            ok: o.ok,
            exit_code: o.exit_code,
            output: clean_lines(&o.output),
            tail: clean_lines(&tail_of(&o.tail)),
            digest: o.digest,
            message: clean_lines(&o.message),
            secret: o.secret,
            cancelled: o.cancelled,
            duration_ms: o.duration.unwrap_or(measured).as_millis() as i64,
        }
    }
}

/// What is known of a step that was running when toban died.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reattach {
    Finished {
        exit_code: i32,
        tail: String,
    },
    StillRunning,
    Lost,
    /// toban stopped before the command was launched: nothing ran.
    NeverStarted,
}

/// The last [`TAIL_LINES`] lines: what a step's record and the audit keep of its output.
pub fn tail_of(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    lines[start..].join("\n")
}

pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Each line without escape sequences (they would act on the operator's terminal).
pub fn clean_lines(s: &str) -> String {
    s.lines().map(strip_escapes).collect::<Vec<_>>().join("\n")
}
