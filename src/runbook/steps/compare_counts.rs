//! `compare_counts`: the proof of a restore. The step that streamed the dump to psql
//! counted the rows of each `COPY … FROM stdin` block on the way (`stdin.sql_database`);
//! this compares every table's `count(*)` in the restored database with that count. It
//! passes only when every table matches, and its output lists them (the drill record
//! keeps it).

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};
use crate::runbook::exec::sql::{run_statements, url_with_database};
use crate::runbook::exec::{quote_pg_ident, DumpReport};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareCounts {
    pub connection: String,
    /// The restored database (instead of the connection's own).
    #[serde(default)]
    pub database: Option<String>,
    /// The id of the step whose stdin carried the dump.
    pub dump_of: String,
    #[serde(default = "ten_minutes", deserialize_with = "duration")]
    pub timeout: Duration,
}

fn ten_minutes() -> Duration {
    Duration::from_secs(600)
}

impl StepKind for CompareCounts {
    const NAME: &'static str = "compare_counts";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        de(table)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        let mut v = vec![Field::public("connection", &self.connection)];
        if let Some(d) = &self.database {
            v.push(Field::public("database", d));
        }
        v
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(CompareCounts {
            connection: r.text(&self.connection)?,
            database: r.opt_set(&self.database)?,
            dump_of: self.dump_of.clone(),
            timeout: self.timeout,
        })
    }

    fn describe(&self) -> Vec<String> {
        vec![format!(
            "count(*) of every table in the dump read by step `{}`{}, compared with the rows \
             of its COPY data: all must match",
            self.dump_of,
            self.database
                .as_ref()
                .map(|d| format!(", in database `{d}`"))
                .unwrap_or_default()
        )]
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(run(self, cx))
    }
}

/// Each table's rows in the dump (a table may have several COPY blocks), or why the dump's
/// reading proves nothing.
pub fn dump_counts(r: &DumpReport) -> Result<BTreeMap<Vec<String>, u64>, String> {
    if let Some(why) = &r.refused {
        return Err(format!("the dump was not restored: {why}"));
    }
    if let Some(t) = r.cut_short() {
        return Err(format!(
            "table {}: the dump is cut short inside its data (after {} rows)",
            t.display(),
            t.rows
        ));
    }
    if !r.complete {
        return Err("the dump was not read to its end".into());
    }
    let mut counts = BTreeMap::new();
    for t in &r.tables {
        if t.name.is_empty() {
            return Err(format!(
                "cannot tell which table the COPY at line {} of the dump fills",
                t.line
            ));
        }
        *counts.entry(t.name.clone()).or_insert(0) += t.rows;
    }
    Ok(counts)
}

async fn run(c: CompareCounts, cx: StepContext) -> Outcome {
    let dir = cx.exec.step_dir(&c.dump_of);
    let Some(report) = super::command::read_dump_report(&dir) else {
        return Outcome::fail(format!(
            "step `{}` left no reading of the dump in {} (its stdin needs `sql_database`)",
            c.dump_of,
            dir.display()
        ));
    };
    let counts = match dump_counts(&report) {
        Ok(c) => c,
        Err(e) => return Outcome::fail(e),
    };
    let url = match cx.connection(&c.connection).and_then(|u| match &c.database {
        Some(d) => url_with_database(&u, d),
        None => Ok(u),
    }) {
        Ok(u) => u,
        Err(e) => return Outcome::fail(e),
    };
    let mut statements = Vec::new();
    for name in counts.keys() {
        let quoted: Result<Vec<String>, String> = name.iter().map(|p| quote_pg_ident(p)).collect();
        match quoted {
            Ok(q) => statements.push(format!("SELECT count(*) FROM {}", q.join("."))),
            Err(e) => return Outcome::fail(e),
        }
    }
    let results = if statements.is_empty() {
        Vec::new()
    } else {
        match run_statements(&url, &statements, None, &cx.sql_limits()).await {
            Ok(r) => r,
            Err(e) => return cx.stopped_or(e.message),
        }
    };
    let mut lines = Vec::new();
    let mut wrong = Vec::new();
    let mut total = 0u64;
    for ((name, want), got) in counts.iter().zip(&results) {
        let shown = crate::runbook::exec::TableRows {
            name: name.clone(),
            rows: *want,
            ended: true,
            line: 0,
        }
        .display();
        let got: u64 = got.first_value().parse().unwrap_or(u64::MAX);
        total += want;
        if got == *want {
            lines.push(format!("{shown} {want}"));
        } else {
            wrong.push(format!(
                "table {shown}: {} rows restored, the dump has {want}",
                if got == u64::MAX {
                    "?".to_string()
                } else {
                    got.to_string()
                }
            ));
        }
    }
    if !wrong.is_empty() {
        let mut o = Outcome::fail(wrong.join("; "));
        o.tail = wrong.join("\n");
        return o;
    }
    let head = if counts.is_empty() {
        "the dump holds no table data to compare".to_string()
    } else {
        format!(
            "every table matches the dump: {} table{}, {total} rows",
            counts.len(),
            if counts.len() == 1 { "" } else { "s" }
        )
    };
    Outcome::done(std::iter::once(head).chain(lines).collect::<Vec<_>>().join("\n"))
}
