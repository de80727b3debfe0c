//! Alarms: CloudWatch alarms (metric and composite), Alertmanager alerts (deduplicated across
//! an HA pair, grouped like its routes) and toban's own local alarms in one list, with
//! P1–P4 priorities, acknowledgements and silences, history, a metric chart with the
//! threshold line, the runbook that fixes each alarm, and `toban alarms`.
//!
//! Providers are pollers ([`spawn`]); the state is [`state::AlarmsState`] with its own
//! [`state::update`]; effects run in [`effects::run`]; views are in [`view`].

pub mod acks;
mod actions;
pub mod alertmanager;
pub mod classify;
pub mod cli;
pub mod cloudwatch;
pub mod cost;
pub mod detail;
pub mod effects;
pub mod filter;
pub mod findings;
pub mod model;
pub mod msg;
pub mod prometheus;
pub mod state;
pub mod store;
mod update;
pub mod view;

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::alarms::AlarmsConfig;
use crate::providers::health::{Envelope, HealthEvent};
use crate::providers::{poller, ProviderId};
use crate::store::Store;

pub use effects::Handles;
pub use findings::findings;
pub use model::{Alarm, Snapshot};
pub use state::{update, AlarmsEffect, AlarmsMsg, AlarmsState};

/// Every remote source's provider id and poll interval (for the health board).
pub fn schedules(cfg: &AlarmsConfig) -> Vec<(ProviderId, Duration)> {
    let mut out = Vec::new();
    for c in &cfg.cloudwatch {
        if c.regions.is_empty() {
            out.push((cloudwatch::provider_id(c, ""), c.interval));
        }
        for r in &c.regions {
            out.push((cloudwatch::provider_id(c, r), c.interval));
        }
    }
    for a in &cfg.alertmanager {
        out.push((alertmanager::provider_id(a), a.interval));
    }
    out
}

/// Starts one poller per CloudWatch region and per Alertmanager source; their snapshots
/// and health go to `tx`. Returns what the effects need.
pub async fn spawn<M>(
    cfg: &AlarmsConfig,
    store: Option<Store>,
    tx: mpsc::Sender<M>,
    cancel: CancellationToken,
) -> Handles
where
    M: Envelope<Snapshot>,
{
    let mut h = Handles {
        store,
        who: acks::Who::current(),
        ..Default::default()
    };
    for c in &cfg.cloudwatch {
        for region in cloudwatch::connect(c).await {
            let id = region.origin.id.clone();
            let refresh = poller::spawn(
                id.clone(),
                cloudwatch::schedule(c),
                cloudwatch::Poller::new(region.clone()),
                tx.clone(),
                cancel.clone(),
            );
            h.refresh.insert(id.clone(), refresh);
            h.cloudwatch.insert(id, region);
        }
    }
    for a in &cfg.alertmanager {
        let id = alertmanager::provider_id(a);
        match alertmanager::Cluster::new(a) {
            Ok(cluster) => {
                let refresh = poller::spawn(
                    id.clone(),
                    alertmanager::schedule(a),
                    alertmanager::Poller(cluster.clone()),
                    tx.clone(),
                    cancel.clone(),
                );
                h.refresh.insert(id.clone(), refresh);
                h.alertmanager.insert(id, cluster);
            }
            Err(e) => {
                let at = chrono::Utc::now();
                let reason = format!("{e:#}");
                let _ = tx
                    .send(M::health(id, HealthEvent::Failed { at, reason }))
                    .await;
            }
        }
    }
    h
}
