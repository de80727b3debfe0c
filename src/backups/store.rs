//! Backup verification records.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::backups::catalog::VerificationState;
use crate::backups::verify::VerifyReport;
use crate::store::{from_ms, to_ms, Store};

/// One stored verification (without the per-file detail, which is in `report`).
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub backup_id: String,
    pub service: String,
    pub ok: bool,
    pub summary: String,
    pub report: VerifyReport,
}

impl VerificationRecord {
    pub fn state(&self) -> VerificationState {
        if self.ok {
            VerificationState::Ok { at: self.at }
        } else {
            VerificationState::Failed {
                at: self.at,
                what: self.summary.clone(),
            }
        }
    }
}

type Row = (i64, i64, String, String, i64, String, String);

impl Store {
    /// Stores a finished verification; a cancelled one is not a verification and is
    /// refused.
    pub async fn record_backup_verification(&self, r: &VerifyReport) -> anyhow::Result<i64> {
        anyhow::ensure!(!r.cancelled, "a cancelled verification is not recorded");
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO backup_verifications \
             (at_ms, started_ms, backup_id, service, kind, name, ok, summary, bytes, report_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(to_ms(r.finished))
        .bind(to_ms(r.started))
        .bind(&r.backup_id)
        .bind(&r.service)
        .bind(r.kind.as_str())
        .bind(&r.name)
        .bind(r.ok() as i64)
        .bind(r.summary())
        .bind(r.bytes as i64)
        .bind(serde_json::to_string(r)?)
        .fetch_one(self.pool())
        .await
        .context("recording a backup verification")?;
        Ok(id)
    }

    /// The latest verification of every backup ever verified, by backup id.
    pub async fn latest_backup_verifications(
        &self,
    ) -> anyhow::Result<HashMap<String, VerificationState>> {
        let rows: Vec<(String, i64, i64, String)> = sqlx::query_as(
            "SELECT backup_id, at_ms, ok, summary FROM backup_verifications \
             WHERE id IN (SELECT MAX(id) FROM backup_verifications GROUP BY backup_id)",
        )
        .fetch_all(self.pool())
        .await
        .context("reading backup verifications")?;
        Ok(rows
            .into_iter()
            .map(|(id, at, ok, what)| {
                let at = from_ms(at);
                let state = if ok != 0 {
                    VerificationState::Ok { at }
                } else {
                    VerificationState::Failed { at, what }
                };
                (id, state)
            })
            .collect())
    }

    /// Verifications of one backup, newest first.
    pub async fn backup_verifications(
        &self,
        backup_id: &str,
        limit: i64,
    ) -> anyhow::Result<Vec<VerificationRecord>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, at_ms, backup_id, service, ok, summary, report_json FROM backup_verifications \
             WHERE backup_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(backup_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(record).collect()
    }

    pub async fn latest_backup_verification(
        &self,
        backup_id: &str,
    ) -> anyhow::Result<Option<VerificationRecord>> {
        Ok(self
            .backup_verifications(backup_id, 1)
            .await?
            .into_iter()
            .next())
    }
}

fn record(r: Row) -> anyhow::Result<VerificationRecord> {
    Ok(VerificationRecord {
        id: r.0,
        at: from_ms(r.1),
        backup_id: r.2,
        service: r.3,
        ok: r.4 != 0,
        summary: r.5,
        report: serde_json::from_str(&r.6).context("stored verification report")?,
    })
}
