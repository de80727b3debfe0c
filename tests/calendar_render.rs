//! The Calendar tab's blocks drawn on a TestBackend: the month grid beside the agenda on a
//! busy Monday afternoon (some checks done, one overdue, one skipped, a follow-up coming),
//! and a duty's detail with its history, at 80x24 and 160x48, in the default 16-colour
//! theme and in monochrome (NO_COLOR), where only symbols and modifiers tell states apart.

mod common;

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use toban::calendar::model::{duties_from_config, Actor, DutyEvent, EventKind};
use toban::calendar::state::{update, CalendarMsg, CalendarState};
use toban::calendar::store::CalendarRecords;
use toban::calendar::view;
use toban::calendar::Followup;
use toban::config::calendar::{CalendarConfig, RunbookLink};
use toban::config::theme::{load_theme, ColorSupport, Theme};

use common::dump;

fn jst() -> Tz {
    "Asia/Tokyo".parse().unwrap()
}

fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    jst()
        .with_ymd_and_hms(2026, 11, d, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Monday 2026-11-23, 14:30 JST.
fn now() -> DateTime<Utc> {
    at(23, 14, 30)
}

fn theme(name: &str) -> Theme {
    let (theme, problems) = load_theme(name, None, ColorSupport::Ansi16);
    assert!(problems.is_empty(), "{problems:?}");
    theme.unwrap()
}

fn event(
    id: i64,
    duty: &str,
    occurrence: DateTime<Utc>,
    kind: EventKind,
    by: &str,
    note: Option<&str>,
) -> DutyEvent {
    DutyEvent {
        id,
        duty_id: duty.into(),
        occurrence,
        kind,
        at: occurrence + Duration::minutes(12),
        recorded: occurrence + Duration::minutes(12),
        by: Actor {
            user: by.into(),
            ssh_client: Some("192.0.2.7 port 52311".into()),
        },
        note: note.map(String::from),
        until: None,
        run_id: None,
    }
}

fn records() -> CalendarRecords {
    let mut events = vec![
        event(
            1,
            "alarm-check",
            at(23, 9, 0),
            EventKind::Done,
            "alice",
            Some("all green"),
        ),
        event(
            2,
            "morning-review",
            at(23, 9, 0),
            EventKind::Done,
            "alice",
            Some("7 ERROR lines an hour"),
        ),
        event(
            3,
            "cost-check",
            at(23, 9, 0),
            EventKind::Skipped,
            "bob",
            Some("the PM has this week's numbers"),
        ),
        event(
            4,
            "alarm-check",
            at(22, 17, 0),
            EventKind::Done,
            "bob",
            None,
        ),
        event(
            5,
            "daily-report",
            at(22, 17, 0),
            EventKind::Done,
            "bob",
            None,
        ),
        event(
            6,
            "access-key-rotation",
            at(1, 10, 0) - Duration::days(61),
            EventKind::Done,
            "alice",
            None,
        ),
    ];
    let mut n = 10;
    // The week before: everything done but Thursday afternoon's check.
    for day in 16..=21 {
        for (duty, h) in [
            ("alarm-check", 9),
            ("alarm-check", 14),
            ("alarm-check", 17),
            ("morning-review", 9),
            ("daily-report", 17),
        ] {
            if day == 19 && h == 14 {
                continue;
            }
            n += 1;
            events.push(event(
                n,
                duty,
                at(day, h, 0),
                EventKind::Done,
                "alice",
                None,
            ));
        }
    }
    let since = at(16, 0, 0);
    CalendarRecords {
        events,
        tracked: CalendarConfig::default()
            .resolved()
            .into_iter()
            .map(|d| (d.spec.id, since))
            .collect::<HashMap<_, _>>(),
        followups: vec![Followup {
            id: 3,
            title: "Delete old access key AKIAOLD of ci-cd-user".into(),
            note: Some("if nothing broke in the 7 days it was inactive".into()),
            due: at(25, 10, 0),
            created: at(18, 10, 0),
            created_by_run: Some("20261118T010000Z-4f2a9c".into()),
            done: None,
            action: Some(RunbookLink {
                name: "delete-access-key".into(),
                ..Default::default()
            }),
        }],
    }
}

fn busy() -> CalendarState {
    let (duties, problems) = duties_from_config(&CalendarConfig::default());
    let mut s = CalendarState::new(duties, problems, jst(), Duration::hours(1), 7, now());
    update(&mut s, CalendarMsg::Records(records()), now());
    s
}

fn draw(s: &CalendarState, theme_name: &str, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| view::render(f, f.area(), s, &theme(theme_name), now(), jst()))
        .unwrap();
    let styles = theme_name != "default" || w == 80;
    dump(term.backend().buffer(), styles)
}

#[test]
fn month_grid_and_agenda_at_both_sizes_in_both_themes() {
    let s = busy();
    for theme_name in ["default", "monochrome"] {
        for (w, h) in [(80, 24), (160, 48)] {
            insta::assert_snapshot!(
                format!("calendar_busy_{theme_name}_{w}x{h}"),
                draw(&s, theme_name, w, h)
            );
        }
    }
}

#[test]
fn the_overdue_check_is_first_and_the_day_reads_without_colour() {
    let s = busy();
    let text = draw(&s, "monochrome", 80, 24);
    let lines: Vec<&str> = text.lines().collect();
    let todo = lines
        .iter()
        .position(|l| l.contains("│To do"))
        .unwrap_or_else(|| panic!("{text}"));
    let first = lines[todo + 1];
    assert!(first.contains("│! 11-22"), "{first}");
    assert!(first.contains("Planned deploy"), "{first}");
    assert!(first.contains("overdue"), "{first}");
    // Today's cell carries the overdue mark; a day of all-done checks a done mark.
    assert!(text.contains("23!"), "{text}");
    assert!(text.contains("18✓"), "{text}");
    assert!(text.contains("19x"), "{text}");
}

#[test]
fn a_duty_detail_with_its_history() {
    let mut s = busy();
    let i = s
        .rows
        .iter()
        .position(|o| o.duty_id == "alarm-check")
        .unwrap();
    s.selected = i;
    s.open_detail();
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(
            format!("calendar_detail_default_{w}x{h}"),
            draw(&s, "default", w, h)
        );
    }
    // The quarterly drill says how it starts its runbook.
    let mut s = busy();
    s.next_month();
    s.next_week();
    let i = s
        .rows
        .iter()
        .position(|o| o.duty_id == "restore-drill")
        .unwrap();
    s.selected = i;
    s.open_detail();
    let text = draw(&s, "default", 160, 48);
    assert!(
        text.contains("▶ restore-postgres as a drill, newest good backup"),
        "{text}"
    );
}

#[test]
fn moving_by_month_week_and_day_and_back_to_today() {
    let mut s = busy();
    s.next_month();
    assert_eq!(s.cursor.to_string(), "2026-12-23");
    let text = draw(&s, "default", 80, 24);
    assert!(text.contains("December 2026"), "{text}");
    assert!(text.contains("Agenda from Wed 23 Dec"), "{text}");
    s.prev_week();
    s.prev_day();
    assert_eq!(s.cursor.to_string(), "2026-12-15");
    s.prev_month();
    s.prev_month();
    assert_eq!(s.cursor.to_string(), "2026-10-15");
    s.jump_today();
    assert_eq!(s.cursor.to_string(), "2026-11-23");
    // Paging the month keeps the 31st on the last day of a shorter month.
    s.cursor = chrono::NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
    s.next_month();
    assert_eq!(s.cursor.to_string(), "2027-02-28");
}

#[test]
fn no_duties_says_how_to_get_some() {
    let cfg: CalendarConfig = toml::from_str("presets = []").unwrap();
    let (duties, problems) = duties_from_config(&cfg);
    let s = CalendarState::new(duties, problems, jst(), Duration::hours(1), 7, now());
    let text = draw(&s, "default", 80, 24);
    assert!(text.contains("No duties. Turn on a preset"), "{text}");
    assert!(text.contains("reading the records"), "{text}");
}
