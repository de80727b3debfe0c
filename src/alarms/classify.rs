//! What the configuration says about an alarm: its priority (P1–P4, first matching rule)
//! and the runbook it leads to (a CloudWatch tag `toban:runbook=NAME`, an Alertmanager
//! annotation `runbook`, else a config mapping by name), with parameters from the alarm.

use std::collections::BTreeMap;

use crate::config::alarms::{AlarmsConfig, Priority, PriorityRule};

use super::model::{Alarm, AlarmState, RunbookLink};

/// The tag (CloudWatch) or label naming a runbook.
pub const RUNBOOK_TAG: &str = "toban:runbook";

/// `*` any run, `?` one character; case-insensitive. Allocation-free for ASCII (alarm
/// names nearly always are), since every row of every poll goes through the rules.
pub fn glob(pattern: &str, text: &str) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        return glob_in(pattern.as_bytes(), text.as_bytes(), |a, b| {
            a.eq_ignore_ascii_case(b)
        });
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    glob_in(&p, &t, |a, b| a == b)
}

fn glob_in<T: Copy + PartialEq + From<u8>>(p: &[T], t: &[T], eq: impl Fn(&T, &T) -> bool) -> bool {
    let (star, any) = (T::from(b'*'), T::from(b'?'));
    let (mut pi, mut ti) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] != star && (p[pi] == any || eq(&p[pi], &t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == star {
            back = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = back {
            pi = sp + 1;
            ti = st + 1;
            back = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == star)
}

fn label_matches(spec: &str, labels: &BTreeMap<String, String>) -> bool {
    match spec.split_once('=') {
        Some((k, v)) => labels
            .iter()
            .any(|(lk, lv)| lk.eq_ignore_ascii_case(k.trim()) && glob(v.trim(), lv)),
        None => labels.keys().any(|lk| lk.eq_ignore_ascii_case(spec.trim())),
    }
}

pub fn rule_matches(r: &PriorityRule, a: &Alarm) -> bool {
    r.name.as_deref().is_none_or(|g| glob(g, &a.name))
        && r.source.as_deref().is_none_or(|g| glob(g, a.source.name()))
        && r.label
            .as_deref()
            .is_none_or(|l| label_matches(l, &a.labels))
        && r.state
            .as_deref()
            .is_none_or(|s| AlarmState::parse(s) == Some(a.state))
}

/// First matching rule; P3 when none does.
pub fn priority(rules: &[PriorityRule], a: &Alarm) -> Priority {
    rules
        .iter()
        .find(|r| rule_matches(r, a))
        .map(|r| r.priority)
        .unwrap_or(Priority::P3)
}

/// Fills `{{alarm.name}}`, `{{alarm.region}}`, `{{alarm.source}}`, `{{label.K}}`,
/// `{{dimension.K}}`; an unknown placeholder becomes empty (the wizard then asks).
pub fn fill(template: &str, a: &Alarm) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let var = rest[start + 2..start + end].trim();
        let value = match var.split_once('.') {
            Some(("alarm", "name")) => Some(a.name.clone()),
            Some(("alarm", "region")) => a.region.clone(),
            Some(("alarm", "source")) => Some(a.source.name().to_string()),
            Some(("alarm", "state")) => Some(a.state.label().to_string()),
            Some(("label", k)) => a.labels.get(k).cloned(),
            Some(("dimension", k)) => a.dimension(k).map(String::from),
            _ => None,
        };
        out.push_str(&value.unwrap_or_default());
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

/// The alarm's own context as parameters: its name, source, region, labels and dimensions
/// (`label_KEY`, `dimension_KEY`), so any runbook can use them.
fn context_params(a: &Alarm) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    p.insert("alarm_name".into(), a.name.clone());
    p.insert("alarm_source".into(), a.source.name().to_string());
    if let Some(r) = &a.region {
        p.insert("region".into(), r.clone());
    }
    p
}

/// The runbook for an alarm: its own tag/annotation first, then the config's mappings.
pub fn runbook(cfg: &AlarmsConfig, a: &Alarm) -> Option<RunbookLink> {
    let own = a
        .labels
        .get(RUNBOOK_TAG)
        .map(|n| (n, "tag"))
        .or_else(|| a.annotations.get("runbook").map(|n| (n, "annotation")));
    let mapping = cfg.runbooks.iter().find(|m| glob(&m.alarm, &a.name));
    let (name, from) = match (own, mapping) {
        (Some((n, from)), _) => (n.trim().to_string(), from),
        (None, Some(m)) => (m.runbook.clone(), "config"),
        (None, None) => return None,
    };
    if name.is_empty() {
        return None;
    }
    let mut params = context_params(a);
    if let Some(m) = mapping.filter(|m| m.runbook == name) {
        for (k, v) in &m.params {
            let v = fill(v, a);
            if !v.is_empty() {
                params.insert(k.clone(), v);
            }
        }
    }
    Some(RunbookLink {
        name,
        params,
        from: from.into(),
    })
}

/// Priority and runbook from the configuration, then the search text.
pub fn apply(cfg: &AlarmsConfig, a: &mut Alarm) {
    a.priority = priority(&cfg.priorities, a);
    // A local alarm arrives with the runbook toban chose for it (a drill of the service's
    // newest good backup); a mapping in config still wins.
    a.runbook = runbook(cfg, a).or(a.runbook.take());
    a.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::model::AlarmKind;
    use crate::health::Severity;
    use crate::providers::ProviderId;
    use chrono::Utc;

    fn cw(name: &str) -> Alarm {
        let mut a = Alarm::new(
            ProviderId::named("cloudwatch", "prod"),
            format!("cloudwatch:prod/ap-northeast-1/{name}"),
            AlarmKind::Metric,
            name,
            AlarmState::Firing,
            Utc::now(),
        );
        a.region = Some("ap-northeast-1".into());
        a.dimensions = vec![
            ("ClusterName".into(), "facility-prod-cluster".into()),
            ("ServiceName".into(), "staff-api".into()),
        ];
        a
    }

    #[test]
    fn globs() {
        let cases = [
            (
                "*high-error-rate*",
                "goal-mandala-production-high-error-rate",
                true,
            ),
            ("*5xx*", "alb-5xx-error-rate", true),
            ("ecs-?pu-high", "ECS-CPU-HIGH", true),
            ("ecs-cpu-high", "ecs-cpu-higher", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("", "", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(glob(p, t), want, "{p} vs {t}");
        }
    }

    #[test]
    fn default_priorities_follow_the_seeds() {
        let cfg = AlarmsConfig::default();
        let table = [
            ("goal-mandala-production-database-connection-error", "P1"),
            ("goal-mandala-production-high-error-rate", "P2"),
            ("alb-5xx-error-rate", "P2"),
            ("rds-storage-low", "P2"),
            ("goal-mandala-production-high-latency", "P3"),
            ("ecs-cpu-high", "P3"),
            ("something-else", "P3"),
        ];
        for (name, want) in table {
            assert_eq!(
                priority(&cfg.priorities, &cw(name)).as_str(),
                want,
                "{name}"
            );
        }
        let mut tagged = cw("something-else");
        tagged.label("priority", "P4");
        assert_eq!(priority(&cfg.priorities, &tagged), Priority::P4);
        let mut page = cw("x");
        page.label("severity", "page");
        assert_eq!(priority(&cfg.priorities, &page), Priority::P1);
        let local = Alarm::local("backup.rpo:mail", Severity::Critical, Utc::now(), "old");
        assert_eq!(priority(&cfg.priorities, &local), Priority::P2);
        let warn = Alarm::local("host.cpu", Severity::Warning, Utc::now(), "cpu");
        assert_eq!(priority(&cfg.priorities, &warn), Priority::P3);
    }

    #[test]
    fn runbook_from_tag_then_annotation_then_config_with_filled_params() {
        let cfg = AlarmsConfig::default();
        let a = cw("ecs-cpu-high");
        let link = runbook(&cfg, &a).unwrap();
        assert_eq!(link.name, "cw-ecs-cpu-high");
        assert_eq!(link.from, "config");
        assert_eq!(link.params["cluster"], "facility-prod-cluster");
        assert_eq!(link.params["service"], "staff-api");
        assert_eq!(link.params["region"], "ap-northeast-1");

        let mut tagged = cw("ecs-cpu-high");
        tagged.label(RUNBOOK_TAG, "restore-postgres");
        let link = runbook(&cfg, &tagged).unwrap();
        assert_eq!(
            (link.name.as_str(), link.from.as_str()),
            ("restore-postgres", "tag")
        );
        assert!(!link.params.contains_key("cluster"));

        let mut alert = cw("Anything");
        alert.annotation("runbook", "rotate-logs");
        assert_eq!(runbook(&cfg, &alert).unwrap().from, "annotation");
        assert!(runbook(&cfg, &cw("unmapped")).is_none());
    }

    #[test]
    fn fill_leaves_unknown_placeholders_empty() {
        let a = cw("x");
        assert_eq!(
            fill("{{alarm.name}}@{{alarm.region}}:{{label.none}}!", &a),
            "x@ap-northeast-1:!"
        );
        assert_eq!(fill("open {{ alarm.name", &a), "open {{ alarm.name");
    }
}
