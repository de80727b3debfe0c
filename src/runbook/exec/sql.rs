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

use futures::future::BoxFuture;
use futures::TryStreamExt;
use sqlx::any::{AnyConnectOptions, AnyRow};
use sqlx::{Column, Either, Executor, Row};

use super::scram::scram_sha256_verifier;
use super::sql_quote::{quote_pg_ident, quote_pg_literal};
use super::sql_session::{execute, Session};
pub use super::sql_session::{Limits, SqlError};
use crate::sanitize::strip_escapes;
pub use crate::store::redact_url;

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
