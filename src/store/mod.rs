//! toban's own state in SQLite (default) or PostgreSQL, through sqlx with migrations.
//!
//! One `AnyPool` serves both backends so every query is written once; SQL uses `$1`
//! placeholders (SQLite accepts them too) and stores times as Unix milliseconds (BIGINT).
//! Record kinds live in their own files (`samples`, `alarms`, …) as `impl Store` blocks
//! that reach the database through [`Store::pool`]; a capability's own records live with
//! it (`runbook::store`), so nothing here imports a capability.

mod alarms;

mod db_url;
mod samples;

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use futures::FutureExt;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection};

pub use self::db_url::{redact_url, sqlite_url};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// File name of the default SQLite database inside the data directory.
pub const SQLITE_FILE_NAME: &str = "toban.db";

/// How long a SQLite connection waits for another writer (a second toban, a `status` run
/// from cron) before giving up with "database is locked".
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long opening waits for a server that does not answer, so a wrong host fails the
/// start with a message instead of hanging the console.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// `database_url` if set (and not blank), else SQLite at `<data_dir>/toban.db`.
    ///
    /// The default file holds audit records and answers given in runbooks, so it is made
    /// private before SQLite ever touches it: the file 0600 (tightened if it exists with a
    /// wider mode) and the data directory 0700 when toban creates it.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Store> {
        match database_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => Store::open_url(url).await,
            None => {
                let path = prepare_data_dir(data_dir)?;
                Store::open_url(&sqlite_url(&path)?).await
            }
        }
    }

    /// Opens `sqlite:…` or `postgres://…` and applies the migrations of that backend.
    /// A SQLite file is made mode 0600 first (created so with `?mode=rwc`).
    /// Errors name the scheme, host and database but never the password.
    pub async fn open_url(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let shown = redact_url(url);
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!(
                "database_url {shown} is not supported: it must start with sqlite:// or postgres://"
            );
        };
        let sqlite_file = match backend {
            Backend::Sqlite => db_url::sqlite_file_of(url),
            Backend::Postgres => None,
        };
        let in_memory = backend == Backend::Sqlite && sqlite_file.is_none();
        if let Some((path, create)) = &sqlite_file {
            secure_sqlite_file(path, *create)?;
        }

        if backend == Backend::Postgres {
            probe_postgres(url, &shown).await?;
        }

        let pool = pool_options(backend, in_memory)
            .connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("{}", scrub(&e.to_string(), url)))
            .with_context(|| format!("cannot connect to the state database at {shown}"))?;

        if backend == Backend::Sqlite && !in_memory {
            let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode=WAL")
                .fetch_one(&pool)
                .await
                .with_context(|| format!("switching {shown} to WAL"))?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(%mode, db = %shown, "SQLite refused WAL journal mode");
            }
        }

        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&pool)
            .await
            .map_err(|e| anyhow::anyhow!("{}", scrub(&e.to_string(), url)))
            .with_context(|| format!("migrating the state database at {shown}"))?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For record-kind modules in other files (`impl Store` blocks next to this one).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Waits for queries in flight and closes every connection (so SQLite checkpoints
    /// its WAL); the store is unusable afterwards.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn pool_options(backend: Backend, in_memory: bool) -> AnyPoolOptions {
    let mut options = AnyPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(CONNECT_TIMEOUT);
    if in_memory {
        // sqlx gives every connection to `sqlite::memory:` its own database, so a pool of
        // several would lose tables between queries: one connection, never recycled.
        options = options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    }
    if backend == Backend::Sqlite {
        options = options.after_connect(|conn, _meta| {
            async move {
                let ms = SQLITE_BUSY_TIMEOUT.as_millis();
                sqlx::query(&format!("PRAGMA busy_timeout = {ms}"))
                    .execute(&mut *conn)
                    .await?;
                // FULL, not WAL's usual NORMAL: audit and run records must survive the host
                // rebooting mid-incident, and an fsync per commit is cheap at toban's pace.
                sqlx::query("PRAGMA synchronous = FULL")
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
            .boxed()
        });
    }
    options
}

/// The pool retries refused connections until its timeout; one direct attempt first
/// turns a wrong host, port or password into an immediate error.
async fn probe_postgres(url: &str, shown: &str) -> anyhow::Result<()> {
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, sqlx::AnyConnection::connect(url))
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {}s", CONNECT_TIMEOUT.as_secs()))
        .and_then(|r| r.map_err(|e| anyhow::anyhow!("{}", scrub(&e.to_string(), url))))
        .with_context(|| format!("cannot connect to the state database at {shown}"))?;
    let _ = conn.close().await;
    Ok(())
}

/// Creates `<data_dir>` (0700 for every level toban creates) and returns the path of
/// `<data_dir>/toban.db`, absolute so the URL built from it is unambiguous.
fn prepare_data_dir(data_dir: &Path) -> anyhow::Result<PathBuf> {
    if !data_dir.exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
        // The umask can only remove bits, but be explicit about the leaf toban owns.
        std::fs::set_permissions(data_dir, Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private", data_dir.display()))?;
    }
    let data_dir = data_dir
        .canonicalize()
        .with_context(|| format!("resolving the data directory {}", data_dir.display()))?;
    Ok(data_dir.join(SQLITE_FILE_NAME))
}

/// Makes the SQLite file mode 0600 before SQLite opens it: created so when `create` (the
/// URL's `mode=rwc`) and missing, tightened when it exists with a wider mode.
fn secure_sqlite_file(path: &Path, create: bool) -> anyhow::Result<()> {
    if create {
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating the state database {}", path.display()))?;
    }
    // SQLite gives the -wal and -shm files the database file's mode, so tightening the
    // database covers new ones; older ones left by a looser setup are tightened here.
    for p in [
        path.to_path_buf(),
        sibling(path, "-wal"),
        sibling(path, "-shm"),
    ] {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&p, Permissions::from_mode(0o600))
                .with_context(|| format!("making {} private (mode 0600)", p.display()))?;
            tracing::warn!(path = %p.display(), mode = format!("{:o}", mode & 0o777), "tightened to mode 0600");
        }
    }
    Ok(())
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Driver messages rarely repeat the URL, but a password must never reach the screen
/// or the log even if one does.
fn scrub(message: &str, url: &str) -> String {
    db_url::password_of(url)
        .iter()
        .filter(|pw| !pw.is_empty())
        .fold(message.to_string(), |m, pw| m.replace(pw.as_str(), "***"))
}
