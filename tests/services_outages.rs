//! This month's availability survives a restart of toban, on SQLite and on PostgreSQL: a
//! check's outcomes go through the console, only its transitions (an outage starting,
//! ending) become store writes, and a second console on the same store reads them back and
//! carries on — an outage still open when the first one stopped is closed by the second's
//! next good probe, counted in full.

mod common;
mod support;

use chrono::{DateTime, Duration, Utc};
use common::console::Console;
use common::t0;
use support::stores::TestDb;
use toban::config::services::{CheckConfig, ServicesConfig};
use toban::services::availability;
use toban::services::model::CheckOutcome;
use toban::services::{ServicesEffect, ServicesMsg};
use toban::state::{Effect, Msg};

crate::on_both_backends!(availability_survives_a_restart);

fn config() -> ServicesConfig {
    ServicesConfig {
        checks: vec![CheckConfig {
            name: "api".into(),
            url: "http://127.0.0.1:9/health".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn console() -> Console {
    let mut c = Console::new(Vec::new());
    c.s.services = toban::services::ServicesState::new(&config(), Vec::new());
    c
}

fn probe(at: DateTime<Utc>, ok: bool) -> Msg {
    Msg::Services(ServicesMsg::Check(CheckOutcome {
        name: "api".into(),
        at,
        ok,
        status: Some(if ok { 200 } else { 503 }),
        latency_ms: 3,
        error: (!ok).then(|| "status 503, expected 200".into()),
    }))
}

/// The outage writes asked for so far, done against `store`; how many.
async fn store_writes(c: &mut Console, store: &toban::store::Store) -> usize {
    let handles = toban::services::effects::Handles::default();
    let mut n = 0;
    for e in std::mem::take(&mut c.fx) {
        if let Effect::Services(e @ ServicesEffect::RecordOutage { .. }) = e {
            toban::services::effects::run(e, &handles, Some(store.clone())).await;
            n += 1;
        }
    }
    n
}

async fn availability_survives_a_restart(db: TestDb) {
    let t = t0();
    let s = |secs: i64| t + Duration::seconds(secs);
    let mut first = console();
    // Thirty-second probes: up, down for a minute, up, then down when toban stops.
    for (at, ok) in [
        (0, true),
        (30, false),
        (60, false),
        (90, true),
        (120, true),
        (150, false),
    ] {
        first.msg(probe(s(at), ok));
    }
    // Six probes, three transitions: the first outage's start and end, the second's start.
    assert_eq!(store_writes(&mut first, &db.store).await, 3);

    let store = db.reopen().await;
    let since = t - Duration::days(toban::services::outages::KEPT_DAYS);
    let stored = toban::services::outages::load(&store, since).await.unwrap();
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[1].1.end, None, "still down when toban stopped");

    // The restarted toban: the store first, then its own probes.
    let mut second = console();
    second.msg(Msg::Services(ServicesMsg::Outages(stored)));
    second.msg(probe(s(240), false));
    second.msg(probe(s(270), true));
    store_writes(&mut second, &store).await;
    let checks = &second.s.services.checks[0];
    assert_eq!(checks.outages.len(), 2, "{:?}", checks.outages);
    let a = availability::this_month(&checks.outages, s(300), chrono_tz::UTC, 99.9);
    // 60 s of the first outage and 120 s of the second (down until seen up).
    assert_eq!(a.down, Duration::seconds(180));

    // What a third start would read: the same, closed.
    let again = toban::services::outages::load(&db.reopen().await, since)
        .await
        .unwrap();
    let merged = availability::merge(again.into_iter().map(|(_, o)| o).collect());
    assert_eq!(merged, checks.outages);
    assert!(merged.iter().all(|o| o.end.is_some()));
    // Old rows go; this month's stay.
    assert_eq!(
        toban::services::outages::prune(&store, s(0)).await.unwrap(),
        0
    );
    assert_eq!(
        toban::services::outages::prune(&store, s(100))
            .await
            .unwrap(),
        1
    );
}
