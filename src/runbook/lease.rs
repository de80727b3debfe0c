//! Who drives an open run: a lease in the runs table (host, pid, session start, user, since
//! when, last heartbeat). The session driving a run renews it every [`HEARTBEAT`]; another
//! session sees who holds it and since when, and may take it over only once it lapsed
//! ([`LAPSE_MS`] without a heartbeat) — with a typed confirmation unless the holder is
//! certainly dead (a process of this host that no longer exists).
//!
//! Every change is a compare-and-set on the row, so two sessions racing for one run cannot
//! both win, on SQLite or PostgreSQL.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::Store;

/// How often the driving session renews its lease.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// A lease without a heartbeat for this long has lapsed.
pub const LAPSE_MS: i64 = 60_000;
/// What the operator types to take over a lapsed lease of another session.
pub const TAKE_OVER: &str = "take over";

/// One session of toban (console or headless command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHolder {
    pub host: String,
    pub pid: i64,
    /// When the session started (tells two sessions of one reused pid apart).
    pub session_ms: i64,
    pub user: String,
}

impl LeaseHolder {
    /// This process.
    pub fn this_session() -> LeaseHolder {
        static STARTED: OnceLock<i64> = OnceLock::new();
        LeaseHolder {
            host: this_host(),
            pid: std::process::id() as i64,
            session_ms: *STARTED.get_or_init(|| Utc::now().timestamp_millis()),
            user: crate::actor::current_user(),
        }
    }

    /// `alice on db1 (pid 4242)`.
    pub fn describe(&self) -> String {
        format!("{} on {} (pid {})", self.user, self.host, self.pid)
    }
}

pub fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// A run's lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: LeaseHolder,
    pub since_ms: i64,
    pub heartbeat_ms: i64,
}

impl Lease {
    pub fn is_held_by(&self, me: &LeaseHolder) -> bool {
        self.holder == *me
    }

    /// The holder is certainly gone: a process of this host that no longer exists.
    pub fn holder_dead(&self) -> bool {
        self.holder.host == this_host() && !pid_alive(self.holder.pid)
    }

    /// Renewed within [`LAPSE_MS`] by a holder that may be alive.
    pub fn is_live(&self, now_ms: i64) -> bool {
        now_ms - self.heartbeat_ms < LAPSE_MS && !self.holder_dead()
    }

    /// `held by alice on db1 (pid 4242) since 09:12:03 UTC, last heartbeat 4s ago`.
    pub fn describe(&self, now_ms: i64) -> String {
        let since = DateTime::<Utc>::from_timestamp_millis(self.since_ms)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        format!(
            "held by {} since {since}, last heartbeat {}s ago",
            self.holder.describe(),
            ((now_ms - self.heartbeat_ms) / 1000).max(0)
        )
    }
}

fn pid_alive(pid: i64) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // Signal 0 only asks whether the process exists; EPERM means it does (another user's).
    let rc = unsafe { libc::kill(pid, 0) };
    if rc != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
        return false;
    }
    // A zombie is as dead as it gets.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')')
                .map(|i| !s[i + 1..].trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

/// What asking for a run's lease gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This session holds it now.
    Held,
    /// Another session holds it and renews it: read-only here.
    Busy(Lease),
    /// Another session held it and stopped renewing, but may be alive (another host, or
    /// its process still exists): taking over needs the operator's typed confirmation.
    Lapsed(Lease),
    /// No such open run.
    NoRun,
}

type LeaseRow = (
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

impl Store {
    /// The run's lease, if anyone ever held it.
    pub async fn run_lease(&self, run_id: &str) -> anyhow::Result<Option<Lease>> {
        let row: Option<LeaseRow> = sqlx::query_as(
            "SELECT lease_host, lease_pid, lease_session_ms, lease_user, lease_since_ms, \
             lease_heartbeat_ms FROM runbook_runs WHERE run_id = $1",
        )
        .bind(run_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.and_then(|r| match r {
            (Some(host), Some(pid), Some(session_ms), Some(user), Some(since), Some(beat)) => {
                Some(Lease {
                    holder: LeaseHolder {
                        host,
                        pid,
                        session_ms,
                        user,
                    },
                    since_ms: since,
                    heartbeat_ms: beat,
                })
            }
            _ => None,
        }))
    }

    /// Takes (or keeps) the lease of an open run for `me`. `take_over`: the operator typed
    /// the confirmation to take a lapsed lease from a session that may be alive.
    pub async fn claim_run(
        &self,
        run_id: &str,
        me: &LeaseHolder,
        now_ms: i64,
        take_over: bool,
    ) -> anyhow::Result<Claim> {
        let open: Option<(String,)> =
            sqlx::query_as("SELECT status FROM runbook_runs WHERE run_id = $1")
                .bind(run_id)
                .fetch_optional(self.pool())
                .await?;
        if open.is_none_or(|(s,)| s != "active") {
            return Ok(Claim::NoRun);
        }
        let current = self.run_lease(run_id).await?;
        let since = match &current {
            Some(l) if l.is_held_by(me) => l.since_ms,
            Some(l) if l.is_live(now_ms) => return Ok(Claim::Busy(l.clone())),
            Some(l) if !l.holder_dead() && !take_over => return Ok(Claim::Lapsed(l.clone())),
            _ => now_ms,
        };
        // Compare-and-set on the heartbeat read above: of two sessions racing, one wins.
        let seen = current.as_ref().map_or(-1, |l| l.heartbeat_ms);
        let done = sqlx::query(
            "UPDATE runbook_runs SET lease_host = $2, lease_pid = $3, lease_session_ms = $4, \
             lease_user = $5, lease_since_ms = $6, lease_heartbeat_ms = $7 \
             WHERE run_id = $1 AND COALESCE(lease_heartbeat_ms, -1) = $8",
        )
        .bind(run_id)
        .bind(&me.host)
        .bind(me.pid)
        .bind(me.session_ms)
        .bind(&me.user)
        .bind(since)
        .bind(now_ms)
        .bind(seen)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 1 {
            return Ok(Claim::Held);
        }
        Ok(match self.run_lease(run_id).await? {
            Some(l) if l.is_held_by(me) => Claim::Held,
            Some(l) => Claim::Busy(l),
            None => Claim::NoRun,
        })
    }

    /// Renews `me`'s lease. False when the run ended or `me` no longer holds it (another
    /// session took the run over after it lapsed): the caller stops renewing.
    pub async fn renew_lease(
        &self,
        run_id: &str,
        me: &LeaseHolder,
        now_ms: i64,
    ) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE runbook_runs SET lease_heartbeat_ms = $5 WHERE run_id = $1 \
             AND lease_host = $2 AND lease_pid = $3 AND lease_session_ms = $4 \
             AND status = 'active'",
        )
        .bind(run_id)
        .bind(&me.host)
        .bind(me.pid)
        .bind(me.session_ms)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
