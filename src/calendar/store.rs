//! The calendar's records in the state store (both backends, so a team on one PostgreSQL
//! store sees each other's completions): done / skipped / snoozed per duty occurrence, and
//! the follow-ups runbooks schedule read as one-off duties with their action.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::model::{Actor, DutyEvent, EventKind, Followup};
use crate::config::calendar::RunbookLink;
use crate::store::{from_ms, to_ms, Store};

/// What the calendar reads from the store: enough history for the screens, and each duty's
/// latest completion however old (an "every 90 days from done" duty counts from it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CalendarRecords {
    pub events: Vec<DutyEvent>,
    /// Since when each duty is tracked (see [`Store::track_duties`]).
    pub tracked: HashMap<String, DateTime<Utc>>,
    /// Open follow-ups and those done since the history window began.
    pub followups: Vec<Followup>,
}

/// A record to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent<'a> {
    pub duty_id: &'a str,
    pub occurrence: DateTime<Utc>,
    pub kind: EventKind,
    /// When it was done (`toban calendar done --at` may give an earlier time).
    pub at: DateTime<Utc>,
    pub by: &'a Actor,
    pub note: Option<&'a str>,
    pub until: Option<DateTime<Utc>>,
    pub run_id: Option<&'a str>,
}

type EventRow = (
    i64,
    String,
    i64,
    String,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

const EVENT_COLS: &str = "id, duty_id, occurrence_ms, kind, at_ms, recorded_ms, by_user, \
                          ssh_client, note, until_ms, run_id";
const INSERT_COLS: &str = "duty_id, occurrence_ms, kind, at_ms, recorded_ms, by_user, \
                           ssh_client, note, until_ms, run_id";

fn event(r: EventRow) -> Option<DutyEvent> {
    Some(DutyEvent {
        id: r.0,
        duty_id: r.1,
        occurrence: from_ms(r.2),
        kind: EventKind::parse(&r.3)?,
        at: from_ms(r.4),
        recorded: from_ms(r.5),
        by: Actor {
            user: r.6,
            ssh_client: r.7,
        },
        note: r.8,
        until: r.9.map(from_ms),
        run_id: r.10,
    })
}

type FollowupRow = (
    i64,
    String,
    Option<String>,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
);

impl Store {
    /// Records one event; for a follow-up's duty (`followup-<n>`) done or skipped also
    /// closes the follow-up, in the same transaction.
    pub async fn record_duty_event(
        &self,
        e: &NewEvent<'_>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<i64> {
        let mut tx = self.pool().begin().await?;
        let (id,): (i64,) = sqlx::query_as(&format!(
            "INSERT INTO duty_events ({INSERT_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id"
        ))
        .bind(e.duty_id)
        .bind(to_ms(e.occurrence))
        .bind(e.kind.as_str())
        .bind(to_ms(e.at))
        .bind(to_ms(now))
        .bind(&e.by.user)
        .bind(&e.by.ssh_client)
        .bind(e.note)
        .bind(e.until.map(to_ms))
        .bind(e.run_id)
        .fetch_one(&mut *tx)
        .await?;
        if e.kind != EventKind::Snoozed {
            if let Some(f) = Followup::id_of(e.duty_id) {
                sqlx::query("UPDATE followups SET done_ms = $2 WHERE id = $1 AND done_ms IS NULL")
                    .bind(f)
                    .bind(to_ms(e.at))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Marks one occurrence of a duty done: the call a finished runbook run makes, with
    /// its run id, for the duty it was started from.
    pub async fn complete_duty(
        &self,
        duty_id: &str,
        occurrence: DateTime<Utc>,
        by: &Actor,
        note: Option<&str>,
        run_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<i64> {
        self.record_duty_event(
            &NewEvent {
                duty_id,
                occurrence,
                kind: EventKind::Done,
                at: now,
                by,
                note,
                until: None,
                run_id,
            },
            now,
        )
        .await
    }

    /// Events of occurrences since `since`, plus every duty's latest done or skip.
    pub async fn duty_events(&self, since: DateTime<Utc>) -> anyhow::Result<Vec<DutyEvent>> {
        let recent: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT {EVENT_COLS} FROM duty_events WHERE occurrence_ms >= $1 OR at_ms >= $1 \
             ORDER BY recorded_ms, id"
        ))
        .bind(to_ms(since))
        .fetch_all(self.pool())
        .await?;
        let latest: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT {EVENT_COLS} FROM duty_events WHERE id IN ( \
                 SELECT MAX(id) FROM duty_events WHERE kind <> 'snoozed' GROUP BY duty_id) \
             ORDER BY recorded_ms, id"
        ))
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<DutyEvent> = recent.into_iter().filter_map(event).collect();
        for e in latest.into_iter().filter_map(event) {
            if !out.iter().any(|o| o.id == e.id) {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Open follow-ups and those done since `since`, soonest due first.
    pub async fn calendar_followups(&self, since: DateTime<Utc>) -> anyhow::Result<Vec<Followup>> {
        let rows: Vec<FollowupRow> = sqlx::query_as(
            "SELECT id, title, note, due_ms, created_ms, created_by_run, done_ms, action_json \
             FROM followups WHERE done_ms IS NULL OR done_ms >= $1 OR due_ms >= $1 \
             ORDER BY due_ms, id",
        )
        .bind(to_ms(since))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Followup {
                id: r.0,
                title: r.1,
                note: r.2,
                due: from_ms(r.3),
                created: from_ms(r.4),
                created_by_run: r.5,
                done: r.6.map(from_ms),
                action: r.7.and_then(|j| serde_json::from_str(&j).ok()),
            })
            .collect())
    }

    /// Notes `now` as the day tracking began for each of `duty_ids` not seen before, and
    /// returns since when every duty is tracked. Two processes starting together agree:
    /// the first insert wins.
    pub async fn track_duties(
        &self,
        duty_ids: &[String],
        now: DateTime<Utc>,
    ) -> anyhow::Result<HashMap<String, DateTime<Utc>>> {
        let mut known = self.tracked_duties().await?;
        let new: Vec<&String> = duty_ids
            .iter()
            .filter(|id| !known.contains_key(*id))
            .collect();
        if !new.is_empty() {
            let mut tx = self.pool().begin().await?;
            for id in new {
                sqlx::query(
                    "INSERT INTO duty_tracking (duty_id, since_ms) VALUES ($1, $2) \
                     ON CONFLICT (duty_id) DO NOTHING",
                )
                .bind(id)
                .bind(to_ms(now))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            known = self.tracked_duties().await?;
        }
        Ok(known)
    }

    pub async fn tracked_duties(&self) -> anyhow::Result<HashMap<String, DateTime<Utc>>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT duty_id, since_ms FROM duty_tracking")
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|(id, ms)| (id, from_ms(ms))).collect())
    }

    /// Everything the calendar shows, `history_days` back. A follow-up closed without a
    /// record (by `complete_followup`) reads as done by an unknown hand.
    /// `track`: configured duty ids to start tracking now if they are new (see
    /// [`Store::track_duties`]).
    pub async fn calendar_records(
        &self,
        now: DateTime<Utc>,
        history_days: i64,
        track: &[String],
    ) -> anyhow::Result<CalendarRecords> {
        let since = now - Duration::days(history_days);
        let mut events = self.duty_events(since).await?;
        let followups = self.calendar_followups(since).await?;
        for f in &followups {
            let id = Followup::duty_id(f.id);
            if let Some(done) = f.done {
                if !events
                    .iter()
                    .any(|e| e.duty_id == id && e.kind != EventKind::Snoozed)
                {
                    events.push(DutyEvent {
                        id: 0,
                        duty_id: id,
                        occurrence: f.due,
                        kind: EventKind::Done,
                        at: done,
                        recorded: done,
                        by: Actor {
                            user: "?".into(),
                            ssh_client: None,
                        },
                        note: None,
                        until: None,
                        run_id: None,
                    });
                }
            }
        }
        let tracked = if track.is_empty() {
            self.tracked_duties().await?
        } else {
            self.track_duties(track, now).await?
        };
        Ok(CalendarRecords {
            events,
            tracked,
            followups,
        })
    }

    /// The action of a follow-up not yet done (what marking it done runs).
    pub async fn open_followup_action(&self, id: i64) -> anyhow::Result<Option<RunbookLink>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT action_json FROM followups WHERE id = $1 AND done_ms IS NULL")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        match row.and_then(|(j,)| j) {
            Some(j) => Ok(Some(serde_json::from_str(&j)?)),
            None => Ok(None),
        }
    }

    /// Gives a follow-up the runbook that doing it runs (delete the old access key).
    pub async fn set_followup_action(&self, id: i64, action: &RunbookLink) -> anyhow::Result<()> {
        sqlx::query("UPDATE followups SET action_json = $2 WHERE id = $1")
            .bind(id)
            .bind(serde_json::to_string(action)?)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// A one-off duty on the calendar: a follow-up, optionally with its action.
    pub async fn add_one_off_duty(
        &self,
        title: &str,
        note: Option<&str>,
        due: DateTime<Utc>,
        action: Option<&RunbookLink>,
        created_by_run: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<i64> {
        let id = self
            .add_followup(title, note, due, created_by_run, now)
            .await?;
        if let Some(a) = action {
            self.set_followup_action(id, a).await?;
        }
        Ok(id)
    }
}
