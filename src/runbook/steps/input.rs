//! `input`: ask for (or confirm) a parameter's value, validated against the parameter.

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, not_executed, CheckCx, Field, Problem, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub param: String,
    #[serde(default)]
    pub prompt: Option<String>,
}

impl StepKind for Input {
    const NAME: &'static str = "input";
    const INTERACTIVE: bool = true;

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        de(table)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        self.prompt
            .iter()
            .map(|p| Field::text("prompt", p))
            .collect()
    }

    fn check(&self, cx: &CheckCx<'_>) -> Vec<Problem> {
        if cx.params.contains(self.param.as_str()) {
            return Vec::new();
        }
        vec![Problem {
            field: "param".into(),
            needle: self.param.clone(),
            message: format!("unknown parameter `{}`", self.param),
        }]
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(Input {
            param: self.param.clone(),
            prompt: r.opt(&self.prompt)?,
        })
    }

    fn describe(&self) -> Vec<String> {
        vec![self
            .prompt
            .clone()
            .unwrap_or_else(|| format!("enter `{}`", self.param))]
    }

    fn execute(self, _: StepContext) -> BoxFuture<'static, Outcome> {
        not_executed(Self::NAME)
    }
}
