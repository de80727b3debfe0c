//! SQL over sqlx's Any driver (PostgreSQL and SQLite). URLs hold passwords: they are shown
//! only through [`redact_url`], and statement logging is off (statements may carry a
//! password).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use sqlx::any::{AnyConnectOptions, AnyRow};
use sqlx::{Column, ConnectOptions, Connection, Either, Row};

use super::sanitize::strip_escapes;
use crate::runbook::template::quote_ident;
pub use crate::store::redact_url;

/// How long connecting may take before the step fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

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

/// Runs the statements in one session (no transaction is added: include `BEGIN`/`COMMIT`
/// to want one) and checks `expect`. Errors are the server's message, never the URL's
/// password.
pub async fn run_sql(req: &SqlRequest) -> Result<SqlOutcome, String> {
    let started = Instant::now();
    let mut conn = connect(&req.url).await?;
    let scrub = Scrubber::new(&req.url);
    let mut out = SqlOutcome::default();
    let mut current: Vec<Vec<String>> = Vec::new();
    let mut current_count = 0u64;
    let mut current_columns: Vec<String> = Vec::new();
    let result: Result<(), String> = async {
        let mut stream = sqlx::raw_sql(&req.statements).fetch_many(&mut conn);
        while let Some(item) = stream
            .try_next()
            .await
            .map_err(|e| scrub.error("SQL failed", &e))?
        {
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
                        current_columns =
                            row.columns().iter().map(|c| c.name().to_string()).collect();
                    }
                    current_count += 1;
                    if current.len() < MAX_ROWS {
                        current.push(row_as_text(&row));
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    let _ = conn.close().await;
    result?;
    // Rows after the last command tag (a driver that sends none for the last statement).
    if current_count > 0 {
        out.rows_returned = current_count;
        out.columns = current_columns;
        out.rows = current;
        out.last_statement_rows = current_count;
    }
    out.duration = started.elapsed();
    if let Some(expect) = &req.expect {
        check_expect(expect, &out)?;
    }
    Ok(out)
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

/// Removes the URL's password from any text that might quote it.
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

    fn clean(&self, s: &str) -> String {
        let mut s = s.to_string();
        for secret in &self.secrets {
            if !secret.is_empty() {
                s = s.replace(secret.as_str(), "***");
            }
        }
        strip_escapes(&s)
    }

    fn error(&self, what: &str, e: &sqlx::Error) -> String {
        let mut msg = match e.as_database_error() {
            Some(d) => d.message().to_string(),
            None => e.to_string(),
        };
        if msg.contains("Any driver does not support") {
            msg.push_str(" (cast the column to text, e.g. `SELECT now()::text`)");
        }
        self.clean(&format!("{what} on {}: {msg}", self.shown))
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

async fn connect(url: &str) -> Result<sqlx::AnyConnection, String> {
    sqlx::any::install_default_drivers();
    let scrub = Scrubber::new(url);
    let opts = AnyConnectOptions::from_str(url)
        .map_err(|_| format!("not a database URL: {}", scrub.shown))?
        // Statements may hold a password (ALTER USER): never into toban's log.
        .disable_statement_logging();
    match tokio::time::timeout(CONNECT_TIMEOUT, sqlx::AnyConnection::connect_with(&opts)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(scrub.error("cannot connect", &e)),
        Err(_) => Err(format!(
            "cannot connect on {}: no answer within {}s",
            scrub.shown,
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// Connects and runs `SELECT 1`: Ok when the URL's credentials work.
pub async fn check_login(url: &str) -> Result<(), String> {
    let mut conn = connect(url).await?;
    let r = sqlx::raw_sql("SELECT 1").execute(&mut conn).await;
    let _ = conn.close().await;
    r.map(|_| ())
        .map_err(|e| Scrubber::new(url).error("login check failed", &e))
}

/// A PostgreSQL string literal that means exactly `s` whatever `standard_conforming_strings`
/// says (libpq's `PQescapeLiteral`: quotes doubled, and `E'…'` with doubled backslashes
/// when there is a backslash). NUL cannot be in a PostgreSQL string: an error.
pub fn quote_pg_literal(s: &str) -> Result<String, String> {
    if s.contains('\0') {
        return Err("a NUL character cannot be in a PostgreSQL string".into());
    }
    let body = s.replace('\'', "''");
    Ok(if s.contains('\\') {
        format!("E'{}'", body.replace('\\', "\\\\"))
    } else {
        format!("'{body}'")
    })
}

/// `ALTER USER "name" WITH PASSWORD '…'`: PostgreSQL takes no bind parameters there, so
/// the name is a quoted identifier and the password a quoted literal. The result holds
/// the password: never log it.
pub fn alter_user_password_sql(user: &str, password: &str) -> Result<String, String> {
    if user.is_empty() || user.contains('\0') {
        return Err("the user name is empty or holds a NUL character".into());
    }
    if password.is_empty() {
        return Err("refusing an empty password".into());
    }
    Ok(format!(
        "ALTER USER {} WITH PASSWORD {}",
        quote_ident(user),
        quote_pg_literal(password)?
    ))
}

/// Runs [`alter_user_password_sql`] on `url` (a PostgreSQL admin URL).
pub async fn alter_user_password(url: &str, user: &str, password: &str) -> Result<(), String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(format!(
            "changing a password needs a PostgreSQL URL, not {}",
            redact_url(url)
        ));
    }
    let stmt = alter_user_password_sql(user, password)?;
    let mut conn = connect(url).await?;
    let r = sqlx::raw_sql(&stmt).execute(&mut conn).await;
    let _ = conn.close().await;
    let mut scrub = Scrubber::new(url);
    scrub.secrets.push(password.to_string());
    r.map(|_| ())
        .map_err(|e| scrub.error(&format!("ALTER USER {user}"), &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_survive_quotes_backslashes_and_semicolons() {
        assert_eq!(quote_pg_literal("plain").unwrap(), "'plain'");
        assert_eq!(quote_pg_literal("it's; DROP").unwrap(), "'it''s; DROP'");
        assert_eq!(quote_pg_literal(r"a\'b").unwrap(), r"E'a\\''b'");
        assert!(quote_pg_literal("nul\0").is_err());
    }

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
}
