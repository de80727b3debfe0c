//! SQL over sqlx's Any driver (PostgreSQL and SQLite): the one path every SQL-ish runbook
//! step takes (`sql`, `alter_password`, `check_login`).
//!
//! URLs hold passwords: they are shown only through [`redact_url`], errors are scrubbed of
//! them, and statement logging is off (statements may carry a password). Every call has a
//! time limit and a cancel token ([`Limits`]): when either fires, PostgreSQL is asked to
//! cancel the running statement (`pg_cancel_backend` from a second connection), so a
//! `DROP DATABASE` stuck behind a lock stops on the server, not only in toban.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::TryStreamExt;
use sqlx::any::{AnyConnectOptions, AnyRow};
use sqlx::{Column, ConnectOptions, Connection, Either, Executor, Row};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::scram::scram_sha256_verifier;
use super::sql_quote::{quote_pg_ident, quote_pg_literal};
use crate::sanitize::strip_escapes;
pub use crate::store::redact_url;

/// How long connecting may take before the step fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a cancelled statement gets to end on the server before toban drops the session.
const CANCEL_WAIT: Duration = Duration::from_millis(700);
/// The time limit of calls made without [`Limits`].
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(600);

/// What the statements must return for the step to succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectRows {
    /// The last statement affected or returned exactly this many rows.
    Exactly(u64),
    AtLeast(u64),
    /// The first column of the first row of the last result, as text.
    FirstValue(String),
}

#[derive(Clone)]
pub struct SqlRequest {
    /// Secret: never printed; show `redact_url(url)`.
    pub url: String,
    /// One or more statements separated by `;` (sent with the simple-query protocol on
    /// PostgreSQL, so no bind parameters).
    pub statements: String,
    pub expect: Option<ExpectRows>,
}

impl fmt::Debug for SqlRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlRequest")
            .field("url", &redact_url(&self.url))
            .field("statements", &self.statements)
            .field("expect", &self.expect)
            .finish()
    }
}

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
    fn new(message: impl Into<String>) -> Self {
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

/// Most rows kept in [`SqlOutcome::rows`].
pub const MAX_ROWS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SqlOutcome {
    /// Sum of rows affected over all statements.
    pub rows_affected: u64,
    /// Rows returned by the statement that returned rows last.
    pub rows_returned: u64,
    /// Rows the last statement returned, or affected when it returned none: what
    /// [`ExpectRows::Exactly`] and [`ExpectRows::AtLeast`] compare.
    pub last_statement_rows: u64,
    /// Column names of those rows.
    pub columns: Vec<String>,
    /// Its first [`MAX_ROWS`] rows as text (NULL as ""), escape sequences stripped.
    pub rows: Vec<Vec<String>>,
    pub duration: std::time::Duration,
}

impl SqlOutcome {
    /// The first column of the first row kept, as text ("" when there is none).
    pub fn first_value(&self) -> &str {
        self.rows
            .first()
            .and_then(|r| r.first())
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// Runs the statements in one session (no transaction is added: include `BEGIN`/`COMMIT`
/// to want one) and checks `expect`. Errors are the server's message, never the URL's
/// password.
pub async fn run_sql(req: &SqlRequest) -> Result<SqlOutcome, String> {
    let mut all = run_statements(
        &req.url,
        std::slice::from_ref(&req.statements),
        req.expect.as_ref(),
        &Limits::default(),
    )
    .await
    .map_err(|e| e.message)?;
    Ok(all.pop().unwrap_or_default())
}

/// Runs each element of `statements` in turn in one session (each may itself hold several
/// statements), within `limits`: one outcome per element, `expect` checked on the last.
pub async fn run_statements(
    url: &str,
    statements: &[String],
    expect: Option<&ExpectRows>,
    limits: &Limits,
) -> Result<Vec<SqlOutcome>, SqlError> {
    let mut session = Session::open(url, limits).await?;
    let mut all = Vec::with_capacity(statements.len());
    for s in statements {
        let started = std::time::Instant::now();
        let mut out = SqlOutcome::default();
        let guard = session.guard("SQL failed");
        guard.run(run_one(&mut session.conn, s, &mut out)).await?;
        out.duration = started.elapsed();
        all.push(out);
    }
    session.close().await;
    if let (Some(expect), Some(last)) = (expect, all.last()) {
        check_expect(expect, last).map_err(SqlError::new)?;
    }
    Ok(all)
}

/// Runs `sql` (one or more statements), its results ignored.
fn execute<'c>(
    conn: &'c mut sqlx::AnyConnection,
    sql: &'c str,
) -> BoxFuture<'c, Result<(), sqlx::Error>> {
    Box::pin(async move { conn.execute(sqlx::raw_sql(sql)).await.map(|_| ()) })
}

/// Streams one simple query's results into `out`. (Boxed with named lifetimes: a future
/// borrowing the connection must be seen to be `Send` where it is built.)
fn run_one<'c>(
    conn: &'c mut sqlx::AnyConnection,
    statements: &'c str,
    out: &'c mut SqlOutcome,
) -> BoxFuture<'c, Result<(), sqlx::Error>> {
    Box::pin(run_one_inner(conn, statements, out))
}

async fn run_one_inner(
    conn: &mut sqlx::AnyConnection,
    statements: &str,
    out: &mut SqlOutcome,
) -> Result<(), sqlx::Error> {
    let mut current: Vec<Vec<String>> = Vec::new();
    let mut current_count = 0u64;
    let mut current_columns: Vec<String> = Vec::new();
    let mut stream = conn.fetch_many(sqlx::raw_sql(statements));
    while let Some(item) = stream.try_next().await? {
        match item {
            Either::Left(done) => {
                out.rows_affected += done.rows_affected();
                if current_count > 0 || !current_columns.is_empty() {
                    out.rows_returned = current_count;
                    out.columns = std::mem::take(&mut current_columns);
                    out.rows = std::mem::take(&mut current);
                    out.last_statement_rows = current_count;
                } else {
                    out.last_statement_rows = done.rows_affected();
                }
                current_count = 0;
            }
            Either::Right(row) => {
                if current_count == 0 {
                    current_columns = row.columns().iter().map(|c| c.name().to_string()).collect();
                }
                current_count += 1;
                if current.len() < MAX_ROWS {
                    current.push(row_as_text(&row));
                }
            }
        }
    }
    // Rows after the last command tag (a driver that sends none for the last statement).
    if current_count > 0 {
        out.rows_returned = current_count;
        out.columns = current_columns;
        out.rows = current;
        out.last_statement_rows = current_count;
    }
    Ok(())
}

fn check_expect(expect: &ExpectRows, out: &SqlOutcome) -> Result<(), String> {
    let n = out.last_statement_rows;
    match expect {
        ExpectRows::Exactly(want) if n != *want => {
            Err(format!("expected exactly {want} row(s), got {n}"))
        }
        ExpectRows::AtLeast(want) if n < *want => {
            Err(format!("expected at least {want} row(s), got {n}"))
        }
        ExpectRows::FirstValue(want) => {
            let got = out.rows.first().and_then(|r| r.first());
            match got {
                Some(v) if v == want => Ok(()),
                Some(v) => Err(format!("expected `{want}`, got `{v}`")),
                None => Err(format!("expected `{want}`, got no rows")),
            }
        }
        _ => Ok(()),
    }
}

/// Each column as text: the Any driver knows text, integers, floats, booleans and bytes;
/// NULL is "".
fn row_as_text(row: &AnyRow) -> Vec<String> {
    (0..row.columns().len())
        .map(|i| {
            let v = if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                v
            } else if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                v.map(|v| v.to_string())
            } else if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
                v.map(|v| v.to_string())
            } else if let Ok(v) = row.try_get::<Option<i16>, _>(i) {
                v.map(|v| v.to_string())
            } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
                v.map(|v| v.to_string())
            } else if let Ok(v) = row.try_get::<Option<f32>, _>(i) {
                v.map(|v| v.to_string())
            } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
                v.map(|v| v.to_string())
            } else if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
                v.map(|b| {
                    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                    format!("\\x{hex}")
                })
            } else {
                Some("(unreadable)".to_string())
            };
            strip_escapes(&v.unwrap_or_default())
        })
        .collect()
}

/// Removes the URL's password (and anything else secret) from any text that might quote
/// it, and escape sequences from the server's words.
#[derive(Clone)]
struct Scrubber {
    shown: String,
    secrets: Vec<String>,
}

impl Scrubber {
    fn new(url: &str) -> Self {
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

    fn also(mut self, secret: &str) -> Self {
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

    fn error(&self, what: &str, e: &sqlx::Error) -> SqlError {
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
struct Session {
    conn: sqlx::AnyConnection,
    url: String,
    pid: Option<i32>,
    scrub: Scrubber,
    deadline: Instant,
    cancel: CancellationToken,
}

impl Session {
    async fn open(url: &str, limits: &Limits) -> Result<Session, SqlError> {
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

    fn guard(&self, what: impl Into<String>) -> Guard {
        Guard {
            url: self.url.clone(),
            pid: self.pid,
            scrub: self.scrub.clone(),
            deadline: self.deadline,
            cancel: self.cancel.clone(),
            what: what.into(),
        }
    }

    async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// Watches one piece of work on a session: its result, or the server asked to cancel it.
struct Guard {
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
    async fn run<T>(self, mut work: BoxFuture<'_, Result<T, sqlx::Error>>) -> Result<T, SqlError> {
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

/// Connects and runs `SELECT 1`: Ok when the URL's credentials work.
pub async fn check_login(url: &str) -> Result<(), String> {
    try_login(url, &Limits::default())
        .await
        .map_err(|e| e.message)
}

/// [`check_login`] within `limits`; the error tells a refused login
/// ([`SqlError::is_auth_refused`]) from a server that could not be asked.
pub async fn try_login(url: &str, limits: &Limits) -> Result<(), SqlError> {
    let mut session = Session::open(url, limits).await?;
    let guard = session.guard("login check failed");
    let r = guard.run(execute(&mut session.conn, "SELECT 1")).await;
    session.close().await;
    r.map(|_| ())
}

/// `ALTER USER "name" WITH PASSWORD '…'`: PostgreSQL takes no bind parameters there, so
/// the name is a quoted identifier and the password text a quoted literal. The result holds
/// the password text: never log it.
pub fn alter_user_password_sql(user: &str, password: &str) -> Result<String, String> {
    if user.is_empty() || user.contains('\0') {
        return Err("the user name is empty or holds a NUL character".into());
    }
    if password.is_empty() {
        return Err("refusing an empty password".into());
    }
    Ok(format!(
        "ALTER USER {} WITH PASSWORD {}",
        quote_pg_ident(user)?,
        quote_pg_literal(password)?
    ))
}

/// Sets `user`'s password on `url` (a PostgreSQL admin URL).
pub async fn alter_user_password(url: &str, user: &str, password: &str) -> Result<(), String> {
    set_password(url, user, password, &Limits::default())
        .await
        .map_err(|e| e.message)
}

/// [`alter_user_password`] within `limits`. The server gets a SCRAM-SHA-256 verifier,
/// never the password itself.
pub async fn set_password(
    url: &str,
    user: &str,
    password: &str,
    limits: &Limits,
) -> Result<(), SqlError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(SqlError::new(format!(
            "changing a password needs a PostgreSQL URL, not {}",
            redact_url(url)
        )));
    }
    if password.is_empty() {
        return Err(SqlError::new("refusing an empty password"));
    }
    let verifier = scram_sha256_verifier(password);
    let stmt = alter_user_password_sql(user, &verifier).map_err(SqlError::new)?;
    let mut session = Session::open(url, limits).await?;
    session.scrub = session.scrub.also(password).also(&verifier);
    let guard = session.guard(format!("ALTER USER {user}"));
    let r = guard.run(execute(&mut session.conn, &stmt)).await;
    session.close().await;
    r.map(|_| ())
}

/// `url` logging in as `user` with `password` instead of its own credentials.
pub fn url_with_login(url: &str, user: &str, password: &str) -> Result<String, String> {
    let mut u = AnyConnectOptions::from_str(url)
        .map_err(|_| format!("not a database URL: {}", redact_url(url)))?
        .database_url;
    u.set_username(user)
        .and_then(|()| u.set_password(Some(password)))
        .map_err(|()| format!("cannot log in as `{user}` on {}", redact_url(url)))?;
    Ok(u.to_string())
}

/// `url` connecting to `database` instead of its own.
pub fn url_with_database(url: &str, database: &str) -> Result<String, String> {
    let mut u = AnyConnectOptions::from_str(url)
        .map_err(|_| format!("not a database URL: {}", redact_url(url)))?
        .database_url;
    if u.scheme().starts_with("sqlite") {
        return Err(format!("{} has no other databases", redact_url(url)));
    }
    u.set_path(&format!("/{database}"));
    Ok(u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alter_user_quotes_the_name_as_an_identifier() {
        assert_eq!(
            alter_user_password_sql("app\"; DROP ROLE x; --", "pw").unwrap(),
            "ALTER USER \"app\"\"; DROP ROLE x; --\" WITH PASSWORD 'pw'"
        );
        assert!(alter_user_password_sql("", "pw").is_err());
        assert!(alter_user_password_sql("app", "").is_err());
    }

    #[test]
    fn expectations_compare_the_last_statement() {
        let out = SqlOutcome {
            last_statement_rows: 2,
            rows: vec![vec!["42".into()]],
            ..Default::default()
        };
        assert!(check_expect(&ExpectRows::Exactly(2), &out).is_ok());
        assert_eq!(
            check_expect(&ExpectRows::Exactly(3), &out).unwrap_err(),
            "expected exactly 3 row(s), got 2"
        );
        assert!(check_expect(&ExpectRows::AtLeast(2), &out).is_ok());
        assert!(check_expect(&ExpectRows::AtLeast(5), &out).is_err());
        assert!(check_expect(&ExpectRows::FirstValue("42".into()), &out).is_ok());
        assert_eq!(
            check_expect(&ExpectRows::FirstValue("7".into()), &out).unwrap_err(),
            "expected `7`, got `42`"
        );
    }

    #[test]
    fn urls_change_login_and_database_and_never_show_the_password() {
        let u =
            url_with_login("postgres://admin:s3cret@db:5432/postgres", "app", "p@ss/w").unwrap();
        assert!(u.starts_with("postgres://app:"), "{u}");
        assert_eq!(redact_url(&u), "postgres://app@db:5432/postgres");
        let d =
            url_with_database("postgres://admin:s3cret@db:5432/postgres", "shop_drill").unwrap();
        assert_eq!(redact_url(&d), "postgres://admin@db:5432/shop_drill");
        assert!(url_with_database("sqlite://x.db", "y").is_err());
    }
}
