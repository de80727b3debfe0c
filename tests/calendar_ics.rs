//! The iCalendar export read back by an independent implementation: Python's `icalendar`
//! (PyPI) parses the file and `dateutil` expands each RRULE from its DTSTART in its
//! TZID; over a year that must give exactly the occurrences toban computes. Needs
//! `python3` with `icalendar` (CI installs it into a venv on PATH; see .ci/run).

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use toban::calendar::book::Book;
use toban::calendar::ics;
use toban::calendar::model::{duties_from_config, Actor, DutyEvent, EventKind};
use toban::calendar::store::CalendarRecords;
use toban::calendar::Followup;
use toban::config::calendar::CalendarConfig;

const EXPAND: &str = r#"
import sys
from datetime import datetime, timezone
import icalendar
from dateutil.rrule import rrulestr

cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
start = datetime.fromisoformat(sys.argv[2])
end = datetime.fromisoformat(sys.argv[3])
for ev in cal.walk('VEVENT'):
    uid = str(ev['UID'])
    dtstart = ev.decoded('DTSTART')
    if 'RRULE' in ev:
        rule = ev['RRULE'].to_ical().decode()
        times = rrulestr(rule, dtstart=dtstart).between(start, end, inc=True)
    else:
        times = [dtstart] if start <= dtstart <= end else []
    for t in times:
        print(uid, t.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))
"#;

fn python() -> Option<&'static str> {
    let ok = Command::new("python3")
        .args(["-c", "import icalendar, dateutil"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Some("python3")
    } else {
        support::service_unavailable(
            "Python icalendar",
            "python3 cannot import icalendar and dateutil (pip install icalendar)",
        );
        None
    }
}

fn config() -> CalendarConfig {
    toml::from_str(
        r#"
presets = ["seed002", "seed000", "seed004", "seed001"]
[[duty]]
id = "ny-night-job"
title = "Confirm the 02:30 job (New York, across both DST changes)"
every = "day"
at = "02:30"
zone = "America/New_York"
[[duty]]
id = "berlin-month-end"
title = "Month-end close, Berlin"
every = "month"
day = 31
at = ["08:00", "16:30"]
zone = "Europe/Berlin"
[[duty]]
id = "fortnightly"
title = "Every other Friday"
every = "week"
interval = 2
on = ["fri"]
start = "2026-01-02"
zone = "UTC"
"#,
    )
    .unwrap()
}

#[test]
fn the_export_expands_to_the_same_occurrences_for_a_year() {
    let Some(py) = python() else { return };
    let jst: Tz = "Asia/Tokyo".parse().unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap();
    let from = jst
        .with_ymd_and_hms(2026, 11, 23, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let to = from + Duration::days(365);
    let cfg = config();
    let (duties, problems) = duties_from_config(&cfg);
    assert!(problems.is_empty(), "{problems:?}");
    // The access key was rotated in October: the export counts 90 days from then.
    let rotated = Utc.with_ymd_and_hms(2026, 10, 2, 6, 0, 0).unwrap();
    let records = CalendarRecords {
        events: vec![DutyEvent {
            id: 1,
            duty_id: "access-key-rotation".into(),
            occurrence: rotated,
            kind: EventKind::Done,
            at: rotated,
            recorded: rotated,
            by: Actor {
                user: "alice".into(),
                ssh_client: None,
            },
            note: None,
            until: None,
            run_id: None,
        }],
        followups: vec![Followup {
            id: 7,
            title: "Delete old access key AKIAOLD".into(),
            note: None,
            due: now + Duration::days(7),
            created: now,
            created_by_run: None,
            done: None,
            action: None,
        }],
        tracked: Default::default(),
    };
    let book = Book::assemble(&duties, &records, jst, Duration::hours(1));
    let text = ics::export(&book, from, now);
    let unfolded = text.replace("\r\n ", "").replace("\r\n", "\n");
    assert!(
        unfolded.contains("BEGIN:VTIMEZONE\nTZID:America/New_York"),
        "{text}"
    );
    assert!(
        unfolded.contains("RRULE:FREQ=MONTHLY;BYSETPOS=-1;BYMONTHDAY=28,29,30,31"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("toban.ics");
    std::fs::write(&file, &text).unwrap();
    let out = Command::new(py)
        .args(["-c", EXPAND])
        .arg(&file)
        .arg(from.to_rfc3339())
        .arg((to - Duration::seconds(1)).to_rfc3339())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut theirs: BTreeMap<String, Vec<DateTime<Utc>>> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let (uid, t) = line.split_once(' ').unwrap();
        // `<duty>-HHMM@toban` for a rule per time of day, `<duty>@toban` for a one-off.
        let uid = uid.trim_end_matches("@toban");
        let duty = match uid.rsplit_once('-') {
            Some((d, hhmm)) if hhmm.len() == 4 && hhmm.chars().all(|c| c.is_ascii_digit()) => d,
            _ => uid,
        };
        theirs
            .entry(duty.to_string())
            .or_default()
            .push(t.parse().unwrap());
    }
    let mut ours: BTreeMap<String, Vec<DateTime<Utc>>> = BTreeMap::new();
    for o in book.occurrences(from, to, now) {
        ours.entry(o.duty_id.clone()).or_default().push(o.at);
    }
    for v in theirs.values_mut() {
        v.sort();
    }
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>()
    );
    for (duty, times) in &ours {
        assert_eq!(times, &theirs[duty], "{duty}");
    }
    // Spot checks of what the year holds.
    assert_eq!(ours["alarm-check"].len(), 3 * 365);
    assert_eq!(ours["berlin-month-end"].len(), 24);
    assert_eq!(
        ours["access-key-rotation"][0],
        jst.with_ymd_and_hms(2026, 12, 31, 10, 0, 0).unwrap()
    );
    assert!(ours["ny-night-job"].contains(&Utc.with_ymd_and_hms(2027, 3, 14, 7, 30, 0).unwrap()));
    assert_eq!(ours["followup-7"], [now + Duration::days(7)]);
}
