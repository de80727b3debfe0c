//! `confirm`: a plain y/N, or a typed confirmation of the target's name for destructive
//! steps (focus starts on "no"; a "y" is not enough where the name must be typed).

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, not_executed, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    #[serde(default)]
    pub prompt: Option<String>,
    /// Typed confirmation: the operator must type exactly this (rendered) text.
    #[serde(default)]
    pub typed: Option<String>,
}

impl StepKind for Confirm {
    const NAME: &'static str = "confirm";
    const INTERACTIVE: bool = true;

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        de(table)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        let mut v = Vec::new();
        if let Some(p) = &self.prompt {
            v.push(Field::text("prompt", p));
        }
        if let Some(t) = &self.typed {
            v.push(Field::public("typed", t));
        }
        v
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(Confirm {
            prompt: r.opt(&self.prompt)?,
            typed: r.opt(&self.typed)?,
        })
    }

    fn describe(&self) -> Vec<String> {
        let mut v = vec![self.prompt.clone().unwrap_or_else(|| "continue?".into())];
        if let Some(t) = &self.typed {
            v.push(format!("type `{t}` to confirm"));
        }
        v
    }

    fn execute(self, _: StepContext) -> BoxFuture<'static, Outcome> {
        not_executed(Self::NAME)
    }
}
