//! The services drawn: the Overview card, the tab's list, a container's detail and the
//! confirmation over them. Pure functions of the state; every remote string was made inert
//! when it arrived.

pub mod card;
pub mod detail;
pub mod list;

use chrono::{DateTime, Utc};
use ratatui::text::Span;

use super::availability;
use super::model::{CertInfo, Container, ContainerHealth, ContainerState};
use super::state::{CheckState, ServicesState};
use crate::config::theme::Theme;
use crate::health::Severity;
use crate::ui::widgets::format;

pub use list::render;

/// How bad a container looks.
pub fn container_severity(s: &ServicesState, c: &Container, now: DateTime<Utc>) -> Severity {
    if c.health == ContainerHealth::Unhealthy
        || s.exited_unexpectedly(c)
        || s.recent_deaths(&c.id, now) >= s.restart_loop.restarts as usize
    {
        Severity::Critical
    } else if matches!(c.state, ContainerState::Restarting | ContainerState::Dead)
        || c.health == ContainerHealth::Starting
    {
        Severity::Warning
    } else if c.state == ContainerState::Running {
        Severity::Ok
    } else {
        Severity::Unknown
    }
}

pub fn check_severity(c: &CheckState) -> Severity {
    match &c.last {
        None => Severity::Unknown,
        Some(_) if c.failing() => Severity::Critical,
        Some(o) if !o.ok => Severity::Warning,
        Some(_) => Severity::Ok,
    }
}

pub fn cert_severity(c: &CertInfo, now: DateTime<Utc>) -> Severity {
    match c.days_left(now) {
        None => Severity::Warning,
        Some(d) if d <= c.critical_days => Severity::Critical,
        Some(d) if d <= c.warn_days => Severity::Warning,
        Some(_) => Severity::Ok,
    }
}

pub fn dot(sev: Severity, theme: &Theme) -> Span<'static> {
    let (t, st) = match sev {
        Severity::Ok => ("●", "status.ok"),
        Severity::Warning => ("▲", "status.warn"),
        Severity::Critical => ("✖", "status.crit"),
        Severity::Unknown => ("○", "status.unknown"),
    };
    Span::styled(t, theme.style(st))
}

/// "running (healthy)", "exited 137".
pub fn state_text(c: &Container) -> String {
    let mut s = c.state.as_str().to_string();
    if c.health != ContainerHealth::None {
        s.push_str(&format!(" ({})", c.health_word()));
    }
    if matches!(c.state, ContainerState::Exited | ContainerState::Dead) {
        if let Some(code) = c.exit_code {
            s.push_str(&format!(" {code}"));
        }
    }
    s
}

pub fn uptime_text(c: &Container, now: DateTime<Utc>) -> String {
    c.uptime(now).map(format::age).unwrap_or_else(|| "-".into())
}

/// "12%" / "34M".
pub fn usage_text(s: &ServicesState, c: &Container) -> (String, String) {
    match s.usage.get(&c.id) {
        Some(u) => (
            u.cpu_pct
                .map(|p| format!("{p:.1}%"))
                .unwrap_or_else(|| "…".into()),
            format::bytes(u.mem_used),
        ),
        None if c.state == ContainerState::Running => ("…".into(), "…".into()),
        None => ("-".into(), "-".into()),
    }
}

/// "200 12ms" / "503" / "timeout".
pub fn check_text(c: &CheckState) -> String {
    match &c.last {
        None => "waiting".into(),
        Some(o) => match (o.status, &o.error) {
            (Some(st), None) => format!("{st} {}ms", o.latency_ms),
            (Some(st), Some(_)) => format!("{st} {}ms", o.latency_ms),
            (None, Some(e)) => e.clone(),
            (None, None) => "?".into(),
        },
    }
}

/// "99.952% · budget 41m left".
pub fn availability_text(
    s: &ServicesState,
    c: &CheckState,
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
) -> String {
    let slo = s.slo_of(&c.name);
    let a = availability::this_month(&c.outages, now, zone, slo);
    let left = a.budget_left;
    let budget = if left < chrono::Duration::zero() {
        format!("budget over by {}", format::age(-left))
    } else {
        format!("budget {} left", format::age(left))
    };
    format!("{:.3}% · {budget}", a.percent)
}

/// A sparkline of latencies as block characters.
pub fn spark(values: &[u64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let v = &values[values.len().saturating_sub(width)..];
    let max = v.iter().copied().max().unwrap_or(0).max(1);
    v.iter()
        .map(|x| BARS[((*x * 7) / max).min(7) as usize])
        .collect()
}

pub fn cert_text(c: &CertInfo, now: DateTime<Utc>) -> String {
    match (c.days_left(now), &c.error) {
        (Some(d), _) if d < 0 => format!("expired {} days ago", -d),
        (Some(d), _) => format!("{d} days left"),
        (None, Some(e)) => e.clone(),
        (None, None) => "?".into(),
    }
}
