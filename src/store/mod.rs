//! toban's own state in SQLite (default) or PostgreSQL, through sqlx with migrations.
//! (Interface stub.)

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::alarm_types::AlarmTransition;
use crate::providers::host_types::HostSample;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
}

impl Store {
    /// `database_url` if set, else SQLite at `<data_dir>/toban.db` (mode 0600, WAL).
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Store> {
        let _ = (database_url, data_dir);
        Ok(Store {
            backend: Backend::Sqlite,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn insert_host_sample(&self, _s: &HostSample) -> anyhow::Result<()> {
        Ok(())
    }

    pub async fn host_samples_since(
        &self,
        _since: DateTime<Utc>,
    ) -> anyhow::Result<Vec<HostSample>> {
        Ok(Vec::new())
    }

    pub async fn prune_host_samples(&self, _older_than: DateTime<Utc>) -> anyhow::Result<u64> {
        Ok(0)
    }

    pub async fn record_alarm_transition(&self, _t: &AlarmTransition) -> anyhow::Result<i64> {
        Ok(0)
    }

    /// Newest first.
    pub async fn alarm_transitions(&self, _limit: i64) -> anyhow::Result<Vec<AlarmTransition>> {
        Ok(Vec::new())
    }
}
