//! SQL over sqlx's Any driver (PostgreSQL and SQLite). URLs hold passwords: they are shown
//! only through [`redact_url`], and statement logging is off (statements may carry a
//! password).

use std::fmt;

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
    /// Column names of those rows.
    pub columns: Vec<String>,
    /// Its first [`MAX_ROWS`] rows as text (NULL as ""), escape sequences stripped.
    pub rows: Vec<Vec<String>>,
    pub duration: std::time::Duration,
}

/// Runs the statements in one transaction-less session and checks `expect`. Errors are
/// the server's message (never the URL's password).
pub async fn run_sql(req: &SqlRequest) -> Result<SqlOutcome, String> {
    let _ = req;
    unimplemented!()
}

/// Connects and runs `SELECT 1`: Ok when the URL's credentials work.
pub async fn check_login(url: &str) -> Result<(), String> {
    let _ = url;
    unimplemented!()
}

/// A PostgreSQL string literal that means exactly `s` whatever `standard_conforming_strings`
/// says (libpq's `PQescapeLiteral`: quotes doubled, and `E'…'` with doubled backslashes
/// when there is a backslash). NUL cannot be in a PostgreSQL string: an error.
pub fn quote_pg_literal(s: &str) -> Result<String, String> {
    let _ = s;
    unimplemented!()
}

/// `ALTER USER "name" WITH PASSWORD '…'`: PostgreSQL takes no bind parameters there, so
/// the name is a quoted identifier and the password a quoted literal. The result holds
/// the password: never log it.
pub fn alter_user_password_sql(user: &str, password: &str) -> Result<String, String> {
    let _ = (user, password);
    unimplemented!()
}

/// Runs [`alter_user_password_sql`] on `url` (a PostgreSQL admin URL).
pub async fn alter_user_password(url: &str, user: &str, password: &str) -> Result<(), String> {
    let _ = (url, user, password);
    unimplemented!()
}
