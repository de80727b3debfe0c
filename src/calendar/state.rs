//! The Calendar tab's state: the book (duties and records), the day the month grid's
//! cursor is on, the agenda list from that day, the selection and the open duty detail.
//! Plain data: time comes in as arguments, records come in as messages, recording goes out
//! as effects.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use super::book::{Book, HistoryEntry, OccState, Occurrence, Summary};
use super::model::{Actor, Duty, DutyProblem, EventKind};
use super::recur::{day_start, month_start};
use super::store::CalendarRecords;
use crate::config::calendar::RunbookLink;

/// What the provider and the effects send the calendar.
#[derive(Debug, Clone, PartialEq)]
pub enum CalendarMsg {
    /// A fresh read of the records (the poller, after a completion, or another operator's).
    Records(CalendarRecords),
    /// The answer to [`CalendarEffect::Record`]: what a follow-up's action did (empty when
    /// there was none), or why nothing was recorded.
    Recorded {
        duty_id: String,
        kind: EventKind,
        result: Result<String, String>,
    },
    /// The clock moved on (the console's tick).
    Tick,
}

/// What the calendar asks the effect runner to do (see `effects::run`).
#[derive(Debug, Clone, PartialEq)]
pub enum CalendarEffect {
    /// Write a done / skipped / snoozed record.
    Record {
        duty_id: String,
        occurrence: DateTime<Utc>,
        kind: EventKind,
        at: DateTime<Utc>,
        by: Actor,
        note: Option<String>,
        until: Option<DateTime<Utc>>,
        /// The runbook run that did it.
        run_id: Option<String>,
    },
    /// Read the records again now.
    Reload,
}

/// The runbook a duty asks for, to open in the wizard (the drill with its backup choice);
/// when the run finishes, record it with [`CalendarState::run_finished`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunbookRequest {
    pub duty_id: String,
    pub occurrence: DateTime<Utc>,
    pub link: RunbookLink,
}

/// A day of the month grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayMark {
    pub total: usize,
    pub done: usize,
    /// Overdue, due or snoozed.
    pub open: usize,
    pub missed: usize,
    pub upcoming: usize,
    /// The state that matters most that day (overdue before missed before due …).
    pub worst: Option<OccState>,
}

/// One day of the grid and its occurrences.
#[derive(Debug, Clone, PartialEq)]
pub struct GridDay {
    pub day: NaiveDate,
    pub mark: DayMark,
    pub items: Vec<Occurrence>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub duty: usize,
    pub history: Vec<HistoryEntry>,
    pub scroll: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CalendarState {
    pub book: Book,
    /// The configured duties (follow-ups come with the records).
    duties: Vec<Duty>,
    /// The zone days and times are shown in.
    pub zone: Tz,
    /// Follow-ups are overdue after this.
    grace: Duration,
    pub agenda_days: u32,
    pub now: DateTime<Utc>,
    /// The day the grid's cursor is on; the agenda starts there.
    pub cursor: NaiveDate,
    /// The agenda: open duties first, then occurrences from the cursor day on.
    pub rows: Vec<Occurrence>,
    pub selected: usize,
    /// The operator moved the cursor in the agenda: reloads keep it on its row. Until then
    /// it stays on the top row, whatever the reload brings (a duty counted from its last
    /// completion gets its date only once the records are in).
    pub picked: bool,
    /// The 6 weeks the grid shows, Monday first.
    pub grid: Vec<GridDay>,
    pub detail: Option<Detail>,
    /// Today's duties and the open counts (the summary block and the Overview card).
    pub summary: Summary,
    pub filter: String,
    /// When records last arrived; None before the first read.
    pub loaded: Option<DateTime<Utc>>,
    /// Duties config.toml names that could not be built.
    pub problems: Vec<DutyProblem>,
    /// The last thing recorded, or why recording failed.
    pub notice: Option<String>,
}

/// Which state a day shows first: what needs attention before what is fine.
pub fn rank(s: OccState) -> u8 {
    match s {
        OccState::Overdue => 0,
        OccState::Missed => 1,
        OccState::Due => 2,
        OccState::Snoozed => 3,
        OccState::Upcoming => 4,
        OccState::Skipped => 5,
        OccState::Done => 6,
    }
}

impl CalendarState {
    pub fn new(
        duties: Vec<Duty>,
        problems: Vec<DutyProblem>,
        zone: Tz,
        grace: Duration,
        agenda_days: u32,
        now: DateTime<Utc>,
    ) -> CalendarState {
        let mut s = CalendarState {
            book: Book::new(duties.clone(), Vec::new()),
            duties,
            zone,
            grace,
            agenda_days: agenda_days.max(1),
            now,
            cursor: now.with_timezone(&zone).date_naive(),
            rows: Vec::new(),
            selected: 0,
            picked: false,
            grid: Vec::new(),
            detail: None,
            summary: Summary::default(),
            filter: String::new(),
            loaded: None,
            problems,
            notice: None,
        };
        s.recompute();
        s
    }

    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.zone).date_naive()
    }

    /// Rebuilds the agenda rows, the grid marks and an open detail from the book.
    fn recompute(&mut self) {
        let now = self.now;
        let matches = |o: &Occurrence, b: &Book| {
            if self.filter.is_empty() {
                return true;
            }
            let d = &b.duties[o.duty];
            let f = self.filter.to_lowercase();
            d.title.to_lowercase().contains(&f) || d.id.to_lowercase().contains(&f)
        };
        let days = Duration::days(i64::from(self.agenda_days));
        let mut rows: Vec<Occurrence> = if self.cursor == self.today() {
            self.book
                .agenda(now, day_start(self.zone, self.cursor) + days)
        } else {
            let mut open: Vec<Occurrence> = self
                .book
                .agenda(now, now)
                .into_iter()
                .filter(|o| o.state.open())
                .collect();
            let from = day_start(self.zone, self.cursor);
            let more: Vec<Occurrence> = self
                .book
                .occurrences(from, from + days, now)
                .into_iter()
                .filter(|o| !open.iter().any(|p| p.duty == o.duty && p.at == o.at))
                .collect();
            open.extend(more);
            open
        };
        rows.retain(|o| matches(o, &self.book));
        self.rows = rows;
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));

        let first = month_start(self.cursor);
        let grid_start = first - Duration::days(i64::from(first.weekday().num_days_from_monday()));
        let from = day_start(self.zone, grid_start);
        let to = day_start(self.zone, grid_start + Duration::days(42));
        let occurrences: Vec<Occurrence> = self
            .book
            .occurrences(from, to, now)
            .into_iter()
            .filter(|o| matches(o, &self.book))
            .collect();
        self.grid = super::book::by_day(
            &occurrences,
            self.zone,
            grid_start,
            grid_start + Duration::days(41),
        )
        .into_iter()
        .map(|(day, os)| {
            let mut mark = DayMark {
                total: os.len(),
                ..Default::default()
            };
            for o in &os {
                match o.state {
                    OccState::Done | OccState::Skipped => mark.done += 1,
                    OccState::Missed => mark.missed += 1,
                    OccState::Upcoming => mark.upcoming += 1,
                    _ => mark.open += 1,
                }
            }
            mark.worst = os.iter().map(|o| o.state).min_by_key(|s| rank(*s));
            let mut items: Vec<Occurrence> = os.into_iter().cloned().collect();
            items.sort_by_key(|o| (rank(o.state), o.at));
            GridDay { day, mark, items }
        })
        .collect();

        self.summary = self.book.summary(now, self.zone);
        if let Some(d) = &mut self.detail {
            d.history = self.book.history(d.duty, now);
            d.scroll = d.scroll.min(d.history.len().saturating_sub(1));
        }
    }

    pub fn selected_row(&self) -> Option<&Occurrence> {
        self.rows.get(self.selected)
    }

    pub fn selected_duty(&self) -> Option<&Duty> {
        self.selected_row().map(|o| &self.book.duties[o.duty])
    }

    /// Overdue and due counts, for the tab title and the Overview card.
    pub fn open_counts(&self) -> (usize, usize) {
        (self.summary.overdue, self.summary.due)
    }

    // ---- navigation ---------------------------------------------------------------

    pub fn select_next(&mut self) {
        self.picked = true;
        if self.selected + 1 < self.rows.len() {
            self.selected += 1;
        }
    }

    pub fn select_prev(&mut self) {
        self.picked = true;
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn page_down(&mut self, page: usize) {
        self.picked = true;
        self.selected = (self.selected + page.max(1)).min(self.rows.len().saturating_sub(1));
    }

    pub fn page_up(&mut self, page: usize) {
        self.picked = true;
        self.selected = self.selected.saturating_sub(page.max(1));
    }

    pub fn top(&mut self) {
        self.picked = true;
        self.selected = 0;
    }

    pub fn bottom(&mut self) {
        self.picked = true;
        self.selected = self.rows.len().saturating_sub(1);
    }

    fn move_to(&mut self, day: NaiveDate) {
        self.cursor = day;
        self.selected = 0;
        self.picked = false;
        self.recompute();
    }

    pub fn next_day(&mut self) {
        self.move_to(self.cursor + Duration::days(1));
    }

    pub fn prev_day(&mut self) {
        self.move_to(self.cursor - Duration::days(1));
    }

    pub fn next_week(&mut self) {
        self.move_to(self.cursor + Duration::days(7));
    }

    pub fn prev_week(&mut self) {
        self.move_to(self.cursor - Duration::days(7));
    }

    /// The same day next month (the last day when it has fewer days).
    pub fn next_month(&mut self) {
        let day = self
            .cursor
            .checked_add_months(Months::new(1))
            .unwrap_or(self.cursor);
        self.move_to(day);
    }

    pub fn prev_month(&mut self) {
        let day = self
            .cursor
            .checked_sub_months(Months::new(1))
            .unwrap_or(self.cursor);
        self.move_to(day);
    }

    pub fn jump_today(&mut self) {
        self.move_to(self.today());
    }

    /// The first day of the grid's week for the cursor (Monday).
    pub fn week_start(&self) -> NaiveDate {
        self.cursor.week(Weekday::Mon).first_day()
    }

    pub fn set_filter(&mut self, filter: &str) {
        self.filter = filter.trim().to_string();
        self.selected = 0;
        self.picked = false;
        self.recompute();
    }

    pub fn open_detail(&mut self) {
        if let Some(o) = self.selected_row() {
            let duty = o.duty;
            self.detail = Some(Detail {
                duty,
                history: self.book.history(duty, self.now),
                scroll: 0,
            });
        }
    }

    pub fn close_detail(&mut self) {
        self.detail = None;
    }

    pub fn detail_scroll(&mut self, down: bool) {
        if let Some(d) = &mut self.detail {
            d.scroll = if down {
                (d.scroll + 1).min(d.history.len().saturating_sub(1))
            } else {
                d.scroll.saturating_sub(1)
            };
        }
    }

    // ---- recording ----------------------------------------------------------------

    fn record(
        &mut self,
        kind: EventKind,
        by: &Actor,
        note: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Vec<CalendarEffect> {
        let Some(o) = self.selected_row() else {
            return Vec::new();
        };
        if matches!(o.state, OccState::Done | OccState::Skipped) && kind != EventKind::Done {
            self.notice = Some("already resolved".into());
            return Vec::new();
        }
        vec![CalendarEffect::Record {
            duty_id: o.duty_id.clone(),
            occurrence: o.at,
            kind,
            at: self.now,
            by: by.clone(),
            note: note
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(String::from),
            until,
            run_id: None,
        }]
    }

    /// Marks the selected occurrence done (late, early or again) with a note.
    /// A follow-up with an action runs it first (see `complete`): the notice says so
    /// until the answer comes.
    pub fn done(&mut self, note: &str, by: &Actor) -> Vec<CalendarEffect> {
        let fx = self.record(EventKind::Done, by, Some(note), None);
        if let (false, Some(name)) = (fx.is_empty(), self.selected_action()) {
            self.notice = Some(format!("running its action, runbook {name}…"));
        }
        fx
    }

    /// The runbook that marking the selected duty done runs: a follow-up's action.
    pub fn selected_action(&self) -> Option<String> {
        let o = self.selected_row()?;
        if matches!(o.state, OccState::Done | OccState::Skipped) {
            return None;
        }
        let d = &self.book.duties[o.duty];
        match d.origin {
            super::model::Origin::Followup { .. } => d.runbook.as_ref().map(|l| l.name.clone()),
            _ => None,
        }
    }

    /// Skips the selected occurrence; the reason is kept in the history.
    pub fn skip(&mut self, reason: &str, by: &Actor) -> Vec<CalendarEffect> {
        self.record(EventKind::Skipped, by, Some(reason), None)
    }

    /// Puts the selected occurrence off for `duration`.
    pub fn snooze(&mut self, duration: Duration, by: &Actor) -> Vec<CalendarEffect> {
        let until = self.now + duration;
        self.record(EventKind::Snoozed, by, None, Some(until))
    }

    /// The selected duty's runbook, to start in the wizard.
    pub fn runbook_request(&self) -> Option<RunbookRequest> {
        let o = self.selected_row()?;
        let link = self.book.duties[o.duty].runbook.clone()?;
        Some(RunbookRequest {
            duty_id: o.duty_id.clone(),
            occurrence: o.at,
            link,
        })
    }

    /// A run started from `request` finished successfully: the duty is done, linked to it.
    pub fn run_finished(
        &mut self,
        request: &RunbookRequest,
        run_id: &str,
        by: &Actor,
    ) -> Vec<CalendarEffect> {
        vec![CalendarEffect::Record {
            duty_id: request.duty_id.clone(),
            occurrence: request.occurrence,
            kind: EventKind::Done,
            at: self.now,
            by: by.clone(),
            note: Some(format!("runbook {} run {run_id}", request.link.name)),
            until: None,
            run_id: Some(run_id.to_string()),
        }]
    }
}

/// The calendar's own messages; `now` is the console's clock.
pub fn update(s: &mut CalendarState, msg: CalendarMsg, now: DateTime<Utc>) -> Vec<CalendarEffect> {
    let moved_day = s.today() != now.with_timezone(&s.zone).date_naive();
    let on_today = s.cursor == s.today();
    s.now = now;
    match msg {
        CalendarMsg::Records(records) => {
            let keep = if s.picked {
                s.selected_row().map(|o| (o.duty_id.clone(), o.at))
            } else {
                s.selected = 0;
                None
            };
            s.book = Book::assemble(&s.duties, &records, s.zone, s.grace);
            s.loaded = Some(now);
            if let Some(d) = &s.detail {
                let id = s.book.duties.get(d.duty).map(|d| d.id.clone());
                if id.is_none() {
                    s.detail = None;
                }
            }
            s.recompute();
            if let Some((id, at)) = keep {
                if let Some(i) = s.rows.iter().position(|o| o.duty_id == id && o.at == at) {
                    s.selected = i;
                }
            }
            Vec::new()
        }
        CalendarMsg::Recorded {
            duty_id,
            kind,
            result,
        } => {
            s.notice = Some(match result {
                Ok(did) if did.is_empty() => format!("{} {duty_id}", kind.as_str()),
                Ok(did) => format!("{} {duty_id}: {did}", kind.as_str()),
                Err(e) if kind == EventKind::Done => format!("{duty_id} not done: {e}"),
                Err(e) => format!("{duty_id} not recorded: {e}"),
            });
            vec![CalendarEffect::Reload]
        }
        CalendarMsg::Tick => {
            if moved_day && on_today {
                s.cursor = s.today();
            }
            s.recompute();
            Vec::new()
        }
    }
}
