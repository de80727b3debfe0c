//! Messages into `update` and the effects it asks for.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use crate::alarm_types::AlarmTransition;
use crate::providers::backups::{BackupsUpdate, VerifyTarget};
use crate::providers::host_types::HostSample;
use crate::providers::poller::Report;
use crate::providers::ProviderId;

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    Tick(DateTime<Utc>),
    Host(Report<HostSample>),
    Backups(BackupsUpdate),
    /// What the store remembered from before this start.
    Restored {
        transitions: Vec<AlarmTransition>,
        samples: Vec<HostSample>,
    },
    /// A background effect failed; shown as a notice.
    EffectFailed(String),
    /// SIGTERM, SIGHUP or SIGINT.
    Signal(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    RecordTransition(AlarmTransition),
    StoreSample(HostSample),
    Refresh(ProviderId),
    Verify(VerifyTarget),
    CancelVerify,
}
