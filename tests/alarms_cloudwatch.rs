//! CloudWatch through the real aws-sdk-cloudwatch against moto behind the RPC v2 CBOR
//! adapter (tests/support/cloudwatch_cbor.py): more than a page of alarms, metric and
//! composite; an ALARM set with SetAlarmState shows with its reason; tags give the runbook
//! and priority; history and the metric chart; an endpoint that is down or never answers
//! shows as down with the data's age; `toban alarms` and `toban status` on the same data.

mod support;

use std::time::Duration;

use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricDatum, StateValue, Statistic, Tag,
};
use aws_sdk_cloudwatch::Client;
use chrono::Utc;

use toban::alarms::cloudwatch::{self, Poller};
use toban::alarms::model::{AlarmKind, AlarmState};
use toban::alarms::{update, AlarmsMsg, AlarmsState};
use toban::config::alarms::{AlarmsConfig, CloudWatchSource};

fn source(endpoint: &str, region: &str) -> CloudWatchSource {
    CloudWatchSource {
        name: "prod".into(),
        regions: vec![region.into()],
        endpoint_url: Some(endpoint.into()),
        interval: Duration::from_secs(60),
        timeout: Duration::from_secs(20),
        ..Default::default()
    }
}

async fn sdk(endpoint: &str, region: &str) -> Client {
    let cfg = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .load()
        .await;
    Client::new(&cfg)
}

async fn put_alarm(c: &Client, name: &str, metric: &str, tags: &[(&str, &str)]) {
    let mut req = c
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("Toban/Test")
        .metric_name(metric)
        .dimensions(
            Dimension::builder()
                .name("ClusterName")
                .value("facility-prod-cluster")
                .build(),
        )
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold);
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(*k).value(*v).build());
    }
    req.send()
        .await
        .unwrap_or_else(|e| panic!("PutMetricAlarm {name}: {e:?}"));
}

#[tokio::test]
async fn every_page_metric_and_composite_with_state_reason_tags_history_and_chart() {
    let Some(url) = support::cloudwatch::cloudwatch_url() else {
        return;
    };
    let region = "eu-west-1";
    let c = sdk(&url, region).await;
    for i in 0..118 {
        put_alarm(&c, &format!("toban-load-{i:03}"), "Latency", &[]).await;
    }
    put_alarm(
        &c,
        "goal-mandala-production-high-error-rate",
        "Errors",
        &[("toban:runbook", "rotate-logs"), ("priority", "P1")],
    )
    .await;
    c.set_alarm_state()
        .alarm_name("goal-mandala-production-high-error-rate")
        .state_value(StateValue::Alarm)
        .state_reason("Threshold Crossed: 1 datapoint [7.0] was greater than or equal to the threshold (5.0).")
        .send()
        .await
        .unwrap();
    c.put_composite_alarm()
        .alarm_name("toban-service-down")
        .alarm_rule("ALARM(\"goal-mandala-production-high-error-rate\")")
        .send()
        .await
        .unwrap();
    // Data points for the chart: 30 minutes of errors, the last ten above the threshold.
    let now = Utc::now();
    let mut put = c.put_metric_data().namespace("Toban/Test");
    for m in 0..30i64 {
        let at = now - chrono::Duration::minutes(30 - m);
        put = put.metric_data(
            MetricDatum::builder()
                .metric_name("Errors")
                .dimensions(
                    Dimension::builder()
                        .name("ClusterName")
                        .value("facility-prod-cluster")
                        .build(),
                )
                .timestamp(AwsTime::from_secs(at.timestamp()))
                .value(if m >= 20 { 7.0 } else { 1.0 })
                .build(),
        );
    }
    put.send().await.unwrap();

    let regions = cloudwatch::connect(&source(&url, region)).await;
    assert_eq!(regions.len(), 1);
    let r = regions[0].clone();
    let mut poller = Poller::new(r.clone());
    let snap = poller.fetch().await.unwrap();
    assert_eq!(snap.alarms.len(), 120, "every page");
    assert_eq!(
        snap.api_calls[0],
        ("DescribeAlarms".to_string(), 2),
        "100 + 20 alarms: two pages"
    );
    assert_eq!(snap.api_calls[1], ("ListTagsForResource".to_string(), 120));
    let composite = snap
        .alarms
        .iter()
        .find(|a| a.name == "toban-service-down")
        .unwrap();
    assert_eq!(composite.kind, AlarmKind::Composite);
    assert_eq!(composite.state, AlarmState::InsufficientData);
    assert_eq!(
        composite.annotations["rule"],
        "ALARM(\"goal-mandala-production-high-error-rate\")"
    );

    // Tags are cached: the next poll lists alarms only.
    let again = poller.fetch().await.unwrap();
    assert_eq!(again.api_calls, [("DescribeAlarms".to_string(), 2)]);

    // Through the state as the console would: priority and runbook from the tags.
    let mut state = AlarmsState::new(
        &AlarmsConfig {
            cloudwatch: vec![source(&url, region)],
            ..Default::default()
        },
        Utc::now(),
    );
    update(
        &mut state,
        AlarmsMsg::Snapshot(r.origin.id.clone(), snap),
        Utc::now(),
    );
    let top = state.selected().unwrap();
    assert_eq!(top.name, "goal-mandala-production-high-error-rate");
    assert_eq!(top.state, AlarmState::Firing);
    assert_eq!(
        top.reason,
        "Threshold Crossed: 1 datapoint [7.0] was greater than or equal to the threshold (5.0)."
    );
    assert_eq!(top.priority.as_str(), "P1");
    assert_eq!(
        top.key,
        "cloudwatch:prod/eu-west-1/goal-mandala-production-high-error-rate"
    );
    let link = state.selected_runbook().unwrap();
    assert_eq!(
        (link.name.as_str(), link.from.as_str()),
        ("rotate-logs", "tag")
    );
    assert_eq!(state.top_bar().firing, 1);

    // History (answered by the adapter from the API reference: moto has none).
    let h = cloudwatch::history(&r, "goal-mandala-production-high-error-rate", 20)
        .await
        .unwrap();
    assert_eq!(h[0].to, Some(AlarmState::Firing));
    assert!(h[0].summary.contains("to ALARM"), "{:?}", h[0]);

    // The chart: moto's real datapoints through GetMetricData.
    let Some(toban::alarms::model::MetricQuery::CloudWatch(q)) = &top.metric else {
        panic!("a metric alarm has a metric: {:?}", top.metric)
    };
    let (series, billed) =
        cloudwatch::metric_data(&r, q, now - chrono::Duration::hours(1), Utc::now())
            .await
            .unwrap();
    assert_eq!(billed, 1);
    assert_eq!(series.len(), 1);
    let values: Vec<f64> = series[0].points.iter().map(|p| p.1).collect();
    assert!(values.len() >= 25, "{values:?}");
    assert!(values.contains(&7.0) && values.contains(&1.0), "{values:?}");
    assert!(
        series[0].points.windows(2).all(|w| w[0].0 < w[1].0),
        "oldest first"
    );
}

#[tokio::test]
async fn an_endpoint_down_or_silent_is_reported_with_a_reason_not_an_empty_list() {
    let Some(_) = support::moto::moto_url() else {
        return;
    };
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let r = cloudwatch::connect(&source(&closed, "us-west-2"))
        .await
        .remove(0);
    let err = Poller::new(r).fetch().await.unwrap_err().to_string();
    assert_eq!(err, format!("{closed} not reachable (connection refused)"));

    // A server that accepts and never answers: the poller's timeout reports it, the
    // state shows the source down with the age of its last good data.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let mut cfg = source(&silent_url, "us-west-2");
    cfg.timeout = Duration::from_secs(2);
    let r = cloudwatch::connect(&cfg).await.remove(0);
    let id = r.origin.id.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Seen>(8);
    let cancel = tokio_util::sync::CancellationToken::new();
    let started = std::time::Instant::now();
    toban::providers::poller::spawn(
        id.clone(),
        cloudwatch::schedule(&cfg),
        Poller::new(r),
        tx,
        cancel.clone(),
    );
    let Some(Seen::Health(event)) = rx.recv().await else {
        panic!("expected health")
    };
    assert!(started.elapsed() < Duration::from_secs(6));
    cancel.cancel();
    let toban::providers::health::HealthEvent::Failed { reason, at } = event.clone() else {
        panic!("{event:?}")
    };
    assert_eq!(reason, "no answer within 2s");

    let mut state = AlarmsState::new(
        &AlarmsConfig {
            cloudwatch: vec![cfg],
            ..Default::default()
        },
        at,
    );
    let mut h = toban::providers::health::Health::new(Duration::from_secs(60));
    h.observe(toban::providers::health::HealthEvent::Ok {
        at: at - chrono::Duration::minutes(7),
    });
    h.observe(event);
    update(&mut state, AlarmsMsg::Health(id, h), at);
    assert_eq!(state.worst(), toban::health::Severity::Unknown);
    let found = toban::alarms::findings(&state, at + chrono::Duration::minutes(3));
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].message,
        "cloudwatch:prod down for 3m: no answer within 2s (its alarms are 10m old)"
    );
}

#[derive(Debug)]
enum Seen {
    Data,
    Health(toban::providers::health::HealthEvent),
}

impl toban::providers::health::Envelope<toban::alarms::Snapshot> for Seen {
    fn data(_: &toban::providers::ProviderId, _: toban::alarms::Snapshot) -> Self {
        Seen::Data
    }
    fn health(_: toban::providers::ProviderId, e: toban::providers::health::HealthEvent) -> Self {
        Seen::Health(e)
    }
}

#[tokio::test]
async fn toban_alarms_and_status_report_the_same_alarms_with_exit_codes() {
    let Some(url) = support::cloudwatch::cloudwatch_url() else {
        return;
    };
    let region = "ap-southeast-2";
    let c = sdk(&url, region).await;
    put_alarm(&c, "ecs-cpu-high", "CPUUtilization", &[]).await;
    put_alarm(&c, "rds-storage-low", "FreeStorageSpace", &[]).await;
    c.set_alarm_state()
        .alarm_name("ecs-cpu-high")
        .state_value(StateValue::Alarm)
        .state_reason("Threshold Crossed: CPU 93%")
        .send()
        .await
        .unwrap();
    c.set_alarm_state()
        .alarm_name("rds-storage-low")
        .state_value(StateValue::Ok)
        .state_reason("fine")
        .send()
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[alarms.cloudwatch]]\nname = \"prod\"\nregions = [\"{region}\"]\nendpoint_url = \"{url}\"\n"
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_toban"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_STATE_HOME", home.path().join("state"))
            .output()
            .unwrap()
    };
    let out = run(&["alarms", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(2), "an ALARM nobody acknowledged");
    assert_eq!(json["status"], "critical");
    let names: Vec<&str> = json["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ecs-cpu-high", "rds-storage-low"]);
    assert_eq!(json["alarms"][0]["priority"], "P3");
    assert_eq!(json["alarms"][0]["runbook"]["name"], "cw-ecs-cpu-high");
    assert_eq!(
        json["alarms"][0]["runbook"]["params"]["cluster"],
        "facility-prod-cluster"
    );
    assert_eq!(json["sources"][0]["ok"], true);

    let out = run(&["alarms", "--state", "OK"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("ALARMS OK - 1 shown"), "{text}");
    assert!(text.contains("rds-storage-low"), "{text}");

    let out = run(&["alarms", "--state", "burning"]);
    assert_eq!(out.status.code(), Some(3));

    let out = run(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("alarm:cloudwatch:prod/ap-southeast-2/ecs-cpu-high"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
}
