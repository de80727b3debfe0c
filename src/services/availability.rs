//! This month's availability from outages (a check failing from its first failed probe to
//! the next good one), clipped to the month in the configured zone, and the error budget the
//! objective leaves. Pure arithmetic over times, so outages that cross midnight or the
//! month's end count only their part inside the month.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use chrono_tz::Tz;

/// One outage: from the first failed probe until the next good one (None: still down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

/// The month `now` is in, in `zone`: its first instant and the next month's.
pub fn month_bounds(now: DateTime<Utc>, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let local = now.with_timezone(&zone);
    let (y, m) = (local.year(), local.month());
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let at = |y: i32, m: u32| {
        zone.with_ymd_and_hms(y, m, 1, 0, 0, 0)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    };
    (at(y, m), at(ny, nm))
}

/// Outages in order of start with overlaps joined. An outage still open when an older toban
/// stopped and followed by later ones was never seen to end: it lasts until the last of
/// them does (down until seen up).
pub fn merge(mut outages: Vec<Outage>) -> Vec<Outage> {
    outages.sort_by_key(|o| o.start);
    let mut out: Vec<Outage> = Vec::with_capacity(outages.len());
    for o in outages {
        match out.last_mut() {
            Some(prev) if prev.end.is_none_or(|e| e >= o.start) => {
                prev.end = match (prev.end, o.end) {
                    (None, e) => e,
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (Some(_), None) => None,
                };
            }
            _ => out.push(o),
        }
    }
    out
}

/// Downtime inside `[from, to)`.
pub fn downtime(outages: &[Outage], from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    outages
        .iter()
        .map(|o| {
            let s = o.start.max(from);
            let e = o.end.unwrap_or(to).min(to);
            (e - s).max(Duration::zero())
        })
        .fold(Duration::zero(), |a, b| a + b)
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Availability {
    /// Percent of the month so far.
    pub percent: f64,
    pub down: Duration,
    /// The whole month's allowance at the objective.
    pub budget: Duration,
    /// What is left of it (negative: overspent).
    pub budget_left: Duration,
    /// The month's downtime if it goes on at this rate.
    pub projected: Duration,
}

/// The month so far (up to `now`) against `slo` percent of the whole month.
pub fn this_month(outages: &[Outage], now: DateTime<Utc>, zone: Tz, slo: f64) -> Availability {
    let (start, end) = month_bounds(now, zone);
    let down = downtime(outages, start, now.min(end));
    let elapsed = (now.min(end) - start).num_seconds().max(1) as f64;
    let month = (end - start).num_seconds() as f64;
    let budget = Duration::seconds((month * (1.0 - slo / 100.0)).round() as i64);
    Availability {
        percent: (100.0 * (1.0 - down.num_seconds() as f64 / elapsed)).clamp(0.0, 100.0),
        down,
        budget,
        budget_left: budget - down,
        projected: Duration::seconds((down.num_seconds() as f64 * month / elapsed).round() as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_month_in_tokyo_starts_at_midnight_there() {
        let (s, e) = month_bounds(t("2026-11-30T16:00:00Z"), chrono_tz::Asia::Tokyo);
        // 2026-12-01 01:00 in Tokyo: December.
        assert_eq!(s, t("2026-11-30T15:00:00Z"));
        assert_eq!(e, t("2026-12-31T15:00:00Z"));
    }

    #[test]
    fn outages_across_midnight_and_the_months_end_count_their_part() {
        let zone = chrono_tz::UTC;
        let outages = [
            // 30 minutes before the month and 15 into it.
            Outage {
                start: t("2026-11-30T23:30:00Z"),
                end: Some(t("2026-12-01T00:15:00Z")),
            },
            // Across midnight on the 10th: 20 minutes.
            Outage {
                start: t("2026-12-10T23:50:00Z"),
                end: Some(t("2026-12-11T00:10:00Z")),
            },
            // Still down since 10 minutes before the month's end.
            Outage {
                start: t("2026-12-31T23:50:00Z"),
                end: None,
            },
        ];
        let now = t("2027-01-01T00:05:00Z");
        // Now is January: only the 5 minutes of January count.
        let jan = this_month(&outages, now, zone, 99.9);
        assert_eq!(jan.down, Duration::minutes(5));
        // December as a whole: 15 + 20 + 10 minutes.
        let dec = downtime(
            &outages,
            t("2026-12-01T00:00:00Z"),
            t("2027-01-01T00:00:00Z"),
        );
        assert_eq!(dec, Duration::minutes(45));
        let dec_end = this_month(&outages, t("2026-12-31T23:59:59Z"), zone, 99.9);
        // 99.9 % of 31 days: 44 minutes 38 seconds of budget, overspent by the 45.
        assert_eq!(dec_end.budget, Duration::seconds(2678));
        assert!(dec_end.budget_left < Duration::zero());
        assert!(dec_end.percent < 99.9 && dec_end.percent > 99.8);
    }
}

#[cfg(test)]
mod merged {
    use super::*;

    #[test]
    fn stored_and_new_outages_join_where_they_overlap() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let o = |a: &str, b: Option<&str>| Outage {
            start: t(a),
            end: b.map(t),
        };
        let m = merge(vec![
            // Seen by this toban: down again from 10:10 to 10:20.
            o("2026-12-01T10:10:00Z", Some("2026-12-01T10:20:00Z")),
            // Stored: open when the last toban stopped at about 10:05.
            o("2026-12-01T10:00:00Z", None),
            o("2026-11-30T08:00:00Z", Some("2026-11-30T08:05:00Z")),
            // The same row twice (written, then read back).
            o("2026-11-30T08:00:00Z", Some("2026-11-30T08:05:00Z")),
        ]);
        assert_eq!(
            m,
            vec![
                o("2026-11-30T08:00:00Z", Some("2026-11-30T08:05:00Z")),
                o("2026-12-01T10:00:00Z", Some("2026-12-01T10:20:00Z")),
            ]
        );
        assert_eq!(merge(vec![o("2026-12-01T10:00:00Z", None)]).len(), 1);
    }
}

#[cfg(test)]
mod burn {
    use super::*;

    #[test]
    fn twenty_minutes_down_on_the_second_day_burns_faster_than_the_budget_lasts() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let outages = [Outage {
            start: t("2026-12-01T10:00:00Z"),
            end: Some(t("2026-12-01T10:20:00Z")),
        }];
        let a = this_month(&outages, t("2026-12-02T00:00:00Z"), chrono_tz::UTC, 99.9);
        assert!(a.budget_left > Duration::zero());
        assert!(a.projected > a.budget, "{a:?}");
        let late = this_month(&outages, t("2026-12-30T00:00:00Z"), chrono_tz::UTC, 99.9);
        assert!(late.projected < late.budget, "{late:?}");
    }
}
