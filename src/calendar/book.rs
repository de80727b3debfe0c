//! The duties with what was recorded against them, and what that means at a given moment:
//! which occurrence is due, overdue, missed, done or skipped, the agenda, a duty's history
//! and today's summary. Pure: the time is always an argument.
//!
//! An occurrence is missed when a later one of the same duty has come due without it
//! being done: completing the newest does not pile the older ones up, and they stay in
//! the history as missed. A duty counted from its last completion never misses: it is
//! overdue until done, then due again N days later.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::model::{Duty, DutyEvent, EventKind};
use super::recur::{day_start, Recurrence};
use super::store::CalendarRecords;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OccState {
    Overdue,
    Due,
    Snoozed,
    Upcoming,
    Missed,
    Skipped,
    Done,
}

impl OccState {
    pub fn label(self) -> &'static str {
        match self {
            OccState::Overdue => "overdue",
            OccState::Due => "due",
            OccState::Snoozed => "snoozed",
            OccState::Upcoming => "upcoming",
            OccState::Missed => "missed",
            OccState::Skipped => "skipped",
            OccState::Done => "done",
        }
    }

    /// Drawn beside the duty so the state reads without colour (NO_COLOR, monochrome).
    pub fn symbol(self) -> &'static str {
        match self {
            OccState::Overdue => "!",
            OccState::Due => "*",
            OccState::Snoozed => "z",
            OccState::Upcoming => "·",
            OccState::Missed => "x",
            OccState::Skipped => "-",
            OccState::Done => "✓",
        }
    }

    /// Still wants doing.
    pub fn open(self) -> bool {
        matches!(self, OccState::Overdue | OccState::Due | OccState::Snoozed)
    }
}

/// One occurrence of one duty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Occurrence {
    /// Index into [`Book::duties`].
    #[serde(skip)]
    pub duty: usize,
    pub duty_id: String,
    /// When it falls due.
    pub at: DateTime<Utc>,
    pub state: OccState,
    /// When it is (or becomes) overdue: due time (or snooze end) plus grace.
    pub overdue_at: DateTime<Utc>,
    /// The record that resolved or snoozed it.
    pub event: Option<DutyEvent>,
}

/// One line of a duty's history, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub occurrence: DateTime<Utc>,
    pub state: OccState,
    pub event: Option<DutyEvent>,
}

/// Today's duties and the open count, for the Overview card.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Summary {
    /// Every occurrence due today (in the shown zone), any state.
    pub today: Vec<Occurrence>,
    pub overdue: usize,
    pub due: usize,
    /// The first one still to come.
    pub next: Option<Occurrence>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Book {
    pub duties: Vec<Duty>,
    /// Per duty id, in the order recorded.
    events: HashMap<String, Vec<DutyEvent>>,
    /// Since when each duty is tracked: earlier occurrences do not count.
    tracked: HashMap<String, DateTime<Utc>>,
}

/// How far back history and missed occurrences are looked for.
pub const HISTORY_DAYS: i64 = 90;

impl Book {
    pub fn new(duties: Vec<Duty>, events: Vec<DutyEvent>) -> Book {
        let mut b = Book {
            duties,
            events: HashMap::new(),
            tracked: HashMap::new(),
        };
        b.set_events(events);
        b
    }

    /// The configured duties, then the follow-ups as one-off duties (in `zone`, overdue
    /// after `grace`), with the records.
    pub fn assemble(duties: &[Duty], records: &CalendarRecords, zone: Tz, grace: Duration) -> Book {
        let mut all = duties.to_vec();
        all.extend(records.followups.iter().map(|f| f.to_duty(zone, grace)));
        let mut b = Book::new(all, records.events.clone());
        b.set_tracked(records.tracked.clone());
        b
    }

    /// Since when each duty is tracked. A duty counted from its last completion that was
    /// never done (and names no start) is due on its first tracked day.
    pub fn set_tracked(&mut self, tracked: HashMap<String, DateTime<Utc>>) {
        for d in &mut self.duties {
            if let (Recurrence::AfterDone { start, .. }, Some(since)) =
                (&mut d.recurrence, tracked.get(&d.id))
            {
                if start.is_none() {
                    *start = Some(since.with_timezone(&d.zone).date_naive());
                }
            }
        }
        self.tracked = tracked;
    }

    /// Occurrences before this do not count. Not for duties counted from done: they have
    /// one occurrence at a time, which tracking already placed on the first day.
    fn since(&self, duty: usize) -> Option<DateTime<Utc>> {
        let d = &self.duties[duty];
        if matches!(d.recurrence, Recurrence::AfterDone { .. }) {
            return None;
        }
        self.tracked.get(&d.id).copied()
    }

    /// The duty's occurrences in `[from, to)` from the time it is tracked.
    fn times(
        &self,
        duty: usize,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        let d = &self.duties[duty];
        let from = self.since(duty).map_or(from, |s| s.max(from));
        d.recurrence.between(d.zone, from, to, self.base(duty), now)
    }

    pub fn set_events(&mut self, mut events: Vec<DutyEvent>) {
        events.sort_by_key(|e| (e.recorded, e.id));
        self.events.clear();
        for e in events {
            self.events.entry(e.duty_id.clone()).or_default().push(e);
        }
    }

    pub fn events_of(&self, duty_id: &str) -> &[DutyEvent] {
        self.events.get(duty_id).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn index_of(&self, duty_id: &str) -> Option<usize> {
        self.duties.iter().position(|d| d.id == duty_id)
    }

    /// When the duty was last done or skipped (what "every N days from done" counts from).
    pub fn last_resolved(&self, duty: usize) -> Option<&DutyEvent> {
        self.events_of(&self.duties[duty].id)
            .iter()
            .filter(|e| e.kind != EventKind::Snoozed)
            .max_by_key(|e| (e.at, e.recorded, e.id))
    }

    fn base(&self, duty: usize) -> Option<DateTime<Utc>> {
        self.last_resolved(duty).map(|e| e.at)
    }

    /// The latest done/skip record of one occurrence.
    fn resolution(&self, duty: usize, at: DateTime<Utc>) -> Option<&DutyEvent> {
        self.events_of(&self.duties[duty].id)
            .iter()
            .rev()
            .find(|e| e.occurrence == at && e.kind != EventKind::Snoozed)
    }

    fn snooze(&self, duty: usize, at: DateTime<Utc>) -> Option<&DutyEvent> {
        self.events_of(&self.duties[duty].id)
            .iter()
            .rev()
            .find(|e| e.occurrence == at && e.kind == EventKind::Snoozed)
    }

    /// The duty's latest occurrence at or before `now`.
    pub fn latest_past(&self, duty: usize, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let d = &self.duties[duty];
        d.recurrence
            .last_at_or_before(d.zone, now, self.base(duty), now)
            .filter(|t| self.since(duty).is_none_or(|s| *t >= s))
    }

    /// The state of one occurrence; `latest` is the duty's latest past occurrence.
    fn occurrence(
        &self,
        duty: usize,
        at: DateTime<Utc>,
        latest: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Occurrence {
        let d = &self.duties[duty];
        let snooze = self.snooze(duty, at);
        let start = snooze.and_then(|s| s.until).map_or(at, |u| u.max(at));
        let overdue_at = start + d.grace;
        let (state, event) = if let Some(e) = self.resolution(duty, at) {
            let s = if e.kind == EventKind::Done {
                OccState::Done
            } else {
                OccState::Skipped
            };
            (s, Some(e.clone()))
        } else if at > now {
            (OccState::Upcoming, None)
        } else if latest.is_some_and(|l| l > at) {
            (OccState::Missed, None)
        } else if start > now {
            (OccState::Snoozed, snooze.cloned())
        } else if now >= overdue_at {
            (OccState::Overdue, snooze.cloned())
        } else {
            (OccState::Due, snooze.cloned())
        };
        Occurrence {
            duty,
            duty_id: d.id.clone(),
            at,
            state,
            overdue_at,
            event,
        }
    }

    /// The occurrence an operator acts on now: the latest past one while it is not done,
    /// else the next one (doing it early). None for a one-off already done.
    pub fn current(&self, duty: usize, now: DateTime<Utc>) -> Option<Occurrence> {
        let d = &self.duties[duty];
        let latest = self.latest_past(duty, now);
        if let Some(at) = latest {
            let o = self.occurrence(duty, at, latest, now);
            if o.state.open() {
                return Some(o);
            }
        }
        let next = d.recurrence.next_after(d.zone, now, self.base(duty), now)?;
        Some(self.occurrence(duty, next, latest, now))
    }

    /// Every occurrence in `[from, to)`, by time, then by duty order. Past completions of
    /// duties counted from done (which the rule no longer produces) come from the records.
    pub fn occurrences(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for (i, d) in self.duties.iter().enumerate() {
            let latest = self.latest_past(i, now);
            let times = self.times(i, from, to, now);
            for e in self.events_of(&d.id) {
                if e.kind != EventKind::Snoozed
                    && e.occurrence >= from
                    && e.occurrence < to
                    && !times.contains(&e.occurrence)
                    && !out
                        .iter()
                        .any(|o: &Occurrence| o.duty == i && o.at == e.occurrence)
                {
                    out.push(self.occurrence(i, e.occurrence, latest, now));
                }
            }
            out.extend(
                times
                    .into_iter()
                    .map(|at| self.occurrence(i, at, latest, now)),
            );
        }
        out.sort_by_key(|o| (o.at, o.duty));
        out
    }

    /// What wants doing (overdue, due, snoozed: oldest first), then what comes up to
    /// `until`.
    pub fn agenda(&self, now: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Occurrence> {
        let mut open: Vec<Occurrence> = (0..self.duties.len())
            .filter_map(|i| self.current(i, now))
            .filter(|o| o.state.open())
            .collect();
        open.sort_by_key(|o| (o.state != OccState::Overdue, o.at, o.duty));
        let coming = self
            .occurrences(now + Duration::milliseconds(1), until, now)
            .into_iter()
            .filter(|o| o.state == OccState::Upcoming);
        open.extend(coming);
        open
    }

    /// The duty's records and missed occurrences of the last [`HISTORY_DAYS`], newest
    /// first.
    pub fn history(&self, duty: usize, now: DateTime<Utc>) -> Vec<HistoryEntry> {
        let d = &self.duties[duty];
        let mut out: Vec<HistoryEntry> = self
            .events_of(&d.id)
            .iter()
            .map(|e| HistoryEntry {
                occurrence: e.occurrence,
                state: match e.kind {
                    EventKind::Done => OccState::Done,
                    EventKind::Skipped => OccState::Skipped,
                    EventKind::Snoozed => OccState::Snoozed,
                },
                event: Some(e.clone()),
            })
            .collect();
        if !matches!(d.recurrence, Recurrence::AfterDone { .. }) {
            let from = now - Duration::days(HISTORY_DAYS);
            let latest = self.latest_past(duty, now);
            for at in self.times(duty, from, now, now) {
                if self.occurrence(duty, at, latest, now).state == OccState::Missed {
                    out.push(HistoryEntry {
                        occurrence: at,
                        state: OccState::Missed,
                        event: None,
                    });
                }
            }
        }
        out.sort_by_key(|h| {
            std::cmp::Reverse((h.occurrence, h.event.as_ref().map(|e| (e.recorded, e.id))))
        });
        out
    }

    /// Today's duties (the day of `now` in `zone`) and how many want doing.
    pub fn summary(&self, now: DateTime<Utc>, zone: Tz) -> Summary {
        let today = now.with_timezone(&zone).date_naive();
        let from = day_start(zone, today);
        let to = day_start(zone, today.succ_opt().unwrap_or(today));
        let currents: Vec<Occurrence> = (0..self.duties.len())
            .filter_map(|i| self.current(i, now))
            .collect();
        let count = |s: OccState| currents.iter().filter(|o| o.state == s).count();
        Summary {
            today: self.occurrences(from, to, now),
            overdue: count(OccState::Overdue),
            due: count(OccState::Due),
            next: currents
                .iter()
                .filter(|o| o.state == OccState::Upcoming)
                .min_by_key(|o| (o.at, o.duty))
                .cloned(),
        }
    }
}

/// The occurrences of each day in `[first, last]` (days in `zone`).
pub fn by_day(
    occurrences: &[Occurrence],
    zone: Tz,
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<(NaiveDate, Vec<&Occurrence>)> {
    let mut days: Vec<(NaiveDate, Vec<&Occurrence>)> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| (d, Vec::new()))
        .collect();
    for o in occurrences {
        let day = o.at.with_timezone(&zone).date_naive();
        if let Ok(i) = days.binary_search_by_key(&day, |(d, _)| *d) {
            days[i].1.push(o);
        }
    }
    days
}
