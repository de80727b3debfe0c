//! The members of an HA pair into one list, as karma does: alerts deduplicated by
//! fingerprint (the same labels give the same fingerprint on every member), silences by id
//! (members share them by gossip), each alert named with its group (its route's
//! `group_by` labels). Pure.

use std::collections::{BTreeMap, HashMap};

use crate::alarms::model::{Alarm, AlarmKind, AlarmState, MetricQuery, Silence, Threshold};
use crate::alarms::prometheus;
use crate::health::Severity;
use crate::providers::ProviderId;

use super::api::{Alert, GettableSilence, Group};

/// What one member answered.
#[derive(Debug, Clone, Default)]
pub struct Member {
    pub alerts: Vec<Alert>,
    pub groups: Vec<Group>,
    pub silences: Vec<GettableSilence>,
}

/// `alertname=HighLatency, job=api` for a group's labels; `(all)` for the root route's
/// group with no `group_by`.
pub fn group_name(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "(all)".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How bad an alert is from its `severity` label: warning/info are warnings, anything else
/// (critical, page, error, none) is critical.
fn level(labels: &BTreeMap<String, String>) -> Severity {
    match labels.get("severity").map(|s| s.to_ascii_lowercase()) {
        Some(s) if matches!(s.as_str(), "warning" | "warn" | "info" | "none" | "low") => {
            Severity::Warning
        }
        _ => Severity::Critical,
    }
}

pub fn alarm(source: &ProviderId, a: &Alert, group: Option<&str>) -> Alarm {
    let name = a
        .labels
        .get("alertname")
        .cloned()
        .unwrap_or_else(|| "(no alertname)".into());
    let mut out = Alarm::new(
        source.clone(),
        format!("{}/{}", source.name(), a.fingerprint),
        AlarmKind::Alert,
        &name,
        AlarmState::Firing,
        a.starts_at,
    );
    let reason = a
        .annotations
        .get("summary")
        .or_else(|| a.annotations.get("description"))
        .or_else(|| a.annotations.get("message"))
        .cloned()
        .unwrap_or_default();
    out = out.with_reason(&reason);
    out.level = level(&a.labels);
    out.updated = a.updated_at;
    for (k, v) in &a.labels {
        out.label(k, v);
    }
    for (k, v) in &a.annotations {
        out.annotation(k, v);
    }
    out.description = out.annotations.get("description").cloned();
    out.silenced_by = a.status.silenced_by.clone();
    out.inhibited_by = a.status.inhibited_by.clone();
    out.group = group.map(crate::sanitize::strip_escapes);
    let expr = prometheus::expr_of(&a.generator_url).or_else(|| {
        ["expr", "query"]
            .iter()
            .find_map(|k| a.annotations.get(*k).cloned())
    });
    if let Some(expr) = expr {
        out.annotation("expr", &expr);
        let (left, cmp) = prometheus::split_comparison(&expr);
        out.metric = Some(MetricQuery::Prometheus { expr: left });
        out.threshold = cmp.map(|(comparison, value)| Threshold {
            value,
            comparison,
            over: None,
        });
    }
    out.finish();
    out
}

/// One list from every member that answered.
pub fn merge(source: &ProviderId, members: &[Member]) -> (Vec<Alarm>, Vec<Silence>) {
    let mut group_of: HashMap<&str, String> = HashMap::new();
    for m in members {
        for g in &m.groups {
            let name = group_name(&g.labels);
            for a in &g.alerts {
                group_of
                    .entry(a.fingerprint.as_str())
                    .or_insert(name.clone());
            }
        }
    }
    let mut by_fp: BTreeMap<&str, (Alert, u8)> = BTreeMap::new();
    for m in members {
        for a in &m.alerts {
            match by_fp.get_mut(a.fingerprint.as_str()) {
                Some((kept, n)) => {
                    *n += 1;
                    let newer = a.updated_at > kept.updated_at;
                    let mut silenced = kept.status.silenced_by.clone();
                    silenced.extend(a.status.silenced_by.iter().cloned());
                    let mut inhibited = kept.status.inhibited_by.clone();
                    inhibited.extend(a.status.inhibited_by.iter().cloned());
                    if newer {
                        *kept = a.clone();
                    }
                    silenced.sort();
                    silenced.dedup();
                    inhibited.sort();
                    inhibited.dedup();
                    kept.status.silenced_by = silenced;
                    kept.status.inhibited_by = inhibited;
                }
                None => {
                    by_fp.insert(a.fingerprint.as_str(), (a.clone(), 1));
                }
            }
        }
    }
    let alarms = by_fp
        .into_values()
        .map(|(a, n)| {
            let mut row = alarm(
                source,
                &a,
                group_of.get(a.fingerprint.as_str()).map(|s| s.as_str()),
            );
            row.seen_on = n;
            row
        })
        .collect();
    let mut silences: BTreeMap<String, Silence> = BTreeMap::new();
    for m in members {
        for s in &m.silences {
            silences.entry(s.id.clone()).or_insert_with(|| Silence {
                id: s.id.clone(),
                state: s.status.state.clone(),
                matchers: s.matchers.clone(),
                starts: s.starts_at,
                ends: s.ends_at,
                created_by: crate::sanitize::strip_escapes(&s.created_by),
                comment: crate::sanitize::strip_escapes(&s.comment),
            });
        }
    }
    (alarms, silences.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::alertmanager::api::{AlertStatus, Receiver, SilenceStatus};
    use chrono::{DateTime, Utc};

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn alert(fp: &str, name: &str, updated: i64, silenced: &[&str]) -> Alert {
        Alert {
            labels: [("alertname", name), ("job", "api"), ("severity", "warning")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: [("summary".to_string(), "p95 over 2s".to_string())].into(),
            starts_at: t(0),
            updated_at: Some(t(updated)),
            ends_at: None,
            fingerprint: fp.into(),
            generator_url:
                "http://prom:9090/graph?g0.expr=histogram_quantile%280.95%2C+x%29+%3E+2&g0.tab=1"
                    .into(),
            status: AlertStatus {
                state: if silenced.is_empty() {
                    "active"
                } else {
                    "suppressed"
                }
                .into(),
                silenced_by: silenced.iter().map(|s| s.to_string()).collect(),
                inhibited_by: vec![],
            },
            receivers: vec![Receiver { name: "ops".into() }],
        }
    }

    #[test]
    fn an_ha_pair_is_one_list_with_groups_and_shared_silences() {
        let a1 = alert("aa", "HighLatency", 10, &[]);
        let a1_late = alert("aa", "HighLatency", 20, &["s1"]);
        let b = alert("bb", "DiskFull", 5, &[]);
        let group = Group {
            labels: [("alertname".to_string(), "HighLatency".to_string())].into(),
            receiver: Receiver { name: "ops".into() },
            alerts: vec![a1.clone()],
        };
        let silence = GettableSilence {
            id: "s1".into(),
            status: SilenceStatus {
                state: "active".into(),
            },
            matchers: vec![],
            starts_at: t(0),
            ends_at: t(3600),
            created_by: "ops@host".into(),
            comment: "deploy".into(),
        };
        let m1 = Member {
            alerts: vec![a1, b],
            groups: vec![group],
            silences: vec![silence.clone()],
        };
        let m2 = Member {
            alerts: vec![a1_late],
            groups: vec![],
            silences: vec![silence],
        };
        let src = ProviderId::named("alertmanager", "main");
        let (alarms, silences) = merge(&src, &[m1, m2]);
        assert_eq!(alarms.len(), 2);
        let hl = alarms.iter().find(|a| a.name == "HighLatency").unwrap();
        assert_eq!(hl.seen_on, 2);
        assert_eq!(hl.silenced_by, ["s1"]);
        assert_eq!(hl.updated, Some(t(20)));
        assert_eq!(hl.group.as_deref(), Some("alertname=HighLatency"));
        assert_eq!(hl.level, Severity::Warning);
        assert_eq!(hl.reason, "p95 over 2s");
        assert_eq!(hl.key, "alertmanager:main/aa");
        assert_eq!(
            hl.metric,
            Some(MetricQuery::Prometheus {
                expr: "histogram_quantile(0.95, x)".into()
            })
        );
        assert_eq!(hl.threshold.as_ref().map(|t| t.value), Some(2.0));
        assert_eq!(silences.len(), 1);
    }
}
