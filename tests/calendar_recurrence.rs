//! Recurrence edge cases: duties written as in config.toml, expanded by the calendar in
//! their zones, compared with the dates a person would expect.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use toban::calendar::recur::Recurrence;
use toban::config::calendar::DutySpec;

fn duty(toml_text: &str) -> DutySpec {
    toml::from_str(&format!("id = \"d\"\ntitle = \"D\"\n{toml_text}")).expect("duty parses")
}

fn build(toml_text: &str, zone: Tz) -> Recurrence {
    Recurrence::from_spec(&duty(toml_text), zone).unwrap_or_else(|e| panic!("{e}"))
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Occurrences in the year from `from`, as local `YYYY-MM-DD HH:MM` in `zone`.
fn local_times(r: &Recurrence, zone: Tz, from: DateTime<Utc>, days: i64) -> Vec<String> {
    r.between(zone, from, from + Duration::days(days), None, from)
        .into_iter()
        .map(|t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
        .collect()
}

fn dates(r: &Recurrence, zone: Tz, from: DateTime<Utc>, days: i64) -> Vec<String> {
    local_times(r, zone, from, days)
        .into_iter()
        .map(|s| s[..10].to_string())
        .collect()
}

#[test]
fn the_31st_falls_on_the_last_day_of_shorter_months() {
    let r = build("every = \"month\"\nday = 31\nat = \"09:00\"", Tz::UTC);
    assert_eq!(
        dates(&r, Tz::UTC, utc(2026, 1, 1, 0, 0), 365),
        [
            "2026-01-31",
            "2026-02-28",
            "2026-03-31",
            "2026-04-30",
            "2026-05-31",
            "2026-06-30",
            "2026-07-31",
            "2026-08-31",
            "2026-09-30",
            "2026-10-31",
            "2026-11-30",
            "2026-12-31"
        ]
    );
    let r = build("every = \"month\"\nday = 30", Tz::UTC);
    let d = dates(&r, Tz::UTC, utc(2028, 1, 1, 0, 0), 121);
    assert_eq!(d, ["2028-01-30", "2028-02-29", "2028-03-30", "2028-04-30"]);
}

#[test]
fn last_day_of_the_month() {
    let r = build("every = \"month\"\nday = \"last\"\nat = \"18:00\"", Tz::UTC);
    assert_eq!(
        local_times(&r, Tz::UTC, utc(2027, 12, 1, 0, 0), 100),
        ["2027-12-31 18:00", "2028-01-31 18:00", "2028-02-29 18:00"]
    );
}

#[test]
fn a_leap_day_duty_falls_on_the_28th_in_common_years() {
    let r = build(
        "every = \"year\"\nmonths = [2]\nday = 29\nat = \"10:00\"",
        Tz::UTC,
    );
    assert_eq!(
        dates(&r, Tz::UTC, utc(2027, 1, 1, 0, 0), 4 * 366),
        ["2027-02-28", "2028-02-29", "2029-02-28", "2030-02-28"]
    );
    // The raw RRULE for "only on leap days" is the library's, unchanged.
    let r = build(
        "rrule = \"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29\"\nstart = \"2024-02-29\"",
        Tz::UTC,
    );
    assert_eq!(
        dates(&r, Tz::UTC, utc(2025, 1, 1, 0, 0), 8 * 366),
        ["2028-02-29", "2032-02-29"]
    );
}

#[test]
fn every_90_days_from_a_start_runs_across_the_year_end() {
    let r = build(
        "every = \"90 days\"\nstart = \"2026-10-01\"\nat = \"10:00\"",
        Tz::UTC,
    );
    assert_eq!(
        dates(&r, Tz::UTC, utc(2026, 9, 1, 0, 0), 400),
        [
            "2026-10-01",
            "2026-12-30",
            "2027-03-30",
            "2027-06-28",
            "2027-09-26"
        ]
    );
}

#[test]
fn every_90_days_from_last_done_counts_from_the_completion() {
    let zone: Tz = "Asia/Tokyo".parse().unwrap();
    let r = build("every = \"90 days\"\nfrom = \"done\"\nat = \"10:00\"", zone);
    let now = utc(2026, 5, 1, 0, 0);
    // Never done and no start: due today at 10:00 JST.
    assert_eq!(r.after_done_due(zone, None, now), utc(2026, 5, 1, 1, 0));
    // Done late (2026-03-10 15:42 JST): next due 90 days after that day, at 10:00 JST.
    let done = zone
        .with_ymd_and_hms(2026, 3, 10, 15, 42, 0)
        .unwrap()
        .with_timezone(&Utc);
    let next = r.after_done_due(zone, Some(done), now);
    assert_eq!(
        next.with_timezone(&zone)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        "2026-06-08 10:00"
    );
    // The agenda shows the ones after it assuming it is done on time.
    let coming: Vec<String> = r
        .between(zone, now, now + Duration::days(200), Some(done), now)
        .into_iter()
        .map(|t| t.with_timezone(&zone).format("%Y-%m-%d").to_string())
        .collect();
    assert_eq!(coming, ["2026-06-08", "2026-09-06"]);
    // Done again early: the count restarts from that day.
    let early = zone
        .with_ymd_and_hms(2026, 5, 20, 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let next = r.after_done_due(zone, Some(early), now);
    assert_eq!(
        next.with_timezone(&zone).date_naive(),
        NaiveDate::from_ymd_opt(2026, 8, 18).unwrap()
    );
}

#[test]
fn a_0230_duty_on_dst_change_days_happens_once_at_the_rfc_time() {
    // New York springs forward at 02:00 on 2026-03-08: 02:30 does not exist and is read
    // with the offset before the gap, 03:30 EDT (RFC 5545 §3.3.5).
    let ny: Tz = "America/New_York".parse().unwrap();
    let r = build("every = \"day\"\nat = \"02:30\"", ny);
    let got: Vec<DateTime<Utc>> = r.between(
        ny,
        utc(2026, 3, 7, 0, 0),
        utc(2026, 3, 10, 0, 0),
        None,
        utc(2026, 3, 1, 0, 0),
    );
    assert_eq!(
        got,
        [
            utc(2026, 3, 7, 7, 30),
            utc(2026, 3, 8, 7, 30),
            utc(2026, 3, 9, 6, 30)
        ]
    );
    assert_eq!(
        got[1].with_timezone(&ny).format("%H:%M %Z").to_string(),
        "03:30 EDT"
    );
    // Berlin falls back at 03:00 on 2026-10-25: 02:30 happens twice; the duty is due once,
    // at the first (CEST).
    let berlin: Tz = "Europe/Berlin".parse().unwrap();
    let r = build("every = \"day\"\nat = \"02:30\"", berlin);
    let got = r.between(
        berlin,
        utc(2026, 10, 24, 0, 0),
        utc(2026, 10, 27, 0, 0),
        None,
        utc(2026, 10, 1, 0, 0),
    );
    assert_eq!(
        got,
        [
            utc(2026, 10, 24, 0, 30),
            utc(2026, 10, 25, 0, 30),
            utc(2026, 10, 26, 1, 30)
        ]
    );
}

#[test]
fn quarterly_months_on_the_first_monday() {
    let zone: Tz = "Asia/Tokyo".parse().unwrap();
    let r = build(
        "every = \"month\"\nmonths = [1, 4, 7, 10]\non = [\"mon\"]\nnth = 1\nat = \"10:00\"",
        zone,
    );
    assert_eq!(
        dates(&r, zone, utc(2026, 1, 1, 0, 0), 365),
        ["2026-01-05", "2026-04-06", "2026-07-06", "2026-10-05"]
    );
    let r = build("every = \"month\"\nmonths = [1, 4, 7, 10]\nday = 1", zone);
    assert_eq!(
        dates(&r, zone, utc(2026, 1, 1, 0, 0), 365),
        ["2026-01-01", "2026-04-01", "2026-07-01", "2026-10-01"]
    );
}

#[test]
fn jst_duties_seen_from_a_utc_host_fall_on_the_previous_utc_evening() {
    let jst: Tz = "Asia/Tokyo".parse().unwrap();
    // 09:00 JST is 00:00 UTC; 02:00 JST on Sunday is 17:00 UTC on Saturday.
    let r = build(
        "every = \"day\"\nat = [\"09:00\", \"14:00\", \"17:00\"]",
        jst,
    );
    let got = r.between(
        jst,
        utc(2026, 11, 23, 0, 0),
        utc(2026, 11, 24, 0, 0),
        None,
        utc(2026, 11, 1, 0, 0),
    );
    assert_eq!(
        got,
        [
            utc(2026, 11, 23, 0, 0),
            utc(2026, 11, 23, 5, 0),
            utc(2026, 11, 23, 8, 0)
        ]
    );
    let r = build("every = \"week\"\non = [\"sun\"]\nat = \"02:00\"", jst);
    let got = r.between(
        jst,
        utc(2026, 11, 20, 0, 0),
        utc(2026, 11, 27, 0, 0),
        None,
        utc(2026, 11, 1, 0, 0),
    );
    assert_eq!(got, [utc(2026, 11, 21, 17, 0)]);
    assert_eq!(got[0].format("%A").to_string(), "Saturday");
    // Monthly on the 1st at 09:00 JST is the last day of the previous month in UTC.
    let r = build("every = \"month\"\nday = 1\nat = \"09:00\"", jst);
    let got = r.between(
        jst,
        utc(2026, 11, 1, 1, 0),
        utc(2027, 1, 5, 0, 0),
        None,
        utc(2026, 11, 1, 0, 0),
    );
    assert_eq!(got, [utc(2026, 12, 1, 0, 0), utc(2027, 1, 1, 0, 0)]);
    let r = build("every = \"month\"\nday = 1\nat = \"08:00\"", jst);
    let got = r.between(
        jst,
        utc(2026, 11, 1, 0, 0),
        utc(2026, 12, 5, 0, 0),
        None,
        utc(2026, 11, 1, 0, 0),
    );
    assert_eq!(got, [utc(2026, 11, 30, 23, 0)]);
}

#[test]
fn weekly_on_weekdays_yearly_and_intervals() {
    let r = build(
        "every = \"week\"\non = [\"mon\", \"thu\"]\nat = \"09:00\"",
        Tz::UTC,
    );
    assert_eq!(
        dates(&r, Tz::UTC, utc(2026, 11, 23, 0, 0), 14),
        ["2026-11-23", "2026-11-26", "2026-11-30", "2026-12-03"]
    );
    let r = build(
        "every = \"week\"\ninterval = 2\non = [\"fri\"]\nstart = \"2026-11-06\"",
        Tz::UTC,
    );
    assert_eq!(
        dates(&r, Tz::UTC, utc(2026, 11, 23, 0, 0), 30),
        ["2026-12-04", "2026-12-18"]
    );
    let r = build("every = \"year\"\nmonths = [10]\nday = 15", Tz::UTC);
    assert_eq!(
        dates(&r, Tz::UTC, utc(2026, 1, 1, 0, 0), 800),
        ["2026-10-15", "2027-10-15"]
    );
    let r = build(
        "every = \"day\"\non = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]",
        Tz::UTC,
    );
    assert_eq!(
        dates(&r, Tz::UTC, utc(2026, 11, 20, 0, 0), 4),
        ["2026-11-20", "2026-11-23"]
    );
}

#[test]
fn last_and_next_occurrence_around_now() {
    let r = build("every = \"month\"\nday = 1\nat = \"09:00\"", Tz::UTC);
    let now = utc(2026, 11, 23, 3, 0);
    assert_eq!(
        r.last_at_or_before(Tz::UTC, now, None, now),
        Some(utc(2026, 11, 1, 9, 0))
    );
    assert_eq!(
        r.next_after(Tz::UTC, now, None, now),
        Some(utc(2026, 12, 1, 9, 0))
    );
    let r = build("every = \"year\"\nmonths = [4]\nday = 15", Tz::UTC);
    assert_eq!(
        r.last_at_or_before(Tz::UTC, now, None, now),
        Some(utc(2026, 4, 15, 9, 0))
    );
}

#[test]
fn rules_that_cannot_be_built_say_why() {
    let err = |t: &str| Recurrence::from_spec(&duty(t), Tz::UTC).unwrap_err();
    assert!(err("every = \"week\"").contains("needs `on`"));
    assert!(err("every = \"year\"\nday = 1").contains("needs `months`"));
    assert!(err("every = \"month\"").contains("needs `day`"));
    assert!(err("every = \"90 days\"").contains("needs `start`"));
    assert!(err("every = \"week\"\non = [\"mon\"]\ninterval = 2").contains("needs `start`"));
    assert!(
        err("every = \"90 days\"\nfrom = \"done\"\nat = [\"09:00\", \"10:00\"]")
            .contains("one time of day")
    );
}
