//! `read_secret`: the value a secret holds now (a file or an AWS Secrets Manager secret,
//! whole or one JSON field), kept with the run's secrets as `{{secrets.ID}}` and never
//! shown — so a rotation that fails halfway can put the old password back.

use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::update_secret::UpdateSecret;
use super::{Outcome, StepContext};

/// Where to read: the same fields as `update_secret`, without a value.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadSecret {
    pub at: UpdateSecret,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default = "one_minute", deserialize_with = "duration")]
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
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}

impl StepKind for ReadSecret {
    const NAME: &'static str = "read_secret";

    fn makes_secret(&self) -> bool {
        true
    }

    fn parse(table: toml::Table, header: &StepHeader<'_>) -> Result<Self, String> {
        let r: Raw = de(table)?;
        let mut t = toml::Table::new();
        t.insert("store".into(), r.store.into());
        t.insert("value".into(), String::new().into());
        t.insert("timeout".into(), (r.timeout.as_secs() as i64).into());
        for (k, v) in [
            ("path", r.path),
            ("secret_id", r.secret_id),
            ("field", r.field),
            ("region", r.region),
            ("endpoint_url", r.endpoint_url),
        ] {
            if let Some(v) = v {
                t.insert(k.into(), v.into());
            }
        }
        Ok(ReadSecret {
            at: UpdateSecret::parse(t, header)?,
        })
    }

    fn fields(&self) -> Vec<Field<'_>> {
        let mut f = self.at.fields();
        f.retain(|f| f.name != "value");
        f
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(ReadSecret {
            at: self.at.render(r)?,
        })
    }

    fn describe(&self) -> Vec<String> {
        match self.at.target() {
            Some(t) => vec![format!(
                "read the secret in {} now (kept for a rollback, never shown)",
                t.describe().replace(" (owner and group kept, no access for others)", "")
            )],
            None => vec!["read a secret (unknown store)".into()],
        }
    }

    fn time_limit(&self) -> Duration {
        self.at.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            let Some(target) = self.at.target() else {
                return Outcome::fail("unknown secret store");
            };
            cx.bounded(async {
                match target.read().await {
                    Ok(v) => {
                        let mut o = Outcome::said(
                            true,
                            format!(
                                "kept the current value of {} (not shown)",
                                target.describe().replace(" (owner and group kept, no access for others)", "")
                            ),
                        );
                        o.output = super::generate_secret::kept_where(&cx);
                        o.secret = Some(v.expose().to_string());
                        o
                    }
                    Err(e) => Outcome::fail(format!("{e:#}")),
                }
            })
            .await
        })
    }
}
