//! Jump to a time: `HH:MM` (today in the console's zone; yesterday when that is still to
//! come), `-15m` / `2h` (that long ago), or a date-time (`2026-12-03T07:00`,
//! `2026-12-03 07:00:00`, with a zone or in the console's). The view goes to the first row
//! at or after that time: rows are in time order, so a binary search over the lines' own
//! times (a line without one takes the time of the nearest line before it that has one).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::stamp;
use super::state::LogsState;
use super::store::Lines;

/// The time `text` names, seen from `now` in `tz`.
pub fn parse_target(text: &str, now: DateTime<Utc>, tz: Tz) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    let bad = || format!("`{t}` is not a time: HH:MM, -15m (that long ago) or 2026-12-03T07:00");
    if let Some(ago) = t.strip_prefix('-').or_else(|| t.strip_suffix(" ago")) {
        let d = humantime::parse_duration(ago.trim()).map_err(|_| bad())?;
        return Ok(now - chrono::Duration::from_std(d).map_err(|_| bad())?);
    }
    if let Ok(d) = humantime::parse_duration(t) {
        return Ok(now - chrono::Duration::from_std(d).map_err(|_| bad())?);
    }
    for f in ["%H:%M", "%H:%M:%S"] {
        if let Ok(clock) = NaiveTime::parse_from_str(t, f) {
            let today = now.with_timezone(&tz).date_naive();
            let at = local(tz, today.and_time(clock)).ok_or_else(bad)?;
            return Ok(if at > now {
                at - chrono::Duration::days(1)
            } else {
                at
            });
        }
    }
    if let Some(at) = stamp::parse(t.as_bytes()).filter(|_| has_zone(t)) {
        return Ok(at);
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return local(tz, n).ok_or_else(bad);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return local(tz, d.and_time(NaiveTime::MIN)).ok_or_else(bad);
    }
    Err(bad())
}

fn has_zone(t: &str) -> bool {
    t.ends_with('Z') || t.get(19..).is_some_and(|z| z.contains(['+', '-']))
}

fn local(tz: Tz, n: NaiveDateTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&n)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// How far back a line without a time looks for one.
const LOOK_BACK: usize = 2000;

/// The time of row `r`: its line's, or the nearest earlier line's with one.
fn row_time(s: &LogsState, r: usize, lines: &mut Lines) -> Option<DateTime<Utc>> {
    let li = s.row_line(r)?;
    (li.saturating_sub(LOOK_BACK)..=li)
        .rev()
        .find_map(|i| stamp::parse(lines.get(i)))
}

/// The first row at or after `at`; `None` when no row has a time.
pub fn row_at(s: &LogsState, at: DateTime<Utc>) -> Option<usize> {
    let n = s.row_count();
    let mut lines = s.source()?.store.lines();
    if n == 0 || (0..n.min(LOOK_BACK)).all(|r| row_time(s, n - 1 - r, &mut lines).is_none()) {
        return None;
    }
    // Rows before the first time count as earlier than any time.
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if row_time(s, mid, &mut lines).is_none_or(|t| t < at) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Some(lo.min(n - 1))
}

/// Moves the view to the first row at or after `at` (marked, paused); what to tell the
/// person when there is none.
pub fn jump(s: &mut LogsState, at: DateTime<Utc>) -> Result<(), String> {
    let r = row_at(s, at).ok_or("these lines carry no times to jump by")?;
    let li = s.row_line(r).ok_or("no such row")?;
    let d = s.source().map_or(0, |v| v.store.dropped());
    s.follow = false;
    s.cursor = Some(li as u64 + d);
    s.top = r.saturating_sub(s.page / 3);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 7, 30, 0).unwrap();
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        let p = |t: &str, tz| parse_target(t, now, tz).map(|t| t.to_rfc3339());
        assert_eq!(p("-15m", Tz::UTC).unwrap(), "2026-12-03T07:15:00+00:00");
        assert_eq!(p("2h", Tz::UTC).unwrap(), "2026-12-03T05:30:00+00:00");
        assert_eq!(p("07:00", Tz::UTC).unwrap(), "2026-12-03T07:00:00+00:00");
        assert_eq!(p("08:00", Tz::UTC).unwrap(), "2026-12-02T08:00:00+00:00");
        assert_eq!(p("16:00", tokyo).unwrap(), "2026-12-03T07:00:00+00:00");
        assert_eq!(
            p("2026-12-03T07:00", tokyo).unwrap(),
            "2026-12-02T22:00:00+00:00"
        );
        assert_eq!(
            p("2026-12-03T07:00:00Z", tokyo).unwrap(),
            "2026-12-03T07:00:00+00:00"
        );
        assert!(p("soon", Tz::UTC).is_err());
    }
}
