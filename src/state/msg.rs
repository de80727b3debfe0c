//! Messages into `update` and the effects it asks for.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use crate::alarm_types::AlarmTransition;
use crate::backups::provider::{BackupsUpdate, VerifyTarget};
use crate::providers::host_types::HostSample;
use crate::providers::{Envelope, HealthEvent, ProviderId};

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    Tick(DateTime<Utc>),
    /// Every provider's own report of how it is doing, kept in one place.
    Health(ProviderId, HealthEvent),
    Host(HostSample),
    Backups(BackupsUpdate),
    /// The calendar's records and the answers to what it asked to record.
    Calendar(crate::calendar::CalendarMsg),
    /// Containers, check outcomes, certificates, stats and action results.
    Services(crate::services::ServicesMsg),
    /// What the store remembered from before this start.
    Restored {
        transitions: Vec<AlarmTransition>,
        samples: Vec<HostSample>,
    },
    /// A background effect failed; shown as a notice.
    EffectFailed(String),
    /// A running runbook's task reports.
    Runner(crate::runbook::runner::RunnerMsg),
    /// Runs found unfinished at start (toban died or the SSH session dropped), and runs whose
    /// runbook no longer exists.
    Resume {
        runs: Vec<(
            crate::runbook::engine::Engine,
            Vec<crate::runbook::engine::Event>,
        )>,
        missing: Vec<String>,
    },
    /// Alarm sources' snapshots and the answers to what the alarms asked for.
    Alarms(crate::alarms::AlarmsMsg),
    /// The restore drills on record, newest first.
    Drills(Vec<crate::backups::state::DrillRecord>),
    /// SIGTERM, SIGHUP or SIGINT.
    Signal(&'static str),
    /// Log sources' lines and the searches' rows.
    Logs(crate::logs::LogsMsg),
}

#[derive(Debug, Clone)]
pub enum Effect {
    RecordTransition(AlarmTransition),
    StoreSample(HostSample),
    Refresh(ProviderId),
    Verify(VerifyTarget),
    CancelVerify,
    /// Work for the runbook runner (records, step executions, interrupts), in order.
    RunnerJobs(Vec<crate::runbook::runner::Job>),
    /// Read the drill records again (a run finished).
    ReloadDrills,
    /// Record a duty done, skipped or snoozed; read the calendar again.
    Calendar(crate::calendar::CalendarEffect),
    /// Acknowledge, silence, fetch an alarm's history and chart, ring the bell.
    Alarms(crate::alarms::AlarmsEffect),
    /// Stats for the rows on screen, a log tail, a confirmed container action.
    Services(crate::services::ServicesEffect),
    /// Open a log file, or search a source's lines off the UI task.
    Logs(crate::logs::LogsEffect),
}

impl Envelope<HostSample> for Msg {
    fn data(_: &ProviderId, sample: HostSample) -> Self {
        Msg::Host(sample)
    }
    fn health(id: ProviderId, event: HealthEvent) -> Self {
        Msg::Health(id, event)
    }
}

impl Envelope<crate::calendar::store::CalendarRecords> for Msg {
    fn data(_: &ProviderId, records: crate::calendar::store::CalendarRecords) -> Self {
        Msg::Calendar(crate::calendar::CalendarMsg::Records(records))
    }
    fn health(id: ProviderId, event: HealthEvent) -> Self {
        Msg::Health(id, event)
    }
}

impl Envelope<crate::alarms::Snapshot> for Msg {
    fn data(id: &ProviderId, snap: crate::alarms::Snapshot) -> Self {
        Msg::Alarms(crate::alarms::AlarmsMsg::Snapshot(id.clone(), snap))
    }
    fn health(id: ProviderId, event: HealthEvent) -> Self {
        Msg::Health(id, event)
    }
}

impl Envelope<Vec<crate::services::ContainerUpdate>> for Msg {
    fn data(_: &ProviderId, u: Vec<crate::services::ContainerUpdate>) -> Self {
        Msg::Services(crate::services::ServicesMsg::Containers(u))
    }
    fn health(id: ProviderId, event: HealthEvent) -> Self {
        Msg::Health(id, event)
    }
}

impl Envelope<crate::services::model::CheckOutcome> for Msg {
    fn data(_: &ProviderId, o: crate::services::model::CheckOutcome) -> Self {
        Msg::Services(crate::services::ServicesMsg::Check(o))
    }
    fn health(id: ProviderId, event: HealthEvent) -> Self {
        Msg::Health(id, event)
    }
}

impl Envelope<Vec<crate::services::model::CertInfo>> for Msg {
    fn data(_: &ProviderId, c: Vec<crate::services::model::CertInfo>) -> Self {
        Msg::Services(crate::services::ServicesMsg::Certs(c))
    }
    fn health(id: ProviderId, event: HealthEvent) -> Self {
        Msg::Health(id, event)
    }
}
