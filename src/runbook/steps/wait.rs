//! `wait`: until an HTTP endpoint answers 2xx, a TCP port accepts, a file exists, a
//! container is healthy, or a file is being written (after a log rotation) — or the time
//! is up.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};
use crate::runbook::exec::wait::{wait_until, WaitCheck};

#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    pub target: WaitTarget,
    pub timeout: Duration,
    /// The engine of a `container` wait, by its `[services]` name; empty: the local one.
    pub engine: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WaitTarget {
    Http(String),
    Tcp(String),
    File(String),
    Container(String),
    /// New bytes in the file since the step before this one (a log rotation) began: not
    /// empty, and modified since.
    Written(String),
}

impl WaitTarget {
    fn value(&self) -> &String {
        match self {
            WaitTarget::Http(s)
            | WaitTarget::Tcp(s)
            | WaitTarget::File(s)
            | WaitTarget::Container(s)
            | WaitTarget::Written(s) => s,
        }
    }

    fn with_value(&self, v: String) -> WaitTarget {
        match self {
            WaitTarget::Http(_) => WaitTarget::Http(v),
            WaitTarget::Tcp(_) => WaitTarget::Tcp(v),
            WaitTarget::File(_) => WaitTarget::File(v),
            WaitTarget::Container(_) => WaitTarget::Container(v),
            WaitTarget::Written(_) => WaitTarget::Written(v),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default = "two_minutes", deserialize_with = "duration")]
    timeout: Duration,
    #[serde(default)]
    http: Option<String>,
    #[serde(default)]
    tcp: Option<String>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    container: Option<String>,
    #[serde(default)]
    written: Option<String>,
    #[serde(default)]
    engine: Option<String>,
}

fn two_minutes() -> Duration {
    Duration::from_secs(120)
}

impl StepKind for Wait {
    const NAME: &'static str = "wait";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        let w: Raw = de(table)?;
        let timeout = w.timeout;
        let target = match (w.http, w.tcp, w.file, w.container, w.written) {
            (Some(u), None, None, None, None) => WaitTarget::Http(u),
            (None, Some(a), None, None, None) => WaitTarget::Tcp(a),
            (None, None, Some(f), None, None) => WaitTarget::File(f),
            (None, None, None, Some(c), None) => WaitTarget::Container(c),
            (None, None, None, None, Some(f)) => WaitTarget::Written(f),
            _ => {
                return Err(
                    "a wait step needs exactly one of `http`, `tcp`, `file`, `container`, `written`"
                        .into(),
                )
            }
        };
        if w.engine.is_some() && !matches!(target, WaitTarget::Container(_)) {
            return Err("`engine` goes with a `container` wait only".into());
        }
        Ok(Wait {
            target,
            timeout,
            engine: w.engine.unwrap_or_default(),
        })
    }

    fn fields(&self) -> Vec<Field<'_>> {
        vec![
            Field::public("target", self.target.value()),
            Field::public("engine", &self.engine),
        ]
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(Wait {
            target: self.target.with_value(r.text(self.target.value())?),
            timeout: self.timeout,
            engine: r.text(&self.engine)?,
        })
    }

    fn describe(&self) -> Vec<String> {
        vec![format!(
            "wait up to {} until {}",
            humantime::format_duration(self.timeout),
            match &self.target {
                WaitTarget::Http(u) => format!("{u} answers 2xx"),
                WaitTarget::Tcp(a) => format!("{a} accepts connections"),
                WaitTarget::File(f) => format!("{f} exists"),
                WaitTarget::Container(c) if self.engine.is_empty() => {
                    format!("container {c} is healthy")
                }
                WaitTarget::Container(c) => {
                    format!("container {c} on engine {} is healthy", self.engine)
                }
                WaitTarget::Written(f) => {
                    format!("{f} gets new bytes after the rotation (the step before)")
                }
            }
        )]
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            let since = cx.since.unwrap_or_else(chrono::Utc::now);
            let engine = match &self.target {
                WaitTarget::Container(_) => match cx.engine_endpoint(&self.engine) {
                    Ok(e) => e,
                    Err(e) => return Outcome::fail(e),
                },
                _ => None,
            };
            match wait(&self.target, engine, since, self.timeout, &cx.cancel).await {
                Ok(text) => Outcome::done(text),
                Err(e) => cx.stopped_or(e),
            }
        })
    }
}

/// Wait steps use the shared wait-until checks; only "file being written" is particular to
/// runbooks (log rotation).
async fn wait(
    target: &WaitTarget,
    engine: Option<crate::providers::docker::Endpoint>,
    since: DateTime<Utc>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<String, String> {
    let check = match target {
        WaitTarget::Http(url) => WaitCheck::Http {
            url: url.clone(),
            expect_status: None,
        },
        WaitTarget::Tcp(addr) => WaitCheck::Tcp { addr: addr.clone() },
        WaitTarget::File(f) => WaitCheck::FileExists { path: f.into() },
        WaitTarget::Container(c) => WaitCheck::ContainerHealthy {
            name: c.clone(),
            engine,
        },
        WaitTarget::Written(f) => return wait_written(Path::new(f), since, timeout, cancel).await,
    };
    let o = wait_until(&check, timeout, Duration::from_secs(1), cancel).await;
    if o.ready {
        Ok(format!("ready after {:.1}s", o.elapsed.as_secs_f64()))
    } else if o.cancelled {
        Err("interrupted by the operator".into())
    } else {
        Err(format!(
            "not ready after {} (last: {})",
            humantime::format_duration(timeout),
            o.last_error.unwrap_or_else(|| "no answer".into())
        ))
    }
}

/// Until `f` holds bytes written after `since` (when the rotation began): not empty, and
/// modified after it. A rotation empties the log (truncated, or a new file), so bytes in it
/// modified since are new; a log nothing wrote to since (an application that stopped
/// writing, old content a rotation left in place) does not count, nor does an empty one.
async fn wait_written(
    f: &Path,
    since: DateTime<Utc>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<String, String> {
    let start = Instant::now();
    let at = |t: DateTime<Utc>| t.format("%H:%M:%S%.3f UTC").to_string();
    loop {
        let seen = std::fs::metadata(f).and_then(|m| Ok((m.len(), m.modified()?)));
        let last = match &seen {
            Ok((len, modified)) => {
                let modified = DateTime::<Utc>::from(*modified);
                if *len > 0 && modified > since {
                    return Ok(format!(
                        "{}: {len} bytes, written at {} after the rotation began at {}",
                        f.display(),
                        at(modified),
                        at(since)
                    ));
                }
                format!("{len} bytes, last written at {}", at(modified))
            }
            Err(e) => e.to_string(),
        };
        if start.elapsed() >= timeout {
            return Err(format!(
                "{} not written to after the rotation at {} within {} ({last})",
                f.display(),
                at(since),
                humantime::format_duration(timeout)
            ));
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = cancel.cancelled() => return Err("interrupted by the operator".into()),
        }
    }
}
