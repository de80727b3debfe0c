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
use crate::backups::lookup::verify_path_reading;
use crate::backups::verify::{verdict, VerifyReport};
use crate::runbook::exec::{DumpReport, DumpScan};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBackup {
    pub path: String,
    /// The dump is a psql script for this database: read its SQL in the same pass and say
    /// (in the step's output, which a confirmation can quote) when it connects to, creates
    /// or drops another database; a drill refuses such a dump here.
    #[serde(default)]
    pub sql_database: Option<String>,
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
        let mut v = vec![Field::public("path", &self.path)];
        if let Some(d) = &self.sql_database {
            v.push(Field::public("sql_database", d));
        }
        v
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(VerifyBackup {
            path: r.text(&self.path)?,
            sql_database: r.opt_set(&self.sql_database)?,
            timeout: self.timeout,
        })
    }

    fn describe(&self) -> Vec<String> {
        let p = &self.path;
        let mut v = vec![if p.ends_with(".gz") {
            format!("verify {p}: gzip integrity, and its checksum if a manifest lists it")
        } else {
            format!(
                "verify {p}: every file its manifest lists, by size and sha256, and that the \
                 backup job reported success"
            )
        }];
        if let Some(d) = &self.sql_database {
            v.push(format!(
                "and read its SQL: does it leave database {d} (\\connect, CREATE/DROP DATABASE)?"
            ));
        }
        v
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            let path = PathBuf::from(&self.path);
            let done: Arc<Mutex<Option<VerifyReport>>> = Arc::default();
            let keep = done.clone();
            let (database, drill) = (self.sql_database.clone(), cx.drill);
            let mut o = cx
                .blocking(move |stop| {
                    let mut scan = database.as_deref().map(DumpScan::new);
                    let (entry, report) = verify_path_reading(&path, stop, &mut |b| {
                        if let Some(s) = scan.as_mut() {
                            s.feed(b);
                        }
                    });
                    let v = verdict(&entry, &report);
                    *keep.lock().unwrap_or_else(|e| e.into_inner()) = Some(report.clone());
                    if !v.ok {
                        // The summary, then every defect: the step's message and its tail.
                        return Err(std::iter::once(v.summary)
                            .chain(v.details)
                            .collect::<Vec<_>>()
                            .join("\n"));
                    }
                    let mut lines = vec![v.summary];
                    lines.extend(report.files.iter().map(|f| {
                        format!("{}: {} ({} bytes)", f.path, f.outcome.describe(), f.bytes)
                    }));
                    let report = scan
                        .map(|s| s.finish(true))
                        .filter(|r| !r.findings.is_empty());
                    match report {
                        Some(r) if drill => Err(format!(
                            "refused in a drill: {}; a drill must not reach another database",
                            leaves_database(&r)
                        )),
                        // The whole warning first (the confirmation quotes it), then a short
                        // one for the step's line, then each finding on a line of its own.
                        Some(r) => {
                            let mut all = vec![
                                format!("WARNING: {}", leaves_database(&r)),
                                format!(
                                    "WARNING: {} line(s) of the dump leave database {}",
                                    r.findings.len(),
                                    r.target
                                ),
                            ];
                            all.extend(r.findings.iter().map(|f| f.describe()));
                            all.extend(lines);
                            Ok(all.join("\n"))
                        }
                        None => Ok(lines.join("\n")),
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
            if o.ok {
                // `{{steps.ID.output}}` is the warning alone (empty when there is none), so
                // a confirmation can quote it.
                let text = std::mem::take(&mut o.output);
                let mut lines = text.lines();
                match lines.next() {
                    Some(w) if w.starts_with("WARNING:") => {
                        o.output = w.to_string();
                        o.message = lines.next().unwrap_or_default().to_string();
                        o.tail = lines.collect::<Vec<_>>().join("\n");
                    }
                    _ => {}
                }
            } else {
                let mut lines = o.message.lines();
                let first = lines.next().unwrap_or_default().to_string();
                o.tail = lines.collect::<Vec<_>>().join("\n");
                o.message = first;
            }
            o
        })
    }
}

/// What a confirmation says of a dump that does not stay in its database.
fn leaves_database(r: &DumpReport) -> String {
    format!(
        "the dump does not stay in database {}: {}",
        r.target,
        r.findings_text()
    )
}
