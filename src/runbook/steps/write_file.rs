//! `write_file`: write a file (its content may hold a secret), replaced atomically, with
//! the mode given in octal (default 0600).

use std::path::PathBuf;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};
use crate::atomic_write::write_atomically;

#[derive(Debug, Clone, PartialEq)]
pub struct WriteFile {
    pub path: String,
    pub content: String,
    pub mode: u32,
    pub timeout: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default = "one_minute", deserialize_with = "duration")]
    timeout: Duration,
    path: String,
    content: String,
    #[serde(default)]
    mode: Option<String>,
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}

impl StepKind for WriteFile {
    const NAME: &'static str = "write_file";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        let w: Raw = de(table)?;
        let mode = match w.mode {
            None => 0o600,
            Some(m) => u32::from_str_radix(m.trim_start_matches("0o"), 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .ok_or_else(|| format!("`mode`: `{m}` is not an octal mode like \"0600\""))?,
        };
        Ok(WriteFile {
            path: w.path,
            content: w.content,
            mode,
            timeout: w.timeout,
        })
    }

    fn fields(&self) -> Vec<Field<'_>> {
        vec![
            Field::public("path", &self.path),
            Field::text("content", &self.content),
        ]
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(WriteFile {
            path: r.text(&self.path)?,
            content: r.text(&self.content)?,
            ..self.clone()
        })
    }

    fn describe(&self) -> Vec<String> {
        vec![format!(
            "write {} (mode {:04o}), content not shown",
            self.path, self.mode
        )]
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            cx.blocking(move |_| {
                let path = PathBuf::from(&self.path);
                write_atomically(&path, self.content.as_bytes(), self.mode)
                    .map_err(|e| format!("writing {}: {e}", path.display()))?;
                Ok(format!("wrote {} (mode {:04o})", path.display(), self.mode))
            })
            .await
        })
    }
}
