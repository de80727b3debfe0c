//! `alter_password`: `ALTER USER … WITH PASSWORD`, the server given a SCRAM-SHA-256
//! verifier, never the password (nothing in its logs can reveal it).

use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};
use crate::runbook::exec::sql::set_password;
use crate::runbook::template::MASK;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlterPassword {
    pub connection: String,
    pub user: String,
    pub password: String,
    #[serde(default = "one_minute", deserialize_with = "duration")]
    pub timeout: Duration,
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}

impl StepKind for AlterPassword {
    const NAME: &'static str = "alter_password";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        de(table)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        vec![
            Field::public("connection", &self.connection),
            Field::public("user", &self.user),
            Field::text("password", &self.password),
        ]
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(AlterPassword {
            connection: r.text(&self.connection)?,
            user: r.text(&self.user)?,
            password: r.text(&self.password)?,
            timeout: self.timeout,
        })
    }

    fn describe(&self) -> Vec<String> {
        vec![format!(
            "on `{}`: ALTER USER \"{}\" WITH PASSWORD '{MASK}'",
            self.connection, self.user
        )]
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            if self.password.len() < 16 {
                return Outcome::fail("refusing a password shorter than 16 characters");
            }
            let url = match cx.connection(&self.connection) {
                Ok(u) => u,
                Err(e) => return Outcome::fail(e),
            };
            match set_password(&url, &self.user, &self.password, &cx.sql_limits()).await {
                Ok(()) => Outcome::done(format!(
                    "password of {} changed (sent as a SCRAM-SHA-256 verifier)",
                    self.user
                )),
                Err(e) => cx.stopped_or(e.message),
            }
        })
    }
}
