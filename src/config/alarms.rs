//! `[alarms]` in config.toml: the remote alarm sources (CloudWatch, Alertmanager), the
//! P1–P4 rules, runbook links and the bell.
//!
//! ```toml
//! [alarms]
//! bell = true
//! chart_window = "3h"
//!
//! [[alarms.cloudwatch]]
//! name = "prod"
//! profile = "prod"                 # credentials: the standard chain for this profile
//! regions = ["ap-northeast-1"]
//! # endpoint_url = "http://127.0.0.1:4566"   # else AWS_ENDPOINT_URL, else AWS
//!
//! [[alarms.alertmanager]]
//! name = "main"
//! urls = ["http://am-1:9093", "http://am-2:9093"]   # an HA pair: alerts deduplicated
//! prometheus_url = "http://prometheus:9090"         # charts of an alert's expression
//!
//! [[alarms.priority]]              # first match wins; replaces the defaults below
//! priority = "P1"
//! name = "*database-connection*"   # glob on the alarm name, case-insensitive
//!
//! [[alarms.runbook]]
//! alarm = "goal-mandala-production-high-error-rate"
//! runbook = "cw-high-error-rate"
//! params = { log_group = "/aws/lambda/goal-mandala-production-api" }
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::humantime_serde_compat;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AlarmsConfig {
    /// Ring the terminal bell when an alarm starts firing.
    pub bell: bool,
    /// How far back the detail chart reaches.
    #[serde(with = "humantime_serde_compat")]
    pub chart_window: Duration,
    pub cloudwatch: Vec<CloudWatchSource>,
    pub alertmanager: Vec<AlertmanagerSource>,
    /// P1–P4 rules, first match wins. Setting any replaces the shipped list.
    #[serde(rename = "priority")]
    pub priorities: Vec<PriorityRule>,
    /// Runbook links by alarm name (a tag `toban:runbook` or an annotation `runbook` on the
    /// alarm itself wins over these).
    #[serde(rename = "runbook")]
    pub runbooks: Vec<RunbookMapping>,
}

impl Default for AlarmsConfig {
    fn default() -> Self {
        AlarmsConfig {
            bell: true,
            chart_window: Duration::from_secs(3 * 3600),
            cloudwatch: Vec::new(),
            alertmanager: Vec::new(),
            priorities: default_priorities(),
            runbooks: default_runbooks(),
        }
    }
}

/// One AWS account/profile and the regions whose alarms are listed.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CloudWatchSource {
    /// Shown as `cloudwatch:<name>`.
    pub name: String,
    /// A profile of ~/.aws/config; empty: the default chain (env, default profile, role).
    pub profile: Option<String>,
    /// Empty: the region of the profile or `AWS_REGION`.
    pub regions: Vec<String>,
    /// For a local stand-in or a VPC endpoint; `AWS_ENDPOINT_URL` is honoured without it.
    pub endpoint_url: Option<String>,
    /// DescribeAlarms every this often (seed 002 checks three times a day; toban every minute).
    #[serde(with = "humantime_serde_compat")]
    pub interval: Duration,
    /// One poll (every page) must finish within this.
    #[serde(with = "humantime_serde_compat")]
    pub timeout: Duration,
}

impl Default for CloudWatchSource {
    fn default() -> Self {
        CloudWatchSource {
            name: "default".into(),
            profile: None,
            regions: Vec::new(),
            endpoint_url: None,
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

/// One Alertmanager, or the members of an HA cluster (their alerts are merged).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AlertmanagerSource {
    /// Shown as `alertmanager:<name>`.
    pub name: String,
    pub urls: Vec<String>,
    /// Charts an alert's expression with `query_range` when set.
    pub prometheus_url: Option<String>,
    #[serde(with = "humantime_serde_compat")]
    pub interval: Duration,
    #[serde(with = "humantime_serde_compat")]
    pub timeout: Duration,
}

impl Default for AlertmanagerSource {
    fn default() -> Self {
        AlertmanagerSource {
            name: "default".into(),
            urls: Vec::new(),
            prometheus_url: None,
            interval: Duration::from_secs(15),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Priorities of seeds 000 §5.1 and 004 §3.1 (P1 worst).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum Priority {
    P1,
    P2,
    #[default]
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }

    /// What it means and how fast it is answered (seed 004 §3.1; seed 000 allows 1 h for P1).
    pub fn meaning(self) -> &'static str {
        match self {
            Priority::P1 => "service down for everyone — respond within 30 min",
            Priority::P2 => "a main function down — respond within 2 h",
            Priority::P3 => "partly degraded — next business day",
            Priority::P4 => "minor, a workaround exists — planned",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        match s.trim().to_ascii_uppercase().as_str() {
            "P1" => Some(Priority::P1),
            "P2" => Some(Priority::P2),
            "P3" => Some(Priority::P3),
            "P4" => Some(Priority::P4),
            _ => None,
        }
    }
}

/// A rule giving alarms a priority. Every condition set must hold; a rule with none matches
/// everything (a catch-all at the end of the list).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PriorityRule {
    pub priority: Priority,
    /// Glob (`*`, `?`) on the alarm name, case-insensitive.
    pub name: Option<String>,
    /// Glob on the source: `cloudwatch:*`, `alertmanager:main`, `local`.
    pub source: Option<String>,
    /// `key=value` (value may be a glob) or `key` on a CloudWatch tag or an Alertmanager label.
    #[serde(alias = "tag")]
    pub label: Option<String>,
    /// Only alarms of this state: `firing`, `insufficient_data`, `ok`.
    pub state: Option<String>,
}

fn rule(priority: Priority, name: Option<&str>, label: Option<&str>) -> PriorityRule {
    PriorityRule {
        priority,
        name: name.map(String::from),
        label: label.map(String::from),
        ..Default::default()
    }
}

/// Explicit labels first, then the seeds' named alarms, then the sources' own severities.
pub fn default_priorities() -> Vec<PriorityRule> {
    use Priority::*;
    vec![
        rule(P1, None, Some("priority=P1")),
        rule(P2, None, Some("priority=P2")),
        rule(P3, None, Some("priority=P3")),
        rule(P4, None, Some("priority=P4")),
        // Seed 000/004: P1 is the whole service down; a database that refuses connections
        // (seed 001 §3) takes everything with it.
        rule(P1, Some("*database-connection*"), None),
        rule(P1, Some("*service-down*"), None),
        // Main functions failing for many users.
        rule(P2, Some("*high-error-rate*"), None),
        rule(P2, Some("*5xx*"), None),
        rule(P2, Some("*storage-low*"), None),
        // Degraded.
        rule(P3, Some("*high-latency*"), None),
        rule(P3, Some("*cpu-high*"), None),
        // Prometheus convention.
        rule(P1, None, Some("severity=page")),
        rule(P2, None, Some("severity=critical")),
        rule(P3, None, Some("severity=warning")),
        rule(P4, None, Some("severity=info")),
        // toban's own: critical local checks (disk 85 %, backups past the RPO) are P2.
        PriorityRule {
            priority: P2,
            source: Some("local".into()),
            label: Some("severity=critical".into()),
            ..Default::default()
        },
    ]
}

/// A runbook for alarms whose name matches.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunbookMapping {
    /// Glob on the alarm name.
    pub alarm: String,
    pub runbook: String,
    /// Fixed parameters; `{{alarm.name}}`, `{{alarm.region}}`, `{{label.KEY}}` and
    /// `{{dimension.KEY}}` are filled from the alarm.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

fn map(alarm: &str, runbook: &str, params: &[(&str, &str)]) -> RunbookMapping {
    RunbookMapping {
        alarm: alarm.into(),
        runbook: runbook.into(),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// The six CloudWatch alarms of seeds 001 and 002 and the runbooks shipped for them.
pub fn default_runbooks() -> Vec<RunbookMapping> {
    let region = ("region", "{{alarm.region}}");
    vec![
        map("*high-error-rate*", "cw-high-error-rate", &[region]),
        map("*high-latency*", "cw-high-latency", &[region]),
        map(
            "*database-connection*",
            "cw-db-connection-errors",
            &[region],
        ),
        map(
            "*alb-5xx*",
            "cw-alb-5xx",
            &[region, ("cluster", "{{dimension.ClusterName}}")],
        ),
        map(
            "*ecs-cpu-high*",
            "cw-ecs-cpu-high",
            &[
                region,
                ("cluster", "{{dimension.ClusterName}}"),
                ("service", "{{dimension.ServiceName}}"),
            ],
        ),
        map(
            "*rds-storage-low*",
            "cw-rds-storage-low",
            &[
                region,
                ("db_instance", "{{dimension.DBInstanceIdentifier}}"),
            ],
        ),
    ]
}

impl AlarmsConfig {
    /// Semantic problems as (dotted field, message).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.chart_window < Duration::from_secs(300) {
            out.push((
                "alarms.chart_window".into(),
                "must be at least 5m".to_string(),
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (i, c) in self.cloudwatch.iter().enumerate() {
            let at = format!("alarms.cloudwatch[{i}]");
            check_name(&at, &c.name, &mut names, "cloudwatch", &mut out);
            if c.interval < Duration::from_secs(10) {
                out.push((
                    format!("{at}.interval"),
                    "must be at least 10s (each poll is billed by AWS)".into(),
                ));
            }
            if let Some(u) = &c.endpoint_url {
                check_url(&format!("{at}.endpoint_url"), u, &mut out);
            }
            for (j, r) in c.regions.iter().enumerate() {
                let ok = !r.is_empty()
                    && r.chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
                if !ok {
                    out.push((
                        format!("{at}.regions[{j}]"),
                        format!("`{r}` is not a region name like ap-northeast-1"),
                    ));
                }
            }
        }
        for (i, a) in self.alertmanager.iter().enumerate() {
            let at = format!("alarms.alertmanager[{i}]");
            check_name(&at, &a.name, &mut names, "alertmanager", &mut out);
            if a.urls.is_empty() {
                out.push((
                    format!("{at}.urls"),
                    "needs at least one URL like http://127.0.0.1:9093".into(),
                ));
            }
            for (j, u) in a.urls.iter().enumerate() {
                check_url(&format!("{at}.urls[{j}]"), u, &mut out);
            }
            if let Some(u) = &a.prometheus_url {
                check_url(&format!("{at}.prometheus_url"), u, &mut out);
            }
            if a.interval < Duration::from_secs(1) {
                out.push((format!("{at}.interval"), "must be at least 1s".into()));
            }
        }
        for (i, r) in self.priorities.iter().enumerate() {
            if let Some(s) = &r.state {
                if !is_state_word(s) {
                    out.push((
                        format!("alarms.priority[{i}].state"),
                        format!("`{s}` is not one of firing, insufficient_data, ok"),
                    ));
                }
            }
            if let Some(l) = &r.label {
                if l.trim().is_empty() || l.starts_with('=') {
                    out.push((
                        format!("alarms.priority[{i}].label"),
                        "must be `key` or `key=value`".into(),
                    ));
                }
            }
        }
        for (i, m) in self.runbooks.iter().enumerate() {
            if m.runbook.trim().is_empty() {
                out.push((format!("alarms.runbook[{i}].runbook"), "is empty".into()));
            }
        }
        out
    }
}

fn check_name(
    at: &str,
    name: &str,
    seen: &mut std::collections::HashSet<String>,
    kind: &str,
    out: &mut Vec<(String, String)>,
) {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !ok {
        out.push((
            format!("{at}.name"),
            format!("`{name}` must be letters, digits, `-`, `_` or `.`"),
        ));
    } else if !seen.insert(format!("{kind}:{name}")) {
        out.push((
            format!("{at}.name"),
            format!("`{name}` is used by another {kind} source"),
        ));
    }
}

fn check_url(at: &str, u: &str, out: &mut Vec<(String, String)>) {
    match url::Url::parse(u) {
        Ok(p) if matches!(p.scheme(), "http" | "https") && p.host().is_some() => {}
        _ => out.push((
            at.to_string(),
            format!("`{u}` is not an http(s) URL like http://127.0.0.1:9093"),
        )),
    }
}

/// The words `alarms::model::AlarmState::parse` takes: config sits below the alarms
/// capability, so it checks the words itself (a test there keeps the two in step).
pub fn is_state_word(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().replace('-', "_").as_str(),
        "firing" | "alarm" | "active" | "insufficient_data" | "insufficient" | "nodata" | "ok"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_the_seeds() {
        let c = AlarmsConfig::default();
        assert!(c.validate().is_empty(), "{:?}", c.validate());
        assert!(c.bell);
        assert_eq!(c.runbooks.len(), 6);
        assert_eq!(
            CloudWatchSource::default().interval,
            Duration::from_secs(60)
        );
    }

    #[test]
    fn a_section_parses_and_bad_values_are_named() {
        let c: AlarmsConfig = toml::from_str(
            r#"
            bell = false
            [[cloudwatch]]
            name = "prod"
            profile = "prod"
            regions = ["ap-northeast-1", "US_EAST"]
            interval = "5s"
            [[alertmanager]]
            name = "prod"
            urls = ["http://127.0.0.1:9093", "ftp://x"]
            [[priority]]
            priority = "P1"
            tag = "team=db"
            state = "burning"
            "#,
        )
        .unwrap();
        assert_eq!(c.priorities.len(), 1);
        assert_eq!(c.priorities[0].label.as_deref(), Some("team=db"));
        let fields: Vec<String> = c.validate().into_iter().map(|p| p.0).collect();
        assert_eq!(
            fields,
            [
                "alarms.cloudwatch[0].interval",
                "alarms.cloudwatch[0].regions[1]",
                "alarms.alertmanager[0].urls[1]",
                "alarms.priority[0].state",
            ]
        );
    }

    #[test]
    fn unknown_fields_are_errors() {
        let e = toml::from_str::<AlarmsConfig>("[[cloudwatch]]\nregion = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `region`"), "{e}");
    }
}
