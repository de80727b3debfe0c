//! Runs what `update` asks for, off the UI task, and answers with messages. Owns the store:
//! it is opened here, after the first frame, so a slow database never delays the screen.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::backups::config::BackupsConfig;
use crate::providers::backups::BackupsHandle;
use crate::providers::poller::Refresh;
use crate::providers::ProviderId;
use crate::runbook::runner::{RunEnv, RunnerHandle};
use crate::runbook::spec::Runbook;
use crate::state::backups::{DrillRecord, DrillResult};
use crate::state::{Effect, Msg};
use crate::store::Store;

pub struct Runner {
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub history: Duration,
    pub host_refresh: Refresh,
    pub backups: BackupsConfig,
    pub runbooks: Arc<Vec<Runbook>>,
    pub connections: BTreeMap<String, String>,
}

/// Samples are kept this long for trends.
const SAMPLE_RETENTION_DAYS: i64 = 7;

pub fn spawn(
    runner: Runner,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) -> mpsc::UnboundedSender<Effect> {
    let (etx, mut erx) = mpsc::unbounded_channel::<Effect>();
    tokio::spawn(async move {
        let store = match Store::open(runner.database_url.as_deref(), &runner.data_dir).await {
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
        let runbooks = match &store {
            Some(s) => Some(start_runbooks(&runner, s.clone(), &tx).await),
            None => None,
        };
        let backups = (!runner.backups.roots.is_empty()).then(|| {
            spawn_backups(
                runner.backups.clone(),
                store.clone(),
                tx.clone(),
                cancel.clone(),
            )
        });
        let mut last_prune = Utc::now();
        loop {
            let effect = tokio::select! {
                e = erx.recv() => match e { Some(e) => e, None => break },
                _ = cancel.cancelled() => break,
            };
            if let Err(e) = run_one(
                &runner,
                store.as_ref(),
                backups.as_ref(),
                runbooks.as_ref(),
                &tx,
                effect,
            )
            .await
            {
                tracing::warn!("effect failed: {e:#}");
                let _ = tx.send(Msg::EffectFailed(format!("{e:#}"))).await;
            }
            if let Some(store) = &store {
                if Utc::now() - last_prune > chrono::Duration::hours(1) {
                    last_prune = Utc::now();
                    let cutoff = last_prune - chrono::Duration::days(SAMPLE_RETENTION_DAYS);
                    let _ = store.prune_host_samples(cutoff).await;
                }
            }
        }
    });
    etx
}

async fn restore(store: &Store, runner: &Runner, tx: &mpsc::Sender<Msg>) {
    let since = Utc::now() - chrono::Duration::from_std(runner.history).unwrap_or_default();
    let samples = store.host_samples_since(since).await.unwrap_or_default();
    let transitions = store.active_alarms().await.unwrap_or_default();
    let _ = tx
        .send(Msg::Restored {
            transitions,
            samples,
        })
        .await;
}

/// The catalog provider sends on its own channel; its updates are forwarded as messages.
fn spawn_backups(
    cfg: BackupsConfig,
    store: Option<Store>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) -> BackupsHandle {
    let (btx, mut brx) = mpsc::channel(64);
    let handle = crate::providers::backups::spawn(cfg, store, btx, cancel);
    tokio::spawn(async move {
        while let Some(u) = brx.recv().await {
            if tx.send(Msg::Backups(u)).await.is_err() {
                break;
            }
        }
    });
    handle
}

/// The runbook runner: records go to the store, so without a store nothing runs. Runs left
/// unfinished by a previous toban are offered for resuming.
async fn start_runbooks(runner: &Runner, store: Store, tx: &mpsc::Sender<Msg>) -> RunnerHandle {
    let env = RunEnv {
        store: store.clone(),
        executor: Arc::new(crate::runbook::steps::SupervisedExecutor),
        runs_dir: runner.data_dir.join("runs"),
        connections: runner.connections.clone(),
    };
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
    send_drills(runner, &store, tx).await;
    send_followups(&store, tx).await;
    handle
}

/// Drill records for the Backups tab; the service is the first folder under a root.
async fn send_drills(runner: &Runner, store: &Store, tx: &mpsc::Sender<Msg>) {
    let Ok(rows) = store.drills(50).await else {
        return;
    };
    let records = rows
        .into_iter()
        .map(|d| {
            let backup = d.backup.clone().unwrap_or_default();
            let service = runner
                .backups
                .roots
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
                result: if d.ok {
                    DrillResult::Passed
                } else {
                    DrillResult::Failed { why: d.detail }
                },
            }
        })
        .collect();
    let _ = tx.send(Msg::Drills(records)).await;
}

async fn send_followups(store: &Store, tx: &mpsc::Sender<Msg>) {
    if let Ok(f) = store.open_followups().await {
        let _ = tx.send(Msg::Followups(f)).await;
    }
}

async fn run_one(
    runner: &Runner,
    store: Option<&Store>,
    backups: Option<&BackupsHandle>,
    runbooks: Option<&RunnerHandle>,
    tx: &mpsc::Sender<Msg>,
    effect: Effect,
) -> anyhow::Result<()> {
    match effect {
        Effect::RecordTransition(t) => {
            tracing::info!(key = %t.key, from = ?t.from, to = ?t.to, "{}", t.message);
            if let Some(s) = store {
                s.record_alarm_transition(&t).await?;
            }
        }
        Effect::StoreSample(sample) => {
            if let Some(s) = store {
                s.insert_host_sample(&sample).await?;
            }
        }
        Effect::Refresh(ProviderId::Host) => runner.host_refresh.request(),
        Effect::Refresh(ProviderId::Backups) => {
            if let Some(b) = backups {
                b.rescan();
            }
        }
        Effect::Verify(target) => match backups {
            Some(b) => b.verify(target),
            None => anyhow::bail!("no backup catalog configured"),
        },
        Effect::RunnerJobs(jobs) => match runbooks {
            Some(h) => {
                for j in jobs {
                    h.submit(j);
                }
            }
            None => anyhow::bail!("the state store is unavailable: runbooks cannot run unrecorded"),
        },
        Effect::ReloadDrills => {
            if let Some(s) = store {
                send_drills(runner, s, tx).await;
                send_followups(s, tx).await;
            }
        }
        Effect::CancelVerify => {
            if let Some(b) = backups {
                b.cancel_verify();
            }
        }
    }
    Ok(())
}
