//! Local alarm transitions: the history the Alarms tab lists, and which alarms are still
//! raised after a restart.

use super::{from_ms, to_ms, Store};
use crate::alarm_types::AlarmTransition;
use crate::health::Severity;

type TransitionRow = (i64, String, String, String, f64, String);

fn transition_from_row(r: TransitionRow) -> AlarmTransition {
    AlarmTransition {
        at: from_ms(r.0),
        key: r.1,
        from: Severity::parse(&r.2).unwrap_or(Severity::Unknown),
        to: Severity::parse(&r.3).unwrap_or(Severity::Unknown),
        value: r.4,
        message: r.5,
    }
}

impl Store {
    pub async fn record_alarm_transition(&self, t: &AlarmTransition) -> anyhow::Result<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO alarm_transitions (at_ms, alarm_key, from_severity, to_severity, value, message) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(to_ms(t.at))
        .bind(&t.key)
        .bind(t.from.as_str())
        .bind(t.to.as_str())
        .bind(t.value)
        .bind(&t.message)
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }

    /// Newest first.
    pub async fn alarm_transitions(&self, limit: i64) -> anyhow::Result<Vec<AlarmTransition>> {
        let rows: Vec<TransitionRow> = sqlx::query_as(
            "SELECT at_ms, alarm_key, from_severity, to_severity, value, message \
             FROM alarm_transitions ORDER BY at_ms DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(transition_from_row).collect())
    }

    /// Alarms still raised: per key, the latest transition (by time, then insertion), kept
    /// when it went to anything but ok. Its `at` is when the alarm reached its current
    /// severity. Newest first.
    pub async fn active_alarms(&self) -> anyhow::Result<Vec<AlarmTransition>> {
        let rows: Vec<TransitionRow> = sqlx::query_as(
            "SELECT a.at_ms, a.alarm_key, a.from_severity, a.to_severity, a.value, a.message \
             FROM alarm_transitions a \
             WHERE a.to_severity <> 'ok' AND NOT EXISTS ( \
                 SELECT 1 FROM alarm_transitions b \
                 WHERE b.alarm_key = a.alarm_key \
                   AND (b.at_ms > a.at_ms OR (b.at_ms = a.at_ms AND b.id > a.id))) \
             ORDER BY a.at_ms DESC, a.id DESC",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(transition_from_row).collect())
    }
}
