//! Carries out the services' effects off the UI task, on the engine the container provider
//! connected: stats reads for the rows on screen, a container's log tail, and the confirmed
//! restart / stop / start — each action written to the audit log (the runbooks' table, run
//! id `services:<engine>/<name>`) with the user and SSH client.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;

use super::containers::{stats_once, SharedEngine};
use super::state::{ContainerOp, ServicesEffect, ServicesMsg};
use crate::providers::docker::Engine;
use crate::runbook::engine::AuditEntry;
use crate::store::Store;

/// How long a stop (and the stop of a restart) waits before SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
pub const LOG_LINES: usize = 20;

#[derive(Clone, Default)]
pub struct Handles {
    pub engines: HashMap<String, SharedEngine>,
}

impl Handles {
    fn engine(&self, name: &str) -> Result<Engine, String> {
        self.engines
            .get(name)
            .and_then(|e| e.lock().ok().and_then(|g| g.clone()))
            .ok_or_else(|| format!("engine {name} is not connected"))
    }
}

pub async fn run(effect: ServicesEffect, h: &Handles, store: Option<Store>) -> Option<ServicesMsg> {
    match effect {
        ServicesEffect::Stats(rows) => {
            let mut out = Vec::new();
            for (engine, id) in rows {
                let Ok(e) = h.engine(&engine) else { continue };
                if let Ok(s) = stats_once(&e, &id).await {
                    out.push((engine, id, s));
                }
            }
            Some(ServicesMsg::Stats(out))
        }
        ServicesEffect::Logs { engine, id } => {
            let lines = match h.engine(&engine) {
                Ok(e) => e
                    .logs_tail(&id, LOG_LINES)
                    .await
                    .map(|l| l.iter().map(|s| super::model::clean(s)).collect())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            Some(ServicesMsg::Logs { id, lines })
        }
        ServicesEffect::RecordOutage { service, outage } => {
            if let Some(s) = &store {
                if let Err(e) = super::outages::record(s, &service, &outage).await {
                    tracing::warn!("outage of {service} not stored: {e:#}");
                }
            }
            None
        }
        ServicesEffect::Act {
            op,
            engine,
            id,
            name,
            user,
            ssh_client,
        } => {
            let started = Utc::now();
            let result = match h.engine(&engine) {
                Ok(e) => match op {
                    ContainerOp::Restart => e.restart(&id, STOP_GRACE).await,
                    ContainerOp::Stop => e.stop(&id, STOP_GRACE).await,
                    ContainerOp::Start => e.start(&id).await,
                }
                .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            let entry = audit_entry(op, &engine, &name, &user, ssh_client, started, &result);
            let result = match store {
                Some(s) => match s.append_audit(&entry).await {
                    Ok(()) => result,
                    // The action happened; say the record did not.
                    Err(e) => result.and(Err(format!("done, but not in the audit log: {e:#}"))),
                },
                None => result.and(Err(
                    "done, but the state store is unavailable: not in the audit log".into(),
                )),
            };
            Some(ServicesMsg::Acted { op, name, result })
        }
    }
}

pub fn audit_entry(
    op: ContainerOp,
    engine: &str,
    name: &str,
    user: &str,
    ssh_client: Option<String>,
    started: chrono::DateTime<Utc>,
    result: &Result<(), String>,
) -> AuditEntry {
    let outcome = match result {
        Ok(()) => "done".to_string(),
        Err(e) => format!("failed: {e}"),
    };
    AuditEntry {
        run_id: format!("services:{engine}/{name}"),
        at_ms: started.timestamp_millis(),
        event: format!("container_{}", op.verb()),
        step_id: None,
        detail: format!("{} container {name} on {engine}: {outcome}", op.verb()),
        exit_code: Some(if result.is_ok() { 0 } else { 1 }),
        duration_ms: Some((Utc::now() - started).num_milliseconds()),
        digest: None,
        tail: None,
        dry_run: false,
        user: user.to_string(),
        ssh_client,
    }
}
