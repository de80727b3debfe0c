//! The alarms state as the console drives it: worst-first order, filtering as you type, the
//! bell for a newly firing alarm, acknowledgements and silences and when they stop holding,
//! and what opening an alarm fetches.

mod alarms_fixtures;

use alarms_fixtures::*;
use chrono::Duration;

use toban::alarms::acks::{Ack, AckKind};
use toban::alarms::model::AlarmState;
use toban::alarms::{update, AlarmsEffect, AlarmsMsg, AlarmsState};
use toban::health::Severity;

fn names(s: &AlarmsState) -> Vec<String> {
    s.visible.iter().map(|&i| s.rows[i].name.clone()).collect()
}

fn ack_of(s: &AlarmsState, effects: &[AlarmsEffect], id: i64) -> Ack {
    let AlarmsEffect::Record(new) = &effects[0] else {
        panic!("expected a record effect, got {effects:?}")
    };
    Ack {
        id,
        key: new.key.clone(),
        name: new.name.clone(),
        kind: new.kind,
        note: new.note.clone(),
        who: "ops@ops-1".into(),
        ssh_client: Some("192.0.2.10 port 52144".into()),
        at: s.now,
        until: new.until,
        state: new.state,
        state_since: new.state_since,
    }
}

#[test]
fn worst_first_then_unhandled_then_priority() {
    let s = busy();
    assert_eq!(
        names(&s),
        [
            // Firing and not handled: P1, P2, P2 (newest first within a priority), P3 …
            "goal-mandala-production-database-connection-error",
            "host.disk:/mnt/backup-hdd",
            "goal-mandala-production-high-error-rate",
            "host.cpu",
            "HighLatency",
            // Firing but silenced in Alertmanager.
            "DiskWillFillIn4h",
            "rds-storage-low",
            "goal-mandala-production-high-latency",
        ]
    );
    assert_eq!(s.worst(), Severity::Critical);
    let top = s.top_bar();
    assert_eq!(top.firing, 5);
    assert_eq!(top.worst.map(|p| p.as_str()), Some("P1"));
}

#[test]
fn filter_as_you_type_keeps_counts_and_selection_sane() {
    let mut s = busy();
    s.select_next();
    s.select_next();
    for (typed, want) in [
        ("s", 8),
        ("st", 3),
        ("state:alarm", 6),
        ("state:alarm source:alert", 2),
        ("state:alarm source:alertmanager is:silenced", 1),
        ("severity=warning -is:acked", 2),
        ("nothing-like-this", 0),
    ] {
        s.set_filter(typed);
        assert_eq!(s.visible.len(), want, "{typed}: {:?}", names(&s));
        assert_eq!(s.selected, 0);
    }
    s.set_filter("");
    assert_eq!(s.visible.len(), 8);
}

#[test]
fn a_new_firing_alarm_rings_once_and_shows_in_the_top_bar() {
    let mut s = busy();
    let later = t0() + Duration::minutes(1);
    let mut rows: Vec<_> = s.sources[&cw_id()].alarms.clone();
    // High latency starts firing.
    let i = rows
        .iter()
        .position(|a| a.name.ends_with("high-latency"))
        .unwrap();
    rows[i] = cw(
        "goal-mandala-production-high-latency",
        AlarmState::Firing,
        -1,
        "Threshold Crossed",
    );
    let effects = update(
        &mut s,
        AlarmsMsg::Snapshot(cw_id(), snapshot(rows.clone())),
        later,
    );
    assert_eq!(effects, [AlarmsEffect::Bell]);
    let top = s.top_bar();
    assert_eq!(top.firing, 6);
    assert_eq!(
        top.newest.map(|n| n.name),
        Some("goal-mandala-production-high-latency".to_string())
    );
    // The same data again: nothing new.
    assert!(update(&mut s, AlarmsMsg::Snapshot(cw_id(), snapshot(rows)), later).is_empty());
    // The meter counted both polls' DescribeAlarms pages (2 each) and the first one.
    assert_eq!(s.meter.last_hour(later).by_op["DescribeAlarms"], 6);
}

#[test]
fn alarms_firing_at_start_do_not_ring_and_the_bell_can_be_off() {
    let mut cfg = config();
    cfg.bell = false;
    let mut s = AlarmsState::new(&cfg, t0());
    let first = vec![cw("a", AlarmState::Firing, 5, "x")];
    assert!(update(
        &mut s,
        AlarmsMsg::Snapshot(cw_id(), snapshot(first.clone())),
        t0()
    )
    .is_empty());
    let mut second = first;
    second.push(cw("b", AlarmState::Firing, 0, "y"));
    assert!(update(&mut s, AlarmsMsg::Snapshot(cw_id(), snapshot(second)), t0()).is_empty());
    assert_eq!(
        s.new_firing.len(),
        1,
        "still shown in the top bar without a bell"
    );
}

#[test]
fn an_acknowledgement_holds_until_the_state_changes_then_ends_in_the_store() {
    let mut s = busy();
    let effects = s.acknowledge("looking at the Lambda logs");
    let ack = ack_of(&s, &effects, 7);
    assert_eq!(
        ack.key,
        "cloudwatch:prod/ap-northeast-1/goal-mandala-production-database-connection-error"
    );
    assert_eq!(ack.kind, AckKind::Ack);
    update(&mut s, AlarmsMsg::Acked(Ok(ack)), t0());
    assert_eq!(s.top_bar().firing, 4);
    assert!(s.notice.as_deref().unwrap().contains("acknowledged"));
    // The acknowledged alarm sorts below the unhandled ones but stays selected.
    assert_eq!(
        s.selected().unwrap().name,
        "goal-mandala-production-database-connection-error"
    );
    s.set_filter("is:acked");
    assert_eq!(s.visible.len(), 2, "{:?}", names(&s));
    s.set_filter("");

    // It recovers: the acknowledgement is recorded as ended.
    let mut rows = s.sources[&cw_id()].alarms.clone();
    let i = rows
        .iter()
        .position(|a| a.name.contains("database"))
        .unwrap();
    rows[i] = cw(
        "goal-mandala-production-database-connection-error",
        AlarmState::Ok,
        -2,
        "ok again",
    );
    let effects = update(
        &mut s,
        AlarmsMsg::Snapshot(cw_id(), snapshot(rows)),
        t0() + Duration::minutes(2),
    );
    assert_eq!(
        effects,
        [AlarmsEffect::Lift {
            id: 7,
            action: "ack_ended".into(),
            why: "state changed to OK".into()
        }]
    );
    assert!(s.acks.is_empty());
}

#[test]
fn silences_are_remote_for_alertmanager_and_stored_for_cloudwatch_and_expire() {
    let mut s = busy();
    s.set_filter("HighLatency");
    let until = t0() + Duration::hours(2);
    match s.silence(until, "deploying the fix").as_slice() {
        [AlarmsEffect::SilenceRemote {
            alarm,
            until: u,
            note,
        }] => {
            assert_eq!(alarm.key, "alertmanager:main/a1b2");
            assert_eq!((*u, note.as_str()), (until, "deploying the fix"));
        }
        other => panic!("{other:?}"),
    }
    s.set_filter("error-rate");
    let effects = s.silence(until, "known, fix tomorrow");
    let ack = ack_of(&s, &effects, 9);
    assert_eq!((ack.kind, ack.until), (AckKind::Silence, Some(until)));
    update(&mut s, AlarmsMsg::Acked(Ok(ack)), t0());
    s.set_filter("");
    assert_eq!(s.top_bar().firing, 4);
    // Lifting it asks the store; an Alertmanager-silenced alert also expires its silence.
    s.set_filter("error-rate");
    assert_eq!(
        s.unsilence(),
        [AlarmsEffect::Lift {
            id: 9,
            action: "unsilence".into(),
            why: "lifted by hand".into()
        }]
    );
    s.set_filter("DiskWill");
    assert_eq!(
        s.unsilence(),
        [AlarmsEffect::ExpireRemote {
            source: am_id(),
            silence_id: "8c1e-silence".into()
        }]
    );
    // Two hours later the toban silence is over by itself.
    s.set_filter("");
    s.tick(until + Duration::seconds(1));
    assert_eq!(s.top_bar().firing, 5);
    let order = names(&s);
    let pos = |n: &str| order.iter().position(|x| x.as_str() == n).unwrap();
    assert!(
        pos("goal-mandala-production-high-error-rate") < pos("DiskWillFillIn4h"),
        "it sorts with the unhandled alarms again: {order:?}"
    );
    // A silence that ends in the past is refused.
    assert!(s.silence(t0() - Duration::hours(1), "x").is_empty());
}

#[test]
fn opening_an_alarm_fetches_its_history_and_chart() {
    let mut s = busy();
    let effects = s.open_detail(t0());
    assert!(
        matches!(effects[0], AlarmsEffect::FetchHistory { .. }),
        "{effects:?}"
    );
    assert!(
        matches!(effects[1], AlarmsEffect::FetchChart { .. }),
        "{effects:?}"
    );
    let key = s.detail.as_ref().unwrap().key.clone();
    update(
        &mut s,
        AlarmsMsg::History {
            key: key.clone(),
            result: Ok(history()),
        },
        t0(),
    );
    update(
        &mut s,
        AlarmsMsg::Chart {
            key,
            source: cw_id(),
            result: Ok(series(t0() - Duration::hours(3), 180)),
            metrics: 1,
        },
        t0(),
    );
    let d = s.detail.as_ref().unwrap();
    assert_eq!(d.history.ready().map(Vec::len), Some(3));
    assert_eq!(s.meter.last_hour(t0()).by_op.get("GetMetricData"), Some(&1));
    assert_eq!(
        s.selected_runbook().map(|r| r.name),
        Some("cw-db-connection-errors".to_string())
    );

    // An Alertmanager alert: history from its own times, the chart from Prometheus.
    s.close_detail();
    s.set_filter("HighLatency");
    let effects = s.open_detail(t0());
    assert_eq!(effects.len(), 1);
    assert!(matches!(effects[0], AlarmsEffect::FetchChart { .. }));
    assert!(s.detail.as_ref().unwrap().history.ready().is_some());

    // A local alarm: its history from the store, no chart.
    s.close_detail();
    s.set_filter("host.cpu");
    let effects = s.open_detail(t0());
    assert_eq!(effects.len(), 1);
    assert!(matches!(effects[0], AlarmsEffect::FetchHistory { .. }));
}

#[test]
fn a_source_that_is_down_makes_the_worst_unknown_unless_something_is_critical() {
    let mut s = AlarmsState::new(&config(), t0());
    let mut h = toban::providers::health::Health::new(std::time::Duration::from_secs(60));
    h.observe(toban::providers::health::HealthEvent::Failed {
        at: t0(),
        reason: "credentials expired for profile prod — run aws sso login --profile prod".into(),
    });
    update(&mut s, AlarmsMsg::Health(cw_id(), h), t0());
    assert_eq!(s.worst(), Severity::Unknown);
    update(
        &mut s,
        AlarmsMsg::Snapshot(am_id(), snapshot(vec![cw("x", AlarmState::Firing, 1, "y")])),
        t0(),
    );
    assert_eq!(s.worst(), Severity::Critical);
}
