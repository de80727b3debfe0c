//! The Alarms capability's state: every source's latest alarms merged into one list, worst
//! first; the filter; the selection; acknowledgements and silences; the open detail; which
//! alarms newly started firing (for the bell and the top bar); the CloudWatch API meter.
//! Plain data: time comes in as an argument, I/O goes out as [`AlarmsEffect`]s.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};

use crate::config::alarms::AlarmsConfig;
use crate::health::Severity;
use crate::providers::health::Health;
use crate::providers::ProviderId;

use super::acks::{Ack, AckKind};
use super::cost::ApiMeter;
use super::detail::Detail;
use super::filter::{Filter, Marks};
use super::model::{Alarm, AlarmState, RunbookLink, Silence};
pub use super::msg::{AlarmsEffect, AlarmsMsg, NewFiring, TopBar};
pub use super::update::update;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceEntry {
    pub alarms: Vec<Alarm>,
    pub silences: Vec<Silence>,
    pub degraded: Option<String>,
    pub health: Option<Health>,
    /// A first snapshot arrived (alarms firing in it were firing before toban looked).
    pub received: bool,
}

/// How many newly firing alarms are remembered.
pub(super) const NEW_KEPT: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct AlarmsState {
    pub(super) cfg: AlarmsConfig,
    pub sources: BTreeMap<ProviderId, SourceEntry>,
    /// Every alarm, worst first.
    pub rows: Vec<Alarm>,
    /// Per row: acknowledged/silenced.
    pub marks: Vec<Marks>,
    /// Rows passing the filter (indexes into `rows`).
    pub visible: Vec<usize>,
    pub filter_text: String,
    pub filter: Filter,
    /// Index into `visible`.
    pub selected: usize,
    pub(super) selected_key: Option<String>,
    pub detail: Option<Detail>,
    /// Open acknowledgements and silences.
    pub acks: Vec<Ack>,
    pub(super) firing_seen: HashSet<String>,
    /// Newest first.
    pub new_firing: Vec<NewFiring>,
    pub meter: ApiMeter,
    /// Index into [`AlarmsState::silences`] while the silences list is open.
    pub silences_open: Option<usize>,
    /// The outcome of the last action ("silenced until 15:00", "acknowledge failed: …").
    pub notice: Option<String>,
    pub now: DateTime<Utc>,
}

impl AlarmsState {
    /// The configured remote sources appear at once (as starting) so a source that never
    /// answers is visible.
    pub fn new(cfg: &AlarmsConfig, now: DateTime<Utc>) -> AlarmsState {
        let mut sources = BTreeMap::new();
        for c in &cfg.cloudwatch {
            let regions: Vec<String> = if c.regions.is_empty() {
                vec![String::new()]
            } else {
                c.regions.clone()
            };
            for r in regions {
                sources.insert(
                    super::cloudwatch::provider_id(c, &r),
                    SourceEntry::default(),
                );
            }
        }
        for a in &cfg.alertmanager {
            sources.insert(super::alertmanager::provider_id(a), SourceEntry::default());
        }
        AlarmsState {
            cfg: cfg.clone(),
            sources,
            rows: Vec::new(),
            marks: Vec::new(),
            visible: Vec::new(),
            filter_text: String::new(),
            filter: Filter::default(),
            selected: 0,
            selected_key: None,
            detail: None,
            acks: Vec::new(),
            firing_seen: HashSet::new(),
            new_firing: Vec::new(),
            meter: ApiMeter::default(),
            notice: None,
            silences_open: None,
            now,
        }
    }

    pub fn config(&self) -> &AlarmsConfig {
        &self.cfg
    }

    /// Effects to run at start: the stored acknowledgements.
    pub fn init(&self) -> Vec<AlarmsEffect> {
        vec![AlarmsEffect::LoadAcks]
    }

    // ---- queries ---------------------------------------------------------------------

    pub fn selected(&self) -> Option<&Alarm> {
        self.visible
            .get(self.selected)
            .and_then(|i| self.rows.get(*i))
    }

    pub fn find(&self, key: &str) -> Option<&Alarm> {
        self.rows.iter().find(|a| a.key == key)
    }

    /// Open acknowledgements and silences that cover the alarm now.
    pub fn acks_of<'a>(&'a self, a: &'a Alarm) -> impl Iterator<Item = &'a Ack> + 'a {
        self.acks
            .iter()
            .filter(move |k| k.key == a.key && k.holds(a, self.now))
    }

    pub fn marks_of(&self, a: &Alarm) -> Marks {
        let mut m = Marks {
            handled: a.remote_suppressed(),
            silenced: !a.silenced_by.is_empty(),
        };
        for k in self.acks_of(a) {
            m.handled = true;
            if k.kind == AckKind::Silence {
                m.silenced = true;
            }
        }
        m
    }

    /// Firing alarms nobody has acknowledged or silenced.
    pub fn unhandled_firing(&self) -> impl Iterator<Item = &Alarm> {
        self.rows
            .iter()
            .zip(&self.marks)
            .filter(|(a, m)| a.state == AlarmState::Firing && !m.handled)
            .map(|(a, _)| a)
    }

    /// Alarms not in state OK that nobody acknowledged or silenced, worst first.
    pub fn open_alarms(&self) -> Vec<&Alarm> {
        self.rows
            .iter()
            .zip(&self.marks)
            .filter(|(a, m)| a.state != AlarmState::Ok && !m.handled)
            .map(|(a, _)| a)
            .collect()
    }

    /// The worst level among alarms that count (not acknowledged, not silenced), and unknown
    /// when a source is down (its alarms cannot be seen).
    pub fn worst(&self) -> Severity {
        let mut w = Severity::Ok;
        for (a, m) in self.rows.iter().zip(&self.marks) {
            if !m.handled && a.state != AlarmState::Ok {
                w = w.worst(a.level);
            }
        }
        for e in self.sources.values() {
            if e.health.as_ref().is_some_and(|h| h.down.is_some()) {
                w = w.worst(Severity::Unknown);
            }
        }
        w
    }

    pub fn top_bar(&self) -> TopBar {
        let firing: Vec<&Alarm> = self.unhandled_firing().collect();
        TopBar {
            firing: firing.len(),
            worst: firing.iter().map(|a| a.priority).min(),
            newest: self
                .new_firing
                .iter()
                .find(|n| firing.iter().any(|a| a.key == n.key))
                .cloned(),
        }
    }

    /// The runbook Enter starts for the selected alarm, with its parameters.
    pub fn selected_runbook(&self) -> Option<RunbookLink> {
        self.detail_alarm()
            .or_else(|| self.selected())
            .and_then(|a| a.runbook.clone())
    }

    /// The alarm the detail view shows.
    pub fn detail_alarm(&self) -> Option<&Alarm> {
        self.detail.as_ref().and_then(|d| self.find(&d.key))
    }

    // ---- navigation and filter -----------------------------------------------------------

    pub fn select_next(&mut self) {
        if let Some(i) = self.silences_open {
            let last = self.silences_count().saturating_sub(1);
            self.silences_open = Some((i + 1).min(last));
            return;
        }
        if self.selected + 1 < self.visible.len() {
            self.selected += 1;
        }
        self.remember_selection();
    }

    pub fn select_prev(&mut self) {
        if let Some(i) = self.silences_open.as_mut() {
            *i = i.saturating_sub(1);
            return;
        }
        self.selected = self.selected.saturating_sub(1);
        self.remember_selection();
    }

    pub fn page_down(&mut self, rows: usize) {
        self.selected = (self.selected + rows.max(1)).min(self.visible.len().saturating_sub(1));
        self.remember_selection();
    }

    pub fn page_up(&mut self, rows: usize) {
        self.selected = self.selected.saturating_sub(rows.max(1));
        self.remember_selection();
    }

    pub fn top(&mut self) {
        self.selected = 0;
        self.remember_selection();
    }

    pub fn bottom(&mut self) {
        self.selected = self.visible.len().saturating_sub(1);
        self.remember_selection();
    }

    /// Filters as the user types; the selection goes back to the top.
    pub fn set_filter(&mut self, text: &str) {
        if text == self.filter_text {
            return;
        }
        self.filter_text = text.to_string();
        self.filter = Filter::parse(text);
        self.refilter();
        self.selected = 0;
        self.remember_selection();
    }

    pub(super) fn remember_selection(&mut self) {
        self.selected_key = self.selected().map(|a| a.key.clone());
    }

    pub(super) fn refilter(&mut self) {
        self.visible.clear();
        if self.filter.is_empty() {
            self.visible.extend(0..self.rows.len());
            return;
        }
        let f = &self.filter;
        self.visible.extend(
            self.rows
                .iter()
                .zip(&self.marks)
                .enumerate()
                .filter(|(_, (a, m))| f.matches(a, **m))
                .map(|(i, _)| i),
        );
    }

    /// Every Alertmanager silence of every source (active and pending first).
    pub fn silences(&self) -> Vec<(&ProviderId, &Silence)> {
        let mut v: Vec<(&ProviderId, &Silence)> = self
            .sources
            .iter()
            .flat_map(|(id, e)| e.silences.iter().map(move |s| (id, s)))
            .collect();
        v.sort_by_key(|(_, s)| (s.state == "expired", std::cmp::Reverse(s.ends)));
        v
    }

    /// Re-evaluates silences against the clock (call on the console's tick).
    pub fn tick(&mut self, now: DateTime<Utc>) {
        self.now = now;
        let before = self.acks.len();
        self.acks
            .retain(|k| k.kind == AckKind::Ack || k.until.is_some_and(|u| u > now));
        if self.acks.len() != before {
            // An alarm whose silence ended counts again and sorts with the unhandled ones.
            self.rebuild();
        }
    }
}
