//! The unified alarm row: a CloudWatch alarm, an Alertmanager alert or one of toban's local
//! alarms, as the list, the detail view, the filter and `toban alarms` see it. Text from
//! remote sources is made inert (escape sequences removed) when a row is built, so nothing
//! downstream can draw a remote control sequence.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::alarms::Priority;
use crate::health::Severity;
use crate::providers::ProviderId;
use crate::sanitize::strip_escapes;

/// Starts each label line of [`Alarm::haystack`] (`\n\u{1}key=value`), so the filter finds a
/// label by substring search; sanitised text never holds this control character.
pub const LABEL_MARK: char = '\u{1}';

/// The source of toban's own alarms.
pub const LOCAL: ProviderId = ProviderId::fixed("local");

/// Ordered best to worst, so the worst state sorts last with `Ord` (lists sort descending).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum AlarmState {
    #[default]
    Ok,
    InsufficientData,
    Firing,
}

impl AlarmState {
    pub fn parse(s: &str) -> Option<AlarmState> {
        match crate::config::alarms::state_word(s)? {
            "firing" => Some(AlarmState::Firing),
            "insufficient_data" => Some(AlarmState::InsufficientData),
            _ => Some(AlarmState::Ok),
        }
    }

    /// CloudWatch's words, which the seeds use.
    pub fn label(self) -> &'static str {
        match self {
            AlarmState::Firing => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
            AlarmState::Ok => "OK",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            AlarmState::Firing => "ALARM",
            AlarmState::InsufficientData => "NODATA",
            AlarmState::Ok => "OK",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// A CloudWatch metric alarm.
    Metric,
    /// A CloudWatch composite alarm (a rule over other alarms).
    Composite,
    /// An Alertmanager alert.
    Alert,
    /// One of toban's local checks.
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    Ge,
    Gt,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Ge => "≥",
            Comparison::Gt => ">",
            Comparison::Lt => "<",
            Comparison::Le => "≤",
            Comparison::Eq => "=",
            Comparison::Ne => "≠",
        }
    }

    /// CloudWatch's `ComparisonOperator` names.
    pub fn from_cloudwatch(s: &str) -> Option<Comparison> {
        Some(match s {
            "GreaterThanOrEqualToThreshold" => Comparison::Ge,
            "GreaterThanThreshold" | "GreaterThanUpperThreshold" => Comparison::Gt,
            "LessThanThreshold" | "LessThanLowerThreshold" => Comparison::Lt,
            "LessThanOrEqualToThreshold" => Comparison::Le,
            _ => return None,
        })
    }

    pub fn from_promql(op: &str) -> Option<Comparison> {
        Some(match op {
            ">=" => Comparison::Ge,
            ">" => Comparison::Gt,
            "<" => Comparison::Lt,
            "<=" => Comparison::Le,
            "==" => Comparison::Eq,
            "!=" => Comparison::Ne,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub value: f64,
    pub comparison: Comparison,
    /// "3 of 5 periods of 60s" for CloudWatch.
    pub over: Option<String>,
}

/// One CloudWatch metric with its statistic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CwMetric {
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    /// `Average`, `Sum`, `p95` …
    pub stat: String,
    pub period_s: i32,
}

/// One query of a CloudWatch alarm: a metric or a math expression over others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CwQuery {
    pub id: String,
    pub metric: Option<CwMetric>,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub period_s: Option<i32>,
    /// The series the alarm compares with its threshold.
    pub return_data: bool,
}

/// What the detail chart plots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MetricQuery {
    /// A metric alarm's metric, or its metric-math queries.
    CloudWatch(Vec<CwQuery>),
    /// A Prometheus expression (an alert's, without its comparison).
    Prometheus { expr: String },
}

/// The runbook an alarm leads to, with parameters filled from the alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookLink {
    pub name: String,
    pub params: BTreeMap<String, String>,
    /// `tag`, `annotation` or `config`.
    pub from: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    /// Unique and stable: `cloudwatch:prod/ap-northeast-1/NAME`, `alertmanager:main/FP`,
    /// `local/host.cpu`. Acknowledgements are stored by it.
    pub key: String,
    #[serde(serialize_with = "ser_provider", deserialize_with = "de_provider")]
    pub source: ProviderId,
    pub kind: AlarmKind,
    pub name: String,
    pub state: AlarmState,
    /// How bad it is in the source's own terms: ALARM is critical unless the source says
    /// warning; INSUFFICIENT_DATA is a warning. Drives exit codes.
    pub level: Severity,
    pub priority: Priority,
    pub reason: String,
    /// When it entered its current state.
    pub since: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
    pub description: Option<String>,
    /// CloudWatch tags or Alertmanager labels.
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// CloudWatch dimensions (also filled into runbook parameters).
    pub dimensions: Vec<(String, String)>,
    pub region: Option<String>,
    pub threshold: Option<Threshold>,
    pub metric: Option<MetricQuery>,
    pub runbook: Option<RunbookLink>,
    /// Alertmanager silences that hold this alert, and the alerts inhibiting it.
    pub silenced_by: Vec<String>,
    pub inhibited_by: Vec<String>,
    /// The Alertmanager group (its route's `group_by` labels), e.g. `alertname=X, job=api`.
    pub group: Option<String>,
    /// For an alert seen on several members of an HA pair: how many reported it.
    pub seen_on: u8,
    /// Lower-case text the filter searches (name, reason, source, labels).
    #[serde(skip)]
    pub haystack: String,
}

fn ser_provider<S: serde::Serializer>(p: &ProviderId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.name())
}

fn de_provider<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ProviderId, D::Error> {
    let s = String::deserialize(d)?;
    Ok(match s.split_once(':') {
        Some((k, n)) => ProviderId::named(k, n),
        None if s == "local" => LOCAL,
        None => ProviderId::named(&s, ""),
    })
}

impl Alarm {
    /// A row with the required fields; the rest empty. Remote text is sanitised here.
    pub fn new(
        source: ProviderId,
        key: String,
        kind: AlarmKind,
        name: &str,
        state: AlarmState,
        since: DateTime<Utc>,
    ) -> Alarm {
        let level = match state {
            AlarmState::Firing => Severity::Critical,
            AlarmState::InsufficientData => Severity::Warning,
            AlarmState::Ok => Severity::Ok,
        };
        Alarm {
            key,
            source,
            kind,
            name: strip_escapes(name),
            state,
            level,
            priority: Priority::P3,
            reason: String::new(),
            since,
            updated: None,
            description: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            dimensions: Vec::new(),
            region: None,
            threshold: None,
            metric: None,
            runbook: None,
            silenced_by: Vec::new(),
            inhibited_by: Vec::new(),
            group: None,
            seen_on: 1,
            haystack: String::new(),
        }
    }

    /// One of toban's local alarms (from the console's local alarms: key, severity, since,
    /// message).
    pub fn local(key: &str, severity: Severity, since: DateTime<Utc>, message: &str) -> Alarm {
        let state = if severity == Severity::Ok {
            AlarmState::Ok
        } else {
            AlarmState::Firing
        };
        let mut a = Alarm::new(
            LOCAL,
            format!("local/{key}"),
            AlarmKind::Local,
            key,
            state,
            since,
        );
        a.level = severity;
        a.reason = message.to_string();
        a.labels
            .insert("severity".into(), severity.as_str().to_string());
        a.finish();
        a
    }

    pub fn with_reason(mut self, reason: &str) -> Alarm {
        self.reason = strip_escapes(reason);
        self
    }

    /// Inserts a remote label, sanitised.
    pub fn label(&mut self, k: &str, v: &str) {
        self.labels.insert(strip_escapes(k), strip_escapes(v));
    }

    pub fn annotation(&mut self, k: &str, v: &str) {
        self.annotations.insert(strip_escapes(k), strip_escapes(v));
    }

    /// Builds the search text; call after the fields are set.
    pub fn finish(&mut self) {
        let mut h = String::with_capacity(self.name.len() + self.reason.len() + 64);
        h.push_str(&self.name);
        h.push('\n');
        h.push_str(&self.reason);
        h.push('\n');
        h.push_str(self.source.name());
        for (k, v) in &self.labels {
            h.push('\n');
            h.push(LABEL_MARK);
            h.push_str(k);
            h.push('=');
            h.push_str(v);
        }
        if let Some(g) = &self.group {
            h.push('\n');
            h.push_str(g);
        }
        self.haystack = h.to_lowercase();
    }

    /// Silenced in the source itself (an Alertmanager silence or inhibition).
    pub fn remote_suppressed(&self) -> bool {
        !self.silenced_by.is_empty() || !self.inhibited_by.is_empty()
    }

    pub fn dimension(&self, k: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(dk, _)| dk == k)
            .map(|(_, v)| v.as_str())
    }
}

/// One line of an alarm's history (CloudWatch DescribeAlarmHistory; for Alertmanager the
/// alert's start and last update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub at: DateTime<Utc>,
    pub summary: String,
    /// The state it went to, when the item is a state change.
    pub to: Option<AlarmState>,
}

/// A metric series for the detail chart: (time, value) points, oldest first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Series {
    pub label: String,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// An Alertmanager silence as listed by toban.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    /// `active`, `pending` or `expired`.
    pub state: String,
    pub matchers: Vec<Matcher>,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matcher {
    pub name: String,
    pub value: String,
    #[serde(rename = "isRegex")]
    pub is_regex: bool,
    #[serde(rename = "isEqual", default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl Matcher {
    pub fn text(&self) -> String {
        let op = match (self.is_equal, self.is_regex) {
            (true, false) => "=",
            (false, false) => "!=",
            (true, true) => "=~",
            (false, true) => "!~",
        };
        format!("{}{op}\"{}\"", self.name, self.value)
    }
}

/// What one poll of a source hands the console: every alarm it has right now (a full
/// snapshot: an alarm missing from it is gone), and for Alertmanager its silences.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    pub alarms: Vec<Alarm>,
    pub silences: Vec<Silence>,
    /// API requests this poll made, by operation (CloudWatch bills them).
    pub api_calls: Vec<(String, u32)>,
    /// A member of an HA pair that did not answer while another did.
    pub degraded: Option<String>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn config_checks_the_same_state_words() {
        for w in [
            "firing",
            "ALARM",
            "active",
            "insufficient-data",
            "INSUFFICIENT_DATA",
            "nodata",
            "ok",
            "OK",
            "pending",
            "",
            "alarms",
        ] {
            assert_eq!(
                super::AlarmState::parse(w).is_some(),
                crate::config::alarms::state_word(w).is_some(),
                "{w}"
            );
        }
    }

    use super::*;

    #[test]
    fn remote_text_is_inert_and_searchable() {
        let mut a = Alarm::new(
            ProviderId::named("alertmanager", "main"),
            "k".into(),
            AlarmKind::Alert,
            "Disk\x1b[2J Full",
            AlarmState::Firing,
            Utc::now(),
        )
        .with_reason("\x1b]0;pwned\x07at 97%");
        a.label("Team", "DB\x1b[31m");
        a.finish();
        assert_eq!(a.name, "Disk Full");
        assert_eq!(a.reason, "at 97%");
        assert!(a.haystack.contains("team=db"), "{}", a.haystack);
        assert!(a.haystack.contains("alertmanager:main"));
    }

    #[test]
    fn states_order_worst_last_and_parse_cloudwatch_words() {
        assert!(AlarmState::Firing > AlarmState::InsufficientData);
        assert!(AlarmState::InsufficientData > AlarmState::Ok);
        assert_eq!(AlarmState::parse("ALARM"), Some(AlarmState::Firing));
        assert_eq!(
            AlarmState::parse("INSUFFICIENT_DATA"),
            Some(AlarmState::InsufficientData)
        );
    }
}
