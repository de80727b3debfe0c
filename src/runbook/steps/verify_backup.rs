//! `verify_backup`: the gate a restore passes "before anything is touched" — the backup
//! catalog's own verifier and verdict (`toban backups verify`): every listed file present,
//! of its size and sha256, inside the backup folder, and the job reported success; a dump's
//! gzip stream complete.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};
use crate::backups::lookup::verify_path;
use crate::backups::verify::{verdict, VerifyReport};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBackup {
    pub path: String,
    #[serde(default = "two_hours", deserialize_with = "duration")]
    pub timeout: Duration,
}

fn two_hours() -> Duration {
    Duration::from_secs(2 * 3600)
}

impl StepKind for VerifyBackup {
    const NAME: &'static str = "verify_backup";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        de(table)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        vec![Field::public("path", &self.path)]
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(VerifyBackup {
            path: r.text(&self.path)?,
            timeout: self.timeout,
        })
    }

    fn describe(&self) -> Vec<String> {
        let p = &self.path;
        vec![if p.ends_with(".gz") {
            format!("verify {p}: gzip integrity, and its checksum if a manifest lists it")
        } else {
            format!(
                "verify {p}: every file its manifest lists, by size and sha256, and that the \
                 backup job reported success"
            )
        }]
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            let path = PathBuf::from(&self.path);
            let done: Arc<Mutex<Option<VerifyReport>>> = Arc::default();
            let keep = done.clone();
            let mut o = cx
                .blocking(move |stop| {
                    let (entry, report) = verify_path(&path, stop);
                    let v = verdict(&entry, &report);
                    *keep.lock().unwrap_or_else(|e| e.into_inner()) = Some(report.clone());
                    if v.ok {
                        let mut lines = vec![v.summary];
                        lines.extend(report.files.iter().map(|f| {
                            format!("{}: {} ({} bytes)", f.path, f.outcome.describe(), f.bytes)
                        }));
                        Ok(lines.join("\n"))
                    } else {
                        // The summary, then every defect: the step's message and its tail.
                        Err(std::iter::once(v.summary)
                            .chain(v.details)
                            .collect::<Vec<_>>()
                            .join("\n"))
                    }
                })
                .await;
            // A verification in a runbook is a verification: the Backups tab shows it as one
            // (it would otherwise say "not verified" next to a backup a drill just checked).
            let report = done.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(r) = report.filter(|r| !r.cancelled) {
                if let Err(e) = cx.exec.store.record_backup_verification(&r).await {
                    tracing::warn!("recording the runbook's verification: {e:#}");
                }
            }
            if !o.ok {
                let mut lines = o.message.lines();
                let first = lines.next().unwrap_or_default().to_string();
                o.tail = lines.collect::<Vec<_>>().join("\n");
                o.message = first;
            }
            o
        })
    }
}
