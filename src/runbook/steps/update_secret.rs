//! `update_secret`: replace a secret where the application reads it — a file (0600,
//! atomic) or an AWS Secrets Manager secret — whole or one field of a JSON object.

use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};
use crate::secrets::{Secret, SecretTarget};

#[derive(Debug, Clone, PartialEq)]
pub struct UpdateSecret {
    /// `file` or `aws_secrets_manager`.
    pub store: String,
    /// The file's path, or the secret's id.
    pub location: String,
    pub field: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub value: String,
    /// Said after the error when the write fails: the state the runbook left things in
    /// (the database already has the new password …).
    pub if_failed: Option<String>,
    pub timeout: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default = "two_minutes", deserialize_with = "duration")]
    timeout: Duration,
    store: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    secret_id: Option<String>,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    value: String,
    #[serde(default)]
    if_failed: Option<String>,
}

fn two_minutes() -> Duration {
    Duration::from_secs(120)
}

impl UpdateSecret {
    /// Where it writes, from its rendered fields.
    pub fn target(&self) -> Option<SecretTarget> {
        // A template that rendered empty (an optional parameter left blank) means "not set".
        let set = |o: &Option<String>| o.clone().filter(|s| !s.trim().is_empty());
        match self.store.as_str() {
            "file" => Some(SecretTarget::File {
                path: self.location.clone().into(),
                field: set(&self.field),
            }),
            "aws_secrets_manager" => Some(SecretTarget::AwsSecretsManager {
                secret_id: self.location.clone(),
                field: set(&self.field),
                region: set(&self.region),
                endpoint_url: set(&self.endpoint_url),
            }),
            _ => None,
        }
    }
}

impl StepKind for UpdateSecret {
    const NAME: &'static str = "update_secret";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        let u: Raw = de(table)?;
        let location = match (u.store.as_str(), u.path, u.secret_id) {
            ("file", Some(p), None) => p,
            ("aws_secrets_manager", None, Some(id)) => id,
            ("file", _, _) => return Err("a `file` secret needs `path` (and no `secret_id`)".into()),
            ("aws_secrets_manager", _, _) => {
                return Err(
                    "an `aws_secrets_manager` secret needs `secret_id` (and no `path`)".into(),
                )
            }
            (other, _, _) => {
                return Err(format!(
                    "`store`: `{other}` is not `file` or `aws_secrets_manager`"
                ))
            }
        };
        Ok(UpdateSecret {
            store: u.store,
            location,
            field: u.field,
            region: u.region,
            endpoint_url: u.endpoint_url,
            value: u.value,
            if_failed: u.if_failed,
            timeout: u.timeout,
        })
    }

    fn fields(&self) -> Vec<Field<'_>> {
        let mut v = vec![Field::public("location", &self.location)];
        for (name, f) in [
            ("field", &self.field),
            ("region", &self.region),
            ("endpoint_url", &self.endpoint_url),
            ("if_failed", &self.if_failed),
        ] {
            if let Some(f) = f {
                v.push(Field::public(name, f));
            }
        }
        v.push(Field::text("value", &self.value));
        v
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(UpdateSecret {
            store: self.store.clone(),
            location: r.text(&self.location)?,
            field: r.opt(&self.field)?,
            region: r.opt(&self.region)?,
            endpoint_url: r.opt(&self.endpoint_url)?,
            value: r.text(&self.value)?,
            if_failed: r.opt_set(&self.if_failed)?,
            timeout: self.timeout,
        })
    }

    fn describe(&self) -> Vec<String> {
        match self.target() {
            Some(t) => vec![format!(
                "replace the secret in {}, value not shown",
                t.describe()
            )],
            None => vec!["replace a secret (unknown store)".into()],
        }
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            let Some(target) = self.target() else {
                return Outcome::fail("unknown secret store");
            };
            let value = Secret::new(self.value);
            let o = cx
                .bounded(async {
                    Outcome::from_result(
                        target
                            .write(&value)
                            .await
                            .map(|()| format!("replaced the secret in {}", target.describe()))
                            .map_err(|e| format!("{e:#}")),
                    )
                })
                .await;
            match self.if_failed {
                Some(state) if !o.ok => Outcome {
                    message: format!("{}. {state}", o.message),
                    ..o
                },
                _ => o,
            }
        })
    }
}
