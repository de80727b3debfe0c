//! CloudWatch's SDK types into toban's alarm rows: metric and composite alarms with their
//! state, reason, threshold, the metric to chart, and their tags.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{CompositeAlarm, MetricAlarm, MetricDataQuery, StateValue};
use chrono::{DateTime, Utc};

use crate::alarms::model::{
    Alarm, AlarmKind, AlarmState, Comparison, CwMetric, CwQuery, MetricQuery, Threshold,
};
use crate::providers::ProviderId;

pub fn time(t: Option<&aws_sdk_cloudwatch::primitives::DateTime>) -> Option<DateTime<Utc>> {
    let t = t?;
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

pub fn state(v: Option<&StateValue>) -> AlarmState {
    match v {
        Some(StateValue::Alarm) => AlarmState::Firing,
        Some(StateValue::InsufficientData) => AlarmState::InsufficientData,
        _ => AlarmState::Ok,
    }
}

/// Where a poll's alarms come from.
#[derive(Debug, Clone)]
pub struct Origin {
    pub id: ProviderId,
    /// The `[[alarms.cloudwatch]]` name.
    pub account: String,
    pub region: String,
}

impl Origin {
    /// `cloudwatch:prod/ap-northeast-1/NAME`: stable whichever provider id polls it.
    pub fn key(&self, name: &str) -> String {
        format!("cloudwatch:{}/{}/{name}", self.account, self.region)
    }
}

fn query(q: &MetricDataQuery) -> CwQuery {
    let metric = q.metric_stat().and_then(|ms| {
        let m = ms.metric()?;
        Some(CwMetric {
            namespace: m.namespace().unwrap_or_default().to_string(),
            metric: m.metric_name().unwrap_or_default().to_string(),
            dimensions: m
                .dimensions()
                .iter()
                .map(|d| {
                    (
                        d.name().unwrap_or_default().to_string(),
                        d.value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            stat: ms.stat().unwrap_or("Average").to_string(),
            period_s: ms.period().unwrap_or(60),
        })
    });
    CwQuery {
        id: q.id().unwrap_or("m1").to_string(),
        metric,
        expression: q.expression().map(String::from),
        label: q.label().map(String::from),
        period_s: q.period(),
        return_data: q.return_data().unwrap_or(true),
    }
}

pub fn metric_alarm(
    o: &Origin,
    m: &MetricAlarm,
    tags: Option<&BTreeMap<String, String>>,
    now: DateTime<Utc>,
) -> Alarm {
    let name = m.alarm_name().unwrap_or("(unnamed)");
    let st = state(m.state_value());
    let since = time(m.state_updated_timestamp()).unwrap_or(now);
    let mut a = Alarm::new(
        o.id.clone(),
        o.key(name),
        AlarmKind::Metric,
        name,
        st,
        since,
    )
    .with_reason(m.state_reason().unwrap_or_default());
    a.updated = time(m.alarm_configuration_updated_timestamp());
    a.description = m
        .alarm_description()
        .map(crate::sanitize::strip_escapes)
        .filter(|d| !d.is_empty());
    a.region = Some(o.region.clone());
    a.dimensions = m
        .dimensions()
        .iter()
        .map(|d| {
            (
                d.name().unwrap_or_default().to_string(),
                d.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let periods = m.evaluation_periods().unwrap_or(1);
    let to_alarm = m.datapoints_to_alarm().unwrap_or(periods);
    let period = m.period().unwrap_or(60);
    if let (Some(v), Some(cmp)) = (
        m.threshold(),
        m.comparison_operator()
            .and_then(|c| Comparison::from_cloudwatch(c.as_str())),
    ) {
        a.threshold = Some(Threshold {
            value: v,
            comparison: cmp,
            over: Some(format!("{to_alarm} of {periods} × {period}s")),
        });
    }
    a.metric = if m.metrics().is_empty() {
        m.metric_name().map(|metric| {
            let stat = m
                .extended_statistic()
                .map(String::from)
                .or_else(|| m.statistic().map(|s| s.as_str().to_string()))
                .unwrap_or_else(|| "Average".into());
            MetricQuery::CloudWatch(vec![CwQuery {
                id: "m1".into(),
                metric: Some(CwMetric {
                    namespace: m.namespace().unwrap_or_default().to_string(),
                    metric: metric.to_string(),
                    dimensions: a.dimensions.clone(),
                    stat,
                    period_s: period,
                }),
                expression: None,
                label: None,
                period_s: None,
                return_data: true,
            }])
        })
    } else {
        Some(MetricQuery::CloudWatch(
            m.metrics().iter().map(query).collect(),
        ))
    };
    add_tags(&mut a, tags);
    a.finish();
    a
}

pub fn composite_alarm(
    o: &Origin,
    c: &CompositeAlarm,
    tags: Option<&BTreeMap<String, String>>,
    now: DateTime<Utc>,
) -> Alarm {
    let name = c.alarm_name().unwrap_or("(unnamed)");
    let st = state(c.state_value());
    let since = time(c.state_updated_timestamp()).unwrap_or(now);
    let mut a = Alarm::new(
        o.id.clone(),
        o.key(name),
        AlarmKind::Composite,
        name,
        st,
        since,
    )
    .with_reason(c.state_reason().unwrap_or_default());
    a.updated = time(c.alarm_configuration_updated_timestamp());
    a.description = c
        .alarm_description()
        .map(crate::sanitize::strip_escapes)
        .filter(|d| !d.is_empty());
    a.region = Some(o.region.clone());
    if let Some(rule) = c.alarm_rule() {
        a.annotation("rule", rule);
    }
    add_tags(&mut a, tags);
    a.finish();
    a
}

fn add_tags(a: &mut Alarm, tags: Option<&BTreeMap<String, String>>) {
    for (k, v) in tags.into_iter().flatten() {
        a.label(k, v);
    }
}
