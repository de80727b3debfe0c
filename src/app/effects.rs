//! Runs what `update` asks for, off the UI task, and answers with messages. Owns the store:
//! it is opened here, after the first frame, so a slow database never delays the screen.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::backups::config::BackupsConfig;
use crate::providers::backups::BackupsHandle;
use crate::providers::poller::Refresh;
use crate::providers::ProviderId;
use crate::state::{Effect, Msg};
use crate::store::Store;

pub struct Runner {
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub history: Duration,
    pub host_refresh: Refresh,
    pub read_only: bool,
    pub backups: BackupsConfig,
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
            if let Err(e) = run_one(&runner, store.as_ref(), backups.as_ref(), effect).await {
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

async fn run_one(
    runner: &Runner,
    store: Option<&Store>,
    backups: Option<&BackupsHandle>,
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
        Effect::CancelVerify => {
            if let Some(b) = backups {
                b.cancel_verify();
            }
        }
    }
    let _ = runner.read_only;
    Ok(())
}
