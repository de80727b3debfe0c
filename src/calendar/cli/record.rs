//! `toban calendar done | skip | snooze DUTY`: records a completion, a skip with its reason
//! or a snooze against the duty's current occurrence (or the one `--occurrence` names),
//! as the tab does, with who (account and SSH client) from the environment.

use std::io::Write;

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::{display_zone, load, CalendarCommand};
use crate::calendar::complete::{record, Actions};
use crate::calendar::model::{Actor, Duty, EventKind, Origin};
use crate::calendar::store::NewEvent;
use crate::config::Config;
use crate::sanitize::strip_escapes;
use crate::store::Store;

#[derive(Serialize)]
struct RecordedJson<'a> {
    duty: &'a str,
    occurrence: DateTime<Utc>,
    kind: EventKind,
    at: DateTime<Utc>,
    by: &'a Actor,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'a crate::config::calendar::RunbookLink>,
    /// What the follow-up's action did.
    #[serde(skip_serializing_if = "Option::is_none")]
    action_result: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<&'a str>,
}

/// `actions`: what runs a follow-up's action when it is marked done (the same path as the
/// Calendar tab's).
pub async fn record_command(
    config: &Config,
    store: &Store,
    actions: Option<&Actions>,
    cmd: CalendarCommand,
    by: &Actor,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> i32 {
    let zone = display_zone(config);
    let (book, _, read) = load(config, Some(store), now).await;
    if let Err(e) = read {
        eprintln!("toban: cannot read the calendar's records: {e}");
        return 3;
    }
    let (duty_id, occurrence, json) = match &cmd {
        CalendarCommand::Done {
            duty,
            occurrence,
            json,
            ..
        }
        | CalendarCommand::Skip {
            duty,
            occurrence,
            json,
            ..
        }
        | CalendarCommand::Snooze {
            duty,
            occurrence,
            json,
            ..
        } => (duty.as_str(), occurrence.as_deref(), *json),
    };
    let Some(i) = book.index_of(duty_id) else {
        let ids = book.duties.iter().map(|d| d.id.as_str());
        eprintln!(
            "toban: no duty `{}`{}; `toban calendar` lists them",
            strip_escapes(duty_id),
            crate::config::suggest::hint(duty_id, ids)
        );
        return 2;
    };
    let d: &Duty = &book.duties[i];
    let occurrence = match occurrence {
        Some(t) => match parse_time_arg(t, zone, now) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("toban: --occurrence: {e}");
                return 2;
            }
        },
        None => match book.current(i, now) {
            Some(o) => o.at,
            None => {
                eprintln!("toban: `{}` has nothing left to do", d.id);
                return 2;
            }
        },
    };
    let (kind, note, at, until) = match &cmd {
        CalendarCommand::Done { note, at, .. } => {
            let at = match at
                .as_deref()
                .map(|t| parse_time_arg(t, zone, now))
                .transpose()
            {
                Ok(t) => t.unwrap_or(now),
                Err(e) => {
                    eprintln!("toban: --at: {e}");
                    return 2;
                }
            };
            if at > now {
                eprintln!("toban: --at is in the future");
                return 2;
            }
            (EventKind::Done, note.clone(), at, None)
        }
        CalendarCommand::Skip { reason, .. } => {
            (EventKind::Skipped, Some(reason.clone()), now, None)
        }
        CalendarCommand::Snooze { duration, note, .. } => match humantime::parse_duration(duration)
        {
            Ok(d) => (
                EventKind::Snoozed,
                note.clone(),
                now,
                Some(now + Duration::from_std(d).unwrap_or(Duration::hours(1))),
            ),
            Err(e) => {
                eprintln!("toban: --for `{duration}` is not a duration like 2h or 1d: {e}");
                return 2;
            }
        },
    };
    let recorded = record(
        store,
        actions,
        &NewEvent {
            duty_id: &d.id,
            occurrence,
            kind,
            at,
            by,
            note: note.as_deref(),
            until,
            run_id: None,
        },
        now,
    )
    .await;
    let recorded = match recorded {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "toban: {} not {}: {}",
                d.id,
                kind.as_str(),
                strip_escapes(&e)
            );
            return 1;
        }
    };
    let action = match (&d.origin, kind) {
        (Origin::Followup { .. }, EventKind::Done) => d.runbook.as_ref(),
        _ => None,
    };
    let w = if json {
        serde_json::to_writer_pretty(
            &mut *out,
            &RecordedJson {
                duty: &d.id,
                occurrence,
                kind,
                at,
                by,
                action,
                action_result: recorded.action.as_deref(),
                run_id: recorded.run_id.as_deref(),
            },
        )
        .map_err(std::io::Error::from)
        .and_then(|_| writeln!(out))
    } else {
        let when = occurrence.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z");
        let mut text = format!(
            "{} {}: {} ({when}) by {}",
            kind.as_str(),
            d.id,
            strip_escapes(&d.title),
            by.describe()
        );
        if let Some(u) = until {
            text.push_str(&format!(
                ", due again {}",
                u.with_timezone(&zone).format("%Y-%m-%d %H:%M")
            ));
        }
        if let Some(did) = &recorded.action {
            text.push_str(&format!("\naction: {}", strip_escapes(did)));
        }
        writeln!(out, "{text}")
    };
    if w.is_err() {
        return 3;
    }
    0
}

/// `HH:MM` (today), `YYYY-MM-DD HH:MM` (in `zone`) or RFC 3339.
fn parse_time_arg(s: &str, zone: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = if let Ok(t) = NaiveTime::parse_from_str(s, "%H:%M") {
        now.with_timezone(&zone).date_naive().and_time(t)
    } else {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").map_err(|_| {
            format!("`{s}` is not a time like `14:00`, `2026-11-23 14:00` or RFC 3339")
        })?
    };
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("`{s}` does not exist in {} (a DST gap)", zone.name()))
}
