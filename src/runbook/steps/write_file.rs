//! `write_file`: write a file (its content may hold a secret), replaced atomically. A file
//! it replaces keeps its owner, group and mode (the mode given in octal wins); a new one
//! gets the mode given, else 0600.

use std::path::PathBuf;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};
use crate::atomic_write::replace_keeping_owner;

#[derive(Debug, Clone, PartialEq)]
pub struct WriteFile {
    pub path: String,
    pub content: String,
    pub mode: Option<u32>,
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
            None => None,
            Some(m) => Some(
                u32::from_str_radix(m.trim_start_matches("0o"), 8)
                    .ok()
                    .filter(|m| *m <= 0o7777)
                    .ok_or_else(|| format!("`mode`: `{m}` is not an octal mode like \"0600\""))?,
            ),
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
            "write {} ({}), content not shown",
            self.path,
            mode_words(self.mode)
        )]
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            cx.blocking(move |_| {
                let path = PathBuf::from(&self.path);
                replace_keeping_owner(&path, self.content.as_bytes(), self.mode).map_err(|e| {
                    format!("writing {}: {e} (the file is unchanged)", path.display())
                })?;
                Ok(format!("wrote {} ({})", path.display(), mode_words(self.mode)))
            })
            .await
        })
    }
}

fn mode_words(mode: Option<u32>) -> String {
    match mode {
        Some(m) => format!("mode {m:04o}, owner kept"),
        None => "owner and mode kept; a new file 0600".into(),
    }
}
