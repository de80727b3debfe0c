//! Host samples kept for the Overview sparklines and trends, pruned by age.

use chrono::{DateTime, Utc};

use super::{from_ms, to_ms, Store};
use crate::providers::host_types::HostSample;

type SampleRow = (i64, f64, i64, i64, f64, f64, f64, i64, String);

const SAMPLE_COLUMNS: &str =
    "at_ms, cpu_pct, mem_used, mem_total, load1, load5, load15, cores, disks_json";

fn sample_from_row(r: SampleRow) -> anyhow::Result<HostSample> {
    Ok(HostSample {
        at: from_ms(r.0),
        cpu_pct: r.1,
        mem_used: r.2 as u64,
        mem_total: r.3 as u64,
        load: [r.4, r.5, r.6],
        cores: r.7 as usize,
        disks: serde_json::from_str(&r.8)?,
    })
}

impl Store {
    pub async fn insert_host_sample(&self, s: &HostSample) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO host_samples (at_ms, cpu_pct, mem_used, mem_total, load1, load5, load15, cores, disks_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(to_ms(s.at))
        .bind(s.cpu_pct)
        .bind(s.mem_used as i64)
        .bind(s.mem_total as i64)
        .bind(s.load[0])
        .bind(s.load[1])
        .bind(s.load[2])
        .bind(s.cores as i64)
        .bind(serde_json::to_string(&s.disks)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Oldest first.
    pub async fn host_samples_since(
        &self,
        since: DateTime<Utc>,
    ) -> anyhow::Result<Vec<HostSample>> {
        let rows: Vec<SampleRow> = sqlx::query_as(&format!(
            "SELECT {SAMPLE_COLUMNS} FROM host_samples WHERE at_ms >= $1 ORDER BY at_ms, id"
        ))
        .bind(to_ms(since))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(sample_from_row).collect()
    }

    /// The newest sample, so a restarted console can show the last known state at once.
    pub async fn latest_host_sample(&self) -> anyhow::Result<Option<HostSample>> {
        let row: Option<SampleRow> = sqlx::query_as(&format!(
            "SELECT {SAMPLE_COLUMNS} FROM host_samples ORDER BY at_ms DESC, id DESC LIMIT 1"
        ))
        .fetch_optional(self.pool())
        .await?;
        row.map(sample_from_row).transpose()
    }

    /// Deletes samples taken strictly before `older_than`; returns how many went.
    pub async fn prune_host_samples(&self, older_than: DateTime<Utc>) -> anyhow::Result<u64> {
        let r = sqlx::query("DELETE FROM host_samples WHERE at_ms < $1")
            .bind(to_ms(older_than))
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected())
    }

    /// Retention by age: keeps samples no older than `max_age` before `now`.
    pub async fn prune_host_samples_older_than(
        &self,
        max_age: chrono::Duration,
        now: DateTime<Utc>,
    ) -> anyhow::Result<u64> {
        self.prune_host_samples(now - max_age).await
    }
}
