//! What the person on call does to alarms, as state methods returning effects: open the
//! detail (fetching history and chart), acknowledge, silence until a time, lift, expire an
//! Alertmanager silence, refresh.

use chrono::{DateTime, Utc};

use super::acks::{AckKind, NewAck};
use super::detail::{Detail, Load};
use super::model::{Alarm, AlarmKind, AlarmState, HistoryItem, LOCAL};
use super::msg::AlarmsEffect;
use super::state::AlarmsState;

impl AlarmsState {
    // ---- detail ------------------------------------------------------------------------

    /// Opens the selected alarm: its history and chart are fetched.
    pub fn open_detail(&mut self, now: DateTime<Utc>) -> Vec<AlarmsEffect> {
        let Some(a) = self.selected().cloned() else {
            return Vec::new();
        };
        let from = now
            - chrono::Duration::from_std(self.cfg.chart_window)
                .unwrap_or(chrono::Duration::hours(3));
        let mut effects = Vec::new();
        let history = match a.kind {
            AlarmKind::Alert => Load::Ready(alert_history(&a)),
            _ => {
                effects.push(AlarmsEffect::FetchHistory {
                    alarm: Box::new(a.clone()),
                });
                Load::Loading
            }
        };
        let chart = match (&a.kind, &a.metric) {
            (AlarmKind::Composite, _) => {
                Load::None("a composite alarm has no metric: it combines other alarms".into())
            }
            (AlarmKind::Local, _) => {
                Load::None("toban's own check: see its trend on the Overview".into())
            }
            (_, None) => Load::None("no metric or expression known for this alarm".into()),
            (_, Some(_)) => {
                effects.push(AlarmsEffect::FetchChart {
                    alarm: Box::new(a.clone()),
                    from,
                    to: now,
                });
                Load::Loading
            }
        };
        self.detail = Some(Detail {
            key: a.key.clone(),
            history,
            chart,
            from,
            to: now,
        });
        effects
    }

    pub fn close_detail(&mut self) {
        self.detail = None;
    }

    // ---- actions -----------------------------------------------------------------------

    fn target(&self) -> Option<Alarm> {
        self.detail_alarm().or_else(|| self.selected()).cloned()
    }

    /// Acknowledges the selected (or open) alarm with a note.
    pub fn acknowledge(&mut self, note: &str) -> Vec<AlarmsEffect> {
        let Some(a) = self.target() else {
            return Vec::new();
        };
        vec![AlarmsEffect::Record(NewAck::for_alarm(
            &a,
            AckKind::Ack,
            note,
            None,
        ))]
    }

    /// Silences it until `until`: a real silence for an Alertmanager alert, a stored one
    /// otherwise.
    pub fn silence(&mut self, until: DateTime<Utc>, note: &str) -> Vec<AlarmsEffect> {
        let Some(a) = self.target() else {
            return Vec::new();
        };
        if until <= self.now {
            self.notice = Some("a silence must end in the future".into());
            return Vec::new();
        }
        if a.kind == AlarmKind::Alert {
            return vec![AlarmsEffect::SilenceRemote {
                alarm: Box::new(a),
                until,
                note: note.trim().to_string(),
            }];
        }
        vec![AlarmsEffect::Record(NewAck::for_alarm(
            &a,
            AckKind::Silence,
            note,
            Some(until),
        ))]
    }

    /// Lifts what covers the selected alarm: its toban acknowledgements and silences, and
    /// the Alertmanager silences holding it.
    pub fn unsilence(&mut self) -> Vec<AlarmsEffect> {
        let Some(a) = self.target() else {
            return Vec::new();
        };
        let mut out: Vec<AlarmsEffect> = self
            .acks_of(&a)
            .map(|k| AlarmsEffect::Lift {
                id: k.id,
                action: if k.kind == AckKind::Silence {
                    "unsilence".into()
                } else {
                    "unacknowledge".into()
                },
                why: "lifted by hand".into(),
            })
            .collect();
        out.extend(a.silenced_by.iter().map(|id| AlarmsEffect::ExpireRemote {
            source: a.source.clone(),
            silence_id: id.clone(),
        }));
        out
    }

    /// Shows the Alertmanager silences (the list `select_next`/`select_prev` then move in).
    pub fn open_silences(&mut self) {
        self.silences_open = Some(0);
    }

    pub fn close_silences(&mut self) {
        self.silences_open = None;
    }

    pub(super) fn silences_count(&self) -> usize {
        self.sources.values().map(|e| e.silences.len()).sum()
    }

    /// Expires the silence selected in the silences list.
    pub fn expire_selected_silence(&mut self) -> Vec<AlarmsEffect> {
        let Some(i) = self.silences_open else {
            return Vec::new();
        };
        match self.silences().get(i) {
            Some((src, s)) if s.state != "expired" => vec![AlarmsEffect::ExpireRemote {
                source: (*src).clone(),
                silence_id: s.id.clone(),
            }],
            _ => Vec::new(),
        }
    }

    /// Asks every source for a new poll.
    pub fn refresh_all(&self) -> Vec<AlarmsEffect> {
        self.sources
            .keys()
            .filter(|id| **id != LOCAL)
            .map(|id| AlarmsEffect::Refresh(id.clone()))
            .collect()
    }
}

/// An Alertmanager alert's history is its start and its last update.
fn alert_history(a: &Alarm) -> Vec<HistoryItem> {
    let mut v = Vec::new();
    if let Some(u) = a.updated.filter(|u| *u > a.since) {
        v.push(HistoryItem {
            at: u,
            summary: "last updated by Prometheus".into(),
            to: None,
        });
    }
    v.push(HistoryItem {
        at: a.since,
        summary: "started firing".into(),
        to: Some(AlarmState::Firing),
    });
    v
}
