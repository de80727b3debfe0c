//! Runbook records in toban's store: runs (state saved after every transition), the
//! append-only audit log, restore drills and follow-ups. The runbook side owns them, so the
//! store knows nothing of runbooks.

use chrono::{DateTime, Utc};

use super::engine::{AuditEntry, DrillRecord, RunState};
use crate::store::{from_ms, to_ms, Store};

/// One line of `toban runbook history`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub run_id: String,
    pub runbook: String,
    pub status: String,
    pub dry_run: bool,
    pub drill: bool,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub user: String,
    pub ssh_client: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Drill {
    pub run_id: String,
    pub runbook: String,
    pub backup: Option<String>,
    pub started: DateTime<Utc>,
    /// Wall time, operator pauses included.
    pub duration_ms: i64,
    pub ok: bool,
    pub detail: String,
    /// The steps' own time (None for drills recorded before it was kept).
    pub machine_ms: Option<i64>,
    /// Driven from the wizard (wall time holds the operator's pauses).
    pub interactive: bool,
    /// Each table of the dump and its rows, as compared with the restore.
    pub proof: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Followup {
    pub id: i64,
    pub title: String,
    pub note: Option<String>,
    pub due: DateTime<Utc>,
    pub created: DateTime<Utc>,
    pub created_by_run: Option<String>,
    pub done: Option<DateTime<Utc>>,
}

type DrillRow = (
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    String,
    Option<i64>,
    i64,
    String,
);
type FollowupRow = (
    i64,
    String,
    Option<String>,
    i64,
    i64,
    Option<String>,
    Option<i64>,
);

type SummaryRow = (
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    String,
    Option<String>,
);

const DRILL_COLUMNS: &str = "run_id, runbook, backup, started_ms, duration_ms, ok, detail, \
                             machine_ms, interactive, proof";

fn drill(r: DrillRow) -> Drill {
    Drill {
        run_id: r.0,
        runbook: r.1,
        backup: r.2,
        started: from_ms(r.3),
        duration_ms: r.4,
        ok: r.5 != 0,
        detail: r.6,
        machine_ms: r.7,
        interactive: r.8 != 0,
        proof: r.9,
    }
}

fn summary(r: SummaryRow) -> RunSummary {
    RunSummary {
        run_id: r.0,
        runbook: r.1,
        status: r.2,
        dry_run: r.3 != 0,
        drill: r.4 != 0,
        started: from_ms(r.5),
        finished: r.6.map(from_ms),
        user: r.7,
        ssh_client: r.8,
    }
}

const SUMMARY_COLS: &str =
    "run_id, runbook, status, dry_run, drill, started_ms, finished_ms, run_user, ssh_client";

type AuditRow = (
    String,
    i64,
    String,
    Option<String>,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    i64,
    String,
    Option<String>,
);

impl Store {
    /// Inserts or replaces the run's saved state.
    pub async fn save_run(&self, s: &RunState, now: DateTime<Utc>) -> anyhow::Result<()> {
        self.save_run_held(s, now, None).await
    }

    /// [`Store::save_run`]; a run first saved with `holder` is held by it from that very
    /// write, so no other session starting in between takes it for interrupted.
    pub async fn save_run_held(
        &self,
        s: &RunState,
        now: DateTime<Utc>,
        holder: Option<&crate::runbook::lease::LeaseHolder>,
    ) -> anyhow::Result<()> {
        let json = serde_json::to_string(s)?;
        let mut tx = self.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE runbook_runs SET status = $2, finished_ms = $3, updated_ms = $4, state_json = $5 \
             WHERE run_id = $1",
        )
        .bind(&s.run_id)
        .bind(s.status.as_str())
        .bind(s.finished_ms)
        .bind(to_ms(now))
        .bind(&json)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO runbook_runs (run_id, runbook, status, dry_run, drill, started_ms, \
                 finished_ms, updated_ms, run_user, ssh_client, state_json, spec_digest) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&s.run_id)
            .bind(&s.runbook)
            .bind(s.status.as_str())
            .bind(s.opts.dry_run as i64)
            .bind(s.opts.drill as i64)
            .bind(s.started_ms)
            .bind(s.finished_ms)
            .bind(to_ms(now))
            .bind(&s.user)
            .bind(&s.ssh_client)
            .bind(&json)
            .bind(&s.spec_digest)
            .execute(&mut *tx)
            .await?;
            if let Some(h) = holder {
                sqlx::query(
                    "UPDATE runbook_runs SET lease_host = $2, lease_pid = $3, \
                     lease_session_ms = $4, lease_user = $5, lease_since_ms = $6, \
                     lease_heartbeat_ms = $6 WHERE run_id = $1",
                )
                .bind(&s.run_id)
                .bind(&h.host)
                .bind(h.pid)
                .bind(h.session_ms)
                .bind(&h.user)
                .bind(to_ms(now))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn load_run(&self, run_id: &str) -> anyhow::Result<Option<RunState>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT state_json FROM runbook_runs WHERE run_id = $1")
                .bind(run_id)
                .fetch_optional(self.pool())
                .await?;
        row.map(|(j,)| serde_json::from_str(&j).map_err(Into::into))
            .transpose()
    }

    /// Runs that never finished (toban died or the session dropped): offered for resume.
    /// Dry runs are left out: they never touched anything.
    pub async fn interrupted_runs(&self) -> anyhow::Result<Vec<RunSummary>> {
        let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
            "SELECT {SUMMARY_COLS} FROM runbook_runs WHERE status = 'active' AND dry_run = 0 \
             ORDER BY started_ms DESC"
        ))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(summary).collect())
    }

    /// Newest first.
    pub async fn run_history(&self, limit: i64) -> anyhow::Result<Vec<RunSummary>> {
        let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
            "SELECT {SUMMARY_COLS} FROM runbook_runs ORDER BY started_ms DESC, run_id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(summary).collect())
    }

    pub async fn append_audit(&self, a: &AuditEntry) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO runbook_audit (run_id, at_ms, event, step_id, detail, exit_code, \
             duration_ms, digest, tail, dry_run, run_user, ssh_client) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&a.run_id)
        .bind(a.at_ms)
        .bind(&a.event)
        .bind(&a.step_id)
        .bind(&a.detail)
        .bind(a.exit_code.map(i64::from))
        .bind(a.duration_ms)
        .bind(&a.digest)
        .bind(&a.tail)
        .bind(a.dry_run as i64)
        .bind(&a.user)
        .bind(&a.ssh_client)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A run's audit records in the order they were written.
    pub async fn run_audit(&self, run_id: &str) -> anyhow::Result<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT run_id, at_ms, event, step_id, detail, exit_code, duration_ms, digest, tail, \
             dry_run, run_user, ssh_client FROM runbook_audit WHERE run_id = $1 ORDER BY id",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                run_id: r.0,
                at_ms: r.1,
                event: r.2,
                step_id: r.3,
                detail: r.4,
                exit_code: r.5.map(|c| c as i32),
                duration_ms: r.6,
                digest: r.7,
                tail: r.8,
                dry_run: r.9 != 0,
                user: r.10,
                ssh_client: r.11,
            })
            .collect())
    }

    pub async fn record_drill(&self, d: &DrillRecord) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO restore_drills (run_id, runbook, backup, started_ms, duration_ms, ok, \
             detail, machine_ms, interactive, proof) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&d.run_id)
        .bind(&d.runbook)
        .bind(&d.backup)
        .bind(d.started_ms)
        .bind(d.duration_ms)
        .bind(d.ok as i64)
        .bind(&d.detail)
        .bind(d.machine_ms)
        .bind(d.interactive as i64)
        .bind(&d.proof)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Newest first: the Backups tab's record of restore drills.
    pub async fn drills(&self, limit: i64) -> anyhow::Result<Vec<Drill>> {
        let rows: Vec<DrillRow> = sqlx::query_as(&format!(
            "SELECT {DRILL_COLUMNS} FROM restore_drills ORDER BY started_ms DESC, id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(drill).collect())
    }

    /// The drill record of one run (`toban runbook history` shows it with the run).
    pub async fn drill_of(&self, run_id: &str) -> anyhow::Result<Option<Drill>> {
        let row: Option<DrillRow> = sqlx::query_as(&format!(
            "SELECT {DRILL_COLUMNS} FROM restore_drills WHERE run_id = $1 ORDER BY id DESC LIMIT 1"
        ))
        .bind(run_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(drill))
    }

    pub async fn add_followup(
        &self,
        title: &str,
        note: Option<&str>,
        due: DateTime<Utc>,
        created_by_run: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO followups (title, note, due_ms, created_ms, created_by_run) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(title)
        .bind(note)
        .bind(to_ms(due))
        .bind(to_ms(now))
        .bind(created_by_run)
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }

    /// Open follow-ups, soonest due first (the Calendar shows them).
    pub async fn open_followups(&self) -> anyhow::Result<Vec<Followup>> {
        let rows: Vec<FollowupRow> = sqlx::query_as(
            "SELECT id, title, note, due_ms, created_ms, created_by_run, done_ms FROM followups \
                 WHERE done_ms IS NULL ORDER BY due_ms, id",
        )
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
            })
            .collect())
    }

    pub async fn complete_followup(&self, id: i64, now: DateTime<Utc>) -> anyhow::Result<()> {
        sqlx::query("UPDATE followups SET done_ms = $2 WHERE id = $1")
            .bind(id)
            .bind(to_ms(now))
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
