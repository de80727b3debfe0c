//! `generate_secret`: a random password of letters and digits (no quoting trouble anywhere
//! it goes), kept in the run's memory as `{{secrets.ID}}`, never shown or logged.

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
            "generate a random {}-character secret (kept in memory, never shown or logged)",
            self.length
        )]
    }

    fn execute(self, _: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            let mut o = Outcome::said(
                true,
                format!("generated a {}-character secret (not shown)", self.length),
            );
            o.secret = Some(generate_secret(self.length));
            o
        })
    }
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
