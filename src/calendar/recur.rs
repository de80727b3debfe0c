//! When a duty falls due: its recurrence as RFC 5545 rules (the `rrule` crate) in the duty's
//! zone (chrono-tz), built from the config's `every`/`on`/`day`/`months`/`at` or a raw
//! RRULE. No date arithmetic of our own: months, leap days and DST changes are the
//! library's. "Every N days from when it was last done" is an RRULE whose DTSTART is the
//! last completion.

use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, Month, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use rrule::{Frequency, NWeekday, RRule, RRuleSet, Unvalidated};

use crate::config::calendar::{
    parse_date, parse_day, parse_every, parse_time, parse_weekday, DutySpec, Every,
};

/// How a duty recurs.
#[derive(Debug, Clone, PartialEq)]
pub enum Recurrence {
    /// A fixed rule: one RRULE per time of day.
    Rule(Rules),
    /// Every `days` days counted from the last completion (from `start`, or today, before
    /// the first one).
    AfterDone {
        days: u16,
        time: NaiveTime,
        start: Option<NaiveDate>,
    },
    /// A one-off duty (a follow-up a runbook scheduled).
    Once(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// One rule per time of day, BYHOUR/BYMINUTE set to that time.
    pub rules: Vec<RRule<Unvalidated>>,
    /// The rule's first day (it fixes the phase of intervals above 1 and raw RRULEs).
    /// `None`: the rule has no phase, so any DTSTART before a window gives the same days.
    pub anchor: Option<NaiveDate>,
}

/// Largest number of occurrences one query returns (a window of a year of a duty done
/// three times a day is about 1,100).
const LIMIT: u16 = 20_000;

impl Recurrence {
    /// Builds the recurrence from a duty's fields; the message says what is missing or
    /// which part the rule library refused.
    pub fn from_spec(d: &DutySpec, zone: Tz) -> Result<Recurrence, String> {
        let times = if d.at.is_empty() {
            vec![NaiveTime::from_hms_opt(9, 0, 0).expect("09:00")]
        } else {
            d.at.iter()
                .map(|t| parse_time(t))
                .collect::<Result<Vec<_>, _>>()?
        };
        let start = d.start.as_deref().map(parse_date).transpose()?;
        let interval = d.interval.unwrap_or(1);
        let weekdays =
            d.on.iter()
                .map(|w| parse_weekday(w))
                .collect::<Result<Vec<_>, _>>()?;
        let months: Vec<Month> = d
            .months
            .iter()
            .map(|m| Month::try_from(*m).map_err(|_| format!("month {m} is not 1 to 12")))
            .collect::<Result<_, _>>()?;
        let day = d.day.as_ref().map(parse_day).transpose()?;

        let base = match (&d.rrule, &d.every) {
            (Some(raw), _) => {
                let rule = RRule::<Unvalidated>::from_str(raw)
                    .map_err(|e| format!("not an RFC 5545 RRULE: {e}"))?;
                let anchor = start.ok_or("`rrule` needs `start` (the rule's first day)")?;
                return Rules::new(rule, &times, Some(anchor), zone).map(Recurrence::Rule);
            }
            (None, None) => return Err("needs `every` or `rrule`".into()),
            (None, Some(e)) => parse_every(e)?,
        };
        if interval > 1 && start.is_none() {
            return Err(format!(
                "`interval = {interval}` needs `start` (which week, month or year counts first)"
            ));
        }
        if d.nth.is_some() && weekdays.is_empty() {
            return Err("`nth` needs `on` (the 2nd what?)".into());
        }
        let by_weekday: Vec<NWeekday> = weekdays
            .iter()
            .map(|w| match d.nth {
                Some(n) => NWeekday::Nth(n.into(), *w),
                None => NWeekday::Every(*w),
            })
            .collect();
        let rule = match base {
            Every::Days(n) => {
                if d.from.as_deref() == Some("done") {
                    if times.len() > 1 {
                        return Err("`from = \"done\"` takes one time of day in `at`".into());
                    }
                    return Ok(Recurrence::AfterDone {
                        days: n,
                        time: times[0],
                        start,
                    });
                }
                if start.is_none() {
                    return Err(format!(
                        "every {n} days needs `start` (or `from = \"done\"` to count from the last completion)"
                    ));
                }
                RRule::new(Frequency::Daily).interval(n.saturating_mul(interval))
            }
            Every::Day => RRule::new(Frequency::Daily)
                .interval(interval)
                .by_weekday(by_weekday),
            Every::Week => {
                if by_weekday.is_empty() {
                    return Err("a weekly duty needs `on` (e.g. `on = [\"mon\"]`)".into());
                }
                RRule::new(Frequency::Weekly)
                    .interval(interval)
                    .by_weekday(by_weekday)
            }
            Every::Month | Every::Year => {
                if base == Every::Year && months.is_empty() {
                    return Err("a yearly duty needs `months` (e.g. `months = [4]`)".into());
                }
                let freq = if base == Every::Year {
                    Frequency::Yearly
                } else {
                    Frequency::Monthly
                };
                match (day, by_weekday.is_empty()) {
                    (Some(_), false) => return Err("give `day` or `on`, not both".into()),
                    (None, true) => {
                        return Err(
                            "a monthly or yearly duty needs `day` (1-31 or \"last\") or `on` with `nth`"
                                .into(),
                        )
                    }
                    (None, false) => RRule::new(freq).interval(interval).by_weekday(by_weekday),
                    (Some(day), true) => month_day(freq, interval, day)?,
                }
            }
        };
        let rule = if months.is_empty() {
            rule
        } else {
            rule.by_month(&months)
        };
        Rules::new(rule, &times, start, zone).map(Recurrence::Rule)
    }

    /// Occurrences in `[from, to)`, oldest first. `last_done` is the latest completion
    /// (it moves an "every N days from done" duty).
    pub fn between(
        &self,
        zone: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        last_done: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        if from >= to {
            return Vec::new();
        }
        match self {
            Recurrence::Once(t) => (from..to).contains(t).then_some(*t).into_iter().collect(),
            Recurrence::Rule(r) => r.between(zone, from, to),
            Recurrence::AfterDone { days, time, .. } => {
                let first = self.after_done_due(zone, last_done, now);
                if first >= to {
                    return Vec::new();
                }
                let rule = with_time(RRule::new(Frequency::Daily).interval(*days), *time);
                // After the due one, only projections still ahead: an overdue duty is
                // one overdue occurrence, not a row of them.
                expand(&rule, first.with_timezone(&zone), zone, from, to, true)
                    .into_iter()
                    .filter(|t| *t == first || *t > now)
                    .collect()
            }
        }
    }

    /// The due time of an "every N days from done" duty: N days after the day of the last
    /// completion, at its time; before any completion, `start` (or today) at its time.
    pub fn after_done_due(
        &self,
        zone: Tz,
        last_done: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let Recurrence::AfterDone { days, time, start } = self else {
            return now;
        };
        let Some(done) = last_done else {
            let day = start.unwrap_or_else(|| now.with_timezone(&zone).date_naive());
            return local(zone, day, *time).with_timezone(&Utc);
        };
        let base = local(zone, done.with_timezone(&zone).date_naive(), *time);
        let rule = with_time(RRule::new(Frequency::Daily).interval(*days), *time);
        let horizon = done + Duration::days(i64::from(*days) + 2);
        expand(&rule, base.with_timezone(&zone), zone, done, horizon, false)
            .into_iter()
            .find(|t| *t > base.with_timezone(&Utc))
            .unwrap_or(horizon)
    }

    /// The latest occurrence at or before `t`, looking back at most about two years.
    pub fn last_at_or_before(
        &self,
        zone: Tz,
        t: DateTime<Utc>,
        last_done: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if let Recurrence::AfterDone { .. } = self {
            let due = self.after_done_due(zone, last_done, now);
            return (due <= t).then_some(due);
        }
        let end = t + Duration::milliseconds(1);
        for days in [3, 9, 33, 100, 370, 800] {
            let found = self.between(zone, t - Duration::days(days), end, last_done, now);
            if let Some(last) = found.last() {
                return Some(*last);
            }
        }
        None
    }

    /// The first occurrence after `t`, looking ahead at most about two years.
    pub fn next_after(
        &self,
        zone: Tz,
        t: DateTime<Utc>,
        last_done: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let start = t + Duration::milliseconds(1);
        for days in [3, 9, 33, 100, 370, 800] {
            let found = self.between(zone, start, t + Duration::days(days), last_done, now);
            if let Some(first) = found.first() {
                return Some(*first);
            }
        }
        None
    }

    /// The RRULE lines (without `RRULE:`) and the DTSTART they go with, for an export
    /// starting at `from`: one per time of day. None for a one-off.
    pub fn rrules(
        &self,
        zone: Tz,
        from: DateTime<Utc>,
        last_done: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Vec<(DateTime<Tz>, String)> {
        match self {
            Recurrence::Once(_) => Vec::new(),
            Recurrence::AfterDone { days, time, .. } => {
                let first = self.after_done_due(zone, last_done, now);
                let rule = with_time(RRule::new(Frequency::Daily).interval(*days), *time);
                vec![(first.with_timezone(&zone), rrule_text(&rule))]
            }
            Recurrence::Rule(r) => r
                .rules
                .iter()
                .filter_map(|rule| {
                    // DTSTART must be an occurrence (RFC 5545 §3.8.5.3): the first one on or
                    // after the export's start (or the anchor).
                    let one = Rules {
                        rules: vec![rule.clone()],
                        anchor: r.anchor,
                    };
                    let first = one
                        .between(zone, from, from + Duration::days(800))
                        .into_iter()
                        .next()?;
                    Some((first.with_timezone(&zone), rrule_text(rule)))
                })
                .collect(),
        }
    }
}

impl Rules {
    fn new(
        rule: RRule<Unvalidated>,
        times: &[NaiveTime],
        anchor: Option<NaiveDate>,
        zone: Tz,
    ) -> Result<Rules, String> {
        let rules: Vec<_> = times.iter().map(|t| with_time(rule.clone(), *t)).collect();
        // Let the library judge the rule once, as it will at every use.
        let probe = anchor.unwrap_or(NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"));
        for (r, t) in rules.iter().zip(times) {
            r.clone()
                .validate(local(zone, probe, *t).with_timezone(&rrule_tz(zone)))
                .map_err(|e| format!("the recurrence library refuses `{r}`: {e}"))?;
        }
        Ok(Rules { rules, anchor })
    }

    fn between(&self, zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        for rule in &self.rules {
            let hour = rule.get_by_hour().first().copied().unwrap_or(0);
            let minute = rule.get_by_minute().first().copied().unwrap_or(0);
            let time = NaiveTime::from_hms_opt(hour.into(), minute.into(), 0).unwrap_or_default();
            // A rule without phase starts two days before the window (a DST gap may move
            // an occurrence by an hour); one with a phase starts at its anchor.
            let day = match self.anchor {
                Some(a) => a,
                None => (from - Duration::days(2)).with_timezone(&zone).date_naive(),
            };
            out.extend(expand(rule, local(zone, day, time), zone, from, to, false));
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The occurrences of `rule` from `dtstart` in `[from, to)`. With `include_start`,
/// DTSTART counts even if the rule would not produce it (a due date moved by a completion).
fn expand(
    rule: &RRule<Unvalidated>,
    dtstart: DateTime<Tz>,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    include_start: bool,
) -> Vec<DateTime<Utc>> {
    let tz = rrule_tz(zone);
    let Ok(set) = rule.clone().build(dtstart.with_timezone(&tz)) else {
        return Vec::new();
    };
    let set: RRuleSet = set
        .after(from.with_timezone(&tz))
        .before((to - Duration::milliseconds(1)).with_timezone(&tz));
    let mut out: Vec<DateTime<Utc>> = set
        .all(LIMIT)
        .dates
        .into_iter()
        .map(|d| d.with_timezone(&Utc))
        .filter(|d| *d >= from && *d < to)
        .collect();
    let start = dtstart.with_timezone(&Utc);
    if include_start && start >= from && start < to && !out.contains(&start) {
        out.insert(0, start);
    }
    out
}

fn with_time(rule: RRule<Unvalidated>, t: NaiveTime) -> RRule<Unvalidated> {
    let (h, m) = (t.hour() as u8, t.minute() as u8);
    rule.by_hour(vec![h]).by_minute(vec![m]).by_second(vec![0])
}

/// `day` of the month as BYMONTHDAY: 1-28 as is; 29-31 fall on a shorter month's last day
/// (`BYMONTHDAY=28,…,d;BYSETPOS=-1`); -1 is the last day. BYSETPOS counts per period, so a
/// yearly rule with a clamped day becomes a monthly one in its months.
fn month_day(freq: Frequency, interval: u16, day: i8) -> Result<RRule<Unvalidated>, String> {
    if (29..=31).contains(&day) {
        if freq == Frequency::Yearly && interval > 1 {
            return Err(format!(
                "day {day} every {interval} years cannot fall back to a short month's last day; use a day up to 28 or \"last\""
            ));
        }
        return Ok(RRule::new(Frequency::Monthly)
            .interval(if freq == Frequency::Yearly {
                1
            } else {
                interval
            })
            .by_month_day((28..=day).collect())
            .by_set_pos(vec![-1]));
    }
    Ok(RRule::new(freq).interval(interval).by_month_day(vec![day]))
}

/// The rule as an RRULE value. The crate writes `NWeekday::Nth(1, MO)` as `MO` (every
/// Monday), so BYDAY is written here: `1MO` is the first Monday.
pub fn rrule_text(rule: &RRule<Unvalidated>) -> String {
    let by_day = rule
        .get_by_weekday()
        .iter()
        .map(|w| match w {
            NWeekday::Every(d) => weekday_code(*d).to_string(),
            NWeekday::Nth(n, d) => format!("{n}{}", weekday_code(*d)),
        })
        .collect::<Vec<_>>()
        .join(",");
    rule.to_string()
        .split(';')
        .map(|part| {
            if part.starts_with("BYDAY=") {
                format!("BYDAY={by_day}")
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn weekday_code(d: chrono::Weekday) -> &'static str {
    ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][d.num_days_from_monday() as usize]
}

pub fn rrule_tz(zone: Tz) -> rrule::Tz {
    rrule::Tz::Tz(zone)
}

/// `date` at `time` in `zone`. A time in a DST gap is read with the offset before the gap
/// (02:30 on a spring-forward night is 03:30), an ambiguous one as its first instance,
/// as RFC 5545 §3.3.5 says.
pub fn local(zone: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Tz> {
    let naive = date.and_time(time);
    match zone.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t,
        chrono::LocalResult::Ambiguous(first, _) => first,
        chrono::LocalResult::None => {
            // Gaps are an hour or so: three hours earlier has the offset from before it.
            let offset = zone
                .from_local_datetime(&(naive - Duration::hours(3)))
                .earliest()
                .map(|t| chrono::Offset::fix(t.offset()).local_minus_utc())
                .unwrap_or(0);
            zone.from_utc_datetime(&(naive - Duration::seconds(i64::from(offset))))
        }
    }
}

/// The system's zone: `TZ` if it names an IANA zone, else /etc/localtime's, else UTC.
pub fn system_zone() -> Tz {
    crate::time::Zone::system().tz()
}

/// Midnight at the start of `date` in `zone`, as UTC.
pub fn day_start(zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    local(zone, date, NaiveTime::MIN).with_timezone(&Utc)
}

/// The first day of `date`'s month.
pub fn month_start(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}
