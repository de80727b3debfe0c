//! Writes to the state store off the effect dispatcher, so a slow database never holds up a
//! runbook job or a key: alarm transitions are all written, in order; host samples are
//! coalesced — while the store is slow only the newest [`MAX_PENDING_SAMPLES`] wait, older
//! ones are dropped (they only feed trends).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use crate::alarm_types::AlarmTransition;
use crate::providers::host_types::HostSample;
use crate::state::Msg;
use crate::store::Store;

pub const MAX_PENDING_SAMPLES: usize = 64;

/// Samples are kept this long for trends.
const SAMPLE_RETENTION_DAYS: i64 = 7;

#[derive(Default)]
struct Pending {
    transitions: VecDeque<AlarmTransition>,
    samples: VecDeque<HostSample>,
    dropped_samples: u64,
}

#[derive(Clone)]
pub struct StoreLane {
    pending: Arc<Mutex<Pending>>,
    wake: Arc<Notify>,
}

impl StoreLane {
    pub fn spawn(store: Store, tx: mpsc::Sender<Msg>, cancel: CancellationToken) -> StoreLane {
        let lane = StoreLane {
            pending: Arc::default(),
            wake: Arc::default(),
        };
        let l = lane.clone();
        tokio::spawn(async move {
            let mut last_prune = Utc::now();
            loop {
                tokio::select! {
                    _ = l.wake.notified() => {}
                    _ = cancel.cancelled() => break,
                }
                let (transitions, samples, dropped) = {
                    let mut p = l.pending.lock().expect("lane lock");
                    let d = std::mem::take(&mut p.dropped_samples);
                    (
                        std::mem::take(&mut p.transitions),
                        std::mem::take(&mut p.samples),
                        d,
                    )
                };
                if dropped > 0 {
                    tracing::warn!("state store slow: {dropped} host samples not stored");
                }
                for t in transitions {
                    if let Err(e) = store.record_alarm_transition(&t).await {
                        tracing::warn!("recording an alarm transition: {e:#}");
                        let text = format!("could not record an alarm change: {e:#}");
                        let _ = tx.send(Msg::EffectFailed(text)).await;
                    }
                }
                for s in samples {
                    if let Err(e) = store.insert_host_sample(&s).await {
                        tracing::warn!("storing a host sample: {e:#}");
                        break;
                    }
                }
                if Utc::now() - last_prune > chrono::Duration::hours(1) {
                    last_prune = Utc::now();
                    let cutoff = last_prune - chrono::Duration::days(SAMPLE_RETENTION_DAYS);
                    let _ = store.prune_host_samples(cutoff).await;
                }
            }
        });
        lane
    }

    pub fn transition(&self, t: AlarmTransition) {
        self.pending
            .lock()
            .expect("lane lock")
            .transitions
            .push_back(t);
        self.wake.notify_one();
    }

    pub fn sample(&self, s: HostSample) {
        {
            let mut p = self.pending.lock().expect("lane lock");
            if p.samples.len() >= MAX_PENDING_SAMPLES {
                p.samples.pop_front();
                p.dropped_samples += 1;
            }
            p.samples.push_back(s);
        }
        self.wake.notify_one();
    }
}
