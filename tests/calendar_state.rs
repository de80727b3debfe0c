//! The Calendar's state, effects and provider together on a real SQLite store: marking the
//! selected duty done goes out as an effect, the effect writes it, the poller reads it back
//! and the agenda moves on; a drill's runbook request and the run that completes it.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use toban::calendar::book::OccState;
use toban::calendar::effects::{self, Handles};
use toban::calendar::model::{duties_from_config, Actor, EventKind};
use toban::calendar::provider;
use toban::calendar::state::{update, CalendarEffect, CalendarMsg, CalendarState};
use toban::calendar::store::CalendarRecords;
use toban::config::calendar::CalendarConfig;
use toban::providers::{Envelope, HealthEvent, ProviderId};
use toban::store::Store;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Debug)]
enum Seen {
    Records(Box<CalendarRecords>),
    Health(HealthEvent),
}

impl Envelope<CalendarRecords> for Seen {
    fn data(_: &ProviderId, v: CalendarRecords) -> Self {
        Seen::Records(Box::new(v))
    }
    fn health(_: ProviderId, e: HealthEvent) -> Self {
        Seen::Health(e)
    }
}

fn jst() -> Tz {
    "Asia/Tokyo".parse().unwrap()
}

fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    jst()
        .with_ymd_and_hms(2026, 11, d, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn operator() -> Actor {
    Actor {
        user: "carol".into(),
        ssh_client: Some("198.51.100.4 port 40022".into()),
    }
}

fn state(now: DateTime<Utc>) -> CalendarState {
    let (duties, problems) = duties_from_config(&CalendarConfig::default());
    CalendarState::new(duties, problems, jst(), Duration::hours(1), 7, now)
}

async fn next_records(rx: &mut mpsc::Receiver<Seen>) -> CalendarRecords {
    loop {
        match tokio::time::timeout(StdDuration::from_secs(10), rx.recv()).await {
            Ok(Some(Seen::Records(r))) => return *r,
            Ok(Some(Seen::Health(HealthEvent::Failed { reason, .. }))) => panic!("{reason}"),
            Ok(Some(Seen::Health(_))) => continue,
            other => panic!("no records: {other:?}"),
        }
    }
}

#[tokio::test]
async fn done_goes_through_the_store_and_comes_back_through_the_poller() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(None, dir.path()).await.unwrap();
    let (tx, mut rx) = mpsc::channel(8);
    let cancel = CancellationToken::new();
    let now = Utc::now();
    let mut s = state(now);
    let ids = s.book.duties.iter().map(|d| d.id.clone()).collect();
    let refresh = provider::spawn(
        store.clone(),
        ids,
        StdDuration::from_secs(3600),
        tx,
        cancel.clone(),
    );
    let handles = Handles {
        store: store.clone(),
        refresh,
        actions: None,
    };
    let records = next_records(&mut rx).await;
    assert!(
        !records.tracked.is_empty(),
        "the poller starts tracking the configured duties"
    );
    assert!(update(&mut s, CalendarMsg::Records(records), now).is_empty());
    assert!(s.loaded.is_some());

    // The agenda's first row (a duty due today, or the next one coming), done with a note.
    let row = s.selected_row().unwrap().clone();
    let effects = s.done("checked from the console", &operator());
    assert_eq!(effects.len(), 1);
    let CalendarEffect::Record {
        ref duty_id,
        occurrence,
        kind,
        ..
    } = effects[0]
    else {
        panic!("{effects:?}")
    };
    assert_eq!(
        (duty_id.as_str(), occurrence, kind),
        (row.duty_id.as_str(), row.at, EventKind::Done)
    );
    let answer = effects::run(effects[0].clone(), &handles).await.unwrap();
    assert!(
        matches!(&answer, CalendarMsg::Recorded { result: Ok(_), .. }),
        "{answer:?}"
    );
    // Recorded: a notice and a reload, which asks the poller to read again at once.
    let effects = update(&mut s, answer, now);
    assert_eq!(
        s.notice.as_deref(),
        Some(format!("done {}", row.duty_id).as_str())
    );
    assert_eq!(effects, [CalendarEffect::Reload]);
    assert!(effects::run(CalendarEffect::Reload, &handles)
        .await
        .is_none());
    let records = next_records(&mut rx).await;
    update(&mut s, CalendarMsg::Records(records), now);
    let i = s.book.index_of(&row.duty_id).unwrap();
    let h = s.book.history(i, now);
    assert_eq!(h[0].state, OccState::Done);
    assert_eq!(h[0].occurrence, row.at);
    let e = h[0].event.as_ref().unwrap();
    assert_eq!(e.note.as_deref(), Some("checked from the console"));
    assert_eq!(e.by, operator());
    assert!(
        !s.rows
            .iter()
            .any(|o| o.duty_id == row.duty_id && o.at == row.at),
        "the done occurrence leaves the agenda"
    );
    cancel.cancel();
}

#[test]
fn a_drill_duty_asks_for_its_runbook_and_the_finished_run_completes_it() {
    // 2027-01-04 is the first Monday of January: the quarterly restore drill.
    let now = jst()
        .with_ymd_and_hms(2027, 1, 4, 11, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let mut s = state(now);
    s.set_filter("restore");
    assert_eq!(s.rows.len(), 1, "{:?}", s.rows);
    assert_eq!(s.rows[0].state, OccState::Due);
    let req = s.runbook_request().unwrap();
    assert_eq!(req.duty_id, "restore-drill");
    assert_eq!(req.link.name, "restore-postgres");
    assert!(req.link.drill);
    assert_eq!(req.link.backup.as_deref(), Some("newest-good"));
    let effects = s.run_finished(&req, "20270104T020000Z-1a2b3c", &operator());
    assert_eq!(
        effects,
        [CalendarEffect::Record {
            duty_id: "restore-drill".into(),
            occurrence: req.occurrence,
            kind: EventKind::Done,
            at: now,
            by: operator(),
            note: Some("runbook restore-postgres run 20270104T020000Z-1a2b3c".into()),
            until: None,
            run_id: Some("20270104T020000Z-1a2b3c".into()),
        }]
    );
    // A duty without a runbook asks for none.
    s.set_filter("cost");
    assert!(s.runbook_request().is_none());
}

#[test]
fn skip_and_snooze_go_out_as_records_and_the_day_rolls_over_at_midnight() {
    let now = at(23, 14, 30);
    let mut s = state(now);
    s.set_filter("alarm");
    let effects = s.skip("maintenance window", &operator());
    assert!(
        matches!(&effects[0], CalendarEffect::Record { kind: EventKind::Skipped, note: Some(n), .. } if n == "maintenance window")
    );
    let effects = s.snooze(Duration::hours(2), &operator());
    assert!(
        matches!(&effects[0], CalendarEffect::Record { kind: EventKind::Snoozed, until: Some(u), .. } if *u == now + Duration::hours(2))
    );
    // Browsing stays where it is; on today, the cursor follows midnight.
    assert_eq!(s.cursor, at(23, 0, 0).with_timezone(&jst()).date_naive());
    update(&mut s, CalendarMsg::Tick, at(24, 0, 1));
    assert_eq!(s.cursor.to_string(), "2026-11-24");
    s.next_week();
    update(&mut s, CalendarMsg::Tick, at(25, 0, 1));
    assert_eq!(s.cursor.to_string(), "2026-12-01");
    // Selection moves within the agenda.
    s.jump_today();
    s.set_filter("");
    s.select_next();
    s.select_next();
    assert_eq!(s.selected, 2);
    s.page_down(100);
    assert_eq!(s.selected, s.rows.len() - 1);
    s.top();
    assert_eq!(s.selected, 0);
}

/// The agenda is made once before the store's records arrive (a duty counted from its last
/// completion has no date yet): whatever row the cursor was on then must not pull it away
/// from the top of the to-do list when the first records come in.
#[tokio::test]
async fn the_first_records_put_the_cursor_on_the_top_of_the_agenda() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(None, dir.path()).await.unwrap();
    let (tx, mut rx) = mpsc::channel(8);
    let cancel = CancellationToken::new();
    let now = Utc::now();
    let mut s = state(now);
    let ids = s.book.duties.iter().map(|d| d.id.clone()).collect();
    let _refresh = provider::spawn(store, ids, StdDuration::from_secs(3600), tx, cancel.clone());
    assert!(s.rows.len() > 3, "{} rows", s.rows.len());
    // A stale index on rows made before the records, not a row the operator picked.
    s.selected = 2;
    assert!(!s.picked);
    let records = next_records(&mut rx).await;
    update(&mut s, CalendarMsg::Records(records), now);
    assert_eq!(s.selected, 0);
    // Once the operator moves it, the cursor follows its row through reloads.
    s.select_next();
    assert!(s.picked);
    let row = s.selected_row().unwrap().clone();
    let records = {
        let (tx2, mut rx2) = mpsc::channel(8);
        let store = Store::open(None, dir.path()).await.unwrap();
        let ids = s.book.duties.iter().map(|d| d.id.clone()).collect();
        let _r = provider::spawn(
            store,
            ids,
            StdDuration::from_secs(3600),
            tx2,
            cancel.clone(),
        );
        next_records(&mut rx2).await
    };
    update(&mut s, CalendarMsg::Records(records), now);
    assert_eq!(s.selected_row().map(|o| &o.duty_id), Some(&row.duty_id));
    cancel.cancel();
}
