//! Alertmanager's API v2 over HTTP: alerts, alert groups, silences; creating a silence and
//! expiring one. Answers are read into the types below (only the fields toban uses).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alarms::model::Matcher;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Receiver {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct AlertStatus {
    #[serde(default)]
    pub state: String,
    #[serde(rename = "silencedBy", default)]
    pub silenced_by: Vec<String>,
    #[serde(rename = "inhibitedBy", default)]
    pub inhibited_by: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Alert {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    pub starts_at: DateTime<Utc>,
    #[serde(rename = "updatedAt")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(rename = "endsAt")]
    pub ends_at: Option<DateTime<Utc>>,
    pub fingerprint: String,
    #[serde(rename = "generatorURL", default)]
    pub generator_url: String,
    #[serde(default)]
    pub status: AlertStatus,
    #[serde(default)]
    pub receivers: Vec<Receiver>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Group {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub receiver: Receiver,
    #[serde(default)]
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SilenceStatus {
    pub state: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct GettableSilence {
    pub id: String,
    pub status: SilenceStatus,
    #[serde(default)]
    pub matchers: Vec<Matcher>,
    #[serde(rename = "startsAt")]
    pub starts_at: DateTime<Utc>,
    #[serde(rename = "endsAt")]
    pub ends_at: DateTime<Utc>,
    #[serde(rename = "createdBy", default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PostableSilence {
    pub matchers: Vec<Matcher>,
    #[serde(rename = "startsAt")]
    pub starts_at: DateTime<Utc>,
    #[serde(rename = "endsAt")]
    pub ends_at: DateTime<Utc>,
    #[serde(rename = "createdBy")]
    pub created_by: String,
    pub comment: String,
}

#[derive(Debug, Deserialize)]
struct SilenceCreated {
    #[serde(rename = "silenceID")]
    silence_id: String,
}

/// One Alertmanager (one member of an HA pair).
#[derive(Debug, Clone)]
pub struct Api {
    base: url::Url,
    http: reqwest::Client,
}

/// Query flags asking for every alert, silenced and inhibited ones included.
const ALL: &[(&str, &str)] = &[
    ("active", "true"),
    ("silenced", "true"),
    ("inhibited", "true"),
    ("unprocessed", "true"),
];

impl Api {
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Api> {
        let mut base = url::Url::parse(base).with_context(|| format!("`{base}` is not a URL"))?;
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()?;
        Ok(Api { base, http })
    }

    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    fn url(&self, path: &str) -> anyhow::Result<url::Url> {
        Ok(self.base.join(path)?)
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> anyhow::Result<T> {
        let url = self.url(path)?;
        let resp = self
            .http
            .get(url)
            .query(query)
            .send()
            .await
            .map_err(|e| anyhow!(self.transport(&e)))?;
        self.json(resp).await
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        resp: reqwest::Response,
    ) -> anyhow::Result<T> {
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| anyhow!(self.transport(&e)))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            let text = crate::sanitize::strip_escapes(text.trim());
            return Err(anyhow!(
                "Alertmanager at {} answered {status}: {}",
                self.base(),
                text.chars().take(200).collect::<String>()
            ));
        }
        serde_json::from_slice(&body).map_err(|e| {
            anyhow!(
                "Alertmanager at {} sent an answer toban cannot read: {e}",
                self.base()
            )
        })
    }

    /// A failure without an answer, in words.
    fn transport(&self, e: &reqwest::Error) -> String {
        let why = if e.is_timeout() {
            "no answer in time".to_string()
        } else if e.is_connect() {
            let chain = crate::alarms::cloudwatch::errors::chain(e);
            if chain.to_lowercase().contains("refused") {
                "connection refused".into()
            } else {
                "cannot connect".into()
            }
        } else {
            crate::alarms::cloudwatch::errors::chain(e)
        };
        format!("Alertmanager at {} not reachable ({why})", self.base())
    }

    pub async fn alerts(&self) -> anyhow::Result<Vec<Alert>> {
        self.get("api/v2/alerts", ALL).await
    }

    pub async fn groups(&self) -> anyhow::Result<Vec<Group>> {
        self.get("api/v2/alerts/groups", ALL).await
    }

    pub async fn silences(&self) -> anyhow::Result<Vec<GettableSilence>> {
        self.get("api/v2/silences", &[]).await
    }

    /// Creates a silence; returns its id.
    pub async fn create_silence(&self, s: &PostableSilence) -> anyhow::Result<String> {
        let resp = self
            .http
            .post(self.url("api/v2/silences")?)
            .json(s)
            .send()
            .await
            .map_err(|e| anyhow!(self.transport(&e)))?;
        let created: SilenceCreated = self.json(resp).await?;
        Ok(created.silence_id)
    }

    /// Expires a silence now.
    pub async fn expire_silence(&self, id: &str) -> anyhow::Result<()> {
        let mut url = self.url("api/v2/silence/")?;
        url.path_segments_mut()
            .map_err(|_| anyhow!("bad base URL"))?
            .pop_if_empty()
            .push(id);
        let resp = self
            .http
            .delete(url)
            .send()
            .await
            .map_err(|e| anyhow!(self.transport(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(anyhow!(
                "Alertmanager at {} refused to expire silence {id}: {status} {}",
                self.base(),
                crate::sanitize::strip_escapes(text.trim())
            ));
        }
        Ok(())
    }
}
