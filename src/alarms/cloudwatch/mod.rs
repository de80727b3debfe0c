//! CloudWatch alarms of one account/profile in one region: DescribeAlarms paginated to the
//! end (metric and composite lists of every page), tags cached per alarm, and for the detail
//! view DescribeAlarmHistory and GetMetricData. Credentials and region come from the
//! standard chain (environment, profile, SSO, instance role); `endpoint_url` or
//! `AWS_ENDPOINT_URL` point it elsewhere. Throttling is retried by the SDK's adaptive retry
//! (client-side rate limiting with backoff) and, if it persists, by the poller's backoff.

pub mod convert;
pub mod errors;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::anyhow;
use aws_sdk_cloudwatch::types::{
    AlarmType, Dimension, HistoryItemType, Metric, MetricDataQuery, MetricStat, ScanBy,
};
use aws_sdk_cloudwatch::Client;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};

use crate::alarms::model::{AlarmState, CwQuery, HistoryItem, Series, Snapshot};
use crate::config::alarms::CloudWatchSource;
use crate::providers::poller::{Poll, Schedule};
use crate::providers::ProviderId;

pub use convert::Origin;
use errors::Context;

/// Tags change rarely and cost a call per alarm: fetched again after this long, or when the
/// alarm's configuration changed.
const TAGS_MAX_AGE: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// DescribeAlarms' largest page.
const PAGE: i32 = 100;
/// A safety stop for a runaway NextToken loop (100,000 alarms).
const MAX_PAGES: u32 = 1000;

/// A connected region: the SDK client and what failures are reported against.
#[derive(Clone, Debug)]
pub struct Region {
    pub origin: Origin,
    pub client: Client,
    pub ctx: Context,
}

/// Provider id of one region of a source: `cloudwatch:prod`, or `cloudwatch:prod@eu-west-1`
/// when the source lists several regions.
pub fn provider_id(cfg: &CloudWatchSource, region: &str) -> ProviderId {
    if cfg.regions.len() > 1 {
        ProviderId::named("cloudwatch", &format!("{}@{region}", cfg.name))
    } else {
        ProviderId::named("cloudwatch", &cfg.name)
    }
}

/// Builds one client per configured region (the profile's region when none is listed).
/// Nothing is sent yet: missing credentials show on the first poll.
pub async fn connect(cfg: &CloudWatchSource) -> Vec<Region> {
    let regions: Vec<Option<String>> = if cfg.regions.is_empty() {
        vec![None]
    } else {
        cfg.regions.iter().cloned().map(Some).collect()
    };
    let mut out = Vec::new();
    for r in regions {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).retry_config(
            aws_config::retry::RetryConfig::adaptive()
                .with_max_attempts(4)
                .with_initial_backoff(Duration::from_millis(500)),
        );
        if let Some(p) = &cfg.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &r {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        if let Some(e) = &cfg.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        let sdk = loader.load().await;
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .or(r)
            .unwrap_or_else(|| "(no region)".into());
        let endpoint = cfg
            .endpoint_url
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_CLOUDWATCH").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
        out.push(Region {
            origin: Origin {
                id: provider_id(cfg, &region),
                account: cfg.name.clone(),
                region: region.clone(),
            },
            client: Client::new(&sdk),
            ctx: Context {
                profile: cfg.profile.clone(),
                region,
                endpoint,
            },
        });
    }
    out
}

pub fn schedule(cfg: &CloudWatchSource) -> Schedule {
    Schedule {
        interval: cfg.interval,
        timeout: cfg.timeout,
        backoff_max: cfg.interval.max(Duration::from_secs(600)),
    }
}

type Tags = BTreeMap<String, String>;

struct CachedTags {
    config_updated: Option<DateTime<Utc>>,
    fetched: DateTime<Utc>,
    tags: BTreeMap<String, String>,
}

/// The poller of one region.
pub struct Poller {
    region: Region,
    tags: HashMap<String, CachedTags>,
}

impl Poller {
    pub fn new(region: Region) -> Poller {
        Poller {
            region,
            tags: HashMap::new(),
        }
    }

    /// Every alarm of the region, every page.
    pub async fn fetch(&mut self) -> anyhow::Result<Snapshot> {
        let now = Utc::now();
        let Region {
            origin,
            client,
            ctx,
        } = &self.region;
        let mut metric = Vec::new();
        let mut composite = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0u32;
        loop {
            let page = client
                .describe_alarms()
                .alarm_types(AlarmType::MetricAlarm)
                .alarm_types(AlarmType::CompositeAlarm)
                .max_records(PAGE)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| anyhow!(errors::describe(&e, ctx)))?;
            pages += 1;
            metric.extend(page.metric_alarms().iter().cloned());
            composite.extend(page.composite_alarms().iter().cloned());
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(String::from);
            if token.is_none() {
                break;
            }
            if pages >= MAX_PAGES {
                return Err(anyhow!(
                    "CloudWatch in {} kept sending pages (stopped after {MAX_PAGES})",
                    ctx.region
                ));
            }
        }

        // Tags of alarms not seen before, changed since, or fetched over an hour ago.
        let wanted: Vec<(String, Option<DateTime<Utc>>)> = metric
            .iter()
            .map(|m| {
                (
                    m.alarm_arn().map(String::from),
                    convert::time(m.alarm_configuration_updated_timestamp()),
                )
            })
            .chain(composite.iter().map(|c| {
                (
                    c.alarm_arn().map(String::from),
                    convert::time(c.alarm_configuration_updated_timestamp()),
                )
            }))
            .filter_map(|(arn, upd)| arn.map(|a| (a, upd)))
            .filter(|(arn, upd)| match self.tags.get(arn) {
                Some(c) => c.config_updated != *upd || now - c.fetched > TAGS_MAX_AGE,
                None => true,
            })
            .collect();
        let tag_calls = wanted.len() as u32;
        let fetched: Vec<(String, Option<DateTime<Utc>>, Tags)> = futures::stream::iter(wanted)
            .map(|(arn, upd)| {
                let client = client.clone();
                async move {
                    let tags = client
                        .list_tags_for_resource()
                        .resource_arn(&arn)
                        .send()
                        .await
                        .map(|r| {
                            r.tags()
                                .iter()
                                .map(|t| {
                                    (
                                        t.key().unwrap_or_default().to_string(),
                                        t.value().unwrap_or_default().to_string(),
                                    )
                                })
                                .collect()
                        });
                    Ok::<_, anyhow::Error>((arn, upd, tags))
                }
            })
            .buffer_unordered(8)
            .and_then(|(arn, upd, tags)| async move {
                match tags {
                    Ok(t) => Ok((arn, upd, t)),
                    // Tags are a refinement: a missing permission must not hide alarms.
                    Err(e) => {
                        tracing::warn!(%arn, "tags: {}", errors::describe(&e, ctx));
                        Ok((arn, upd, BTreeMap::new()))
                    }
                }
            })
            .try_collect()
            .await?;
        for (arn, upd, tags) in fetched {
            self.tags.insert(
                arn,
                CachedTags {
                    config_updated: upd,
                    fetched: now,
                    tags,
                },
            );
        }
        let tags_of = |arn: Option<&str>| arn.and_then(|a| self.tags.get(a)).map(|c| &c.tags);
        let mut alarms: Vec<_> = metric
            .iter()
            .map(|m| convert::metric_alarm(origin, m, tags_of(m.alarm_arn()), now))
            .collect();
        alarms.extend(
            composite
                .iter()
                .map(|c| convert::composite_alarm(origin, c, tags_of(c.alarm_arn()), now)),
        );
        let mut api_calls = vec![("DescribeAlarms".to_string(), pages)];
        if tag_calls > 0 {
            api_calls.push(("ListTagsForResource".into(), tag_calls));
        }
        Ok(Snapshot {
            alarms,
            silences: Vec::new(),
            api_calls,
            degraded: None,
        })
    }
}

impl Poll for Poller {
    type Output = Snapshot;
    fn poll(&mut self) -> BoxFuture<'_, anyhow::Result<Snapshot>> {
        Box::pin(self.fetch())
    }
}

/// The last state changes of an alarm, newest first (DescribeAlarmHistory).
pub async fn history(region: &Region, name: &str, max: i32) -> anyhow::Result<Vec<HistoryItem>> {
    let out = region
        .client
        .describe_alarm_history()
        .alarm_name(name)
        .history_item_type(HistoryItemType::StateUpdate)
        .scan_by(ScanBy::TimestampDescending)
        .max_records(max)
        .send()
        .await
        .map_err(|e| anyhow!(errors::describe(&e, &region.ctx)))?;
    let mut items: Vec<HistoryItem> = out
        .alarm_history_items()
        .iter()
        .filter_map(|h| {
            Some(HistoryItem {
                at: convert::time(h.timestamp())?,
                summary: crate::sanitize::strip_escapes(h.history_summary().unwrap_or_default()),
                to: h.history_data().and_then(new_state_of),
            })
        })
        .collect();
    items.sort_by_key(|i| std::cmp::Reverse(i.at));
    Ok(items)
}

/// `newState.stateValue` of a history item's JSON.
fn new_state_of(data: &str) -> Option<AlarmState> {
    let v: serde_json::Value = serde_json::from_str(data).ok()?;
    AlarmState::parse(v.get("newState")?.get("stateValue")?.as_str()?)
}

fn sdk_query(q: &CwQuery, period_floor: i32) -> MetricDataQuery {
    let mut b = MetricDataQuery::builder()
        .id(&q.id)
        .return_data(q.return_data);
    if let Some(m) = &q.metric {
        let metric = Metric::builder()
            .namespace(&m.namespace)
            .metric_name(&m.metric)
            .set_dimensions(Some(
                m.dimensions
                    .iter()
                    .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                    .collect(),
            ))
            .build();
        b = b.metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(m.period_s.max(period_floor))
                .stat(&m.stat)
                .build(),
        );
    }
    if let Some(e) = &q.expression {
        b = b.expression(e);
        if let Some(p) = q.period_s {
            b = b.period(p.max(period_floor));
        }
    }
    if let Some(l) = &q.label {
        b = b.label(l);
    }
    b.build()
}

/// The alarm's series between `from` and `to` (GetMetricData), oldest point first. The
/// period is raised when needed so a long window stays within one page of points.
/// Returns the series and how many metrics were requested (GetMetricData is billed by them).
pub async fn metric_data(
    region: &Region,
    queries: &[CwQuery],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<(Vec<Series>, u32)> {
    let span = (to - from).num_seconds().max(60) as i32;
    // At most ~1,440 points a series: plenty for a terminal chart.
    let floor = ((span / 1440) / 60 * 60).max(60);
    let mut req = region
        .client
        .get_metric_data()
        .start_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
            from.timestamp(),
        ))
        .end_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
            to.timestamp(),
        ))
        .scan_by(ScanBy::TimestampAscending);
    for q in queries {
        req = req.metric_data_queries(sdk_query(q, floor));
    }
    let metrics = queries.iter().filter(|q| q.metric.is_some()).count() as u32;
    let mut series: BTreeMap<String, Series> = BTreeMap::new();
    let mut pages = req.into_paginator().send();
    let mut n = 0;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| anyhow!(errors::describe(&e, &region.ctx)))?;
        for r in page.metric_data_results() {
            let id = r.id().unwrap_or("m1").to_string();
            let s = series.entry(id.clone()).or_insert_with(|| Series {
                label: crate::sanitize::strip_escapes(r.label().unwrap_or(&id)),
                points: Vec::new(),
            });
            for (t, v) in r.timestamps().iter().zip(r.values()) {
                if let Some(t) = convert::time(Some(t)) {
                    s.points.push((t, *v));
                }
            }
        }
        n += 1;
        if n >= 10 {
            break;
        }
    }
    let mut out: Vec<Series> = series.into_values().collect();
    for s in &mut out {
        s.points.sort_by_key(|p| p.0);
        s.points.dedup_by_key(|p| p.0);
    }
    Ok((out, metrics.max(1) * n.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_data_names_the_new_state() {
        let d = r#"{"version":"1.0","oldState":{"stateValue":"OK"},"newState":{"stateValue":"ALARM","stateReason":"x"}}"#;
        assert_eq!(new_state_of(d), Some(AlarmState::Firing));
        assert_eq!(new_state_of("not json"), None);
    }

    #[test]
    fn one_region_keeps_the_plain_id() {
        let mut cfg = CloudWatchSource {
            name: "prod".into(),
            ..Default::default()
        };
        assert_eq!(provider_id(&cfg, "us-east-1").name(), "cloudwatch:prod");
        cfg.regions = vec!["us-east-1".into(), "eu-west-1".into()];
        assert_eq!(
            provider_id(&cfg, "eu-west-1").name(),
            "cloudwatch:prod@eu-west-1"
        );
    }
}
