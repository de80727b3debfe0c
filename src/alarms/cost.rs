//! How many CloudWatch API calls toban makes and what they cost at list price.
//!
//! Prices (US East, N. Virginia), from the CloudWatch pricing page as of December 2026:
//! - GetMetricData: $0.01 per 1,000 metrics requested (no free tier);
//! - other API requests (DescribeAlarms, DescribeAlarmHistory, ListTagsForResource):
//!   $0.01 per 1,000 requests, the first 1,000,000 a month free per account.
//!
//! toban shows the cost before the free tier (the tier is shared with every other tool of the
//! account, so toban cannot know what is left of it).

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};

pub const STANDARD_USD_PER_1000: f64 = 0.01;
pub const METRICS_USD_PER_1000: f64 = 0.01;
pub const FREE_STANDARD_PER_MONTH: u64 = 1_000_000;
/// Hours in the average month (8,760 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Billed by metrics requested instead of by request.
fn by_metric(op: &str) -> bool {
    op == "GetMetricData"
}

/// Calls of the last hour, per operation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiMeter {
    events: VecDeque<(DateTime<Utc>, String, u32)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    /// Requests per operation (for GetMetricData: metrics requested).
    pub by_op: BTreeMap<String, u64>,
    pub standard: u64,
    pub metrics: u64,
}

impl Usage {
    pub fn calls(&self) -> u64 {
        self.standard + self.metrics
    }

    /// US dollars for these calls at list price.
    pub fn usd(&self) -> f64 {
        self.standard as f64 / 1000.0 * STANDARD_USD_PER_1000
            + self.metrics as f64 / 1000.0 * METRICS_USD_PER_1000
    }
}

impl ApiMeter {
    pub fn record(&mut self, at: DateTime<Utc>, op: &str, n: u32) {
        if n == 0 {
            return;
        }
        self.events.push_back((at, op.to_string(), n));
        self.prune(at);
    }

    fn prune(&mut self, now: DateTime<Utc>) {
        while self
            .events
            .front()
            .is_some_and(|(t, _, _)| now - *t > TimeDelta::hours(1))
        {
            self.events.pop_front();
        }
    }

    /// What was called in the hour before `now`.
    pub fn last_hour(&self, now: DateTime<Utc>) -> Usage {
        let mut u = Usage::default();
        for (t, op, n) in &self.events {
            if now - *t > TimeDelta::hours(1) {
                continue;
            }
            *u.by_op.entry(op.clone()).or_default() += *n as u64;
            if by_metric(op) {
                u.metrics += *n as u64;
            } else {
                u.standard += *n as u64;
            }
        }
        u
    }
}

/// "120 calls/h (DescribeAlarms 60, GetMetricData 60) ≈ $0.0012/h, $0.88/month at list price".
pub fn describe(u: &Usage) -> String {
    if u.calls() == 0 {
        return "no CloudWatch API calls in the last hour".into();
    }
    let ops = u
        .by_op
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let hour = u.usd();
    format!(
        "{} calls/h ({ops}) ≈ ${hour:.4}/h, ${:.2}/month at list price",
        u.calls(),
        hour * HOURS_PER_MONTH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + m * 60, 0).unwrap()
    }

    #[test]
    fn a_minute_poll_of_two_pages_costs_under_two_dollars_a_month() {
        let mut m = ApiMeter::default();
        for i in 0..60 {
            m.record(t(i), "DescribeAlarms", 2);
        }
        m.record(t(30), "GetMetricData", 1);
        let u = m.last_hour(t(59));
        assert_eq!(u.standard, 120);
        assert_eq!(u.metrics, 1);
        assert!((u.usd() - 0.00121).abs() < 1e-9);
        assert_eq!(
            describe(&u),
            "121 calls/h (DescribeAlarms 120, GetMetricData 1) ≈ $0.0012/h, $0.88/month at list price"
        );
        // An hour later the old calls no longer count.
        assert_eq!(m.last_hour(t(200)).calls(), 0);
    }
}
