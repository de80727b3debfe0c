//! How the alarms state takes in messages: a source's snapshot replaces its alarms (newly
//! firing ones ring the bell, acknowledgements of alarms that moved on end), effect results
//! land, and the merged list is re-sorted worst first.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::acks::AckKind;
use super::classify;
use super::detail::Load;
use super::filter::Marks;
use super::model::{Alarm, AlarmState, LOCAL};
use super::msg::{AlarmsEffect, AlarmsMsg, NewFiring};
use super::state::{AlarmsState, NEW_KEPT};
use crate::providers::ProviderId;

impl AlarmsState {
    pub(super) fn ingest(
        &mut self,
        id: ProviderId,
        mut alarms: Vec<Alarm>,
        now: DateTime<Utc>,
    ) -> Vec<AlarmsEffect> {
        for a in &mut alarms {
            classify::apply(&self.cfg, a);
        }
        let entry = self.sources.entry(id.clone()).or_default();
        let first = !entry.received;
        entry.received = true;
        let firing_now: HashSet<String> = alarms
            .iter()
            .filter(|a| a.state == AlarmState::Firing)
            .map(|a| a.key.clone())
            .collect();
        let mut fresh: Vec<NewFiring> = Vec::new();
        if !first {
            for a in alarms.iter().filter(|a| a.state == AlarmState::Firing) {
                if !self.firing_seen.contains(&a.key) {
                    fresh.push(NewFiring {
                        key: a.key.clone(),
                        name: a.name.clone(),
                        priority: a.priority,
                        at: now,
                    });
                }
            }
        }
        let old_keys: Vec<String> = entry.alarms.iter().map(|a| a.key.clone()).collect();
        for k in old_keys {
            if !firing_now.contains(&k) {
                self.firing_seen.remove(&k);
            }
        }
        self.firing_seen.extend(firing_now);
        entry.alarms = alarms;
        self.rebuild();

        let mut effects = Vec::new();
        // Acknowledgements whose alarm moved on (or went away) are recorded as ended.
        let entry = &self.sources[&id];
        let ended: Vec<(i64, String)> = self
            .acks
            .iter()
            .filter(|k| k.kind == AckKind::Ack)
            .filter_map(|k| {
                let row = entry.alarms.iter().find(|a| a.key == k.key);
                match row {
                    Some(a) if k.ended_by_change(a) => {
                        Some((k.id, format!("state changed to {}", a.state.label())))
                    }
                    None if belongs(&k.key, &id) => Some((k.id, "the alarm is gone".into())),
                    _ => None,
                }
            })
            .collect();
        for (ack_id, why) in ended {
            self.acks.retain(|k| k.id != ack_id);
            effects.push(AlarmsEffect::Lift {
                id: ack_id,
                action: "ack_ended".into(),
                why,
            });
        }
        if !effects.is_empty() {
            self.remark();
        }
        let ring: Vec<NewFiring> = fresh
            .into_iter()
            .filter(|n| self.find(&n.key).is_some_and(|a| !self.marks_of(a).handled))
            .collect();
        if !ring.is_empty() {
            if self.cfg.bell {
                effects.push(AlarmsEffect::Bell);
            }
            for n in ring.into_iter().rev() {
                self.new_firing.insert(0, n);
            }
            self.new_firing.truncate(NEW_KEPT);
        }
        effects
    }

    /// Merges every source's alarms, sorts worst first, keeps the selection on its alarm.
    pub(super) fn rebuild(&mut self) {
        if let Some(a) = self.selected() {
            self.selected_key = Some(a.key.clone());
        }
        let mut rows: Vec<Alarm> = self
            .sources
            .values()
            .flat_map(|e| e.alarms.iter().cloned())
            .collect();
        let acked: HashMap<&str, bool> = self.acks.iter().map(|k| (k.key.as_str(), true)).collect();
        let now = self.now;
        let acks = &self.acks;
        let handled = |a: &Alarm| {
            a.remote_suppressed()
                || (acked.contains_key(a.key.as_str())
                    && acks.iter().any(|k| k.key == a.key && k.holds(a, now)))
        };
        rows.sort_by_cached_key(|a| {
            (
                std::cmp::Reverse(a.state),
                handled(a),
                a.priority,
                std::cmp::Reverse(a.since),
                a.key.clone(),
            )
        });
        self.rows = rows;
        self.remark();
    }

    /// Recomputes the per-row marks and the filter, keeping the selection.
    pub(super) fn remark(&mut self) {
        let marks: Vec<Marks> = if self.acks.is_empty() {
            self.rows
                .iter()
                .map(|a| Marks {
                    handled: a.remote_suppressed(),
                    silenced: !a.silenced_by.is_empty(),
                })
                .collect()
        } else {
            self.rows.iter().map(|a| self.marks_of(a)).collect()
        };
        self.marks = marks;
        self.refilter();
        if let Some(k) = &self.selected_key {
            if let Some(pos) = self.visible.iter().position(|i| self.rows[*i].key == *k) {
                self.selected = pos;
                return;
            }
        }
        self.selected = self.selected.min(self.visible.len().saturating_sub(1));
    }
}

/// Whether a stored key belongs to this provider's alarms (`cloudwatch:prod/…` for
/// `cloudwatch:prod` or `cloudwatch:prod@eu-west-1/…` region providers).
fn belongs(key: &str, id: &ProviderId) -> bool {
    let name = id.name();
    let base = name.split('@').next().unwrap_or(name);
    match name.split_once('@') {
        Some((_, region)) => key.starts_with(&format!("{base}/{region}/")),
        None => key.starts_with(&format!("{base}/")),
    }
}

/// Applies one message; returns the effects to run.
pub fn update(s: &mut AlarmsState, msg: AlarmsMsg, now: DateTime<Utc>) -> Vec<AlarmsEffect> {
    s.now = now;
    match msg {
        AlarmsMsg::Snapshot(id, snap) => {
            if id.kind() == "cloudwatch" {
                for (op, n) in &snap.api_calls {
                    s.meter.record(now, op, *n);
                }
            }
            let entry = s.sources.entry(id.clone()).or_default();
            entry.silences = snap.silences;
            entry.degraded = snap.degraded;
            s.ingest(id, snap.alarms, now)
        }
        AlarmsMsg::Local(alarms) => s.ingest(LOCAL, alarms, now),
        AlarmsMsg::Health(id, h) => {
            s.sources.entry(id).or_default().health = Some(h);
            Vec::new()
        }
        AlarmsMsg::AcksLoaded(Ok(acks)) => {
            s.acks = acks;
            s.rebuild();
            Vec::new()
        }
        AlarmsMsg::AcksLoaded(Err(e)) => {
            s.notice = Some(format!("acknowledgements could not be read: {e}"));
            Vec::new()
        }
        AlarmsMsg::Acked(Ok(ack)) => {
            s.notice = Some(match (ack.kind, ack.until) {
                (AckKind::Silence, Some(u)) => {
                    format!(
                        "{} silenced until {}",
                        ack.name,
                        u.format("%Y-%m-%d %H:%M UTC")
                    )
                }
                _ => format!("{} acknowledged", ack.name),
            });
            s.acks.push(ack);
            s.rebuild();
            Vec::new()
        }
        AlarmsMsg::Acked(Err(e)) => {
            s.notice = Some(format!("not recorded: {e}"));
            Vec::new()
        }
        AlarmsMsg::Lifted { id, result } => {
            match result {
                Ok(()) => {
                    s.acks.retain(|k| k.id != id);
                    s.rebuild();
                }
                Err(e) => s.notice = Some(format!("could not lift: {e}")),
            }
            Vec::new()
        }
        AlarmsMsg::RemoteSilenced { key, result } => {
            let row = s.find(&key);
            let src = row.map(|a| a.source.clone());
            let name = row.map(|a| a.name.clone()).unwrap_or(key);
            match result {
                Ok(id) => {
                    s.notice = Some(format!("{name} silenced in Alertmanager (silence {id})"));
                    src.map(AlarmsEffect::Refresh).into_iter().collect()
                }
                Err(e) => {
                    s.notice = Some(format!("silence failed: {e}"));
                    Vec::new()
                }
            }
        }
        AlarmsMsg::RemoteExpired { source, id, result } => match result {
            Ok(()) => {
                s.notice = Some(format!("silence {id} expired"));
                vec![AlarmsEffect::Refresh(source)]
            }
            Err(e) => {
                s.notice = Some(format!("could not expire silence {id}: {e}"));
                Vec::new()
            }
        },
        AlarmsMsg::History { key, result } => {
            if let Some(d) = s.detail.as_mut().filter(|d| d.key == key) {
                d.history = match result {
                    Ok(h) => Load::Ready(h),
                    Err(e) => Load::Failed(e),
                };
            }
            Vec::new()
        }
        AlarmsMsg::Chart {
            key,
            source,
            result,
            metrics,
        } => {
            if source.kind() == "cloudwatch" {
                s.meter.record(now, "GetMetricData", metrics);
            }
            if let Some(d) = s.detail.as_mut().filter(|d| d.key == key) {
                d.chart = match result {
                    Ok(series) if series.iter().all(|x| x.points.is_empty()) => {
                        Load::None("no data points in the window".into())
                    }
                    Ok(series) => Load::Ready(series),
                    Err(e) => Load::Failed(e),
                };
            }
            Vec::new()
        }
    }
}
