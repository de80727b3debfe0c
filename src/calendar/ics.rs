//! `toban calendar --ics`: the duties as an iCalendar file (RFC 5545) that Google Calendar,
//! Outlook or Thunderbird import. A recurring duty is one VEVENT per time of day carrying
//! its RRULE in the duty's zone, with a VTIMEZONE for that zone; open follow-ups are
//! single events. Written with the `icalendar` crate.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, Tz};
use icalendar::{Calendar, CalendarDateTime, Component, EventLike};

use super::book::Book;
use super::recur::Recurrence;
use crate::sanitize::strip_escapes;

/// How long each event lasts in the calendar (duties have no length of their own).
const EVENT_MINUTES: i64 = 30;

/// The calendar as of `now`: recurring duties from their first occurrence on or after
/// `from`, open follow-ups.
pub fn export(book: &Book, from: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let mut cal = Calendar::new();
    cal.name("toban duties");
    let mut zones = BTreeSet::new();
    for (i, d) in book.duties.iter().enumerate() {
        let mut description = d.text.clone().unwrap_or_default();
        for item in &d.checklist {
            description.push_str(&format!("\n- [ ] {item}"));
        }
        if let Some(r) = &d.runbook {
            description.push_str(&format!(
                "\nRunbook: {}{}",
                r.name,
                if r.drill { " (drill)" } else { "" }
            ));
        }
        let description = strip_escapes_keep_lines(description.trim());
        let title = strip_escapes(&d.title);
        match &d.recurrence {
            Recurrence::Once(due) => {
                if book.current(i, now).is_none() {
                    continue;
                }
                let mut e = icalendar::Event::new();
                e.uid(&format!("{}@toban", d.id))
                    .summary(&title)
                    .timestamp(now)
                    .starts(CalendarDateTime::Utc(*due))
                    .ends(CalendarDateTime::Utc(
                        *due + Duration::minutes(EVENT_MINUTES),
                    ));
                if !description.is_empty() {
                    e.description(&description);
                }
                cal.push(e.done());
            }
            r => {
                let last = book.last_resolved(i).map(|e| e.at);
                for (start, rule) in r.rrules(d.zone, from, last, now) {
                    zones.insert(d.zone.name());
                    let local = start.naive_local();
                    let end = (start + Duration::minutes(EVENT_MINUTES)).naive_local();
                    let mut e = icalendar::Event::new();
                    e.uid(&format!("{}-{}@toban", d.id, local.format("%H%M")))
                        .summary(&title)
                        .timestamp(now)
                        .starts(with_tz(local, d.zone))
                        .ends(with_tz(end, d.zone))
                        .add_property("RRULE", rule);
                    if !description.is_empty() {
                        e.description(&description);
                    }
                    cal.push(e.done());
                }
            }
        }
    }
    // The crate has no VTIMEZONE type, and its generic component would add UID and
    // DTSTAMP, which a VTIMEZONE must not have: the blocks go in as text, ahead of the
    // events (their lines are short, so no folding is needed).
    let zones: String = zones
        .into_iter()
        .filter_map(|z| z.parse::<Tz>().ok())
        .map(|z| {
            vtimezone(
                z,
                from - Duration::days(366),
                from + Duration::days(3 * 366),
            )
        })
        .collect();
    let text = cal.done().to_string();
    let at = text
        .find("BEGIN:VEVENT")
        .or_else(|| text.find("END:VCALENDAR"))
        .unwrap_or(text.len());
    format!("{}{zones}{}", &text[..at], &text[at..])
}

fn with_tz(date_time: NaiveDateTime, zone: Tz) -> CalendarDateTime {
    CalendarDateTime::WithTimezone {
        date_time,
        tzid: zone.name().to_string(),
    }
}

/// Escapes stripped line by line, so a checklist keeps its lines.
fn strip_escapes_keep_lines(s: &str) -> String {
    s.lines().map(strip_escapes).collect::<Vec<_>>().join("\n")
}

/// A VTIMEZONE for `zone` with every offset change chrono-tz knows in `[from, to)`: each
/// change one STANDARD or DAYLIGHT observance, and one for the offset at `from`.
pub fn vtimezone(zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let offset = |t: DateTime<Utc>| zone.offset_from_utc_datetime(&t.naive_utc());
    let mut out = format!("BEGIN:VTIMEZONE\r\nTZID:{}\r\n", zone.name());
    let first = offset(from);
    out.push_str(&observance(zone, from, first, first));
    let mut t = from;
    while t < to {
        let next = t + Duration::days(1);
        let (a, b) = (offset(t), offset(next));
        if a.fix() != b.fix() {
            // The change is within this day: find its minute.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::minutes(1) {
                let mid = lo + (hi - lo) / 2;
                if offset(mid).fix() == a.fix() {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push_str(&observance(zone, hi, a, b));
        }
        t = next;
    }
    out.push_str("END:VTIMEZONE\r\n");
    out
}

fn observance(
    zone: Tz,
    at: DateTime<Utc>,
    before: <Tz as TimeZone>::Offset,
    after: <Tz as TimeZone>::Offset,
) -> String {
    let kind = if after.dst_offset().is_zero() {
        "STANDARD"
    } else {
        "DAYLIGHT"
    };
    // DTSTART is the onset in the local time in force before it.
    let onset = at.naive_utc() + Duration::seconds(i64::from(before.fix().local_minus_utc()));
    format!(
        "BEGIN:{kind}\r\nDTSTART:{}\r\nTZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\nTZNAME:{}\r\nEND:{kind}\r\n",
        onset.format("%Y%m%dT%H%M%S"),
        hhmm(before.fix().local_minus_utc()),
        hhmm(after.fix().local_minus_utc()),
        at.with_timezone(&zone).format("%Z"),
    )
}

fn hhmm(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.abs();
    format!("{sign}{:02}{:02}", s / 3600, (s % 3600) / 60)
}
