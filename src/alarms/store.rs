//! Alarm acknowledgements, toban-side silences and their audit in the state store (both
//! backends): each ack, silence and lift is one row in `alarm_acks` plus one audit record,
//! written in one transaction.

use chrono::{DateTime, Utc};

use super::acks::{Ack, AckKind, NewAck, Who};
use super::model::AlarmState;
use crate::store::{from_ms, to_ms, Store};

type AckRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    String,
    i64,
);

const ACK_COLUMNS: &str = "id, alarm_key, alarm_name, kind, note, who, ssh_client, at_ms, \
                           until_ms, state, state_since_ms";

fn ack_from_row(r: AckRow) -> Ack {
    Ack {
        id: r.0,
        key: r.1,
        name: r.2,
        kind: AckKind::parse(&r.3).unwrap_or(AckKind::Ack),
        note: r.4,
        who: r.5,
        ssh_client: r.6,
        at: from_ms(r.7),
        until: r.8.map(from_ms),
        state: AlarmState::parse(&r.9).unwrap_or_default(),
        state_since: from_ms(r.10),
    }
}

fn state_word(s: AlarmState) -> &'static str {
    match s {
        AlarmState::Firing => "firing",
        AlarmState::InsufficientData => "insufficient_data",
        AlarmState::Ok => "ok",
    }
}

/// One audit record: what was done to which alarm, by whom.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmAudit {
    pub at: DateTime<Utc>,
    pub key: String,
    pub action: String,
    pub detail: String,
    pub who: String,
    pub ssh_client: Option<String>,
}

impl Store {
    /// Records an acknowledgement or silence and its audit record.
    pub async fn record_alarm_ack(
        &self,
        new: &NewAck,
        who: &Who,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Ack> {
        let who_s = who.user_at_host();
        let mut tx = self.pool().begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO alarm_acks (alarm_key, alarm_name, kind, note, who, ssh_client, at_ms, \
             until_ms, state, state_since_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             RETURNING id",
        )
        .bind(&new.key)
        .bind(&new.name)
        .bind(new.kind.as_str())
        .bind(&new.note)
        .bind(&who_s)
        .bind(&who.ssh_client)
        .bind(to_ms(at))
        .bind(new.until.map(to_ms))
        .bind(state_word(new.state))
        .bind(to_ms(new.state_since))
        .fetch_one(&mut *tx)
        .await?;
        let detail = match (new.kind, new.until) {
            (AckKind::Silence, Some(u)) => format!(
                "{} silenced until {}: {}",
                new.name,
                u.format("%Y-%m-%d %H:%M UTC"),
                new.note
            ),
            _ => format!(
                "{} acknowledged in {}: {}",
                new.name,
                new.state.label(),
                new.note
            ),
        };
        insert_audit(&mut tx, at, &new.key, new.kind.as_str(), &detail, who).await?;
        tx.commit().await?;
        Ok(Ack {
            id,
            key: new.key.clone(),
            name: new.name.clone(),
            kind: new.kind,
            note: new.note.clone(),
            who: who_s,
            ssh_client: who.ssh_client.clone(),
            at: from_ms(to_ms(at)),
            until: new.until.map(|u| from_ms(to_ms(u))),
            state: new.state,
            state_since: from_ms(to_ms(new.state_since)),
        })
    }

    /// Acknowledgements not ended and silences not over at `now`, oldest first.
    pub async fn open_alarm_acks(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<Ack>> {
        let rows: Vec<AckRow> = sqlx::query_as(&format!(
            "SELECT {ACK_COLUMNS} FROM alarm_acks WHERE cleared_ms IS NULL \
             AND (kind = 'ack' OR until_ms > $1) ORDER BY at_ms, id"
        ))
        .bind(to_ms(now))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(ack_from_row).collect())
    }

    /// Ends an acknowledgement or lifts a silence early (`action`: `unsilence`, `ack_ended`).
    /// False when it was already ended.
    pub async fn clear_alarm_ack(
        &self,
        id: i64,
        action: &str,
        why: &str,
        who: &Who,
        at: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let mut tx = self.pool().begin().await?;
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT alarm_key, alarm_name FROM alarm_acks WHERE id = $1 AND cleared_ms IS NULL",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((key, name)) = row else {
            return Ok(false);
        };
        sqlx::query("UPDATE alarm_acks SET cleared_ms = $1, cleared_why = $2 WHERE id = $3")
            .bind(to_ms(at))
            .bind(why)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, at, &key, action, &format!("{name}: {why}"), who).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// An audit record for something done in the source itself (an Alertmanager silence).
    pub async fn audit_alarm_action(
        &self,
        key: &str,
        action: &str,
        detail: &str,
        who: &Who,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let mut tx = self.pool().begin().await?;
        insert_audit(&mut tx, at, key, action, detail, who).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Newest first.
    pub async fn alarm_audit(&self, limit: i64) -> anyhow::Result<Vec<AlarmAudit>> {
        type Row = (i64, String, String, String, String, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT at_ms, alarm_key, action, detail, who, ssh_client FROM alarm_audit \
             ORDER BY at_ms DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AlarmAudit {
                at: from_ms(r.0),
                key: r.1,
                action: r.2,
                detail: r.3,
                who: r.4,
                ssh_client: r.5,
            })
            .collect())
    }
}

async fn insert_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    at: DateTime<Utc>,
    key: &str,
    action: &str,
    detail: &str,
    who: &Who,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO alarm_audit (at_ms, alarm_key, action, detail, who, ssh_client) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(to_ms(at))
    .bind(key)
    .bind(action)
    .bind(detail)
    .bind(who.user_at_host())
    .bind(&who.ssh_client)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
