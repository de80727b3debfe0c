//! One SQL session with what it takes to stop it: its server process id (PostgreSQL), its
//! deadline and cancel token, and a scrubber that keeps passwords and escape sequences out
//! of every error. A stopped statement is cancelled on the server (`pg_cancel_backend` from
//! a second connection), not just abandoned by toban.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, Row};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::sanitize::strip_escapes;
use crate::store::redact_url;

/// How long connecting may take before the step fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a cancelled statement gets to end on the server before toban drops the session.
const CANCEL_WAIT: Duration = Duration::from_millis(700);
/// The time limit of calls made without [`Limits`].
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(600);

/// When to give up: after `time_limit`, or as soon as `cancel` fires.
#[derive(Debug, Clone)]
pub struct Limits {
    pub time_limit: Duration,
    pub cancel: CancellationToken,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time_limit: DEFAULT_TIME_LIMIT,
            cancel: CancellationToken::new(),
        }
    }
}

/// Why a call failed, scrubbed of passwords and escape sequences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub message: String,
    /// The server's SQLSTATE, when it answered with one.
    pub code: Option<String>,
}

impl SqlError {
    pub(super) fn new(message: impl Into<String>) -> Self {
        SqlError {
            message: message.into(),
            code: None,
        }
    }

    /// The server refused the credentials (wrong password, no such role).
    pub fn is_auth_refused(&self) -> bool {
        matches!(self.code.as_deref(), Some("28P01" | "28000"))
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Runs `sql` (one or more statements), its results ignored.
pub(super) fn execute<'c>(
    conn: &'c mut sqlx::AnyConnection,
    sql: &'c str,
) -> BoxFuture<'c, Result<(), sqlx::Error>> {
    Box::pin(async move { conn.execute(sqlx::raw_sql(sql)).await.map(|_| ()) })
}

/// Removes the URL's password (and anything else secret) from any text that might quote
/// it, and escape sequences from the server's words.
#[derive(Clone)]
pub(super) struct Scrubber {
    shown: String,
    secrets: Vec<String>,
}

impl Scrubber {
    pub(super) fn new(url: &str) -> Self {
        let mut secrets = Vec::new();
        if let Ok(o) = AnyConnectOptions::from_str(url) {
            if let Some(p) = o.database_url.password() {
                if !p.is_empty() {
                    secrets.push(p.to_string());
                    if let Ok(d) = percent_decode(p) {
                        secrets.push(d);
                    }
                }
            }
        }
        secrets.push(url.to_string());
        Scrubber {
            shown: redact_url(url),
            secrets,
        }
    }

    pub(super) fn also(mut self, secret: &str) -> Self {
        self.secrets.push(secret.to_string());
        self
    }

    fn clean(&self, s: &str) -> String {
        let mut s = s.to_string();
        for secret in &self.secrets {
            if !secret.is_empty() {
                s = s.replace(secret.as_str(), "***");
            }
        }
        strip_escapes(&s)
    }

    pub(super) fn error(&self, what: &str, e: &sqlx::Error) -> SqlError {
        let db = e.as_database_error();
        let mut msg = match db {
            Some(d) => d.message().to_string(),
            None => e.to_string(),
        };
        if msg.contains("Any driver does not support") {
            msg.push_str(" (cast the column to text, e.g. `SELECT now()::text`)");
        }
        SqlError {
            message: self.clean(&format!("{what} on {}: {msg}", self.shown)),
            code: db.and_then(|d| d.code()).map(|c| c.into_owned()),
        }
    }
}

fn percent_decode(s: &str) -> Result<String, ()> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = std::str::from_utf8(&b[i + 1..i + 3]).map_err(|_| ())?;
            out.push(u8::from_str_radix(h, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// One connection with what it takes to stop its statements: the server's process id (on
/// PostgreSQL) and the call's deadline and cancel token.
pub(super) struct Session {
    pub(super) conn: sqlx::AnyConnection,
    url: String,
    pid: Option<i32>,
    pub(super) scrub: Scrubber,
    deadline: Instant,
    cancel: CancellationToken,
}

impl Session {
    pub(super) async fn open(url: &str, limits: &Limits) -> Result<Session, SqlError> {
        let deadline = Instant::now() + limits.time_limit;
        let scrub = Scrubber::new(url);
        let connect = async {
            let mut conn = connect(url, &scrub).await?;
            let pid = if conn.backend_name() == "PostgreSQL" {
                // The server enforces the limit too, should toban be gone by then.
                let ms = limits.time_limit.as_millis() + 1000;
                execute(&mut conn, &format!("SET statement_timeout = {ms}"))
                    .await
                    .map_err(|e| scrub.error("setting the time limit", &e))?;
                let row = conn
                    .fetch_one(sqlx::raw_sql("SELECT pg_backend_pid()"))
                    .await
                    .map_err(|e| scrub.error("asking for the session's process", &e))?;
                Some(
                    row.try_get::<i32, _>(0)
                        .map_err(|e| scrub.error("reading the session's process", &e))?,
                )
            } else {
                None
            };
            Ok::<_, SqlError>((conn, pid))
        };
        let (conn, pid) = tokio::select! {
            r = connect => r?,
            _ = limits.cancel.cancelled() => {
                return Err(SqlError::new(format!("interrupted by the operator while connecting to {}", scrub.shown)))
            }
            _ = tokio::time::sleep_until(deadline) => {
                return Err(SqlError::new(format!(
                    "no session on {} within the time limit of {}",
                    scrub.shown,
                    humantime::format_duration(limits.time_limit)
                )))
            }
        };
        Ok(Session {
            conn,
            url: url.to_string(),
            pid,
            scrub,
            deadline,
            cancel: limits.cancel.clone(),
        })
    }

    pub(super) fn guard(&self, what: impl Into<String>) -> Guard {
        Guard {
            url: self.url.clone(),
            pid: self.pid,
            scrub: self.scrub.clone(),
            deadline: self.deadline,
            cancel: self.cancel.clone(),
            what: what.into(),
        }
    }

    pub(super) async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// Watches one piece of work on a session: its result, or the server asked to cancel it.
pub(super) struct Guard {
    url: String,
    pid: Option<i32>,
    scrub: Scrubber,
    deadline: Instant,
    cancel: CancellationToken,
    what: String,
}

impl Guard {
    /// `work`'s result; on cancel or at the deadline the server cancels the statement and
    /// the error says which happened and whether the server confirmed it.
    pub(super) async fn run<T>(
        self,
        mut work: BoxFuture<'_, Result<T, sqlx::Error>>,
    ) -> Result<T, SqlError> {
        let why = tokio::select! {
            r = &mut work => return r.map_err(|e| self.scrub.error(&self.what, &e)),
            _ = self.cancel.cancelled() => "interrupted by the operator".to_string(),
            _ = tokio::time::sleep_until(self.deadline) => "stopped at its time limit".to_string(),
        };
        let asked = match self.pid {
            Some(pid) => cancel_backend(&self.url, &self.scrub, pid).await,
            None => Err("this database cannot cancel a statement from outside".to_string()),
        };
        // The statement ends with "canceling statement due to user request" once the server
        // acts on the cancel; the session is dropped either way.
        let ended = tokio::time::timeout(CANCEL_WAIT, &mut work).await.is_ok();
        let how = match (asked, ended) {
            (Ok(()), true) => "the server cancelled the running statement".to_string(),
            (Ok(()), false) => {
                "the server was asked to cancel the statement; the session was closed".to_string()
            }
            (Err(e), _) => format!("the session was closed ({e})"),
        };
        Err(SqlError::new(format!(
            "{} on {}: {why}: {how}",
            self.what, self.scrub.shown
        )))
    }
}

/// `pg_cancel_backend(pid)` from a second connection with the same credentials (a role
/// may cancel its own sessions).
async fn cancel_backend(url: &str, scrub: &Scrubber, pid: i32) -> Result<(), String> {
    let ask = async {
        let mut conn = connect(url, scrub).await.map_err(|e| e.message)?;
        let r = execute(&mut conn, &format!("SELECT pg_cancel_backend({pid})"))
            .await
            .map_err(|e| scrub.error("cancelling", &e).message);
        let _ = conn.close().await;
        r.map(|_| ())
    };
    tokio::time::timeout(Duration::from_secs(5), ask)
        .await
        .unwrap_or_else(|_| Err("no answer to the cancel within 5s".into()))
}

async fn connect(url: &str, scrub: &Scrubber) -> Result<sqlx::AnyConnection, SqlError> {
    sqlx::any::install_default_drivers();
    let opts = AnyConnectOptions::from_str(url)
        .map_err(|_| SqlError::new(format!("not a database URL: {}", scrub.shown)))?
        // Statements may hold a password (ALTER USER): never into toban's log.
        .disable_statement_logging();
    match tokio::time::timeout(CONNECT_TIMEOUT, sqlx::AnyConnection::connect_with(&opts)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(scrub.error("cannot connect", &e)),
        Err(_) => Err(SqlError::new(format!(
            "cannot connect on {}: no answer within {}s",
            scrub.shown,
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}
