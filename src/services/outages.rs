//! Outages in toban's store: one row per outage of a check (its start, and its end once a
//! probe succeeds again), written at each transition, read back at start so this month's
//! availability survives a restart.

use chrono::{DateTime, Utc};

use super::availability::Outage;
use crate::store::{from_ms, to_ms, Store};

/// How far back the start reads: this month and the one before, whatever the zone.
pub const KEPT_DAYS: i64 = 62;

/// The outage that starts at `o.start` as it is now (inserted, or its end set).
pub async fn record(store: &Store, service: &str, o: &Outage) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO service_outages (service, start_ms, end_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (service, start_ms) DO UPDATE SET end_ms = excluded.end_ms",
    )
    .bind(service)
    .bind(to_ms(o.start))
    .bind(o.end.map(to_ms))
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Every service's outages that ended after `since` (or have not ended), oldest first.
pub async fn load(store: &Store, since: DateTime<Utc>) -> anyhow::Result<Vec<(String, Outage)>> {
    let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT service, start_ms, end_ms FROM service_outages \
         WHERE end_ms IS NULL OR end_ms > $1 ORDER BY service, start_ms",
    )
    .bind(to_ms(since))
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(s, start, end)| {
            (
                s,
                Outage {
                    start: from_ms(start),
                    end: end.map(from_ms),
                },
            )
        })
        .collect())
}

/// Rows older than `before` are of no use to any month still shown.
pub async fn prune(store: &Store, before: DateTime<Utc>) -> anyhow::Result<u64> {
    let r = sqlx::query("DELETE FROM service_outages WHERE end_ms IS NOT NULL AND end_ms < $1")
        .bind(to_ms(before))
        .execute(store.pool())
        .await?;
    Ok(r.rows_affected())
}
