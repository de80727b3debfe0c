//! `access_key`: an IAM user's access keys through the AWS SDK (seed 002 §3), one `action`
//! per step:
//!
//! - `list`: the user's keys (id, status, age) in the output pane; with `key_id`, fails
//!   when that key is not among them.
//! - `create`: a new key. Its id is `{{steps.ID.output}}`, its secret `{{secrets.ID}}`
//!   (kept like a generated password: never shown, stored or logged).
//! - `check`: STS GetCallerIdentity signed with `key_id` + `secret` must answer the user's
//!   own ARN.
//! - `deactivate`: the key becomes Inactive; the output is when (RFC 3339), for the
//!   deletion's "unused since".
//! - `delete`: only when the key is Inactive and IAM's last-used date is not after
//!   `inactive_since`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};
use crate::access_keys::Aws;
use crate::secrets::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyAction {
    List,
    Create,
    Check,
    Deactivate,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    pub action: KeyAction,
    pub user: String,
    #[serde(default)]
    pub key_id: Option<String>,
    /// `check`: the key's secret (`{{secrets.ID}}` of the `create` step).
    #[serde(default)]
    pub secret: Option<String>,
    /// `delete`: when the key was deactivated (`{{steps.ID.output}}` of `deactivate`).
    #[serde(default)]
    pub inactive_since: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub endpoint_url: Option<String>,
    #[serde(default = "two_minutes", deserialize_with = "duration")]
    pub timeout: Duration,
}

fn two_minutes() -> Duration {
    Duration::from_secs(120)
}

impl AccessKey {
    fn aws(&self) -> Aws {
        let set = |o: &Option<String>| o.clone().filter(|s| !s.trim().is_empty());
        Aws {
            region: set(&self.region),
            endpoint_url: set(&self.endpoint_url),
        }
    }

    fn key(&self) -> &str {
        self.key_id.as_deref().unwrap_or_default()
    }
}

impl StepKind for AccessKey {
    const NAME: &'static str = "access_key";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        let k: AccessKey = de(table)?;
        let needs_key = matches!(
            k.action,
            KeyAction::Check | KeyAction::Deactivate | KeyAction::Delete
        );
        if needs_key && k.key_id.is_none() {
            return Err("this action needs `key_id`".into());
        }
        if k.action == KeyAction::Check && k.secret.is_none() {
            return Err("`check` needs `secret` (the new key's `{{secrets.ID}}`)".into());
        }
        if k.action != KeyAction::Check && k.secret.is_some() {
            return Err("only `check` takes `secret`".into());
        }
        if k.action != KeyAction::Delete && k.inactive_since.is_some() {
            return Err("only `delete` takes `inactive_since`".into());
        }
        Ok(k)
    }

    fn makes_secret(&self) -> bool {
        self.action == KeyAction::Create
    }

    fn fields(&self) -> Vec<Field<'_>> {
        let mut v = vec![Field::public("user", &self.user)];
        for (name, f) in [
            ("key_id", &self.key_id),
            ("inactive_since", &self.inactive_since),
            ("region", &self.region),
            ("endpoint_url", &self.endpoint_url),
        ] {
            if let Some(f) = f {
                v.push(Field::public(name, f));
            }
        }
        if let Some(s) = &self.secret {
            v.push(Field::text("secret", s));
        }
        v
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(AccessKey {
            action: self.action,
            user: r.text(&self.user)?,
            key_id: r.opt(&self.key_id)?,
            secret: r.opt(&self.secret)?,
            inactive_since: r.opt(&self.inactive_since)?,
            region: r.opt(&self.region)?,
            endpoint_url: r.opt(&self.endpoint_url)?,
            timeout: self.timeout,
        })
    }

    fn describe(&self) -> Vec<String> {
        let (user, key) = (&self.user, self.key());
        vec![match self.action {
            KeyAction::List if key.is_empty() => format!("list the access keys of IAM user {user}"),
            KeyAction::List => format!("list the access keys of IAM user {user} ({key} must be one)"),
            KeyAction::Create => format!(
                "create a new access key for {user} (its secret kept in memory, never shown)"
            ),
            KeyAction::Check => format!(
                "STS GetCallerIdentity signed with {key}: must answer {user}'s own ARN"
            ),
            KeyAction::Deactivate => format!("make access key {key} of {user} Inactive"),
            KeyAction::Delete => format!(
                "delete access key {key} of {user} if still Inactive and unused since {}",
                self.inactive_since
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .unwrap_or("it was deactivated")
            ),
        }]
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { cx.bounded(run(self, &cx)).await })
    }
}

async fn run(k: AccessKey, cx: &StepContext) -> Outcome {
    let aws = k.aws();
    let (user, key) = (k.user.as_str(), k.key());
    match k.action {
        KeyAction::List => {
            let keys = match aws.list_keys(user).await {
                Ok(keys) => keys,
                Err(e) => return Outcome::fail(format!("{e:#}")),
            };
            let now = Utc::now();
            let mut text = format!("{user} has {} access key(s)", keys.len());
            for k in &keys {
                text.push('\n');
                text.push_str(&k.describe(now));
            }
            if let Some(tx) = &cx.lines {
                for l in text.lines() {
                    let _ = tx.send(l.to_string()).await;
                }
            }
            if !key.is_empty() && !keys.iter().any(|k| k.id == key) {
                return Outcome::fail(format!("{user} has no access key {key}\n{text}"));
            }
            Outcome::done(text)
        }
        KeyAction::Create => {
            // IAM allows two keys per user: say which to clear instead of IAM's error.
            if let Ok(keys) = aws.list_keys(user).await {
                if keys.len() >= 2 {
                    let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
                    return Outcome::fail(format!(
                        "{user} already has two keys ({}): delete the retired one first",
                        ids.join(", ")
                    ));
                }
            }
            match aws.create_key(user).await {
                Ok((id, secret)) => {
                    let mut o = Outcome::said(
                        true,
                        format!("created {id} (its secret is not shown)"),
                    );
                    o.output = id;
                    o.secret = Some(secret.expose().to_string());
                    o
                }
                Err(e) => Outcome::fail(format!("{e:#}")),
            }
        }
        KeyAction::Check => {
            let secret = Secret::new(k.secret.clone().unwrap_or_default());
            let want = match aws.user_arn(user).await {
                Ok(a) => a,
                Err(e) => return Outcome::fail(format!("{e:#}")),
            };
            // Leave a little of the time limit for the answer to be reported.
            let patience = cx
                .deadline()
                .saturating_duration_since(tokio::time::Instant::now())
                .saturating_sub(Duration::from_secs(5));
            match aws.caller_arn_with(key, &secret, patience).await {
                Ok(got) if got == want => {
                    // The ARN is the output; the message fits the wizard's pane.
                    let mut o = Outcome::said(true, format!("{key} works: it signs as {user}"));
                    o.output = got;
                    o
                }
                Ok(got) => Outcome::fail(format!(
                    "{key} signs as {got}, not as {want}: the key is not {user}'s"
                )),
                Err(e) => Outcome::fail(format!("{e:#}")),
            }
        }
        KeyAction::Deactivate => {
            match aws.set_active(user, key, false).await {
                Ok(()) => {
                    // Taken after IAM answered and rounded up to the second: a use IAM
                    // dates later than this happened while the key was inactive.
                    let now = Utc::now();
                    let at = DateTime::from_timestamp(now.timestamp() + 1, 0).unwrap_or(now);
                    let mut o = Outcome::said(
                        true,
                        format!("{key} is Inactive since {}", at.format("%H:%M:%S UTC")),
                    );
                    o.output = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    o
                }
                Err(e) => Outcome::fail(format!("{e:#}")),
            }
        }
        KeyAction::Delete => {
            let since = match k.inactive_since.as_deref().filter(|s| !s.trim().is_empty()) {
                None => None,
                Some(s) => match DateTime::parse_from_rfc3339(s.trim()) {
                    Ok(t) => Some(t.with_timezone(&Utc)),
                    Err(e) => {
                        return Outcome::fail(format!(
                            "`inactive_since`: `{s}` is not an RFC 3339 time: {e}"
                        ))
                    }
                },
            };
            Outcome::from_result(
                aws.delete_if_retired(user, key, since)
                    .await
                    .map_err(|e| format!("{e:#}")),
            )
        }
    }
}
