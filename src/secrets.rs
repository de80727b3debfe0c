//! Where an application reads a secret, and replacing it there: a file (written atomically,
//! keeping its owner, group and their permissions, never readable by others; a new one is
//! 0600) or an AWS Secrets Manager secret. A secret is a whole string or one field of a
//! JSON object (seed 001 keeps `{"username", "password", "host", …}` in one secret).

use std::fmt;
use std::path::PathBuf;

use anyhow::{bail, Context};
use serde::Deserialize;

/// A secret value: never printed, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The value itself, for the one place that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretTarget {
    File {
        path: PathBuf,
        /// Replace only this field of a JSON object in the file.
        #[serde(default)]
        field: Option<String>,
    },
    AwsSecretsManager {
        secret_id: String,
        #[serde(default)]
        field: Option<String>,
        #[serde(default)]
        region: Option<String>,
        /// For tests and private endpoints (e.g. a VPC endpoint).
        #[serde(default)]
        endpoint_url: Option<String>,
    },
}

impl SecretTarget {
    /// Where, for the wizard and the audit log (never the value).
    pub fn describe(&self) -> String {
        match self {
            SecretTarget::File { path, field } => match field {
                Some(f) => format!(
                    "field `{f}` of {} (owner and group kept, no access for others)",
                    path.display()
                ),
                None => format!(
                    "{} (owner and group kept, no access for others)",
                    path.display()
                ),
            },
            SecretTarget::AwsSecretsManager {
                secret_id, field, ..
            } => match field {
                Some(f) => format!("field `{f}` of AWS Secrets Manager secret {secret_id}"),
                None => format!("AWS Secrets Manager secret {secret_id}"),
            },
        }
    }

    pub async fn read(&self) -> anyhow::Result<Secret> {
        let (raw, field) = match self {
            SecretTarget::File { path, field } => (
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?,
                field,
            ),
            SecretTarget::AwsSecretsManager {
                secret_id, field, ..
            } => {
                let client = self.aws_client().await;
                let out = client
                    .get_secret_value()
                    .secret_id(secret_id)
                    .send()
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!("reading secret {secret_id}: {}", aws_error(&e))
                    })?;
                (out.secret_string().unwrap_or_default().to_string(), field)
            }
        };
        match field {
            None => Ok(Secret(raw.trim_end_matches('\n').to_string())),
            Some(f) => {
                let v: serde_json::Value =
                    serde_json::from_str(&raw).context("the secret is not a JSON object")?;
                match v.get(f).and_then(|x| x.as_str()) {
                    Some(s) => Ok(Secret(s.to_string())),
                    None => bail!("the secret has no string field `{f}`"),
                }
            }
        }
    }

    pub async fn write(&self, value: &Secret) -> anyhow::Result<()> {
        match self {
            SecretTarget::File { path, field } => {
                let body = match field {
                    // Exactly the value: applications often read the file without trimming.
                    None => value.0.clone(),
                    Some(f) => {
                        let old = std::fs::read_to_string(path).unwrap_or_else(|_| "{}".into());
                        set_field(&old, f, value)?
                    }
                };
                // The owner, group and their bits as they were (the application reads it as
                // its user or group); never readable by others, whatever it was before.
                let mode = std::fs::metadata(path)
                    .ok()
                    .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7770);
                crate::atomic_write::replace_keeping_owner(path, body.as_bytes(), mode)
                    .with_context(|| format!("writing {} (the file is unchanged)", path.display()))
            }
            SecretTarget::AwsSecretsManager {
                secret_id, field, ..
            } => {
                let client = self.aws_client().await;
                let body = match field {
                    None => value.0.clone(),
                    Some(f) => {
                        let old = client
                            .get_secret_value()
                            .secret_id(secret_id)
                            .send()
                            .await
                            .map_err(|e| {
                                anyhow::anyhow!("reading secret {secret_id}: {}", aws_error(&e))
                            })?;
                        set_field(old.secret_string().unwrap_or("{}"), f, value)?
                    }
                };
                client
                    .put_secret_value()
                    .secret_id(secret_id)
                    .secret_string(body)
                    .send()
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!("updating secret {secret_id}: {}", aws_error(&e))
                    })?;
                Ok(())
            }
        }
    }

    async fn aws_client(&self) -> aws_sdk_secretsmanager::Client {
        let SecretTarget::AwsSecretsManager {
            region,
            endpoint_url,
            ..
        } = self
        else {
            unreachable!("only called for AWS targets")
        };
        aws_sdk_secretsmanager::Client::new(
            &aws_config(region.as_deref(), endpoint_url.as_deref()).await,
        )
    }
}

/// The AWS configuration every AWS step uses: the standard chain (profile, environment,
/// `AWS_ENDPOINT_URL`), with a region and an endpoint (a VPC endpoint, moto) when given.
pub async fn aws_config(region: Option<&str>, endpoint_url: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_string()));
    }
    if let Some(e) = endpoint_url {
        loader = loader.endpoint_url(e);
    }
    loader.load().await
}

pub(crate) fn aws_error<E: std::error::Error + 'static>(e: &E) -> String {
    // The SDK's Display is terse ("service error"); the source chain says what happened.
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

fn set_field(old: &str, field: &str, value: &Secret) -> anyhow::Result<String> {
    let mut v: serde_json::Value =
        serde_json::from_str(old).context("the secret is not a JSON object")?;
    let obj = v
        .as_object_mut()
        .context("the secret is not a JSON object")?;
    obj.insert(
        field.to_string(),
        serde_json::Value::String(value.0.clone()),
    );
    Ok(serde_json::to_string(&v)?)
}

/// Writes a file that only its owner can read, replacing the old one atomically so a
/// reader never sees half a secret.
pub fn write_private_file(path: &std::path::Path, body: &[u8]) -> anyhow::Result<()> {
    crate::atomic_write::write_atomically(path, body, 0o600)
        .with_context(|| format!("writing {}", path.display()))
}
