//! toban's own state in SQLite (default) or PostgreSQL, through sqlx with migrations.
//!
//! One `AnyPool` serves both backends so every query is written once; SQL uses `$1`
//! placeholders (SQLite accepts them too) and stores times as Unix milliseconds.

pub mod backups;

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::AnyPool;

use crate::alarm_types::AlarmTransition;
use crate::health::Severity;
use crate::providers::host_types::HostSample;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

pub fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl Store {
    /// `database_url` if set, else SQLite at `<data_dir>/toban.db`.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Store> {
        match database_url {
            Some(url) => Store::open_url(url).await,
            None => {
                std::fs::create_dir_all(data_dir)
                    .with_context(|| format!("creating {}", data_dir.display()))?;
                let path = data_dir.join("toban.db");
                Store::open_url(&format!("sqlite://{}?mode=rwc", path.display())).await
            }
        }
    }

    pub async fn open_url(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("database_url must start with sqlite:// or postgres://");
        };
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .connect(url)
            .await
            .context("connecting to the state database")?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&pool)
                .await?;
        }
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&pool)
            .await
            .context("migrating the state database")?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For record-kind modules in other files (`impl Store` blocks next to this one).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Oldest first.
    pub async fn host_samples_since(
        &self,
        since: DateTime<Utc>,
    ) -> anyhow::Result<Vec<HostSample>> {
        let rows: Vec<(i64, f64, i64, i64, f64, f64, f64, i64, String)> = sqlx::query_as(
            "SELECT at_ms, cpu_pct, mem_used, mem_total, load1, load5, load15, cores, disks_json \
             FROM host_samples WHERE at_ms >= $1 ORDER BY at_ms",
        )
        .bind(to_ms(since))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(HostSample {
                    at: from_ms(r.0),
                    cpu_pct: r.1,
                    mem_used: r.2 as u64,
                    mem_total: r.3 as u64,
                    load: [r.4, r.5, r.6],
                    cores: r.7 as usize,
                    disks: serde_json::from_str(&r.8)?,
                })
            })
            .collect()
    }

    pub async fn prune_host_samples(&self, older_than: DateTime<Utc>) -> anyhow::Result<u64> {
        let r = sqlx::query("DELETE FROM host_samples WHERE at_ms < $1")
            .bind(to_ms(older_than))
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

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
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Newest first.
    pub async fn alarm_transitions(&self, limit: i64) -> anyhow::Result<Vec<AlarmTransition>> {
        let rows: Vec<(i64, String, String, String, f64, String)> = sqlx::query_as(
            "SELECT at_ms, alarm_key, from_severity, to_severity, value, message \
             FROM alarm_transitions ORDER BY at_ms DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AlarmTransition {
                at: from_ms(r.0),
                key: r.1,
                from: Severity::parse(&r.2).unwrap_or(Severity::Unknown),
                to: Severity::parse(&r.3).unwrap_or(Severity::Unknown),
                value: r.4,
                message: r.5,
            })
            .collect())
    }
}
