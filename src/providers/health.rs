//! How fresh each provider's data is: the one piece of bookkeeping every provider's health
//! goes through (the status bar, `toban status` and the tabs read it from here).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A provider instance: `host`, `backups`, or `kind:name` for sources configured by name
/// (`docker:prod`, `alertmanager:eu`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderId(Cow<'static, str>);

impl ProviderId {
    pub const HOST: ProviderId = ProviderId::fixed("host");
    pub const BACKUPS: ProviderId = ProviderId::fixed("backups");

    /// A provider of which there is one.
    pub const fn fixed(name: &'static str) -> ProviderId {
        ProviderId(Cow::Borrowed(name))
    }

    /// One of several configured sources of a kind.
    pub fn named(kind: &str, name: &str) -> ProviderId {
        ProviderId(Cow::Owned(format!("{kind}:{name}")))
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// `docker` of `docker:prod`.
    pub fn kind(&self) -> &str {
        self.0.split(':').next().unwrap_or_default()
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a provider task says of itself, besides its data.
#[derive(Debug, Clone, PartialEq)]
pub enum HealthEvent {
    /// A poll succeeded, or a stream (re)connected.
    Ok { at: DateTime<Utc> },
    /// A poll failed or timed out, or a stream broke; the task retries with backoff.
    Failed { at: DateTime<Utc>, reason: String },
}

/// A provider's last success and, when its last attempt failed, why.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Health {
    pub last_ok: Option<DateTime<Utc>>,
    /// Set while the provider is failing: since when, and the latest reason.
    pub down: Option<(DateTime<Utc>, String)>,
    /// The provider's normal interval; data older than three of them is stale.
    pub interval: Duration,
    /// A push source (an event stream, a followed file): fresh for as long as it is
    /// connected, however quiet.
    pub live: bool,
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

    /// A push source's health.
    pub fn live() -> Self {
        Health {
            live: true,
            ..Default::default()
        }
    }

    pub fn observe(&mut self, event: HealthEvent) {
        match event {
            HealthEvent::Ok { at } => {
                self.last_ok = Some(self.last_ok.map_or(at, |t| t.max(at)));
                self.down = None;
            }
            HealthEvent::Failed { at, reason } => {
                // A connected stream's data was good until the moment it broke.
                if self.live && self.down.is_none() && self.last_ok.is_some() {
                    self.last_ok = Some(at);
                }
                let since = self.down.as_ref().map(|d| d.0).unwrap_or(at);
                self.down = Some((since, reason));
            }
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
            Some(_) if self.live => Freshness::Fresh,
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

/// Every registered provider's health, in registration order (the order the status bar
/// shows them in).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Board {
    entries: Vec<(ProviderId, Health)>,
}

impl Board {
    /// Adds a provider (or resets its schedule if it is already known).
    pub fn register(&mut self, id: ProviderId, health: Health) {
        match self.entries.iter_mut().find(|(i, _)| *i == id) {
            Some((_, h)) => {
                h.interval = health.interval;
                h.live = health.live;
            }
            None => self.entries.push((id, health)),
        }
    }

    pub fn get(&self, id: &ProviderId) -> Option<&Health> {
        self.entries.iter().find(|(i, _)| i == id).map(|(_, h)| h)
    }

    /// Applies a provider's report; an unregistered provider is registered on the way.
    pub fn observe(&mut self, id: ProviderId, event: HealthEvent) {
        match self.entries.iter_mut().find(|(i, _)| *i == id) {
            Some((_, h)) => h.observe(event),
            None => {
                let mut h = Health::default();
                h.observe(event);
                self.entries.push((id, h));
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &(ProviderId, Health)> {
        self.entries.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl std::ops::Index<&ProviderId> for Board {
    type Output = Health;
    fn index(&self, id: &ProviderId) -> &Health {
        self.get(id).expect("provider registered")
    }
}

/// How a provider's messages enter the console's one channel: its data (wrapped in the
/// capability's message) and its health (one message kind for every provider).
pub trait Envelope<T>: Send + 'static {
    fn data(id: &ProviderId, data: T) -> Self;
    fn health(id: ProviderId, event: HealthEvent) -> Self;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn a_poller_goes_stale_after_three_intervals_and_down_keeps_the_first_failure_time() {
        let mut h = Health::new(Duration::from_secs(10));
        h.observe(HealthEvent::Ok { at: t(0) });
        assert_eq!(h.freshness(t(20)), Freshness::Fresh);
        assert!(matches!(h.freshness(t(31)), Freshness::Stale { .. }));
        h.observe(HealthEvent::Failed {
            at: t(40),
            reason: "a".into(),
        });
        h.observe(HealthEvent::Failed {
            at: t(50),
            reason: "b".into(),
        });
        assert_eq!(h.down, Some((t(40), "b".into())));
        assert_eq!(
            h.freshness(t(60)),
            Freshness::Down {
                reason: "b".into(),
                age: Some(chrono::Duration::seconds(60))
            }
        );
    }

    #[test]
    fn a_quiet_stream_stays_fresh_and_its_data_ages_from_the_break() {
        let mut h = Health::live();
        assert_eq!(h.freshness(t(0)), Freshness::Starting);
        h.observe(HealthEvent::Ok { at: t(0) });
        assert_eq!(h.freshness(t(3600)), Freshness::Fresh);
        h.observe(HealthEvent::Failed {
            at: t(3600),
            reason: "socket closed".into(),
        });
        assert_eq!(
            h.freshness(t(3660)),
            Freshness::Down {
                reason: "socket closed".into(),
                age: Some(chrono::Duration::seconds(60))
            }
        );
    }

    #[test]
    fn the_board_keeps_registration_order() {
        let mut b = Board::default();
        b.register(ProviderId::HOST, Health::new(Duration::from_secs(2)));
        b.register(ProviderId::BACKUPS, Health::new(Duration::from_secs(60)));
        b.observe(
            ProviderId::named("docker", "local"),
            HealthEvent::Ok { at: t(0) },
        );
        let names: Vec<&str> = b.iter().map(|(i, _)| i.name()).collect();
        assert_eq!(names, ["host", "backups", "docker:local"]);
        assert_eq!(ProviderId::named("docker", "local").kind(), "docker");
    }
}
