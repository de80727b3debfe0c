//! Checks on `config.toml` values that serde's types cannot express.

use std::time::Duration;

use super::{Config, Threshold};

/// One bad value: its dotted field path and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl Config {
    /// Every semantic problem in the values (not just the first).
    pub fn validate(&self) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        let mut bad = |field: String, message: String| out.push(FieldProblem { field, message });
        for (field, message) in self.backups.validate() {
            bad(field, message);
        }
        for (field, message) in self.calendar.validate() {
            bad(field, message);
        }
        for (field, message) in self.alarms.validate() {
            bad(field, message);
        }
        for (field, message) in self.services.validate() {
            bad(field, message);
        }
        for (field, message) in self.logs.validate() {
            bad(field, message);
        }
        let h = &self.host;
        if h.interval < Duration::from_millis(100) {
            bad(
                "host.interval".into(),
                format!(
                    "must be at least 100ms (is {})",
                    humantime::format_duration(h.interval)
                ),
            );
        }
        if h.history < h.interval {
            bad(
                "host.history".into(),
                "must be at least one sample interval long".into(),
            );
        }
        if !(h.hysteresis >= 0.0 && h.hysteresis.is_finite()) {
            bad(
                "host.hysteresis".into(),
                format!("must be 0 or more percentage points (is {})", h.hysteresis),
            );
        }
        if h.raise_after < 1 {
            bad(
                "host.raise_after".into(),
                "must be at least 1 sample".into(),
            );
        }
        if h.clear_after < 1 {
            bad(
                "host.clear_after".into(),
                "must be at least 1 sample".into(),
            );
        }
        for (name, t) in [("cpu", &h.cpu), ("memory", &h.memory), ("disk", &h.disk)] {
            check_threshold(&format!("host.{name}"), t.warn, t.crit, &mut bad);
        }
        for (i, m) in h.mounts.iter().enumerate() {
            let t: Threshold = h.disk_threshold(&m.path);
            let at = format!("host.mount[{i}]");
            // Only judge what this override sets; the inherited `disk` values are judged above.
            if m.warn.is_some() || m.crit.is_some() {
                check_threshold(&at, t.warn, t.crit, &mut bad);
            }
            if let Some(j) = h.mounts[..i].iter().position(|o| o.path == m.path) {
                bad(
                    format!("{at}.path"),
                    format!(
                        "`{}` is already overridden by host.mount[{j}]",
                        m.path.display()
                    ),
                );
            }
        }
        out
    }
}

fn check_threshold(at: &str, warn: f64, crit: f64, bad: &mut impl FnMut(String, String)) {
    let in_range = |v: f64| (0.0..=100.0).contains(&v);
    if !in_range(warn) {
        bad(
            format!("{at}.warn"),
            format!("must be a percentage 0-100 (is {warn})"),
        );
    }
    if !in_range(crit) {
        bad(
            format!("{at}.crit"),
            format!("must be a percentage 0-100 (is {crit})"),
        );
    }
    if in_range(warn) && in_range(crit) && warn > crit {
        bad(
            format!("{at}.crit"),
            format!("critical level {crit} is below the warning level {warn}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Config::default().validate(), vec![]);
    }

    #[test]
    fn every_problem_is_reported() {
        let mut c = Config::default();
        c.host.interval = Duration::from_millis(10);
        c.host.cpu.warn = 120.0;
        c.host.memory = Threshold::new(90.0, 50.0);
        c.host.raise_after = 0;
        c.host.hysteresis = -1.0;
        let fields: Vec<String> = c.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "host.interval",
                "host.hysteresis",
                "host.raise_after",
                "host.cpu.warn",
                "host.memory.crit"
            ]
        );
    }
}
