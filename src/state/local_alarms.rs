//! toban's own alarms from local checks. Sampled values (CPU, memory, disks) are raised only
//! after `raise_after` consecutive breaching samples and lowered only after `clear_after`
//! samples below the threshold minus the hysteresis, so a spike does not flap. Conditions
//! that are simply true or false (a backup older than the RPO) come in as findings.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::alarm_types::AlarmTransition;
use crate::config::{HostConfig, Threshold};
use crate::health::Severity;
use crate::providers::host_types::HostSample;

const RECENT: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub warn: f64,
    pub crit: f64,
    pub raise_after: u32,
    pub clear_after: u32,
    pub hysteresis: f64,
}

impl Rule {
    pub fn from_threshold(t: Threshold, host: &HostConfig) -> Rule {
        Rule {
            warn: t.warn,
            crit: t.crit,
            raise_after: host.raise_after.max(1),
            clear_after: host.clear_after.max(1),
            hysteresis: host.hysteresis.max(0.0),
        }
    }
}

/// Per-alarm counters of consecutive samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tracker {
    pub level: Severity,
    over_warn: u32,
    over_crit: u32,
    calm: u32,
}

impl Tracker {
    /// Feeds one sample; returns the new level when it changed.
    pub fn observe(&mut self, value: f64, rule: &Rule) -> Option<(Severity, Severity)> {
        self.over_warn = if value >= rule.warn {
            self.over_warn + 1
        } else {
            0
        };
        self.over_crit = if value >= rule.crit {
            self.over_crit + 1
        } else {
            0
        };
        let raised = if self.over_crit >= rule.raise_after {
            Severity::Critical
        } else if self.over_warn >= rule.raise_after {
            Severity::Warning
        } else {
            Severity::Ok
        };
        let from = self.level;
        if raised > self.level {
            self.level = raised;
            self.calm = 0;
            return Some((from, raised));
        }
        if self.level == Severity::Ok {
            return None;
        }
        let bar = match self.level {
            Severity::Critical => rule.crit,
            _ => rule.warn,
        } - rule.hysteresis;
        if value < bar {
            self.calm += 1;
        } else {
            self.calm = 0;
        }
        if self.calm >= rule.clear_after {
            self.calm = 0;
            let to = if self.level == Severity::Critical && value >= rule.warn - rule.hysteresis {
                Severity::Warning
            } else {
                Severity::Ok
            };
            self.level = to;
            return Some((from, to));
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActiveAlarm {
    pub key: String,
    pub severity: Severity,
    pub since: DateTime<Utc>,
    pub value: f64,
    pub message: String,
}

pub use crate::alarm_types::Finding;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalAlarms {
    trackers: HashMap<String, Tracker>,
    pub active: BTreeMap<String, ActiveAlarm>,
    /// Newest last.
    pub recent: VecDeque<AlarmTransition>,
}

impl LocalAlarms {
    pub fn count(&self, sev: Severity) -> usize {
        self.active.values().filter(|a| a.severity == sev).count()
    }

    pub fn worst(&self) -> Severity {
        self.active
            .values()
            .map(|a| a.severity)
            .fold(Severity::Ok, Severity::worst)
    }

    /// Alarms sorted worst first, then oldest first.
    pub fn sorted(&self) -> Vec<&ActiveAlarm> {
        let mut v: Vec<&ActiveAlarm> = self.active.values().collect();
        v.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.since.cmp(&b.since)));
        v
    }

    /// Restores alarms active before a restart (from the store), without new transitions.
    pub fn restore(&mut self, transitions: &[AlarmTransition]) {
        for t in transitions {
            if t.to == Severity::Ok {
                continue;
            }
            self.trackers.entry(t.key.clone()).or_default().level = t.to;
            self.active.insert(
                t.key.clone(),
                ActiveAlarm {
                    key: t.key.clone(),
                    severity: t.to,
                    since: t.at,
                    value: t.value,
                    message: t.message.clone(),
                },
            );
        }
    }

    pub fn observe_host(&mut self, s: &HostSample, cfg: &HostConfig) -> Vec<AlarmTransition> {
        let mut out = Vec::new();
        self.observe_value("host.cpu", "CPU", s.cpu_pct, cfg.cpu, cfg, s.at, &mut out);
        self.observe_value(
            "host.memory",
            "Memory",
            s.mem_pct(),
            cfg.memory,
            cfg,
            s.at,
            &mut out,
        );
        for d in &s.disks {
            let t = cfg.disk_threshold(std::path::Path::new(&d.mount));
            let key = format!("host.disk:{}", d.mount);
            let label = format!("Disk {}", d.mount);
            self.observe_value(&key, &label, d.pct(), t, cfg, s.at, &mut out);
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn observe_value(
        &mut self,
        key: &str,
        label: &str,
        value: f64,
        t: Threshold,
        cfg: &HostConfig,
        at: DateTime<Utc>,
        out: &mut Vec<AlarmTransition>,
    ) {
        if !t.enabled {
            if let Some(a) = self.active.remove(key) {
                self.trackers.remove(key);
                out.push(self.push(AlarmTransition {
                    at,
                    key: key.into(),
                    from: a.severity,
                    to: Severity::Ok,
                    value,
                    message: format!("{label}: check disabled"),
                }));
            }
            return;
        }
        let rule = Rule::from_threshold(t, cfg);
        let tracker = self.trackers.entry(key.to_string()).or_default();
        let Some((from, to)) = tracker.observe(value, &rule) else {
            if let Some(a) = self.active.get_mut(key) {
                a.value = value;
            }
            return;
        };
        let message = match to {
            Severity::Critical => format!(
                "{label} {value:.0}% ≥ critical {:.0}% for {} samples",
                rule.crit, rule.raise_after
            ),
            Severity::Warning if from < to => format!(
                "{label} {value:.0}% ≥ warning {:.0}% for {} samples",
                rule.warn, rule.raise_after
            ),
            Severity::Warning => format!(
                "{label} down to {value:.0}% (below critical {:.0}% − {:.0})",
                rule.crit, rule.hysteresis
            ),
            _ => format!(
                "{label} back to {value:.0}% (below warning {:.0}% − {:.0})",
                rule.warn, rule.hysteresis
            ),
        };
        let tr = AlarmTransition {
            at,
            key: key.into(),
            from,
            to,
            value,
            message,
        };
        out.push(self.push(tr));
    }

    /// Replaces the findings of one source (all keys starting with `prefix`): new ones are
    /// raised, changed ones re-levelled, vanished ones cleared.
    pub fn set_findings(
        &mut self,
        prefix: &str,
        findings: &[Finding],
        at: DateTime<Utc>,
    ) -> Vec<AlarmTransition> {
        let mut out = Vec::new();
        let gone: Vec<String> = self
            .active
            .keys()
            .filter(|k| k.starts_with(prefix) && !findings.iter().any(|f| &f.key == *k))
            .cloned()
            .collect();
        for key in gone {
            let a = self.active.get(&key).cloned().expect("listed");
            out.push(self.push(AlarmTransition {
                at,
                key,
                from: a.severity,
                to: Severity::Ok,
                value: a.value,
                message: format!("resolved: {}", a.message),
            }));
        }
        for f in findings {
            let from = self
                .active
                .get(&f.key)
                .map(|a| a.severity)
                .unwrap_or_default();
            if from == f.severity {
                if let Some(a) = self.active.get_mut(&f.key) {
                    a.value = f.value;
                    a.message = f.message.clone();
                }
                continue;
            }
            out.push(self.push(AlarmTransition {
                at,
                key: f.key.clone(),
                from,
                to: f.severity,
                value: f.value,
                message: f.message.clone(),
            }));
        }
        out
    }

    fn push(&mut self, t: AlarmTransition) -> AlarmTransition {
        if t.to == Severity::Ok {
            self.active.remove(&t.key);
        } else {
            let since = match self.active.get(&t.key) {
                Some(a) => a.since,
                None => t.at,
            };
            self.active.insert(
                t.key.clone(),
                ActiveAlarm {
                    key: t.key.clone(),
                    severity: t.to,
                    since,
                    value: t.value,
                    message: t.message.clone(),
                },
            );
        }
        self.recent.push_back(t.clone());
        while self.recent.len() > RECENT {
            self.recent.pop_front();
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule {
            warn: 80.0,
            crit: 95.0,
            raise_after: 3,
            clear_after: 3,
            hysteresis: 5.0,
        }
    }

    fn feed(t: &mut Tracker, values: &[f64]) -> Vec<Option<(Severity, Severity)>> {
        values.iter().map(|v| t.observe(*v, &rule())).collect()
    }

    #[test]
    fn raised_only_on_the_third_consecutive_breach() {
        let mut t = Tracker::default();
        let r = feed(&mut t, &[85.0, 86.0]);
        assert_eq!(r, vec![None, None]);
        assert_eq!(
            t.observe(87.0, &rule()),
            Some((Severity::Ok, Severity::Warning))
        );
    }

    #[test]
    fn a_spike_does_not_raise() {
        let mut t = Tracker::default();
        feed(&mut t, &[99.0, 99.0, 10.0, 99.0, 99.0, 10.0]);
        assert_eq!(t.level, Severity::Ok);
    }

    #[test]
    fn critical_after_three_critical_samples() {
        let mut t = Tracker::default();
        let r = feed(&mut t, &[96.0, 97.0, 98.0]);
        assert_eq!(r[2], Some((Severity::Ok, Severity::Critical)));
    }

    #[test]
    fn hysteresis_holds_the_alarm_just_under_the_threshold() {
        let mut t = Tracker::default();
        feed(&mut t, &[85.0, 85.0, 85.0]);
        // 78 is below warn (80) but not below warn − hysteresis (75): stays raised.
        let r = feed(&mut t, &[78.0, 78.0, 78.0, 78.0]);
        assert!(r.iter().all(Option::is_none));
        assert_eq!(t.level, Severity::Warning);
    }

    #[test]
    fn clears_after_three_calm_samples() {
        let mut t = Tracker::default();
        feed(&mut t, &[85.0, 85.0, 85.0]);
        let r = feed(&mut t, &[50.0, 50.0, 50.0]);
        assert_eq!(r, vec![None, None, Some((Severity::Warning, Severity::Ok))]);
    }

    #[test]
    fn a_calm_streak_broken_by_a_breach_starts_over() {
        let mut t = Tracker::default();
        feed(&mut t, &[85.0, 85.0, 85.0]);
        feed(&mut t, &[50.0, 50.0, 90.0, 50.0, 50.0]);
        assert_eq!(t.level, Severity::Warning);
        assert_eq!(
            t.observe(50.0, &rule()),
            Some((Severity::Warning, Severity::Ok))
        );
    }

    #[test]
    fn critical_steps_down_to_warning_then_ok() {
        let mut t = Tracker::default();
        feed(&mut t, &[96.0, 96.0, 96.0]);
        let r = feed(&mut t, &[85.0, 85.0, 85.0]);
        assert_eq!(r[2], Some((Severity::Critical, Severity::Warning)));
        let r = feed(&mut t, &[40.0, 40.0, 40.0]);
        assert_eq!(r[2], Some((Severity::Warning, Severity::Ok)));
    }

    #[test]
    fn findings_raise_update_and_clear() {
        let mut a = LocalAlarms::default();
        let now = Utc::now();
        let f = Finding {
            key: "backup.rpo:mail".into(),
            severity: Severity::Critical,
            value: 30.0,
            message: "newest good backup 30h old".into(),
            subject: "mail".into(),
        };
        let t = a.set_findings("backup.", std::slice::from_ref(&f), now);
        assert_eq!(t.len(), 1);
        assert_eq!(a.count(Severity::Critical), 1);
        assert!(a
            .set_findings("backup.", std::slice::from_ref(&f), now)
            .is_empty());
        let t = a.set_findings("backup.", &[], now);
        assert_eq!(t[0].to, Severity::Ok);
        assert!(a.active.is_empty());
    }
}
