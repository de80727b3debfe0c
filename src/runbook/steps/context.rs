//! What a running step gets from the runner: where its files go, the named database
//! connections, the store, the operator's cancel token, its time limit and a channel for
//! output lines — and the helpers that make any work stop when it must.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::outcome::Outcome;
use crate::runbook::exec::sql::Limits;
use crate::store::Store;

/// What every step of a run shares.
#[derive(Debug, Clone)]
pub struct ExecContext {
    pub run_id: String,
    /// Folder for this run's command output, pid and status files (created 0700).
    pub run_dir: PathBuf,
    /// Connection names → database URLs (from the configuration; never shown).
    pub connections: BTreeMap<String, String>,
    /// Container engines by name, as `[services]` configures them (the local engine is
    /// `local` when none is).
    pub engines: BTreeMap<String, crate::providers::docker::EngineTarget>,
    pub store: Store,
}

impl ExecContext {
    /// Where a step's command keeps its files: `<run_dir>/steps/<id>`.
    pub fn step_dir(&self, step_id: &str) -> PathBuf {
        self.run_dir.join("steps").join(safe_name(step_id))
    }
}

fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One step's run.
#[derive(Debug, Clone)]
pub struct StepContext {
    pub exec: ExecContext,
    pub step_id: String,
    /// Fires when the operator interrupts the step.
    pub cancel: CancellationToken,
    pub time_limit: Duration,
    pub started: Instant,
    /// When the last step that ran before this one started (see [`super::Rendered`]).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Output lines as they come, for the wizard's pane. Bounded: a slow screen slows the
    /// reader of the command's output, never memory.
    pub lines: Option<mpsc::Sender<String>>,
    /// The run is a drill: its target is scratch, and nothing may reach production.
    pub drill: bool,
}

impl StepContext {
    pub fn deadline(&self) -> Instant {
        self.started + self.time_limit
    }

    pub fn step_dir(&self) -> PathBuf {
        self.exec.step_dir(&self.step_id)
    }

    /// The URL of a connection named in the configuration.
    pub fn connection(&self, name: &str) -> Result<String, String> {
        self.exec
            .connections
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no connection named `{name}` in the configuration"))
    }

    /// Where the engine a step names is: one of `[services]`'s by name, or the local engine
    /// (`DOCKER_HOST`, the current context, the usual sockets: None) when the step names
    /// none, or `local` and no engine is configured by that name.
    pub fn engine_endpoint(
        &self,
        name: &str,
    ) -> Result<Option<crate::providers::docker::Endpoint>, String> {
        match self.exec.engines.get(name) {
            Some(t) => t.clone().map_err(|e| format!("engine `{name}`: {e}")),
            None if name.is_empty() || name == "local" => Ok(None),
            None => Err(format!(
                "no engine named `{name}` in [services] (configured: {})",
                if self.exec.engines.is_empty() {
                    "none".to_string()
                } else {
                    self.exec
                        .engines
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )),
        }
    }

    /// The SQL layer's limits: what is left of the time limit, and the cancel token.
    pub fn sql_limits(&self) -> Limits {
        Limits {
            time_limit: self.deadline().saturating_duration_since(Instant::now()),
            cancel: self.cancel.clone(),
        }
    }

    /// The outcome of a step stopped by the operator or by its time limit (whichever it
    /// was), or a failure saying `failed` otherwise.
    pub fn stopped_or(&self, failed: String) -> Outcome {
        if self.cancel.is_cancelled() {
            Outcome {
                cancelled: true,
                ..Outcome::fail(failed)
            }
        } else {
            Outcome::fail(failed)
        }
    }

    /// Why the step is being stopped now, if it is.
    fn stop_reason(&self) -> String {
        if self.cancel.is_cancelled() {
            "interrupted by the operator".into()
        } else {
            format!(
                "stopped at its time limit of {}",
                humantime::format_duration(self.time_limit)
            )
        }
    }

    /// `work`'s outcome, or a stopped one as soon as the operator cancels or the time limit
    /// passes (the work is dropped). For work that cannot stop by itself.
    pub async fn bounded(&self, work: impl Future<Output = Outcome>) -> Outcome {
        tokio::select! {
            o = work => o,
            _ = self.cancel.cancelled() => self.stopped_or(self.stop_reason()),
            _ = tokio::time::sleep_until(self.deadline()) => Outcome::fail(self.stop_reason()),
        }
    }

    /// Runs blocking file work on a worker thread. `f` gets a token that fires on cancel or
    /// at the time limit and should look at it between chunks; the step ends then either
    /// way.
    pub async fn blocking(
        &self,
        f: impl FnOnce(&CancellationToken) -> Result<String, String> + Send + 'static,
    ) -> Outcome {
        let stop = self.cancel.child_token();
        let timer = {
            let (stop, deadline) = (stop.clone(), self.deadline());
            tokio::spawn(async move {
                tokio::time::sleep_until(deadline).await;
                stop.cancel();
            })
        };
        let worker_stop = stop.clone();
        let work = async move {
            let r = tokio::task::spawn_blocking(move || f(&worker_stop))
                .await
                .unwrap_or_else(|e| Err(format!("the step's worker failed: {e}")));
            Outcome::from_result(r)
        };
        let o = self.bounded(work).await;
        timer.abort();
        if !o.ok && stop.is_cancelled() {
            return self.stopped_or(format!("{}: {}", self.stop_reason(), o.message));
        }
        o
    }
}

/// A reader that fails once `stop` fires: long copies (an archive, a log file) look at the
/// cancel token between chunks without knowing about it.
pub struct StopRead<'a, R> {
    pub inner: R,
    pub stop: &'a CancellationToken,
}

impl<R: std::io::Read> std::io::Read for StopRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stop.is_cancelled() {
            return Err(std::io::Error::other("stopped"));
        }
        self.inner.read(buf)
    }
}
