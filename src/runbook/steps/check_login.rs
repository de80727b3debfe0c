//! `check_login`: log in as a user with a password; `expect = "ok"` (the new password
//! works) or `"fail"` (the old one is refused — refused by the server, not unreachable).

use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};
use crate::runbook::exec::sql::{try_login, url_with_login};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckLogin {
    pub connection: String,
    pub user: String,
    pub password: String,
    pub expect: LoginExpect,
    #[serde(default = "one_minute", deserialize_with = "duration")]
    pub timeout: Duration,
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginExpect {
    Ok,
    Fail,
}

impl StepKind for CheckLogin {
    const NAME: &'static str = "check_login";

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
        Ok(CheckLogin {
            connection: r.text(&self.connection)?,
            user: r.text(&self.user)?,
            password: r.text(&self.password)?,
            ..self.clone()
        })
    }

    fn describe(&self) -> Vec<String> {
        let ok = self.expect == LoginExpect::Ok;
        vec![format!(
            "log in to `{}` as `{}` with the {} password: must {}",
            self.connection,
            self.user,
            if ok { "new" } else { "old" },
            if ok { "succeed" } else { "be refused" }
        )]
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(run(self, cx))
    }
}

async fn run(c: CheckLogin, cx: StepContext) -> Outcome {
    let url = match cx
        .connection(&c.connection)
        .and_then(|u| url_with_login(&u, &c.user, &c.password))
    {
        Ok(u) => u,
        Err(e) => return Outcome::fail(e),
    };
    let user = &c.user;
    match (try_login(&url, &cx.sql_limits()).await, c.expect) {
        (Ok(()), LoginExpect::Ok) => Outcome::done(format!("{user} logged in with the new password")),
        (Ok(()), LoginExpect::Fail) => {
            Outcome::fail(format!("{user} can still log in with the old password"))
        }
        (Err(e), _) if cx.cancel.is_cancelled() => cx.stopped_or(e.message),
        (Err(e), LoginExpect::Ok) => Outcome::fail(format!("{user} cannot log in: {e}")),
        (Err(e), LoginExpect::Fail) if e.is_auth_refused() => {
            Outcome::done(format!("{user} is refused with the old password"))
        }
        (Err(e), LoginExpect::Fail) => Outcome::fail(format!(
            "could not tell (not an authentication error): {e}"
        )),
    }
}
