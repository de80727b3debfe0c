//! The calendar's plain data: duties (from presets, config.toml and the follow-ups runbooks
//! schedule), and what operators recorded against their occurrences (done, skipped,
//! snoozed).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::recur::{system_zone, Recurrence};
use crate::config::calendar::{
    parse_every, parse_severity, parse_zone, CalendarConfig, DaySpec, DutyOrigin, DutySpec, Every,
    RunbookLink,
};
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
    /// The recurrence in words: `every day at 09:00, 14:00, 17:00`.
    pub schedule: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Origin {
    Preset {
        name: String,
    },
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
            schedule: "once".into(),
            origin: Origin::Followup {
                id: self.id,
                created_by_run: self.created_by_run.clone(),
            },
        }
    }
}

/// A duty's recurrence in words, from its fields.
pub fn describe(d: &DutySpec) -> String {
    let mut s = match (&d.rrule, d.every.as_deref().map(parse_every)) {
        (Some(r), _) => format!("RRULE {r}"),
        (None, Some(Ok(Every::Days(n)))) if d.from.as_deref() == Some("done") => {
            format!("every {n} days from the last completion")
        }
        (None, Some(Ok(Every::Days(n)))) => format!("every {n} days"),
        (None, Some(Ok(e))) => {
            let unit = match e {
                Every::Day => "day",
                Every::Week => "week",
                Every::Month => "month",
                _ => "year",
            };
            match d.interval {
                Some(n) if n > 1 => format!("every {n} {unit}s"),
                _ => format!("every {unit}"),
            }
        }
        _ => "?".into(),
    };
    if !d.months.is_empty() {
        let names: Vec<String> = d
            .months
            .iter()
            .filter_map(|m| chrono::Month::try_from(*m).ok())
            .map(|m| m.name()[..3].to_string())
            .collect();
        s.push_str(&format!(" in {}", names.join(", ")));
    }
    match (&d.day, d.nth) {
        (Some(DaySpec::Number(n)), _) => s.push_str(&format!(" on day {n}")),
        (Some(DaySpec::Word(w)), _) => s.push_str(&format!(" on the {w} day")),
        (None, Some(n)) if !d.on.is_empty() => {
            let nth = match n {
                1 => "1st".to_string(),
                2 => "2nd".into(),
                3 => "3rd".into(),
                -1 => "last".into(),
                n => format!("{n}th"),
            };
            s.push_str(&format!(" on the {nth} {}", d.on.join("/")));
        }
        _ if !d.on.is_empty() => s.push_str(&format!(" on {}", d.on.join(", "))),
        _ => {}
    }
    let at = if d.at.is_empty() {
        "09:00".to_string()
    } else {
        d.at.join(", ")
    };
    s.push_str(&format!(" at {at}"));
    s
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
                schedule: describe(&r.spec),
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
