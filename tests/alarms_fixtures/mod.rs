//! Alarm rows and states for the alarms state and screen tests: the seeds' CloudWatch
//! alarms (001, 002), an Alertmanager alert, and toban's own local alarms, at fixed times.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};

use toban::alarms::model::{
    Alarm, AlarmKind, AlarmState, Comparison, CwMetric, CwQuery, HistoryItem, MetricQuery, Series,
    Silence, Snapshot, Threshold,
};
use toban::alarms::{update, AlarmsMsg, AlarmsState};
use toban::config::alarms::{AlarmsConfig, AlertmanagerSource, CloudWatchSource};
use toban::health::Severity;
use toban::providers::health::{Health, HealthEvent};
use toban::providers::ProviderId;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap()
}

pub fn cw_id() -> ProviderId {
    ProviderId::named("cloudwatch", "prod")
}

pub fn am_id() -> ProviderId {
    ProviderId::named("alertmanager", "main")
}

pub fn config() -> AlarmsConfig {
    AlarmsConfig {
        cloudwatch: vec![CloudWatchSource {
            name: "prod".into(),
            regions: vec!["ap-northeast-1".into()],
            ..Default::default()
        }],
        alertmanager: vec![AlertmanagerSource {
            name: "main".into(),
            urls: vec!["http://127.0.0.1:9093".into()],
            prometheus_url: Some("http://127.0.0.1:9090".into()),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A metric alarm of seed 001/002 with its threshold and metric.
pub fn cw(name: &str, state: AlarmState, since_min: i64, reason: &str) -> Alarm {
    let mut a = Alarm::new(
        cw_id(),
        format!("cloudwatch:prod/ap-northeast-1/{name}"),
        AlarmKind::Metric,
        name,
        state,
        t0() - Duration::minutes(since_min),
    )
    .with_reason(reason);
    a.region = Some("ap-northeast-1".into());
    a.dimensions = vec![
        ("ClusterName".into(), "facility-prod-cluster".into()),
        ("ServiceName".into(), "staff-api".into()),
    ];
    a.threshold = Some(Threshold {
        value: 5.0,
        comparison: Comparison::Ge,
        over: Some("1 of 1 × 60s".into()),
    });
    a.metric = Some(MetricQuery::CloudWatch(vec![CwQuery {
        id: "m1".into(),
        metric: Some(CwMetric {
            namespace: "AWS/Lambda".into(),
            metric: "Errors".into(),
            dimensions: a.dimensions.clone(),
            stat: "Sum".into(),
            period_s: 60,
        }),
        expression: None,
        label: None,
        period_s: None,
        return_data: true,
    }]));
    a.finish();
    a
}

pub fn alert(name: &str, fp: &str, since_min: i64, silenced: &[&str]) -> Alarm {
    let mut a = Alarm::new(
        am_id(),
        format!("alertmanager:main/{fp}"),
        AlarmKind::Alert,
        name,
        AlarmState::Firing,
        t0() - Duration::minutes(since_min),
    )
    .with_reason("p95 latency above 2s for 5 minutes");
    a.label("alertname", name);
    a.label("job", "api");
    a.label("severity", "warning");
    a.level = Severity::Warning;
    a.group = Some(format!("alertname={name}"));
    a.seen_on = 2;
    a.silenced_by = silenced.iter().map(|s| s.to_string()).collect();
    a.metric = Some(MetricQuery::Prometheus {
        expr: "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))".into(),
    });
    a.threshold = Some(Threshold {
        value: 2.0,
        comparison: Comparison::Gt,
        over: None,
    });
    a.finish();
    a
}

pub fn snapshot(alarms: Vec<Alarm>) -> Snapshot {
    Snapshot {
        alarms,
        api_calls: vec![("DescribeAlarms".into(), 2)],
        ..Default::default()
    }
}

pub fn ok_health(id: &ProviderId, at: DateTime<Utc>, interval_s: u64) -> AlarmsMsg {
    let mut h = Health::new(std::time::Duration::from_secs(interval_s));
    h.observe(HealthEvent::Ok { at });
    AlarmsMsg::Health(id.clone(), h)
}

/// The seeds' alarms: three CloudWatch alarms firing or not, two Alertmanager alerts (one
/// silenced there), two local alarms; both sources healthy.
pub fn busy() -> AlarmsState {
    let mut s = AlarmsState::new(&config(), t0());
    let now = t0();
    let cw_rows = vec![
        cw("goal-mandala-production-high-error-rate", AlarmState::Firing, 42,
           "Threshold Crossed: 1 datapoint [7.0 (23/11/26 02:17:00)] was greater than or equal to the threshold (5.0)."),
        cw("goal-mandala-production-database-connection-error", AlarmState::Firing, 7,
           "Threshold Crossed: 3 datapoints were greater than or equal to the threshold (1.0)."),
        cw("goal-mandala-production-high-latency", AlarmState::Ok, 300,
           "Threshold Crossed: 1 datapoint [0.8] was not greater than or equal to the threshold (2.0)."),
        cw("rds-storage-low", AlarmState::InsufficientData, 90,
           "Insufficient Data: 1 datapoint was unknown."),
    ];
    update(&mut s, AlarmsMsg::Snapshot(cw_id(), snapshot(cw_rows)), now);
    update(&mut s, ok_health(&cw_id(), now, 60), now);
    let am = Snapshot {
        alarms: vec![
            alert("HighLatency", "a1b2", 12, &[]),
            alert("DiskWillFillIn4h", "c3d4", 55, &["8c1e-silence"]),
        ],
        silences: vec![Silence {
            id: "8c1e-silence".into(),
            state: "active".into(),
            matchers: vec![toban::alarms::model::Matcher {
                name: "alertname".into(),
                value: "DiskWillFillIn4h".into(),
                is_regex: false,
                is_equal: true,
            }],
            starts: now - Duration::minutes(50),
            ends: now + Duration::hours(3),
            created_by: "ops@ops-1".into(),
            comment: "resizing the volume".into(),
        }],
        api_calls: vec![("alertmanager".into(), 3)],
        degraded: None,
    };
    update(&mut s, AlarmsMsg::Snapshot(am_id(), am), now);
    update(&mut s, ok_health(&am_id(), now, 15), now);
    update(
        &mut s,
        AlarmsMsg::Local(vec![
            Alarm::local(
                "host.disk:/mnt/backup-hdd",
                Severity::Critical,
                now - Duration::minutes(20),
                "Disk /mnt/backup-hdd 88% ≥ critical 85% for 3 samples",
            ),
            Alarm::local(
                "host.cpu",
                Severity::Warning,
                now - Duration::minutes(3),
                "CPU 86% ≥ warning 80% for 3 samples",
            ),
        ]),
        now,
    );
    s
}

/// A CPU-like series of three hours with a rise past the threshold.
pub fn series(from: DateTime<Utc>, minutes: i64) -> Vec<Series> {
    let points = (0..minutes)
        .map(|m| {
            let v = if m > minutes - 45 {
                6.0 + (m % 7) as f64 * 0.4
            } else {
                1.0 + (m % 11) as f64 * 0.25
            };
            (from + Duration::minutes(m), v)
        })
        .collect();
    vec![Series {
        label: "Errors".into(),
        points,
    }]
}

pub fn history() -> Vec<HistoryItem> {
    vec![
        HistoryItem {
            at: t0() - Duration::minutes(42),
            summary: "Alarm updated from OK to ALARM".into(),
            to: Some(AlarmState::Firing),
        },
        HistoryItem {
            at: t0() - Duration::hours(26),
            summary: "Alarm updated from ALARM to OK".into(),
            to: Some(AlarmState::Ok),
        },
        HistoryItem {
            at: t0() - Duration::hours(27),
            summary: "Alarm updated from OK to ALARM".into(),
            to: Some(AlarmState::Firing),
        },
    ]
}
