//! `note`: text for the operator to read; the run goes on when they have.

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, not_executed, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub text: String,
}

impl StepKind for Note {
    const NAME: &'static str = "note";
    const INTERACTIVE: bool = true;

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        de(table)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        vec![Field::text("text", &self.text)]
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(Note {
            text: r.text(&self.text)?,
        })
    }

    fn describe(&self) -> Vec<String> {
        self.text.lines().map(str::to_string).collect()
    }

    fn execute(self, _: StepContext) -> BoxFuture<'static, Outcome> {
        not_executed(Self::NAME)
    }
}
