//! The calendar on a real store, SQLite and PostgreSQL: records round-trip, and duties move
//! through due → overdue → missed / done as a clock the test sets goes forward, with
//! completions written to and read back from the store.

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use toban::calendar::book::{Book, OccState};
use toban::calendar::model::{duties_from_config, Actor, EventKind};
use toban::calendar::store::NewEvent;
use toban::calendar::{findings, Duty};
use toban::config::calendar::{CalendarConfig, RunbookLink};
use toban::health::Severity;
use toban::store::Store;

use support::stores::TestDb;

crate::on_both_backends!(
    events_round_trip_and_the_latest_completion_is_kept_however_old,
    a_daily_check_goes_due_overdue_missed_and_done,
    a_monthly_duty_done_late_is_not_piled_up,
    snooze_and_skip_and_a_window_that_raises_no_alarm,
    every_90_days_counts_from_the_completion_and_never_misses,
    a_follow_up_is_a_one_off_duty_and_doing_it_closes_it,
    a_new_install_is_not_behind_on_what_happened_before_it_tracked,
);

fn jst() -> Tz {
    "Asia/Tokyo".parse().unwrap()
}

/// A JST wall-clock time as UTC.
fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    jst()
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn alice() -> Actor {
    Actor {
        user: "alice".into(),
        ssh_client: Some("192.0.2.7 port 52311".into()),
    }
}

fn seed002() -> Vec<Duty> {
    let (duties, problems) = duties_from_config(&CalendarConfig::default());
    assert!(problems.is_empty(), "{problems:?}");
    duties
}

async fn book(store: &Store, duties: &[Duty], now: DateTime<Utc>) -> Book {
    let records = store.calendar_records(now, 400, &[]).await.unwrap();
    Book::assemble(duties, &records, jst(), Duration::hours(1))
}

async fn record(
    store: &Store,
    duty: &str,
    occurrence: DateTime<Utc>,
    kind: EventKind,
    note: Option<&str>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) {
    let by = alice();
    store
        .record_duty_event(
            &NewEvent {
                duty_id: duty,
                occurrence,
                kind,
                at: now,
                by: &by,
                note,
                until,
                run_id: None,
            },
            now,
        )
        .await
        .unwrap();
}

fn state_of(b: &Book, id: &str, now: DateTime<Utc>) -> (DateTime<Utc>, OccState) {
    let o = b.current(b.index_of(id).unwrap(), now).unwrap();
    (o.at, o.state)
}

fn finding_keys(b: &Book, now: DateTime<Utc>) -> Vec<String> {
    findings(b, now).into_iter().map(|f| f.key).collect()
}

async fn events_round_trip_and_the_latest_completion_is_kept_however_old(db: TestDb) {
    let s = &db.store;
    let now = at(2026, 11, 23, 12, 0);
    let old = now - Duration::days(800);
    let by = alice();
    s.record_duty_event(
        &NewEvent {
            duty_id: "access-key-rotation",
            occurrence: old,
            kind: EventKind::Done,
            at: old + Duration::hours(3),
            by: &by,
            note: Some("rotated AKIA…OLD → AKIA…NEW; 'quotes' and 日本語"),
            until: None,
            run_id: Some("20240915T010000Z-abc123"),
        },
        now,
    )
    .await
    .unwrap();
    s.complete_duty("alarm-check", at(2026, 11, 23, 9, 0), &by, None, None, now)
        .await
        .unwrap();
    let records = s.calendar_records(now, 90, &[]).await.unwrap();
    assert_eq!(
        records.events.len(),
        2,
        "the 800-day-old completion is the latest of its duty"
    );
    let e = records
        .events
        .iter()
        .find(|e| e.duty_id == "access-key-rotation")
        .unwrap();
    assert_eq!(e.occurrence, old);
    assert_eq!(e.at, old + Duration::hours(3));
    assert_eq!(e.recorded, now);
    assert_eq!(e.kind, EventKind::Done);
    assert_eq!(e.by, alice());
    assert_eq!(
        e.note.as_deref(),
        Some("rotated AKIA…OLD → AKIA…NEW; 'quotes' and 日本語")
    );
    assert_eq!(e.run_id.as_deref(), Some("20240915T010000Z-abc123"));
    // Records survive a restart.
    s.close().await;
    let again = db.reopen().await;
    assert_eq!(again.calendar_records(now, 90, &[]).await.unwrap(), records);
}

async fn a_daily_check_goes_due_overdue_missed_and_done(db: TestDb) {
    let s = &db.store;
    let duties = seed002();
    let id = "alarm-check";
    // Monday 2026-11-23, JST: 09:00, 14:00 and 17:00 checks, an hour's grace.
    let t = |h, m| at(2026, 11, 23, h, m);
    let yesterday = at(2026, 11, 22, 17, 0);
    let b = book(s, &duties, t(8, 59)).await;
    // Last night's 17:00 check was not done: overdue until this morning's is due.
    assert_eq!(state_of(&b, id, t(8, 59)), (yesterday, OccState::Overdue));
    record(
        s,
        id,
        yesterday,
        EventKind::Done,
        None,
        None,
        at(2026, 11, 22, 17, 30),
    )
    .await;
    let b = book(s, &duties, t(8, 59)).await;
    assert_eq!(state_of(&b, id, t(8, 59)), (t(9, 0), OccState::Upcoming));
    assert_eq!(state_of(&b, id, t(9, 0)), (t(9, 0), OccState::Due));
    assert_eq!(state_of(&b, id, t(9, 59)), (t(9, 0), OccState::Due));
    assert!(!finding_keys(&b, t(9, 59)).contains(&"calendar.overdue:alarm-check".into()));
    assert_eq!(state_of(&b, id, t(10, 0)), (t(9, 0), OccState::Overdue));
    let f = findings(&b, t(10, 0));
    let f = f
        .iter()
        .find(|f| f.key == "calendar.overdue:alarm-check")
        .unwrap();
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.value, 1.0);
    assert!(
        f.message.contains("due 2026-11-23 09:00 JST"),
        "{}",
        f.message
    );
    // At 14:00 the 09:00 check was never done: missed, and the 14:00 one is due.
    assert_eq!(state_of(&b, id, t(14, 0)), (t(14, 0), OccState::Due));
    assert!(!finding_keys(&b, t(14, 0)).contains(&"calendar.overdue:alarm-check".into()));
    record(
        s,
        id,
        t(14, 0),
        EventKind::Done,
        Some("all OK"),
        None,
        t(14, 20),
    )
    .await;
    let b = book(s, &duties, t(14, 20)).await;
    assert_eq!(state_of(&b, id, t(14, 20)), (t(17, 0), OccState::Upcoming));
    let i = b.index_of(id).unwrap();
    let h = b.history(i, t(14, 20));
    assert_eq!(h[0].state, OccState::Done);
    assert_eq!(h[0].occurrence, t(14, 0));
    assert_eq!(
        h[0].event.as_ref().unwrap().by.describe(),
        "alice from 192.0.2.7 port 52311"
    );
    assert_eq!(h[1].state, OccState::Missed);
    assert_eq!(h[1].occurrence, t(9, 0));
    // Today's summary: three checks, one done, one missed, one to come.
    let sum = b.summary(t(14, 20), jst());
    let states: Vec<OccState> = sum
        .today
        .iter()
        .filter(|o| o.duty_id == id)
        .map(|o| o.state)
        .collect();
    assert_eq!(
        states,
        [OccState::Missed, OccState::Done, OccState::Upcoming]
    );
}

async fn a_monthly_duty_done_late_is_not_piled_up(db: TestDb) {
    let s = &db.store;
    let duties = seed002();
    let id = "cloudtrail-review"; // the 1st at 09:00, a day's grace
    let b = book(s, &duties, at(2026, 11, 1, 10, 0)).await;
    assert_eq!(state_of(&b, id, at(2026, 11, 1, 10, 0)).1, OccState::Due);
    assert_eq!(state_of(&b, id, at(2026, 11, 2, 9, 0)).1, OccState::Overdue);
    // Three weeks later it is still the one overdue occurrence.
    let late = at(2026, 11, 20, 16, 0);
    assert_eq!(
        state_of(&b, id, late),
        (at(2026, 11, 1, 9, 0), OccState::Overdue)
    );
    record(
        s,
        id,
        at(2026, 11, 1, 9, 0),
        EventKind::Done,
        Some("late"),
        None,
        late,
    )
    .await;
    let b = book(s, &duties, late).await;
    assert_eq!(
        state_of(&b, id, late),
        (at(2026, 12, 1, 9, 0), OccState::Upcoming)
    );
    assert!(!finding_keys(&b, late).contains(&format!("calendar.overdue:{id}")));
    // Not done in December or January: December's is missed once January's is due.
    let feb = at(2027, 1, 2, 12, 0);
    let b = book(s, &duties, feb).await;
    assert_eq!(
        state_of(&b, id, feb),
        (at(2027, 1, 1, 9, 0), OccState::Overdue)
    );
    let h = b.history(b.index_of(id).unwrap(), feb);
    let kinds: Vec<(OccState, DateTime<Utc>)> = h.iter().map(|h| (h.state, h.occurrence)).collect();
    assert_eq!(
        kinds,
        [
            (OccState::Missed, at(2026, 12, 1, 9, 0)),
            (OccState::Done, at(2026, 11, 1, 9, 0))
        ]
    );
}

async fn snooze_and_skip_and_a_window_that_raises_no_alarm(db: TestDb) {
    let s = &db.store;
    let duties = seed002();
    let id = "rds-patch-check"; // the 1st at 09:00, a day's grace
    let occ = at(2026, 12, 1, 9, 0);
    let now = at(2026, 12, 2, 10, 0);
    assert_eq!(
        state_of(&book(s, &duties, now).await, id, now).1,
        OccState::Overdue
    );
    record(
        s,
        id,
        occ,
        EventKind::Snoozed,
        Some("after the deploy"),
        Some(now + Duration::hours(2)),
        now,
    )
    .await;
    let b = book(s, &duties, now).await;
    assert_eq!(state_of(&b, id, now).1, OccState::Snoozed);
    assert!(!finding_keys(&b, now).contains(&format!("calendar.overdue:{id}")));
    // When the snooze ends it is due again, and overdue a grace later.
    assert_eq!(state_of(&b, id, now + Duration::hours(3)).1, OccState::Due);
    assert_eq!(
        state_of(&b, id, now + Duration::hours(26)).1,
        OccState::Overdue
    );
    // Skipped with a reason: resolved, in the history with the reason.
    record(
        s,
        id,
        occ,
        EventKind::Skipped,
        Some("no patch pending"),
        None,
        now + Duration::hours(27),
    )
    .await;
    let later = now + Duration::hours(28);
    let b = book(s, &duties, later).await;
    assert_eq!(
        state_of(&b, id, later),
        (at(2027, 1, 1, 9, 0), OccState::Upcoming)
    );
    let h = b.history(b.index_of(id).unwrap(), later);
    assert_eq!(h[0].state, OccState::Skipped);
    assert_eq!(
        h[0].event.as_ref().unwrap().note.as_deref(),
        Some("no patch pending")
    );
    // The Sunday deploy window is overdue on Monday but raises no alarm (`alarm = false`).
    let monday = at(2026, 11, 23, 12, 0);
    assert_eq!(state_of(&b, "deploy-window", monday).1, OccState::Overdue);
    assert!(!finding_keys(&b, monday).contains(&"calendar.overdue:deploy-window".into()));
}

async fn every_90_days_counts_from_the_completion_and_never_misses(db: TestDb) {
    let s = &db.store;
    let duties = seed002();
    let id = "access-key-rotation"; // every 90 days from done, 10:00, 7 days' grace
    let day1 = at(2026, 3, 10, 8, 0);
    let b = book(s, &duties, day1).await;
    // Never done: due today at 10:00.
    assert_eq!(
        state_of(&b, id, day1),
        (at(2026, 3, 10, 10, 0), OccState::Upcoming)
    );
    let done = at(2026, 3, 10, 15, 42);
    record(
        s,
        id,
        at(2026, 3, 10, 10, 0),
        EventKind::Done,
        None,
        None,
        done,
    )
    .await;
    let b = book(s, &duties, done).await;
    let next = at(2026, 6, 8, 10, 0);
    assert_eq!(state_of(&b, id, done), (next, OccState::Upcoming));
    assert_eq!(state_of(&b, id, next).1, OccState::Due);
    assert_eq!(
        state_of(&b, id, next + Duration::days(7)).1,
        OccState::Overdue
    );
    // Half a year later it is one overdue rotation, not two missed ones.
    let much_later = at(2026, 12, 1, 12, 0);
    assert_eq!(state_of(&b, id, much_later), (next, OccState::Overdue));
    assert!(b
        .history(b.index_of(id).unwrap(), much_later)
        .iter()
        .all(|h| h.state != OccState::Missed));
    // Done then: the next one is 90 days after that.
    record(s, id, next, EventKind::Done, None, None, much_later).await;
    let b = book(s, &duties, much_later).await;
    assert_eq!(
        state_of(&b, id, much_later),
        (at(2027, 3, 1, 10, 0), OccState::Upcoming)
    );
}

async fn a_follow_up_is_a_one_off_duty_and_doing_it_closes_it(db: TestDb) {
    let s = &db.store;
    let now = at(2026, 11, 23, 12, 0);
    let action = RunbookLink {
        name: "delete-access-key".into(),
        params: [("old_key_id".to_string(), "AKIAOLD".to_string())].into(),
        ..Default::default()
    };
    let id = s
        .add_one_off_duty(
            "Delete old access key AKIAOLD of ci-cd-user",
            Some("if nothing broke in the 7 days it was inactive"),
            now + Duration::days(7),
            Some(&action),
            Some("20261123T030000Z-abc123"),
            now,
        )
        .await
        .unwrap();
    let duty_id = format!("followup-{id}");
    let b = book(s, &[], now).await;
    let i = b.index_of(&duty_id).unwrap();
    assert_eq!(b.duties[i].runbook.as_ref(), Some(&action));
    assert_eq!(state_of(&b, &duty_id, now).1, OccState::Upcoming);
    let due = now + Duration::days(7);
    assert_eq!(
        state_of(&b, &duty_id, due + Duration::hours(1)).1,
        OccState::Overdue
    );
    assert!(
        finding_keys(&b, due + Duration::hours(1)).contains(&format!("calendar.overdue:{duty_id}"))
    );
    record(
        s,
        &duty_id,
        due,
        EventKind::Done,
        Some("deleted"),
        None,
        due + Duration::hours(2),
    )
    .await;
    assert!(
        s.open_followups().await.unwrap().is_empty(),
        "done closes the follow-up"
    );
    let b = book(s, &[], due + Duration::hours(2)).await;
    assert!(b
        .current(b.index_of(&duty_id).unwrap(), due + Duration::hours(2))
        .is_none());
    // A follow-up closed the old way (no record) still reads as done.
    let other = s
        .add_followup("Old style", None, now, None, now)
        .await
        .unwrap();
    s.complete_followup(other, now + Duration::hours(1))
        .await
        .unwrap();
    let b = book(s, &[], now + Duration::hours(2)).await;
    let i = b.index_of(&format!("followup-{other}")).unwrap();
    assert_eq!(
        b.history(i, now + Duration::hours(2))[0].state,
        OccState::Done
    );
}

async fn a_new_install_is_not_behind_on_what_happened_before_it_tracked(db: TestDb) {
    let s = &db.store;
    let duties = seed002();
    let ids: Vec<String> = duties.iter().map(|d| d.id.clone()).collect();
    // First seen on Monday 2026-11-23 at 12:00 JST.
    let first = at(2026, 11, 23, 12, 0);
    let records = s.calendar_records(first, 400, &ids).await.unwrap();
    assert_eq!(records.tracked.len(), ids.len());
    let b = Book::assemble(&duties, &records, jst(), Duration::hours(1));
    assert!(findings(&b, first).is_empty(), "{:?}", findings(&b, first));
    // The April failover drill and this morning's check are before tracking began.
    assert_eq!(
        state_of(&b, "failover-drill", first),
        (at(2027, 4, 15, 10, 0), OccState::Upcoming)
    );
    assert_eq!(
        state_of(&b, "alarm-check", first),
        (at(2026, 11, 23, 14, 0), OccState::Upcoming)
    );
    // Never rotated: due on the first tracked day, and still that day a week later.
    assert_eq!(
        state_of(&b, "access-key-rotation", first),
        (at(2026, 11, 23, 10, 0), OccState::Due)
    );
    let week = first + Duration::days(8);
    assert_eq!(
        state_of(&b, "access-key-rotation", week),
        (at(2026, 11, 23, 10, 0), OccState::Overdue)
    );
    // A later process (another operator) keeps the first day.
    let records = s.calendar_records(week, 400, &ids).await.unwrap();
    assert_eq!(records.tracked["alarm-check"], first);
    // From then on a day's undone checks count.
    let b = Book::assemble(&duties, &records, jst(), Duration::hours(1));
    assert_eq!(
        state_of(&b, "alarm-check", at(2026, 11, 23, 15, 0)).1,
        OccState::Overdue
    );
}
