//! The contract of a step kind, and the small helpers every kind's file uses: templated
//! fields, rendering, and parsing its TOML table.

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use super::context::StepContext;
use super::outcome::Outcome;
use crate::runbook::template::Scope;

/// What a step kind is. One file per kind implements it; `step_kinds!` registers it.
///
/// The life of a step: [`parse`](StepKind::parse) when the runbook loads (errors name the
/// field), [`check`](StepKind::check) with the rest of the runbook, then for each run
/// [`render`](StepKind::render) (templates filled in, once masked for the screen and once
/// real for the run), [`describe`](StepKind::describe) (the dry run, the wizard's preview,
/// the audit) and [`execute`](StepKind::execute).
///
/// Cancel and time limit: `execute` gets the operator's cancel token and the step's
/// [`time_limit`](StepKind::time_limit) in its [`StepContext`] and must stop its work when
/// either fires — a command's process group is signalled, a SQL statement is cancelled on
/// the server, anything else is dropped through [`StepContext::bounded`]. The executor
/// stops waiting for a kind that does not, a grace period later.
pub trait StepKind: Sized + Clone + fmt::Debug + PartialEq + Send + Sync + 'static {
    /// The `kind = "…"` that selects it.
    const NAME: &'static str;
    /// Answered by the operator in the wizard (note, checklist, input, confirm): the engine
    /// waits for an answer instead of executing it.
    const INTERACTIVE: bool = false;

    /// From the step's table, the keys common to every step (`id`, `title`, …) removed.
    fn parse(table: toml::Table, header: &StepHeader<'_>) -> Result<Self, String>;

    /// Every templated field, with where its value goes (validation keeps secrets out of
    /// argv and asks SQL for a quoting filter).
    fn fields(&self) -> Vec<Field<'_>>;

    /// Its outcome carries a secret, `{{secrets.ID}}` to later steps (a generated password,
    /// a new access key's secret).
    fn makes_secret(&self) -> bool {
        false
    }

    /// Problems that need the rest of the runbook (a parameter that does not exist …).
    fn check(&self, _cx: &CheckCx<'_>) -> Vec<Problem> {
        Vec::new()
    }

    /// A copy with every template substituted.
    fn render(&self, r: &Render<'_>) -> Result<Self, String>;

    /// What it will do, one line each, from a rendered (and masked) copy.
    fn describe(&self) -> Vec<String>;

    /// The longest it may run.
    fn time_limit(&self) -> Duration {
        Duration::from_secs(60)
    }

    /// Does it. Never panics; a failure is an [`Outcome`] that says what went wrong.
    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome>;
}

/// The keys every step has that a kind may want while parsing.
#[derive(Debug, Clone, Copy)]
pub struct StepHeader<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
}

/// Where a templated field's value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldUse {
    /// May hold a secret (it is masked when shown).
    Text,
    /// Shown, logged or visible to other users (argv, env, paths): no secrets.
    Public,
    /// SQL text: every placeholder needs `| ident`, `| literal` or `| raw`.
    Sql,
}

/// One templated field of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<'a> {
    /// As the runbook names it (`argv[2]`, `env.PGPASSFILE`).
    pub name: String,
    pub text: &'a str,
    pub usage: FieldUse,
}

impl<'a> Field<'a> {
    pub fn text(name: impl Into<String>, text: &'a str) -> Self {
        Field {
            name: name.into(),
            text,
            usage: FieldUse::Text,
        }
    }

    pub fn public(name: impl Into<String>, text: &'a str) -> Self {
        Field {
            name: name.into(),
            text,
            usage: FieldUse::Public,
        }
    }

    pub fn sql(name: impl Into<String>, text: &'a str) -> Self {
        Field {
            name: name.into(),
            text,
            usage: FieldUse::Sql,
        }
    }

    /// `name[0]`, `name[1]` … for each item.
    pub fn each(name: &str, items: &'a [String], usage: FieldUse) -> Vec<Self> {
        items
            .iter()
            .enumerate()
            .map(|(i, text)| Field {
                name: format!("{name}[{i}]"),
                text,
                usage,
            })
            .collect()
    }
}

/// What [`StepKind::check`] may look at.
#[derive(Debug, Clone, Copy)]
pub struct CheckCx<'a> {
    pub params: &'a HashSet<&'a str>,
}

/// A problem [`StepKind::check`] found: the field, the text to point the line at, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub needle: String,
    pub message: String,
}

/// Substitutes templates for [`StepKind::render`].
#[derive(Debug, Clone, Copy)]
pub struct Render<'a> {
    pub scope: &'a Scope<'a>,
    /// Parameters of kind `list` (a whole list element expands to their items).
    pub lists: &'a [String],
}

impl Render<'_> {
    pub fn text(&self, t: &str) -> Result<String, String> {
        self.scope.render(t)
    }

    pub fn opt(&self, t: &Option<String>) -> Result<Option<String>, String> {
        t.as_deref().map(|x| self.text(x)).transpose()
    }

    /// An optional field whose template rendered empty counts as not given.
    pub fn opt_set(&self, t: &Option<String>) -> Result<Option<String>, String> {
        Ok(self.opt(t)?.filter(|s| !s.is_empty()))
    }

    pub fn list(&self, items: &[String]) -> Result<Vec<String>, String> {
        self.scope.render_list(items, self.lists)
    }

    pub fn each(&self, items: &[String]) -> Result<Vec<String>, String> {
        items.iter().map(|t| self.text(t)).collect()
    }
}

/// The table as `T` (unknown keys refused), the error in toml's words.
pub fn de<T: DeserializeOwned>(table: toml::Table) -> Result<T, String> {
    toml::Value::Table(table)
        .try_into::<T>()
        .map_err(|e| e.message().trim().to_string())
}

/// A duration field (`timeout = 30` in seconds, or `timeout = "10m"`), for
/// `#[serde(deserialize_with = "duration")]`.
pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Seconds(u64),
        Text(String),
    }
    match Given::deserialize(d) {
        Ok(Given::Seconds(n)) => Ok(Duration::from_secs(n)),
        Ok(Given::Text(s)) => humantime::parse_duration(&s).map_err(|e| {
            D::Error::custom(format!(
                "`{s}` is not a duration like \"30s\" or \"10m\" ({e})"
            ))
        }),
        Err(_) => Err(D::Error::custom(
            "a duration like \"30s\" or \"10m\" is wanted",
        )),
    }
}

/// The `execute` of a kind the operator answers: it never reaches an executor.
pub fn not_executed(name: &'static str) -> BoxFuture<'static, Outcome> {
    Box::pin(async move { Outcome::fail(format!("a {name} step is not run by an executor")) })
}
