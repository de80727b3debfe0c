//! `command`: a program run as argv (never through a shell) under toban's supervisor, so it
//! survives toban, is stopped at its time limit even when toban is gone, and can be
//! reattached after a restart. Output (stdout and stderr together) streams to the wizard.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, FieldUse, Render, StepHeader, StepKind};
use super::{Outcome, Reattach, StepContext};
use crate::runbook::exec::{
    read_command_output, reattach as reattach_dir, spawn_command, CommandRequest, Reattached,
    DumpReport, SqlScan, StdinSource, DUMP_SCAN_FILE,
};

/// Most of a command's output kept as `{{steps.ID.output}}`.
pub const OUTPUT_CAP: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    pub argv: Vec<String>,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default = "ten_minutes", deserialize_with = "duration")]
    pub timeout: Duration,
    #[serde(default)]
    pub stdin: Option<StdinSpec>,
    /// Exit codes that count as success (default `[0]`).
    #[serde(default)]
    pub ok_codes: Vec<i32>,
}

fn ten_minutes() -> Duration {
    Duration::from_secs(600)
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdinSpec {
    /// Feed this file to the command's stdin.
    pub file: String,
    /// Decompress it on the way (gzip), in-process: no `gunzip | …` shell pipe.
    #[serde(default)]
    pub gunzip: bool,
    /// The stream is a psql script for this database: count each `COPY` block's rows on the
    /// way (for `compare_counts`), stop a dump cut inside its data before psql can commit,
    /// and in a drill refuse a dump that connects to, creates or drops another database
    /// before that line reaches psql.
    #[serde(default)]
    pub sql_database: Option<String>,
    /// The file is a backup: the catalog's verifier (as `toban backups verify`) reads it on
    /// the way, and a failed verdict stops the command before the end of its input. With
    /// it a drill verifies in the same read as its restore.
    #[serde(default)]
    pub verify: bool,
}

impl StepKind for Command {
    const NAME: &'static str = "command";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        let mut c: Command = de(table)?;
        if c.argv.is_empty() {
            return Err("`argv` must name a program".into());
        }
        if c.ok_codes.is_empty() {
            c.ok_codes = vec![0];
        }
        Ok(c)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        let mut v = Field::each("argv", &self.argv, FieldUse::Public);
        if let Some(c) = &self.cwd {
            v.push(Field::public("cwd", c));
        }
        for (k, s) in &self.env {
            v.push(Field::public(format!("env.{k}"), s));
        }
        if let Some(s) = &self.stdin {
            v.push(Field::public("stdin.file", &s.file));
            if let Some(d) = &s.sql_database {
                v.push(Field::public("stdin.sql_database", d));
            }
        }
        v
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        let mut env = BTreeMap::new();
        for (k, v) in &self.env {
            let v = r.text(v)?;
            // An empty value leaves the variable unset (an optional setting not given).
            if !v.is_empty() {
                env.insert(k.clone(), v);
            }
        }
        Ok(Command {
            argv: r.list(&self.argv)?,
            cwd: r.opt_set(&self.cwd)?,
            env,
            timeout: self.timeout,
            stdin: match &self.stdin {
                Some(st) => Some(StdinSpec {
                    file: r.text(&st.file)?,
                    gunzip: st.gunzip,
                    sql_database: r.opt_set(&st.sql_database)?,
                    verify: st.verify,
                }),
                None => None,
            },
            ok_codes: self.ok_codes.clone(),
        })
    }

    fn describe(&self) -> Vec<String> {
        let mut v = vec!["run the program (no shell), argv:".to_string()];
        for (i, a) in self.argv.iter().enumerate() {
            v.push(format!("  [{i}] {a}"));
        }
        if let Some(c) = &self.cwd {
            v.push(format!("in folder {c}"));
        }
        for (k, val) in &self.env {
            v.push(format!("env {k}={val}"));
        }
        if let Some(s) = &self.stdin {
            v.push(format!(
                "stdin: {}{}",
                s.file,
                if s.gunzip {
                    if s.verify {
                        " (decompressed and verified by toban in the same read)"
                    } else {
                        " (decompressed by toban)"
                    }
                } else {
                    ""
                }
            ));
            if let Some(d) = &s.sql_database {
                v.push(format!(
                    "stdin read on the way as a dump for database {d}: rows per table counted, \
                     a cut dump stopped before COMMIT, a drill refuses one that leaves {d}"
                ));
            }
        }
        v.push(format!(
            "time limit {}",
            humantime::format_duration(self.timeout)
        ));
        v
    }

    fn time_limit(&self) -> Duration {
        // The supervisor stops it at `timeout` and needs its kill grace on top.
        self.timeout + Duration::from_secs(6)
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(run(self, cx))
    }
}

async fn run(c: Command, cx: StepContext) -> Outcome {
    let dir = cx.step_dir();
    let mut req = CommandRequest::new(c.argv, &dir);
    req.cwd = c.cwd.map(PathBuf::from);
    req.env = c.env.into_iter().collect();
    req.timeout = Some(c.timeout);
    req.scan = c
        .stdin
        .as_ref()
        .and_then(|s| s.sql_database.clone())
        .map(|database| SqlScan {
            database,
            refuse_foreign: cx.drill,
            verify: c.stdin.as_ref().is_some_and(|s| s.verify && s.gunzip),
        });
    let scanned = req.scan.is_some();
    req.stdin = match c.stdin {
        Some(s) if s.gunzip => StdinSource::GunzipFile(PathBuf::from(s.file)),
        Some(s) => StdinSource::File(PathBuf::from(s.file)),
        None => StdinSource::None,
    };
    let running = match spawn_command(req).await {
        Ok(r) => r,
        Err(e) => return Outcome::fail(e.to_string()),
    };
    let mut lines = running.output_lines();
    let to_screen = cx.lines.clone();
    // Awaiting the send is the backpressure: a slow screen slows this reader, which only
    // follows the output file (the command itself never waits for toban).
    let forward = tokio::spawn(async move {
        while let Some(l) = lines.recv().await {
            if let Some(tx) = &to_screen {
                if tx.send(l).await.is_err() {
                    break;
                }
            }
        }
    });
    let result = running.wait_or_cancel(cx.cancel.clone()).await;
    let _ = forward.await;
    let o = match result {
        Err(e) => return Outcome::fail(e.to_string()),
        Ok(o) => o,
    };
    let ok = o.error.is_none()
        && !o.timed_out
        && !o.cancelled
        && o.exit_code.is_some_and(|code| c.ok_codes.contains(&code));
    let report = scanned.then(|| read_dump_report(&dir)).flatten();
    // A backup verified on its way to psql is a verification the Backups tab shows (a drill
    // of a dump would otherwise leave it "not verified").
    if let Some(v) = report.as_ref().and_then(|r| r.verification.as_ref()) {
        if let Err(e) = cx.exec.store.record_backup_verification(v).await {
            tracing::warn!("recording the verification read with the restore: {e:#}");
        }
    }
    // A stream stopped on purpose says why first (the kill that did it is the detail).
    let stopped = report.and_then(|r| r.refused);
    let message = match stopped {
        Some(why) => format!("{why} (psql {})", o.summary().split(';').next().unwrap_or_default()),
        None => o.summary(),
    };
    Outcome {
        ok,
        cancelled: o.cancelled,
        exit_code: o.exit_code,
        output: read_command_output(&dir, OUTPUT_CAP)
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        message,
        tail: o.output_tail.join("\n"),
        digest: Some(format!("sha256:{}", o.output_sha256)),
        secret: None,
        duration: Some(o.duration),
    }
}

/// What the supervisor's reading of a dump found (`stdin.sql_database`), if it read one.
pub fn read_dump_report(dir: &Path) -> Option<DumpReport> {
    let bytes = std::fs::read(dir.join(DUMP_SCAN_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// What became of the command last started in a step's folder.
pub fn reattach(dir: &Path) -> Reattach {
    match reattach_dir(dir) {
        Reattached::Finished(o) => Reattach::Finished {
            exit_code: o.exit_code.unwrap_or(128 + o.signal.unwrap_or(0)),
            tail: o.output_tail.join("\n"),
        },
        Reattached::StillRunning(_) => Reattach::StillRunning,
        Reattached::Lost { .. } => Reattach::Lost,
        Reattached::NeverStarted => Reattach::NeverStarted,
    }
}
