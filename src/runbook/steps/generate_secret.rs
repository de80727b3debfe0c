//! `generate_secret`: a random password of letters and digits (no quoting trouble anywhere
//! it goes), `{{secrets.ID}}` for later steps, never shown or logged. Kept in memory and in a
//! 0600 file of the run's private folder until the run ends (see `runner::secrets`).

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};

#[derive(Debug, Clone, PartialEq)]
pub struct GenerateSecret {
    pub length: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    length: Option<usize>,
}

impl StepKind for GenerateSecret {
    const NAME: &'static str = "generate_secret";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        let g: Raw = de(table)?;
        let length = g.length.unwrap_or(32);
        if !(16..=256).contains(&length) {
            return Err("`length` must be between 16 and 256".into());
        }
        Ok(GenerateSecret { length })
    }

    fn makes_secret(&self) -> bool {
        true
    }

    fn fields(&self) -> Vec<Field<'_>> {
        Vec::new()
    }

    fn render(&self, _: &Render<'_>) -> Result<Self, String> {
        Ok(self.clone())
    }

    fn describe(&self) -> Vec<String> {
        vec![format!(
            "generate a random {}-character secret (never shown or logged; kept in memory and \
             a 0600 file in the run's folder until the run ends)",
            self.length
        )]
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            let mut o = Outcome::said(
                true,
                format!("generated a {}-character secret (not shown)", self.length),
            );
            o.output = kept_where(&cx);
            o.secret = Some(generate_secret(self.length));
            o
        })
    }
}

/// Where the run keeps its secrets until it ends (a resumed run needs them), for the screen.
pub fn kept_where(cx: &StepContext) -> String {
    format!(
        "kept until the run ends (to resume it) in memory and in 0600 files in\n{}/",
        cx.exec.run_dir.join("secrets").display()
    )
}

pub fn generate_secret(length: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..length)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_long_and_differ() {
        let a = generate_secret(32);
        let b = generate_secret(32);
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
