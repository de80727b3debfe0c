//! `sql`: statements on a named connection (optionally another database of it), in one
//! session, each in turn; the first column of the last statement's first row is the
//! step's output and may be checked with `expect` / `expect_not`.

use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, FieldUse, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};
use crate::runbook::exec::sql::{run_statements, url_with_database};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sql {
    pub connection: String,
    /// Connect to this database instead of the connection's own.
    #[serde(default)]
    pub database: Option<String>,
    pub statements: Vec<String>,
    /// The first column of the last statement's first row must (not) equal this.
    #[serde(default)]
    pub expect: Option<String>,
    #[serde(default)]
    pub expect_not: Option<String>,
    #[serde(default = "ten_minutes", deserialize_with = "duration")]
    pub timeout: Duration,
}

fn ten_minutes() -> Duration {
    Duration::from_secs(600)
}

impl StepKind for Sql {
    const NAME: &'static str = "sql";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        let s: Sql = de(table)?;
        if s.statements.is_empty() {
            return Err("`statements` must hold at least one statement".into());
        }
        Ok(s)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        let mut v = vec![Field::public("connection", &self.connection)];
        if let Some(d) = &self.database {
            v.push(Field::public("database", d));
        }
        v.extend(Field::each("statements", &self.statements, FieldUse::Sql));
        for (n, e) in [("expect", &self.expect), ("expect_not", &self.expect_not)] {
            if let Some(e) = e {
                v.push(Field::text(n, e));
            }
        }
        v
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(Sql {
            connection: r.text(&self.connection)?,
            database: r.opt_set(&self.database)?,
            statements: r.each(&self.statements)?,
            expect: r.opt(&self.expect)?,
            expect_not: r.opt(&self.expect_not)?,
            timeout: self.timeout,
        })
    }

    fn describe(&self) -> Vec<String> {
        let mut v = vec![format!(
            "SQL on connection `{}`{}:",
            self.connection,
            self.database
                .as_ref()
                .map(|d| format!(", database `{d}`"))
                .unwrap_or_default()
        )];
        v.extend(self.statements.iter().map(|s| format!("  {s}")));
        v
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(run(self, cx))
    }
}

async fn run(s: Sql, cx: StepContext) -> Outcome {
    let url = match cx.connection(&s.connection).and_then(|u| match &s.database {
        Some(d) => url_with_database(&u, d),
        None => Ok(u),
    }) {
        Ok(u) => u,
        Err(e) => return Outcome::fail(e),
    };
    let results = match run_statements(&url, &s.statements, None, &cx.sql_limits()).await {
        Ok(r) => r,
        Err(e) => return cx.stopped_or(e.message),
    };
    let value = results
        .last()
        .map(|o| o.first_value().to_string())
        .unwrap_or_default();
    if let Some(e) = &s.expect {
        if &value != e {
            return Outcome::fail(format!("expected `{e}`, got `{value}`"));
        }
    }
    if let Some(e) = &s.expect_not {
        if &value == e {
            return Outcome::fail(format!("got `{value}`, which means the check failed"));
        }
    }
    let report: Vec<String> = results
        .iter()
        .map(|o| {
            if o.rows_returned == 0 {
                "ok".to_string()
            } else {
                format!("{} ({} row(s))", o.first_value(), o.rows_returned)
            }
        })
        .collect();
    // The value first: it is what `{{steps.ID.output}}` gives later steps.
    Outcome::done(format!("{value}\n{}", report.join("\n")).trim().to_string())
}
