//! `check`: compare two rendered values — `changed` (must differ), `equal`, `contains` —
//! e.g. that a certificate's expiry moved after a renewal.

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub left: String,
    pub op: CheckOp,
    pub right: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOp {
    Changed,
    Equal,
    Contains,
}

impl StepKind for Check {
    const NAME: &'static str = "check";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        de(table)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        vec![Field::text("left", &self.left), Field::text("right", &self.right)]
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(Check {
            left: r.text(&self.left)?,
            op: self.op,
            right: r.text(&self.right)?,
        })
    }

    fn describe(&self) -> Vec<String> {
        vec![format!(
            "check that `{}` {} `{}`",
            self.left,
            match self.op {
                CheckOp::Changed => "differs from",
                CheckOp::Equal => "equals",
                CheckOp::Contains => "contains",
            },
            self.right
        )]
    }

    fn execute(self, _: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            let (left, right) = (self.left.trim(), self.right.trim());
            let ok = match self.op {
                CheckOp::Changed => left != right,
                CheckOp::Equal => left == right,
                CheckOp::Contains => self.left.contains(self.right.as_str()),
            };
            let mut o = Outcome::said(
                ok,
                if ok {
                    format!("ok: `{left}`")
                } else {
                    format!("check failed: `{left}` vs `{right}`")
                },
            );
            o.output = left.to_string();
            o
        })
    }
}
