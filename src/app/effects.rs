//! Runs what `update` asks for, off the UI task, and answers with messages. Owns the store:
//! it is opened here, after the first frame, so a slow database never delays the screen.
//!
//! One dispatcher routes each effect to its lane and never waits on I/O itself: store writes
//! to the [`StoreLane`] (coalescing samples), runbook jobs to the runner's own task,
//! provider requests to the providers' handles. The queue from the UI task is bounded;
//! `submit` never blocks the UI.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::providers::Providers;
use super::store_lane::StoreLane;
use crate::backups::state::{DrillRecord, DrillResult};
use crate::config::Config;
use crate::runbook::runner::{RunEnv, RunnerHandle};
use crate::runbook::spec::Runbook;
use crate::state::{Effect, Msg};
use crate::store::Store;

pub struct Runner {
    pub config: Config,
    /// The engines as resolved once at start: the providers watch these, runbook steps
    /// act on these.
    pub engines: Vec<(String, crate::services::EngineTarget)>,
    pub data_dir: PathBuf,
    pub providers: Providers,
    pub runbooks: Arc<Vec<Runbook>>,
}

/// Effects waiting for the dispatcher. Far more than a burst of keys or samples needs; if
/// the dispatcher ever falls this far behind, new effects are refused with a warning
/// rather than the UI waiting.
const QUEUE: usize = 1024;

/// The UI task's side of the effect queue.
#[derive(Clone)]
pub struct Effects {
    tx: mpsc::Sender<Effect>,
}

impl Effects {
    pub fn submit(&self, e: Effect) {
        if let Err(mpsc::error::TrySendError::Full(e)) = self.tx.try_send(e) {
            tracing::warn!("effect queue full, dropped {e:?}");
        }
    }
}

pub fn spawn(mut runner: Runner, tx: mpsc::Sender<Msg>, cancel: CancellationToken) -> Effects {
    let (etx, mut erx) = mpsc::channel::<Effect>(QUEUE);
    tokio::spawn(async move {
        let cfg = &runner.config;
        let store = match Store::open(cfg.database_url.as_deref(), &runner.data_dir).await {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!("state store unavailable: {e:#}");
                let _ = tx
                    .send(Msg::EffectFailed(format!(
                        "state store unavailable ({e:#}); running without history"
                    )))
                    .await;
                None
            }
        };
        if let Some(store) = &store {
            restore(store, &runner, &tx).await;
        }
        let lane = store
            .clone()
            .map(|s| StoreLane::spawn(s, tx.clone(), cancel.clone()));
        let runbooks = match &store {
            Some(s) => Some(start_runbooks(&runner, s.clone(), &tx).await),
            None => None,
        };
        runner
            .providers
            .attach_store(&runner.config, store.clone(), &tx, &cancel);
        // A follow-up done from the Calendar runs its action as a recorded runbook run.
        if let Some(s) = &store {
            let actions = crate::calendar::complete::Actions {
                env: run_env(&runner, s.clone()),
                books: runner.runbooks.clone(),
            };
            if let Some(c) = runner.providers.calendar.as_mut() {
                c.actions = Some(actions);
            }
        }
        loop {
            let effect = tokio::select! {
                e = erx.recv() => match e { Some(e) => e, None => break },
                _ = cancel.cancelled() => break,
            };
            let lanes = Lanes {
                store: store.as_ref(),
                lane: lane.as_ref(),
                runbooks: runbooks.as_ref(),
            };
            if let Err(e) = dispatch(&runner, &lanes, &tx, effect) {
                tracing::warn!("effect failed: {e:#}");
                let _ = tx.send(Msg::EffectFailed(format!("{e:#}"))).await;
            }
        }
    });
    Effects { tx: etx }
}

struct Lanes<'a> {
    store: Option<&'a Store>,
    lane: Option<&'a StoreLane>,
    runbooks: Option<&'a RunnerHandle>,
}

async fn restore(store: &Store, runner: &Runner, tx: &mpsc::Sender<Msg>) {
    let history = runner.config.host.history;
    let since = Utc::now() - chrono::Duration::from_std(history).unwrap_or_default();
    let samples = store.host_samples_since(since).await.unwrap_or_default();
    let transitions = store.active_alarms().await.unwrap_or_default();
    let _ = tx
        .send(Msg::Restored {
            transitions,
            samples,
        })
        .await;
    if !runner.config.services.checks.is_empty() {
        let since = Utc::now() - chrono::Duration::days(crate::services::outages::KEPT_DAYS);
        let _ = crate::services::outages::prune(store, since).await;
        if let Ok(o) = crate::services::outages::load(store, since).await {
            let _ = tx
                .send(Msg::Services(crate::services::ServicesMsg::Outages(o)))
                .await;
        }
    }
}

/// The runbook runner: records go to the store, so without a store nothing runs. Runs left
/// unfinished by a previous toban are offered for resuming.
fn run_env(runner: &Runner, store: Store) -> RunEnv {
    RunEnv {
        store,
        executor: Arc::new(crate::runbook::steps::SupervisedExecutor),
        runs_dir: runner.data_dir.join("runs"),
        connections: runner.config.runbooks.connections.clone(),
        engines: runner.engines.iter().cloned().collect(),
    }
}

async fn start_runbooks(runner: &Runner, store: Store, tx: &mpsc::Sender<Msg>) -> RunnerHandle {
    let env = run_env(runner, store.clone());
    let (mtx, mut mrx) = mpsc::channel(256);
    let handle = RunnerHandle::spawn(env.clone(), mtx);
    let fwd = tx.clone();
    tokio::spawn(async move {
        while let Some(m) = mrx.recv().await {
            if fwd.send(Msg::Runner(m)).await.is_err() {
                break;
            }
        }
    });
    match crate::runbook::runner::interrupted_runs(&env, &runner.runbooks).await {
        Ok((runs, missing)) if !runs.is_empty() || !missing.is_empty() => {
            let _ = tx.send(Msg::Resume { runs, missing }).await;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("looking for interrupted runs: {e:#}"),
    }
    send_records(store, runner.config.backups.roots.clone(), tx.clone()).await;
    handle
}

/// Drill records for the Backups tab.
async fn send_records(store: Store, roots: Vec<PathBuf>, tx: mpsc::Sender<Msg>) {
    if let Ok(rows) = store.drills(50).await {
        let _ = tx.send(Msg::Drills(drill_records(rows, &roots))).await;
    }
}

/// The service of a drill is the first folder under a backup root.
fn drill_records(rows: Vec<crate::runbook::store::Drill>, roots: &[PathBuf]) -> Vec<DrillRecord> {
    rows.into_iter()
        .map(|d| {
            let backup = d.backup.clone().unwrap_or_default();
            let service = roots
                .iter()
                .find_map(|r| {
                    std::path::Path::new(&backup)
                        .strip_prefix(r)
                        .ok()
                        .and_then(|rest| rest.components().next())
                        .map(|c| c.as_os_str().to_string_lossy().to_string())
                })
                .unwrap_or_else(|| d.runbook.clone());
            DrillRecord {
                at: d.started,
                service,
                backup: std::path::Path::new(&backup)
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or(backup),
                duration: Duration::from_millis(d.duration_ms.max(0) as u64),
                machine: d.machine_ms.map(|m| Duration::from_millis(m.max(0) as u64)),
                interactive: d.interactive,
                proof: d.proof,
                result: if d.ok {
                    DrillResult::Passed
                } else {
                    DrillResult::Failed { why: d.detail }
                },
            }
        })
        .collect()
}

fn dispatch(
    runner: &Runner,
    lanes: &Lanes,
    tx: &mpsc::Sender<Msg>,
    effect: Effect,
) -> anyhow::Result<()> {
    match effect {
        Effect::RecordTransition(t) => {
            tracing::info!(key = %t.key, from = ?t.from, to = ?t.to, "{}", t.message);
            if let Some(l) = lanes.lane {
                l.transition(t);
            }
        }
        Effect::StoreSample(sample) => {
            if let Some(l) = lanes.lane {
                l.sample(sample);
            }
        }
        Effect::Refresh(id) => runner.providers.refresh(&id),
        Effect::Verify(target) => match &runner.providers.backups {
            Some(b) => b.verify(target),
            None => anyhow::bail!("no backup catalog configured"),
        },
        Effect::CancelVerify => {
            if let Some(b) = &runner.providers.backups {
                b.cancel_verify();
            }
        }
        Effect::RunnerJobs(jobs) => match lanes.runbooks {
            Some(h) => {
                for j in jobs {
                    h.submit(j);
                }
            }
            None => anyhow::bail!("the state store is unavailable: runbooks cannot run unrecorded"),
        },
        Effect::Calendar(e) => match &runner.providers.calendar {
            Some(h) => {
                let (h, tx) = (h.clone(), tx.clone());
                tokio::spawn(async move {
                    if let Some(m) = crate::calendar::effects::run(e, &h).await {
                        let _ = tx.send(Msg::Calendar(m)).await;
                    }
                });
            }
            None => anyhow::bail!("the state store is unavailable: nothing can be recorded"),
        },
        Effect::Alarms(e) => match &runner.providers.alarms {
            Some(a) => {
                if a.try_send(e).is_err() {
                    anyhow::bail!("the alarms' queue is full; try again");
                }
            }
            None => anyhow::bail!("alarms are not started yet"),
        },
        Effect::Services(e) => {
            let (h, tx) = (runner.providers.services.clone(), tx.clone());
            let store = lanes.store.cloned();
            tokio::spawn(async move {
                if let Some(m) = crate::services::effects::run(e, &h, store).await {
                    let _ = tx.send(Msg::Services(m)).await;
                }
            });
        }
        Effect::Logs(e) => {
            let tx = tx.clone();
            let send = move |m| tx.blocking_send(Msg::Logs(m)).is_ok();
            crate::logs::provider::run(e, send, CancellationToken::new())
        }
        Effect::ReloadDrills => {
            // A run may have scheduled a follow-up: the calendar reads its records again.
            runner
                .providers
                .refresh(&crate::calendar::provider::PROVIDER);
            // A run may have verified or restored a backup: the catalog reads its stored
            // verifications again.
            if let Some(b) = &runner.providers.backups {
                b.rescan();
            }
            if let Some(s) = lanes.store {
                let roots = runner.config.backups.roots.clone();
                tokio::spawn(send_records(s.clone(), roots, tx.clone()));
            }
        }
    }
    Ok(())
}
