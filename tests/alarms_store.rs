//! Acknowledgements and silences of CloudWatch and local alarms in the store, on SQLite and
//! PostgreSQL: they survive a restart, a silence expires by itself, lifting one is audited,
//! and a restarted state counts the alarms they cover as handled.

mod alarms_fixtures;
mod support;

use alarms_fixtures::*;
use chrono::Duration;

use toban::alarms::acks::{AckKind, NewAck, Who};
use toban::alarms::model::AlarmState;
use toban::alarms::{update, AlarmsMsg};
use toban::health::Severity;

fn who() -> Who {
    Who {
        user: "ops".into(),
        host: "ops-1".into(),
        ssh_client: Some("192.0.2.10 port 52144".into()),
    }
}

async fn acks_survive_a_restart_and_silences_expire(db: support::stores::TestDb) {
    let s = busy();
    let err = s
        .rows
        .iter()
        .find(|a| a.name.ends_with("high-error-rate"))
        .unwrap();
    let disk = s
        .rows
        .iter()
        .find(|a| a.name == "host.disk:/mnt/backup-hdd")
        .unwrap();
    let ack = NewAck::for_alarm(err, AckKind::Ack, "looking at the Lambda logs", None);
    let until = t0() + Duration::hours(2);
    let silence = NewAck::for_alarm(
        disk,
        AckKind::Silence,
        "new disk arrives at 14:00",
        Some(until),
    );
    let a = db.store.record_alarm_ack(&ack, &who(), t0()).await.unwrap();
    let b = db
        .store
        .record_alarm_ack(&silence, &who(), t0())
        .await
        .unwrap();
    assert_eq!(a.who, "ops@ops-1");

    // A restart: the same database opened again.
    let store = db.reopen().await;
    let open = store
        .open_alarm_acks(t0() + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(open, vec![a.clone(), b.clone()]);
    assert_eq!(open[1].until, Some(until));
    assert_eq!(open[0].state, AlarmState::Firing);
    assert_eq!(open[0].ssh_client.as_deref(), Some("192.0.2.10 port 52144"));

    // A fresh state with the stored acknowledgements: both alarms no longer count.
    let mut restarted = busy();
    let before = restarted.top_bar().firing;
    update(&mut restarted, AlarmsMsg::AcksLoaded(Ok(open)), t0());
    assert_eq!(restarted.top_bar().firing, before - 2);

    // The silence ends by itself; the acknowledgement stays until its alarm changes.
    let later = store
        .open_alarm_acks(until + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(later, vec![a.clone()]);
    restarted.tick(until + Duration::seconds(1));
    assert_eq!(restarted.top_bar().firing, before - 1);

    // Lifting is recorded once.
    assert!(store
        .clear_alarm_ack(a.id, "ack_ended", "state changed to OK", &who(), t0())
        .await
        .unwrap());
    assert!(!store
        .clear_alarm_ack(a.id, "ack_ended", "again", &who(), t0())
        .await
        .unwrap());
    // Only the silence is left open before its end.
    assert_eq!(store.open_alarm_acks(t0()).await.unwrap(), vec![b.clone()]);
    let audit = store.alarm_audit(10).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|x| (x.action.as_str(), x.key.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            (
                "ack_ended",
                "cloudwatch:prod/ap-northeast-1/goal-mandala-production-high-error-rate"
            ),
            ("silence", "local/host.disk:/mnt/backup-hdd"),
            (
                "ack",
                "cloudwatch:prod/ap-northeast-1/goal-mandala-production-high-error-rate"
            ),
        ]
    );
    assert!(
        audit[1].detail.contains("silenced until"),
        "{}",
        audit[1].detail
    );
    assert!(audit[2].detail.contains("looking at the Lambda logs"));
    assert!(audit.iter().all(|x| x.who == "ops@ops-1"));
}

async fn a_local_alarm_history_comes_from_its_transitions(db: support::stores::TestDb) {
    use toban::alarm_types::AlarmTransition;
    for (m, from, to, msg) in [
        (30, Severity::Ok, Severity::Warning, "CPU 86% ≥ warning 80%"),
        (
            20,
            Severity::Warning,
            Severity::Critical,
            "CPU 97% ≥ critical 95%",
        ),
    ] {
        db.store
            .record_alarm_transition(&AlarmTransition {
                at: t0() - Duration::minutes(m),
                key: "host.cpu".into(),
                from,
                to,
                value: 90.0,
                message: msg.into(),
            })
            .await
            .unwrap();
    }
    let handles = toban::alarms::Handles {
        store: Some(db.store.clone()),
        ..Default::default()
    };
    let alarm = toban::alarms::Alarm::local(
        "host.cpu",
        Severity::Critical,
        t0() - Duration::minutes(20),
        "CPU 97%",
    );
    let msg = toban::alarms::effects::run(
        toban::alarms::AlarmsEffect::FetchHistory {
            alarm: Box::new(alarm),
        },
        &handles,
    )
    .await;
    let Some(AlarmsMsg::History {
        result: Ok(items), ..
    }) = msg
    else {
        panic!("{msg:?}")
    };
    let summaries: Vec<&str> = items.iter().map(|i| i.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "WARNING → CRITICAL: CPU 97% ≥ critical 95%",
            "OK → WARNING: CPU 86% ≥ warning 80%"
        ]
    );
}

crate::on_both_backends!(
    acks_survive_a_restart_and_silences_expire,
    a_local_alarm_history_comes_from_its_transitions
);
