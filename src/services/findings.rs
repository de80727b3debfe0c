//! The local alarms the services raise, under the `services.` prefix:
//! - `services.unhealthy:<engine>/<name>` critical: the health check fails
//! - `services.exited:<engine>/<name>` critical: exited with a failure code, not stopped
//! - `services.restart_loop:<engine>/<name>` critical: n deaths within m minutes
//! - `services.check:<name>` critical: failing `threshold` times in a row
//! - `services.cert:<name>` warning within `warn_days`, critical within `critical_days`
//! - `services.budget:<name>` warning: the month's error budget is spent

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::availability;
use super::model::ContainerHealth;
use super::state::ServicesState;
use crate::alarm_types::Finding;
use crate::health::Severity;

pub fn findings(s: &ServicesState, now: DateTime<Utc>, zone: Tz) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &s.containers {
        let subject = format!("{}/{}", c.engine, c.name);
        if c.health == ContainerHealth::Unhealthy {
            let last = c
                .health_log
                .last()
                .map(|p| format!(": {}", first_line(&p.output)))
                .unwrap_or_default();
            out.push(Finding {
                key: format!("services.unhealthy:{subject}"),
                severity: Severity::Critical,
                message: format!("container {} unhealthy{last}", c.name),
                value: c.health_log.iter().filter(|p| p.exit_code != 0).count() as f64,
                subject: subject.clone(),
            });
        }
        if s.exited_unexpectedly(c) {
            let code = c.exit_code.unwrap_or(-1);
            let since = c
                .finished_at
                .map(|t| format!(" at {}", t.with_timezone(&zone).format("%H:%M")))
                .unwrap_or_default();
            let oom = if c.oom_killed { " (out of memory)" } else { "" };
            out.push(Finding {
                key: format!("services.exited:{subject}"),
                severity: Severity::Critical,
                message: format!("container {} exited with code {code}{oom}{since}", c.name),
                value: code as f64,
                subject: subject.clone(),
            });
        }
        let deaths = s.recent_deaths(&c.id, now);
        if deaths >= s.restart_loop.restarts as usize {
            out.push(Finding {
                key: format!("services.restart_loop:{subject}"),
                severity: Severity::Critical,
                message: format!(
                    "container {} restarting in a loop: {deaths} exits within {}",
                    c.name,
                    humantime::format_duration(s.restart_loop.within)
                ),
                value: deaths as f64,
                subject,
            });
        }
    }
    for c in &s.checks {
        if c.failing() {
            let last = c
                .last
                .as_ref()
                .and_then(|o| o.error.clone())
                .unwrap_or_default();
            let since = c
                .outages
                .last()
                .filter(|o| o.end.is_none())
                .map(|o| {
                    let at = o.start.with_timezone(&zone);
                    format!(", failing since {}", at.format("%H:%M:%S"))
                })
                .unwrap_or_default();
            out.push(Finding {
                key: format!("services.check:{}", c.name),
                severity: Severity::Critical,
                message: format!(
                    "check {} failed{}: {last}{since}",
                    c.name,
                    match c.failures {
                        1 => String::new(),
                        n => format!(" {n} times in a row"),
                    }
                ),
                value: c.failures as f64,
                subject: c.name.clone(),
            });
        }
        let slo = s.slo_of(&c.name);
        let a = availability::this_month(&c.outages, now, zone, slo);
        let message = if a.budget_left < chrono::Duration::zero() {
            Some(format!(
                "{} spent this month's error budget: {:.3} % available, objective {slo} %",
                c.name, a.percent
            ))
        } else if a.projected > a.budget {
            Some(format!(
                "{} burns its error budget faster than it lasts: {} down so far, {} left this month",
                c.name,
                crate::ui::widgets::format::age(a.down),
                crate::ui::widgets::format::age(a.budget_left)
            ))
        } else {
            None
        };
        if let Some(message) = message {
            out.push(Finding {
                key: format!("services.budget:{}", c.name),
                severity: Severity::Warning,
                message,
                value: a.percent,
                subject: c.name.clone(),
            });
        }
    }
    for c in &s.certs {
        let (severity, message) = match c.days_left(now) {
            Some(d) if d <= c.critical_days => (
                Severity::Critical,
                format!("certificate {} expires in {d} days ({})", c.name, c.source),
            ),
            Some(d) if d <= c.warn_days => (
                Severity::Warning,
                format!("certificate {} expires in {d} days ({})", c.name, c.source),
            ),
            Some(_) => continue,
            None => (
                Severity::Warning,
                format!(
                    "certificate {} unreadable: {}",
                    c.name,
                    c.error.clone().unwrap_or_default()
                ),
            ),
        };
        out.push(Finding {
            key: format!("services.cert:{}", c.name),
            severity,
            message,
            value: c.days_left(now).unwrap_or(-1) as f64,
            subject: c.name.clone(),
        });
    }
    out
}

fn first_line(s: &str) -> String {
    let l = s.lines().next().unwrap_or("").trim();
    crate::ui::widgets::format::fit(l, 80)
}
