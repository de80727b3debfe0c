//! The local alarms the Alarms capability raises itself: a remote source that has been down
//! (or silent) for a while, since its alarms can no longer be seen. Pure.

use chrono::{DateTime, TimeDelta, Utc};

use crate::alarm_types::Finding;
use crate::health::Severity;
use crate::providers::health::Freshness;

use super::state::AlarmsState;

/// A failing poll is retried with backoff; only a source down this long is raised.
pub const DOWN_GRACE: TimeDelta = TimeDelta::minutes(2);

/// Keys: `alarms.source_down:<provider>`, `alarms.source_stale:<provider>`.
pub fn findings(state: &AlarmsState, now: DateTime<Utc>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (id, e) in &state.sources {
        let Some(h) = &e.health else { continue };
        match h.freshness(now) {
            Freshness::Down { reason, age } => {
                let since = h.down.as_ref().map(|d| d.0).unwrap_or(now);
                let down_for = now - since;
                if down_for < DOWN_GRACE {
                    continue;
                }
                let data = match age {
                    Some(a) => format!("its alarms are {} old", human(a)),
                    None => "no alarms seen yet".into(),
                };
                out.push(Finding {
                    key: format!("alarms.source_down:{id}"),
                    severity: Severity::Warning,
                    message: format!("{id} down for {}: {reason} ({data})", human(down_for)),
                    value: down_for.num_minutes() as f64,
                    subject: id.name().to_string(),
                });
            }
            Freshness::Stale { age } => out.push(Finding {
                key: format!("alarms.source_stale:{id}"),
                severity: Severity::Warning,
                message: format!("{id}: no answer for {}", human(age)),
                value: age.num_minutes() as f64,
                subject: id.name().to_string(),
            }),
            _ => {}
        }
    }
    out
}

fn human(d: TimeDelta) -> String {
    let m = d.num_minutes();
    if m < 1 {
        format!("{}s", d.num_seconds().max(0))
    } else if m < 120 {
        format!("{m}m")
    } else {
        format!("{}h", m / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::state::{update, AlarmsMsg};
    use crate::config::alarms::{AlarmsConfig, AlertmanagerSource};
    use crate::providers::health::{Health, HealthEvent};
    use crate::providers::ProviderId;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn a_source_down_past_the_grace_is_raised_with_its_data_age() {
        let cfg = AlarmsConfig {
            alertmanager: vec![AlertmanagerSource {
                name: "main".into(),
                urls: vec!["http://127.0.0.1:9093".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let id = ProviderId::named("alertmanager", "main");
        let mut s = AlarmsState::new(&cfg, t(0));
        let mut h = Health::new(std::time::Duration::from_secs(15));
        h.observe(HealthEvent::Ok { at: t(0) });
        h.observe(HealthEvent::Failed {
            at: t(30),
            reason: "connection refused".into(),
        });
        update(&mut s, AlarmsMsg::Health(id.clone(), h), t(30));
        let table = [
            (t(60), vec![]),
            (
                t(200),
                vec!["alarms.source_down:alertmanager:main|alertmanager:main down for 2m: connection refused (its alarms are 3m old)"],
            ),
        ];
        for (now, want) in table {
            let got: Vec<String> = findings(&s, now)
                .into_iter()
                .map(|f| format!("{}|{}", f.key, f.message))
                .collect();
            assert_eq!(got, want);
        }
    }
}
