//! `checklist`: items the operator does by hand and ticks off, every one before going on.

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, not_executed, Field, FieldUse, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    pub items: Vec<String>,
}

impl StepKind for Checklist {
    const NAME: &'static str = "checklist";
    const INTERACTIVE: bool = true;

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        de(table)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        Field::each("items", &self.items, FieldUse::Text)
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(Checklist {
            items: r.each(&self.items)?,
        })
    }

    fn describe(&self) -> Vec<String> {
        self.items.iter().map(|i| format!("[ ] {i}")).collect()
    }

    fn execute(self, _: StepContext) -> BoxFuture<'static, Outcome> {
        not_executed(Self::NAME)
    }
}
