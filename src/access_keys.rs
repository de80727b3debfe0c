//! IAM access keys through the AWS SDK (seed 002 §3): list a user's keys, create one, prove
//! a key works (STS GetCallerIdentity signed with it), deactivate one, and delete one only
//! when it is inactive and unused since it was deactivated.
//!
//! A new key's secret comes back as a [`Secret`]: it is never formatted, logged or stored by
//! this module; only key ids appear in messages.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use aws_sdk_iam::types::StatusType;
use aws_sdk_sts::error::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

use crate::secrets::{aws_config, aws_error, Secret};

/// Where the IAM and STS calls go: the standard AWS chain, with an explicit region or
/// endpoint when the runbook gives one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aws {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// One of a user's keys, as IAM lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub id: String,
    pub active: bool,
    pub created: Option<DateTime<Utc>>,
}

impl KeyInfo {
    /// `AKIA…  Active    2026-09-01, 93d old` (fits the wizard's output pane).
    pub fn describe(&self, now: DateTime<Utc>) -> String {
        let status = if self.active { "Active" } else { "Inactive" };
        match self.created {
            Some(c) => format!(
                "{}  {status:<8}  {}, {}d old",
                self.id,
                c.format("%Y-%m-%d"),
                (now - c).num_days()
            ),
            None => format!("{}  {status}", self.id),
        }
    }
}

/// When a key was last used, as IAM reports it (IAM updates it within hours, not at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastUsed {
    pub at: Option<DateTime<Utc>>,
    pub service: Option<String>,
}

fn time(t: &aws_sdk_iam::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

impl Aws {
    async fn config(&self) -> aws_config::SdkConfig {
        aws_config(self.region.as_deref(), self.endpoint_url.as_deref()).await
    }

    async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config().await)
    }

    pub async fn list_keys(&self, user: &str) -> anyhow::Result<Vec<KeyInfo>> {
        let out = self
            .iam()
            .await
            .list_access_keys()
            .user_name(user)
            .send()
            .await
            .map_err(|e| anyhow!("listing the access keys of {user}: {}", aws_error(&e)))?;
        Ok(out
            .access_key_metadata()
            .iter()
            .map(|k| KeyInfo {
                id: k.access_key_id().unwrap_or_default().to_string(),
                active: k.status() == Some(&StatusType::Active),
                created: k.create_date().and_then(time),
            })
            .collect())
    }

    /// A new key for `user`: its id and its secret.
    pub async fn create_key(&self, user: &str) -> anyhow::Result<(String, Secret)> {
        let out = self
            .iam()
            .await
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .map_err(|e| anyhow!("creating an access key for {user}: {}", aws_error(&e)))?;
        let key = out
            .access_key()
            .context("IAM answered CreateAccessKey without a key")?;
        Ok((
            key.access_key_id().to_string(),
            Secret::new(key.secret_access_key()),
        ))
    }

    /// The user's ARN (what STS must answer for a key of theirs).
    pub async fn user_arn(&self, user: &str) -> anyhow::Result<String> {
        let out = self
            .iam()
            .await
            .get_user()
            .user_name(user)
            .send()
            .await
            .map_err(|e| anyhow!("reading IAM user {user}: {}", aws_error(&e)))?;
        Ok(out
            .user()
            .context("IAM answered GetUser without a user")?
            .arn()
            .to_string())
    }

    /// Who AWS says a request signed with this key is. A new key takes a few seconds to
    /// reach every AWS endpoint: "invalid token" answers are retried until `patience` ends.
    pub async fn caller_arn_with(
        &self,
        key_id: &str,
        secret: &Secret,
        patience: Duration,
    ) -> anyhow::Result<String> {
        let creds = aws_sdk_sts::config::Credentials::new(
            key_id,
            secret.expose(),
            None,
            None,
            "toban-new-access-key",
        );
        let conf = aws_sdk_sts::config::Builder::from(&self.config().await)
            .credentials_provider(creds)
            .build();
        let sts = aws_sdk_sts::Client::from_conf(conf);
        let until = tokio::time::Instant::now() + patience;
        loop {
            match sts.get_caller_identity().send().await {
                Ok(out) => return Ok(out.arn().unwrap_or_default().to_string()),
                Err(e)
                    if e.code() == Some("InvalidClientTokenId")
                        && tokio::time::Instant::now() + Duration::from_secs(2) < until =>
                {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                Err(e) => bail!(
                    "STS GetCallerIdentity signed with {key_id}: {}",
                    aws_error(&e)
                ),
            }
        }
    }

    pub async fn set_active(&self, user: &str, key_id: &str, active: bool) -> anyhow::Result<()> {
        let status = if active {
            StatusType::Active
        } else {
            StatusType::Inactive
        };
        self.iam()
            .await
            .update_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .status(status)
            .send()
            .await
            .map_err(|e| anyhow!("changing the status of {key_id}: {}", aws_error(&e)))?;
        Ok(())
    }

    pub async fn last_used(&self, key_id: &str) -> anyhow::Result<LastUsed> {
        let out = self
            .iam()
            .await
            .get_access_key_last_used()
            .access_key_id(key_id)
            .send()
            .await
            .map_err(|e| anyhow!("reading when {key_id} was last used: {}", aws_error(&e)))?;
        let used = out.access_key_last_used();
        Ok(LastUsed {
            at: used.and_then(|u| u.last_used_date()).and_then(time),
            service: used
                .map(|u| u.service_name().to_string())
                .filter(|s| !s.is_empty() && s != "N/A"),
        })
    }

    pub async fn delete_key(&self, user: &str, key_id: &str) -> anyhow::Result<()> {
        self.iam()
            .await
            .delete_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .send()
            .await
            .map_err(|e| anyhow!("deleting {key_id}: {}", aws_error(&e)))?;
        Ok(())
    }

    /// Deletes `key_id` only when it is still inactive and unused since `inactive_since`
    /// (when given): a key something still uses is refused, with what and when.
    pub async fn delete_if_retired(
        &self,
        user: &str,
        key_id: &str,
        inactive_since: Option<DateTime<Utc>>,
    ) -> anyhow::Result<String> {
        let keys = self.list_keys(user).await?;
        let Some(key) = keys.iter().find(|k| k.id == key_id) else {
            bail!("{user} has no access key {key_id} (already deleted?)");
        };
        if key.active {
            bail!("{key_id} is Active again: something may still need it; not deleted");
        }
        let used = self.last_used(key_id).await?;
        if let (Some(at), Some(since)) = (used.at, inactive_since) {
            if at > since {
                bail!(
                    "{key_id} was used at {} ({}) after it was deactivated at {}; not deleted",
                    at.format("%Y-%m-%d %H:%M UTC"),
                    used.service.as_deref().unwrap_or("unknown service"),
                    since.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        self.delete_key(user, key_id).await?;
        let last = match used.at {
            Some(at) => format!("last used {}", at.format("%Y-%m-%d %H:%M UTC")),
            None => "never used".into(),
        };
        Ok(format!("deleted {key_id} of {user} (Inactive, {last})"))
    }
}
