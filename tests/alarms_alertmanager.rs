//! Alertmanager and Prometheus for real (Debian's packages on loopback, see
//! tests/support/prometheus.rs): an alert Prometheus fires reaches both members of an HA
//! pair and toban lists it once, grouped, with its runbook and a chart of its expression;
//! alerts posted by hand are silenced and the silence expired from toban, with audit records;
//! a member that is down or never answers shows as such, with the other's data still there.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use toban::alarms::acks::Who;
use toban::alarms::alertmanager::Cluster;
use toban::alarms::effects::{self, Handles};
use toban::alarms::model::{Alarm, MetricQuery, Snapshot};
use toban::alarms::{update, AlarmsEffect, AlarmsMsg, AlarmsState};
use toban::config::alarms::{AlarmsConfig, AlertmanagerSource};
use toban::providers::health::{Envelope, HealthEvent};
use toban::providers::{poller, ProviderId};

fn source(urls: Vec<String>, prometheus: Option<String>) -> AlertmanagerSource {
    AlertmanagerSource {
        name: "main".into(),
        urls,
        prometheus_url: prometheus,
        interval: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
    }
}

async fn until<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn post_alert(am: &str, labels: &[(&str, &str)], summary: &str) {
    let labels: BTreeMap<&str, &str> = labels.iter().copied().collect();
    let body = serde_json::json!([{
        "labels": labels,
        "annotations": {"summary": summary},
        "startsAt": Utc::now().to_rfc3339(),
        "generatorURL": "http://127.0.0.1:9/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
    }]);
    let r = reqwest::Client::new()
        .post(format!("{am}/api/v2/alerts"))
        .json(&body)
        .send()
        .await
        .expect("post alert");
    assert!(r.status().is_success(), "{}", r.status());
}

fn find<'a>(snap: &'a Snapshot, name: &str) -> Option<&'a Alarm> {
    snap.alarms.iter().find(|a| a.name == name)
}

#[tokio::test]
async fn prometheus_alert_is_listed_once_across_the_pair_grouped_and_charted() {
    let Some(stack) = support::prometheus::stack() else {
        return;
    };
    let cluster = Cluster::new(&source(
        stack.alertmanagers.to_vec(),
        Some(stack.prometheus.clone()),
    ))
    .unwrap();
    let snap = until("TobanHeadSeries on both members", async || {
        let s = cluster.fetch().await.ok()?;
        find(&s, "TobanHeadSeries").filter(|a| a.seen_on == 2)?;
        Some(s)
    })
    .await;
    assert_eq!(snap.degraded, None);
    assert_eq!(
        snap.alarms
            .iter()
            .filter(|a| a.name == "TobanHeadSeries")
            .count(),
        1,
        "deduplicated across the HA pair"
    );
    let mut a = find(&snap, "TobanHeadSeries").unwrap().clone();
    assert_eq!(
        a.group.as_deref(),
        Some("alertname=TobanHeadSeries, job=prometheus")
    );
    assert_eq!(a.reason, "Prometheus holds more than one series");
    assert_eq!(
        a.metric,
        Some(MetricQuery::Prometheus {
            expr: "prometheus_tsdb_head_series".into()
        })
    );
    assert_eq!(a.threshold.as_ref().map(|t| t.value), Some(1.0));
    toban::alarms::classify::apply(&AlarmsConfig::default(), &mut a);
    assert_eq!(a.priority.as_str(), "P3", "severity=warning");
    assert_eq!(
        a.runbook.as_ref().map(|r| r.name.as_str()),
        Some("rotate-logs")
    );

    // The chart: the real series from query_range, above the threshold line.
    let series = until("three seconds of the series", async || {
        let to = Utc::now();
        let s = cluster
            .chart(
                "prometheus_tsdb_head_series",
                to - chrono::Duration::minutes(5),
                to,
            )
            .await
            .unwrap();
        (s.len() == 1 && s[0].points.len() >= 3).then_some(s)
    })
    .await;
    let last = series[0].points.last().unwrap().1;
    assert!(last > 1.0, "{:?}", series[0]);
    assert!(
        series[0].label.contains("job=prometheus"),
        "{}",
        series[0].label
    );
}

#[tokio::test]
async fn silences_are_created_listed_and_expired_from_toban_with_audit() {
    let Some(stack) = support::prometheus::stack() else {
        return;
    };
    let am = &stack.alertmanagers;
    // Posted to one member only; the pair still lists it once.
    post_alert(
        &am[0],
        &[
            ("alertname", "TobanSilenceMe"),
            ("instance", "db-1"),
            ("severity", "critical"),
        ],
        "replica lag 40s",
    )
    .await;
    let cluster = Cluster::new(&source(am.to_vec(), None)).unwrap();
    let alert = until("the posted alert", async || {
        find(&cluster.fetch().await.ok()?, "TobanSilenceMe").cloned()
    })
    .await;
    assert_eq!(alert.labels["instance"], "db-1");

    let db = support::stores::sqlite_db().await;
    let id = cluster.id.clone();
    let handles = Handles {
        store: Some(db.store.clone()),
        alertmanager: [(id.clone(), cluster.clone())].into(),
        who: Who {
            user: "ops".into(),
            host: "ops-1".into(),
            ssh_client: Some("192.0.2.10 port 52144".into()),
        },
        ..Default::default()
    };
    // Through the state, as a key press would.
    let mut state = AlarmsState::new(
        &AlarmsConfig {
            alertmanager: vec![source(am.to_vec(), None)],
            ..Default::default()
        },
        Utc::now(),
    );
    let snap = cluster.fetch().await.unwrap();
    update(
        &mut state,
        AlarmsMsg::Snapshot(id.clone(), snap),
        Utc::now(),
    );
    state.set_filter("TobanSilenceMe");
    let until_t = Utc::now() + chrono::Duration::hours(1);
    let effects = state.silence(until_t, "failing over the replica");
    assert!(matches!(
        effects.as_slice(),
        [AlarmsEffect::SilenceRemote { .. }]
    ));
    let msg = effects::run(effects[0].clone(), &handles).await.unwrap();
    let AlarmsMsg::RemoteSilenced {
        result: Ok(silence_id),
        ..
    } = &msg
    else {
        panic!("{msg:?}")
    };
    let silence_id = silence_id.clone();
    update(&mut state, msg, Utc::now());

    // Both members know the silence (gossip) and the alert is silenced by it.
    let snap = until("the alert silenced", async || {
        let s = cluster.fetch().await.ok()?;
        let silenced =
            find(&s, "TobanSilenceMe").is_some_and(|a| a.silenced_by.contains(&silence_id));
        silenced.then_some(s)
    })
    .await;
    let silence = snap.silences.iter().find(|s| s.id == silence_id).unwrap();
    assert_eq!(silence.created_by, "ops@ops-1");
    assert_eq!(silence.comment, "failing over the replica");
    assert_eq!(silence.state, "active");
    let mut names: Vec<String> = silence.matchers.iter().map(|m| m.text()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            r#"alertname="TobanSilenceMe""#,
            r#"instance="db-1""#,
            r#"severity="critical""#
        ]
    );
    for m in am {
        let c = Cluster::new(&source(vec![m.clone()], None)).unwrap();
        let other = until("the silence on every member", async || {
            let s = c.fetch().await.ok()?;
            s.silences.iter().any(|x| x.id == silence_id).then_some(())
        })
        .await;
        let () = other;
    }
    update(
        &mut state,
        AlarmsMsg::Snapshot(id.clone(), snap),
        Utc::now(),
    );
    assert_eq!(state.top_bar().firing, 0, "a silenced alert does not count");

    // Lift it from toban: the Alertmanager silence is expired.
    let effects = state.unsilence();
    assert_eq!(effects.len(), 1);
    let msg = effects::run(effects[0].clone(), &handles).await.unwrap();
    assert!(
        matches!(&msg, AlarmsMsg::RemoteExpired { result: Ok(()), .. }),
        "{msg:?}"
    );
    until("the silence expired", async || {
        let s = cluster.fetch().await.ok()?;
        let expired = s
            .silences
            .iter()
            .any(|x| x.id == silence_id && x.state == "expired");
        let free = find(&s, "TobanSilenceMe").is_some_and(|a| a.silenced_by.is_empty());
        (expired && free).then_some(())
    })
    .await;

    let audit = db.store.alarm_audit(10).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["remote_expire", "remote_silence"]);
    assert_eq!(audit[1].who, "ops@ops-1");
    assert_eq!(
        audit[1].ssh_client.as_deref(),
        Some("192.0.2.10 port 52144")
    );
    assert!(
        audit[1].detail.contains("failing over the replica"),
        "{}",
        audit[1].detail
    );
}

#[derive(Debug)]
enum Seen {
    Data(#[allow(dead_code)] Snapshot),
    Ok,
    Failed(String),
}

impl Envelope<Snapshot> for Seen {
    fn data(_: &ProviderId, v: Snapshot) -> Self {
        Seen::Data(v)
    }
    fn health(_: ProviderId, e: HealthEvent) -> Self {
        match e {
            HealthEvent::Ok { .. } => Seen::Ok,
            HealthEvent::Failed { reason, .. } => Seen::Failed(reason),
        }
    }
}

#[tokio::test]
async fn a_member_down_or_silent_is_reported_and_never_blocks() {
    // A port nothing listens on, and a listener that accepts but never answers.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let closed_url = format!("http://127.0.0.1:{closed}");

    let alone = Cluster::new(&source(vec![closed_url.clone()], None)).unwrap();
    let e = alone.fetch().await.unwrap_err().to_string();
    assert!(e.contains("connection refused"), "{e}");

    // The poller reports the silent one down within its timeout and keeps polling.
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let cancel = tokio_util::sync::CancellationToken::new();
    let cfg = source(vec![silent_url.clone()], None);
    let started = Instant::now();
    poller::spawn::<_, Seen>(
        ProviderId::named("alertmanager", "main"),
        toban::alarms::alertmanager::schedule(&cfg),
        toban::alarms::alertmanager::Poller(Cluster::new(&cfg).unwrap()),
        tx,
        cancel.clone(),
    );
    match rx.recv().await {
        Some(Seen::Failed(reason)) => assert!(
            reason.contains("not reachable (no answer in time)")
                || reason.contains("no answer within"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    cancel.cancel();
    drop(silent);

    // With a real member beside the dead one: complete data, the dead one named.
    let Some(stack) = support::prometheus::stack() else {
        return;
    };
    let pair = Cluster::new(&source(
        vec![stack.alertmanagers[0].clone(), closed_url],
        None,
    ))
    .unwrap();
    let snap = pair.fetch().await.unwrap();
    let degraded = snap.degraded.unwrap();
    assert!(degraded.contains("connection refused"), "{degraded}");
    let _ = Seen::Ok;
}
