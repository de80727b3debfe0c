//! One configured Alertmanager (or HA pair): polls every member's alerts, groups and
//! silences and merges them; creates and expires real silences. While one member of a pair
//! answers, the data is complete and the silent member is named as degraded; when none
//! answers the provider is down with the reason.

pub mod api;
pub mod merge;

use std::time::Duration;

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::alarms::acks::Who;
use crate::alarms::model::{Alarm, Matcher, Series, Snapshot};
use crate::config::alarms::AlertmanagerSource;
use crate::providers::poller::{Poll, Schedule};
use crate::providers::ProviderId;

use api::{Api, PostableSilence};

pub fn provider_id(cfg: &AlertmanagerSource) -> ProviderId {
    ProviderId::named("alertmanager", &cfg.name)
}

pub fn schedule(cfg: &AlertmanagerSource) -> Schedule {
    Schedule {
        interval: cfg.interval,
        timeout: cfg.timeout,
        backoff_max: Duration::from_secs(120),
    }
}

/// The members of one source, and the Prometheus behind its alerts.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub id: ProviderId,
    pub members: Vec<Api>,
    pub prometheus: Option<String>,
    http: reqwest::Client,
}

impl Cluster {
    pub fn new(cfg: &AlertmanagerSource) -> anyhow::Result<Cluster> {
        let members = cfg
            .urls
            .iter()
            .map(|u| Api::new(u, cfg.timeout))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if members.is_empty() {
            return Err(anyhow!(
                "alertmanager `{}` has no urls configured",
                cfg.name
            ));
        }
        let http = reqwest::Client::builder().timeout(cfg.timeout).build()?;
        Ok(Cluster {
            id: provider_id(cfg),
            members,
            prometheus: cfg.prometheus_url.clone(),
            http,
        })
    }

    /// Every member asked at once; a member's answer counts only if all three calls worked.
    pub async fn fetch(&self) -> anyhow::Result<Snapshot> {
        let answers = futures::future::join_all(self.members.iter().map(|m| async move {
            let (alerts, groups, silences) =
                futures::future::try_join3(m.alerts(), m.groups(), m.silences()).await?;
            Ok::<_, anyhow::Error>(merge::Member {
                alerts,
                groups,
                silences,
            })
        }))
        .await;
        let mut ok = Vec::new();
        let mut failed = Vec::new();
        for a in answers {
            match a {
                Ok(m) => ok.push(m),
                Err(e) => failed.push(format!("{e:#}")),
            }
        }
        if ok.is_empty() {
            return Err(anyhow!(failed.join("; ")));
        }
        let calls = 3 * self.members.len() as u32;
        let (alarms, silences) = merge::merge(&self.id, &ok);
        Ok(Snapshot {
            alarms,
            silences,
            api_calls: vec![("alertmanager".into(), calls)],
            degraded: (!failed.is_empty()).then(|| failed.join("; ")),
        })
    }

    /// Tries each member in turn (they share silences by gossip).
    async fn first_ok<T, F, Fut>(&self, f: F) -> anyhow::Result<T>
    where
        F: Fn(&Api) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<T>>,
    {
        let mut errors = Vec::new();
        for m in &self.members {
            match f(m).await {
                Ok(v) => return Ok(v),
                Err(e) => errors.push(format!("{e:#}")),
            }
        }
        Err(anyhow!(errors.join("; ")))
    }

    /// A real silence for the alert: one exact matcher per label, `createdBy` user@host, the
    /// note as the comment. Returns the silence id.
    pub async fn silence(
        &self,
        alarm: &Alarm,
        until: DateTime<Utc>,
        note: &str,
        who: &Who,
    ) -> anyhow::Result<String> {
        let body = PostableSilence {
            matchers: matchers_for(alarm),
            starts_at: Utc::now(),
            ends_at: until,
            created_by: who.user_at_host(),
            comment: if note.trim().is_empty() {
                format!("silenced from toban by {}", who.user_at_host())
            } else {
                note.trim().to_string()
            },
        };
        self.first_ok(|m| {
            let body = body.clone();
            let m = m.clone();
            async move { m.create_silence(&body).await }
        })
        .await
    }

    pub async fn expire(&self, silence_id: &str) -> anyhow::Result<()> {
        self.first_ok(|m| {
            let m = m.clone();
            let id = silence_id.to_string();
            async move { m.expire_silence(&id).await }
        })
        .await
    }

    /// The alert's expression over the window, when a Prometheus URL is configured.
    pub async fn chart(
        &self,
        expr: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Series>> {
        let base = self.prometheus.as_deref().ok_or_else(|| {
            anyhow!(
                "no prometheus_url for alertmanager `{}`: no chart",
                self.id.name()
            )
        })?;
        crate::alarms::prometheus::query_range(&self.http, base, expr, from, to, 4).await
    }
}

/// Exact matchers on every label of the alert: the silence covers this alert only.
pub fn matchers_for(alarm: &Alarm) -> Vec<Matcher> {
    alarm
        .labels
        .iter()
        .map(|(k, v)| Matcher {
            name: k.clone(),
            value: v.clone(),
            is_regex: false,
            is_equal: true,
        })
        .collect()
}

/// The poller: one [`Cluster`] fetched on the schedule.
pub struct Poller(pub Cluster);

impl Poll for Poller {
    type Output = Snapshot;
    fn poll(&mut self) -> BoxFuture<'_, anyhow::Result<Snapshot>> {
        Box::pin(self.0.fetch())
    }
}
