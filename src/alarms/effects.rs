//! Runs what the alarms state asks for, off the UI task: store writes (acknowledgements,
//! silences, their audit), Alertmanager silences, the detail view's history and chart, the
//! bell, early refreshes. Each effect answers with at most one [`AlarmsMsg`].

use std::collections::HashMap;
use std::io::Write;

use chrono::Utc;

use crate::providers::poller::Refresh;
use crate::providers::ProviderId;
use crate::store::Store;

use super::acks::Who;
use super::alertmanager::Cluster;
use super::cloudwatch::{self, Region};
use super::model::{Alarm, AlarmKind, AlarmState, HistoryItem, MetricQuery};
use super::state::{AlarmsEffect, AlarmsMsg};

/// What effects need: the store, the sources' clients and refresh handles, who acts.
#[derive(Clone, Default)]
pub struct Handles {
    pub store: Option<Store>,
    pub cloudwatch: HashMap<ProviderId, Region>,
    pub alertmanager: HashMap<ProviderId, Cluster>,
    pub refresh: HashMap<ProviderId, Refresh>,
    pub who: Who,
}

const NO_STORE: &str = "the state store is unavailable, so nothing can be recorded";

pub async fn run(effect: AlarmsEffect, h: &Handles) -> Option<AlarmsMsg> {
    let now = Utc::now();
    match effect {
        AlarmsEffect::LoadAcks => {
            let r = match &h.store {
                Some(s) => s.open_alarm_acks(now).await.map_err(|e| format!("{e:#}")),
                None => Ok(Vec::new()),
            };
            Some(AlarmsMsg::AcksLoaded(r))
        }
        AlarmsEffect::Record(new) => {
            let r = match &h.store {
                Some(s) => s
                    .record_alarm_ack(&new, &h.who, now)
                    .await
                    .map_err(|e| format!("{e:#}")),
                None => Err(NO_STORE.into()),
            };
            Some(AlarmsMsg::Acked(r))
        }
        AlarmsEffect::SilenceRemote { alarm, until, note } => {
            let result = match h.alertmanager.get(&alarm.source) {
                Some(c) => c
                    .silence(&alarm, until, &note, &h.who)
                    .await
                    .map_err(|e| format!("{e:#}")),
                None => Err(format!("{} is not configured", alarm.source)),
            };
            if let (Ok(id), Some(store)) = (&result, &h.store) {
                let detail = format!(
                    "{}: Alertmanager silence {id} until {}: {note}",
                    alarm.name,
                    until.format("%Y-%m-%d %H:%M UTC")
                );
                if let Err(e) = store
                    .audit_alarm_action(&alarm.key, "remote_silence", &detail, &h.who, now)
                    .await
                {
                    tracing::warn!("alarm audit not written: {e:#}");
                }
            }
            Some(AlarmsMsg::RemoteSilenced {
                key: alarm.key.clone(),
                result,
            })
        }
        AlarmsEffect::Lift { id, action, why } => {
            let result = match &h.store {
                Some(s) => s
                    .clear_alarm_ack(id, &action, &why, &h.who, now)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:#}")),
                None => Err(NO_STORE.into()),
            };
            Some(AlarmsMsg::Lifted { id, result })
        }
        AlarmsEffect::ExpireRemote { source, silence_id } => {
            let result = match h.alertmanager.get(&source) {
                Some(c) => c.expire(&silence_id).await.map_err(|e| format!("{e:#}")),
                None => Err(format!("{source} is not configured")),
            };
            if let (Ok(()), Some(store)) = (&result, &h.store) {
                let detail = format!("Alertmanager silence {silence_id} expired");
                if let Err(e) = store
                    .audit_alarm_action(source.name(), "remote_expire", &detail, &h.who, now)
                    .await
                {
                    tracing::warn!("alarm audit not written: {e:#}");
                }
            }
            Some(AlarmsMsg::RemoteExpired {
                source,
                id: silence_id,
                result,
            })
        }
        AlarmsEffect::FetchHistory { alarm } => Some(AlarmsMsg::History {
            key: alarm.key.clone(),
            result: history(&alarm, h).await,
        }),
        AlarmsEffect::FetchChart { alarm, from, to } => {
            let (result, metrics) = match (&alarm.metric, alarm.kind) {
                (Some(MetricQuery::CloudWatch(queries)), _) => {
                    match h.cloudwatch.get(&alarm.source) {
                        Some(r) => match cloudwatch::metric_data(r, queries, from, to).await {
                            Ok((s, n)) => (Ok(s), n),
                            Err(e) => (Err(format!("{e:#}")), 1),
                        },
                        None => (Err(format!("{} is not configured", alarm.source)), 0),
                    }
                }
                (Some(MetricQuery::Prometheus { expr }), AlarmKind::Alert) => {
                    match h.alertmanager.get(&alarm.source) {
                        Some(c) => (
                            c.chart(expr, from, to).await.map_err(|e| format!("{e:#}")),
                            0,
                        ),
                        None => (Err(format!("{} is not configured", alarm.source)), 0),
                    }
                }
                _ => (Err("no metric to chart".into()), 0),
            };
            Some(AlarmsMsg::Chart {
                key: alarm.key.clone(),
                source: alarm.source.clone(),
                result,
                metrics,
            })
        }
        AlarmsEffect::Bell => {
            // One BEL byte: terminals ring or flash; it moves no cursor and draws nothing.
            let mut out = std::io::stdout();
            let _ = out.write_all(b"\x07").and_then(|_| out.flush());
            None
        }
        AlarmsEffect::Refresh(id) => {
            if let Some(r) = h.refresh.get(&id) {
                r.request();
            }
            None
        }
    }
}

async fn history(alarm: &Alarm, h: &Handles) -> Result<Vec<HistoryItem>, String> {
    match alarm.kind {
        AlarmKind::Metric | AlarmKind::Composite => match h.cloudwatch.get(&alarm.source) {
            Some(r) => cloudwatch::history(r, &alarm.name, 20)
                .await
                .map_err(|e| format!("{e:#}")),
            None => Err(format!("{} is not configured", alarm.source)),
        },
        AlarmKind::Local => {
            let Some(store) = &h.store else {
                return Err(NO_STORE.into());
            };
            let key = alarm.key.strip_prefix("local/").unwrap_or(&alarm.key);
            let all = store
                .alarm_transitions(2000)
                .await
                .map_err(|e| format!("{e:#}"))?;
            Ok(all
                .into_iter()
                .filter(|t| t.key == key)
                .take(20)
                .map(|t| HistoryItem {
                    at: t.at,
                    summary: format!("{} → {}: {}", t.from.label(), t.to.label(), t.message),
                    to: Some(if t.to == crate::health::Severity::Ok {
                        AlarmState::Ok
                    } else {
                        AlarmState::Firing
                    }),
                })
                .collect())
        }
        AlarmKind::Alert => Ok(Vec::new()),
    }
}
