//! How fresh a provider's data is: what the status bar and `toban status` show.

use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProviderId {
    Host,
    Backups,
}

impl ProviderId {
    pub fn name(self) -> &'static str {
        match self {
            ProviderId::Host => "host",
            ProviderId::Backups => "backups",
        }
    }
}

/// A provider's last success and, when its last attempt failed, why.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Health {
    pub last_ok: Option<DateTime<Utc>>,
    /// Set while the provider is failing: since when, and the latest reason.
    pub down: Option<(DateTime<Utc>, String)>,
    /// The provider's normal interval; data older than three of them is stale.
    pub interval: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    Starting,
    Fresh,
    Stale {
        age: chrono::Duration,
    },
    Down {
        reason: String,
        age: Option<chrono::Duration>,
    },
}

impl Health {
    pub fn new(interval: Duration) -> Self {
        Health {
            interval,
            ..Default::default()
        }
    }

    pub fn freshness(&self, now: DateTime<Utc>) -> Freshness {
        let age = self.last_ok.map(|t| now - t);
        if let Some((_, reason)) = &self.down {
            return Freshness::Down {
                reason: reason.clone(),
                age,
            };
        }
        match age {
            None => Freshness::Starting,
            Some(age) => {
                let limit = chrono::Duration::from_std(self.interval * 3)
                    .unwrap_or(chrono::Duration::MAX)
                    .max(chrono::Duration::seconds(5));
                if age > limit {
                    Freshness::Stale { age }
                } else {
                    Freshness::Fresh
                }
            }
        }
    }
}
