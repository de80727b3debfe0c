//! Acknowledgements and toban-side silences: what they are and whether one still holds.
//! An acknowledgement holds while the alarm stays in the state it was acknowledged in (a
//! new state change needs a new look); a silence holds until its end time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::{Alarm, AlarmState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckKind {
    Ack,
    Silence,
}

impl AckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AckKind::Ack => "ack",
            AckKind::Silence => "silence",
        }
    }

    pub fn parse(s: &str) -> Option<AckKind> {
        match s {
            "ack" => Some(AckKind::Ack),
            "silence" => Some(AckKind::Silence),
            _ => None,
        }
    }
}

/// Who did something: the login user, the host, and the SSH client it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Who {
    pub user: String,
    pub host: String,
    pub ssh_client: Option<String>,
}

impl Who {
    /// The current process's user, host and SSH client.
    pub fn current() -> Who {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        Who {
            user: crate::actor::current_user(),
            host,
            ssh_client: crate::actor::ssh_client(),
        }
    }

    /// `user@host`, Alertmanager's `createdBy`.
    pub fn user_at_host(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }
}

/// An acknowledgement or silence to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAck {
    pub key: String,
    pub name: String,
    pub kind: AckKind,
    pub note: String,
    pub until: Option<DateTime<Utc>>,
    pub state: AlarmState,
    pub state_since: DateTime<Utc>,
}

impl NewAck {
    pub fn for_alarm(a: &Alarm, kind: AckKind, note: &str, until: Option<DateTime<Utc>>) -> NewAck {
        NewAck {
            key: a.key.clone(),
            name: a.name.clone(),
            kind,
            note: note.trim().to_string(),
            until,
            state: a.state,
            state_since: a.since,
        }
    }
}

/// A recorded acknowledgement or silence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub kind: AckKind,
    pub note: String,
    pub who: String,
    pub ssh_client: Option<String>,
    pub at: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub state: AlarmState,
    pub state_since: DateTime<Utc>,
}

impl Ack {
    /// Whether it still covers `a` at `now`.
    pub fn holds(&self, a: &Alarm, now: DateTime<Utc>) -> bool {
        match self.kind {
            AckKind::Ack => {
                a.state == self.state
                    && a.since.timestamp_millis() == self.state_since.timestamp_millis()
            }
            AckKind::Silence => self.until.is_some_and(|u| u > now),
        }
    }

    /// An acknowledgement whose alarm moved on: recorded as ended.
    pub fn ended_by_change(&self, a: &Alarm) -> bool {
        self.kind == AckKind::Ack && !self.holds(a, a.since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::model::AlarmKind;
    use crate::providers::ProviderId;
    use chrono::Duration;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn alarm(state: AlarmState, since: DateTime<Utc>) -> Alarm {
        Alarm::new(
            ProviderId::named("cloudwatch", "prod"),
            "k".into(),
            AlarmKind::Metric,
            "x",
            state,
            since,
        )
    }

    fn ack(kind: AckKind, until: Option<DateTime<Utc>>) -> Ack {
        Ack {
            id: 1,
            key: "k".into(),
            name: "x".into(),
            kind,
            note: "looking".into(),
            who: "ops".into(),
            ssh_client: None,
            at: t(10),
            until,
            state: AlarmState::Firing,
            state_since: t(0),
        }
    }

    #[test]
    fn an_ack_holds_until_the_state_changes() {
        let a = ack(AckKind::Ack, None);
        assert!(a.holds(&alarm(AlarmState::Firing, t(0)), t(99_999)));
        assert!(!a.holds(&alarm(AlarmState::Ok, t(50)), t(60)));
        // Back in ALARM later: a new episode, not the acknowledged one.
        assert!(!a.holds(&alarm(AlarmState::Firing, t(70)), t(80)));
        assert!(a.ended_by_change(&alarm(AlarmState::Ok, t(50))));
    }

    #[test]
    fn a_silence_holds_until_its_end_whatever_the_state() {
        let s = ack(AckKind::Silence, Some(t(0) + Duration::hours(2)));
        assert!(s.holds(&alarm(AlarmState::Ok, t(50)), t(3600)));
        assert!(!s.holds(&alarm(AlarmState::Firing, t(0)), t(7200)));
        assert!(!s.ended_by_change(&alarm(AlarmState::Ok, t(50))));
    }
}
