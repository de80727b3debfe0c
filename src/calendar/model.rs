//! The calendar's plain data: duties (from presets, config.toml and the follow-ups runbooks
//! schedule), and what operators recorded against their occurrences (done, skipped,
//! snoozed).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::recur::{system_zone, Recurrence};
use crate::config::calendar::{parse_severity, parse_zone, CalendarConfig, DutyOrigin, RunbookLink};
use crate::health::Severity;

#[derive(Debug, Clone, PartialEq)]
pub struct Duty {
    /// Stable id completions are recorded against; `followup-<n>` for follow-ups.
    pub id: String,
    pub title: String,
    pub text: Option<String>,
    pub checklist: Vec<String>,
    /// The runbook that does it (Enter starts it); a follow-up's action.
    pub runbook: Option<RunbookLink>,
    pub zone: Tz,
    /// Due → overdue after this long.
    pub grace: Duration,
    /// Of the local alarm raised while overdue.
    pub severity: Severity,
    /// False: never raises a local alarm.
    pub alarm: bool,
    pub recurrence: Recurrence,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Origin {
    Preset { name: String },
    Config,
    /// Scheduled by a runbook run (the old access key's deletion).
    Followup {
        id: i64,
        created_by_run: Option<String>,
    },
}

/// What was recorded against one occurrence of a duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Done,
    Skipped,
    Snoozed,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Done => "done",
            EventKind::Skipped => "skipped",
            EventKind::Snoozed => "snoozed",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        match s {
            "done" => Some(EventKind::Done),
            "skipped" => Some(EventKind::Skipped),
            "snoozed" => Some(EventKind::Snoozed),
            _ => None,
        }
    }
}

/// One record in a duty's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DutyEvent {
    pub id: i64,
    pub duty_id: String,
    /// The occurrence's due time.
    pub occurrence: DateTime<Utc>,
    pub kind: EventKind,
    /// When it was done (may be given as earlier than it was recorded).
    pub at: DateTime<Utc>,
    pub recorded: DateTime<Utc>,
    pub by: Actor,
    /// The done note or the skip reason.
    pub note: Option<String>,
    /// Snoozed until.
    pub until: Option<DateTime<Utc>>,
    /// The runbook run that did it.
    pub run_id: Option<String>,
}

/// Who: the account and, when logged in over SSH, where from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub user: String,
    pub ssh_client: Option<String>,
}

impl Actor {
    /// This process's user and SSH client.
    pub fn current() -> Actor {
        Actor {
            user: crate::actor::current_user(),
            ssh_client: crate::actor::ssh_client(),
        }
    }

    pub fn describe(&self) -> String {
        match &self.ssh_client {
            Some(c) => format!("{} from {c}", self.user),
            None => self.user.clone(),
        }
    }
}

/// A follow-up a runbook scheduled, as the calendar reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Followup {
    pub id: i64,
    pub title: String,
    pub note: Option<String>,
    pub due: DateTime<Utc>,
    pub created: DateTime<Utc>,
    pub created_by_run: Option<String>,
    pub done: Option<DateTime<Utc>>,
    /// What doing it runs (delete the old access key): a runbook and its parameters.
    pub action: Option<RunbookLink>,
}

impl Followup {
    pub fn duty_id(id: i64) -> String {
        format!("followup-{id}")
    }

    /// The follow-up's id from a duty id `followup-<n>`.
    pub fn id_of(duty_id: &str) -> Option<i64> {
        duty_id.strip_prefix("followup-")?.parse().ok()
    }

    pub fn to_duty(&self, zone: Tz, grace: Duration) -> Duty {
        Duty {
            id: Followup::duty_id(self.id),
            title: self.title.clone(),
            text: self.note.clone(),
            checklist: Vec::new(),
            runbook: self.action.clone(),
            zone,
            grace,
            severity: Severity::Warning,
            alarm: true,
            recurrence: Recurrence::Once(self.due),
            origin: Origin::Followup {
                id: self.id,
                created_by_run: self.created_by_run.clone(),
            },
        }
    }
}

/// A duty the config names that cannot be built, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct DutyProblem {
    pub field: String,
    pub id: String,
    pub message: String,
}

/// The duties of `[calendar]` (presets and config.toml), in order; the ones that cannot be
/// built are left out and reported.
pub fn duties_from_config(cfg: &CalendarConfig) -> (Vec<Duty>, Vec<DutyProblem>) {
    let mut duties = Vec::new();
    let mut problems = Vec::new();
    let system = system_zone();
    for r in cfg.resolved() {
        let zone = match r.zone.as_deref().map(parse_zone).transpose() {
            Ok(z) => z.unwrap_or(system),
            Err(message) => {
                problems.push(DutyProblem {
                    field: format!("{}.zone", r.field),
                    id: r.spec.id.clone(),
                    message,
                });
                continue;
            }
        };
        match Recurrence::from_spec(&r.spec, zone) {
            Ok(recurrence) => duties.push(Duty {
                id: r.spec.id.clone(),
                title: r.spec.title.clone(),
                text: r.spec.text.clone(),
                checklist: r.spec.checklist.clone(),
                runbook: r.spec.runbook.clone(),
                zone,
                grace: Duration::from_std(r.grace).unwrap_or(Duration::hours(1)),
                severity: parse_severity(r.spec.severity.as_deref()),
                alarm: r.spec.alarm.unwrap_or(true),
                recurrence,
                origin: match r.origin {
                    DutyOrigin::Preset(name) => Origin::Preset { name },
                    DutyOrigin::Config => Origin::Config,
                },
            }),
            Err(message) => problems.push(DutyProblem {
                field: r.field,
                id: r.spec.id,
                message,
            }),
        }
    }
    (duties, problems)
}
