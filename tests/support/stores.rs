//! Ready-made stores for tests: SQLite in a temp dir and PostgreSQL in a fresh database.

use std::path::PathBuf;

use tempfile::TempDir;
use toban::store::{Backend, Store};

use super::postgres::fresh_pg_url;

/// An open store plus what is needed to open the same database again (a restart).
pub struct TestDb {
    pub store: Store,
    /// `Some(data dir)` for SQLite opened the default way, None for PostgreSQL.
    pub data_dir: Option<PathBuf>,
    pub url: Option<String>,
    _temp: Option<TempDir>,
}

impl TestDb {
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Opens the same database again, as a restarted toban would.
    pub async fn reopen(&self) -> Store {
        match (&self.data_dir, &self.url) {
            (Some(dir), _) => Store::open(None, dir).await.expect("reopening SQLite"),
            (None, Some(url)) => Store::open_url(url).await.expect("reopening PostgreSQL"),
            (None, None) => unreachable!("a TestDb has a data dir or a URL"),
        }
    }
}

/// SQLite at `<temp>/data/toban.db`, opened through `Store::open` like the app does.
pub async fn sqlite_db() -> TestDb {
    let temp = tempfile::tempdir().expect("temp dir");
    let data_dir = temp.path().join("data");
    let store = Store::open(None, &data_dir).await.expect("opening SQLite");
    TestDb {
        store,
        data_dir: Some(data_dir),
        url: None,
        _temp: Some(temp),
    }
}

/// PostgreSQL in its own new database, or None when PostgreSQL is unavailable and not
/// required.
pub async fn postgres_db() -> Option<TestDb> {
    let url = fresh_pg_url().await?;
    let store = Store::open_url(&url).await.expect("opening PostgreSQL");
    Some(TestDb {
        store,
        data_dir: None,
        url: Some(url),
        _temp: None,
    })
}
