//! What goes in and out of the alarms state: messages (provider data, health, effect
//! results), effects (store writes, silences, fetches, the bell), and the summaries it
//! hands the console (the newest firing alarm, the top bar).

use chrono::{DateTime, Utc};

use crate::config::alarms::Priority;
use crate::providers::health::Health;
use crate::providers::ProviderId;

use super::acks::{Ack, NewAck};
use super::model::{Alarm, HistoryItem, Series, Snapshot};

/// Messages for this capability: provider data, health, and the results of its effects.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmsMsg {
    Snapshot(ProviderId, Snapshot),
    /// toban's own alarms, as rows ([`Alarm::local`]).
    Local(Vec<Alarm>),
    /// A source provider's health after the console's board took it in.
    Health(ProviderId, Health),
    AcksLoaded(Result<Vec<Ack>, String>),
    Acked(Result<Ack, String>),
    Lifted {
        id: i64,
        result: Result<(), String>,
    },
    RemoteSilenced {
        key: String,
        result: Result<String, String>,
    },
    RemoteExpired {
        source: ProviderId,
        id: String,
        result: Result<(), String>,
    },
    History {
        key: String,
        result: Result<Vec<HistoryItem>, String>,
    },
    Chart {
        key: String,
        source: ProviderId,
        result: Result<Vec<Series>, String>,
        /// GetMetricData metrics requested (billed).
        metrics: u32,
    },
}

/// What the state asks the effect runner to do (see `effects::run`).
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmsEffect {
    LoadAcks,
    /// Record an acknowledgement or a toban-side silence (CloudWatch, local).
    Record(NewAck),
    /// A real Alertmanager silence for the alert.
    SilenceRemote {
        alarm: Box<Alarm>,
        until: DateTime<Utc>,
        note: String,
    },
    /// End an acknowledgement or lift a toban silence (`unsilence`, `ack_ended`).
    Lift {
        id: i64,
        action: String,
        why: String,
    },
    ExpireRemote {
        source: ProviderId,
        silence_id: String,
    },
    FetchHistory {
        alarm: Box<Alarm>,
    },
    FetchChart {
        alarm: Box<Alarm>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    Bell,
    Refresh(ProviderId),
}

/// An alarm that started firing while toban watched.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFiring {
    pub key: String,
    pub name: String,
    pub priority: Priority,
    pub at: DateTime<Utc>,
}

/// What the top bar shows on every tab.
#[derive(Debug, Clone, PartialEq)]
pub struct TopBar {
    /// Firing, neither acknowledged nor silenced.
    pub firing: usize,
    pub worst: Option<Priority>,
    pub newest: Option<NewFiring>,
}
