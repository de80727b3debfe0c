//! `toban alarms [--state ALARM] [--source …] [--json]`: every source polled once through
//! the same pollers and the same state as the screen, toban's local alarms from the store,
//! acknowledgements applied. Exit code by the worst alarm nobody acknowledged or silenced:
//! 0 OK, 1 warning (INSUFFICIENT_DATA, warning-level alerts), 2 critical (ALARM), 3 a source
//! could not be read.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;

use crate::config::Config;
use crate::health::Severity;
use crate::providers::health::{Health, HealthEvent};
use crate::providers::ProviderId;
use crate::store::Store;

use super::model::{Alarm, Snapshot};
use super::state::{update, AlarmsMsg, AlarmsState};
use super::{alertmanager, cloudwatch};

/// One source's answer for a one-shot poll.
type Polled = (ProviderId, Duration, Result<Snapshot, String>);

/// Polls every configured source once, at the same time.
pub async fn poll_all(cfg: &Config) -> Vec<Polled> {
    let mut jobs: Vec<futures::future::BoxFuture<'static, Polled>> = Vec::new();
    for c in &cfg.alarms.cloudwatch {
        for region in cloudwatch::connect(c).await {
            let timeout = c.timeout;
            let interval = c.interval;
            jobs.push(Box::pin(async move {
                let id = region.origin.id.clone();
                let mut p = cloudwatch::Poller::new(region);
                let r = match tokio::time::timeout(timeout, p.fetch()).await {
                    Ok(r) => r.map_err(|e| format!("{e:#}")),
                    Err(_) => Err(format!(
                        "no answer within {}",
                        humantime::format_duration(timeout)
                    )),
                };
                (id, interval, r)
            }));
        }
    }
    for a in &cfg.alarms.alertmanager {
        let a = a.clone();
        jobs.push(Box::pin(async move {
            let id = alertmanager::provider_id(&a);
            let r = match alertmanager::Cluster::new(&a) {
                Ok(c) => match tokio::time::timeout(a.timeout, c.fetch()).await {
                    Ok(r) => r.map_err(|e| format!("{e:#}")),
                    Err(_) => Err(format!(
                        "no answer within {}",
                        humantime::format_duration(a.timeout)
                    )),
                },
                Err(e) => Err(format!("{e:#}")),
            };
            (id, a.interval, r)
        }));
    }
    futures::future::join_all(jobs).await
}

/// The state after one poll of everything, with local alarms and acknowledgements from the
/// store when there is one.
pub async fn collect(cfg: &Config, store: Option<&Store>) -> AlarmsState {
    let now = Utc::now();
    let mut state = AlarmsState::new(&cfg.alarms, now);
    if let Some(store) = store {
        match store.open_alarm_acks(now).await {
            Ok(acks) => {
                update(&mut state, AlarmsMsg::AcksLoaded(Ok(acks)), now);
            }
            Err(e) => eprintln!("toban: acknowledgements unavailable: {e:#}"),
        }
        match store.active_alarms().await {
            Ok(active) => {
                let rows: Vec<Alarm> = active
                    .iter()
                    .map(|t| Alarm::local(&t.key, t.to, t.at, &t.message))
                    .collect();
                update(&mut state, AlarmsMsg::Local(rows), now);
            }
            Err(e) => eprintln!("toban: local alarms unavailable: {e:#}"),
        }
    }
    for (id, interval, r) in poll_all(cfg).await {
        let mut h = Health::new(interval);
        let at = Utc::now();
        match r {
            Ok(snap) => {
                h.observe(HealthEvent::Ok { at });
                update(&mut state, AlarmsMsg::Snapshot(id.clone(), snap), at);
            }
            Err(reason) => h.observe(HealthEvent::Failed { at, reason }),
        }
        update(&mut state, AlarmsMsg::Health(id, h), at);
    }
    state
}

#[derive(Debug, Serialize)]
struct JsonSource {
    id: String,
    ok: bool,
    error: Option<String>,
    degraded: Option<String>,
    alarms: usize,
}

#[derive(Debug, Serialize)]
struct JsonAlarm<'a> {
    #[serde(flatten)]
    alarm: &'a Alarm,
    acknowledged: bool,
    silenced: bool,
}

#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    status: Severity,
    exit_code: i32,
    sources: Vec<JsonSource>,
    alarms: Vec<JsonAlarm<'a>>,
}

/// The worst level among the shown alarms nobody handled, and unknown for a source down.
pub fn exit_level(state: &AlarmsState) -> Severity {
    let mut w = Severity::Ok;
    for &i in &state.visible {
        let (a, m) = (&state.rows[i], state.marks[i]);
        if !m.handled {
            w = w.worst(a.level);
        }
    }
    for e in state.sources.values() {
        if e.health.as_ref().is_some_and(|h| h.down.is_some()) {
            w = w.worst(Severity::Unknown);
        }
    }
    w
}

/// Prints the report; returns the exit code.
pub fn write(state: &AlarmsState, json: bool, out: &mut dyn Write) -> std::io::Result<i32> {
    let level = exit_level(state);
    let sources: Vec<JsonSource> = state
        .sources
        .iter()
        .map(|(id, e)| JsonSource {
            id: id.to_string(),
            ok: e.health.as_ref().is_none_or(|h| h.down.is_none()),
            error: e
                .health
                .as_ref()
                .and_then(|h| h.down.as_ref().map(|d| d.1.clone())),
            degraded: e.degraded.clone(),
            alarms: e.alarms.len(),
        })
        .collect();
    if json {
        let alarms = state
            .visible
            .iter()
            .map(|&i| JsonAlarm {
                alarm: &state.rows[i],
                acknowledged: state.marks[i].handled,
                silenced: state.marks[i].silenced,
            })
            .collect();
        let report = JsonReport {
            status: level,
            exit_code: level.exit_code(),
            sources,
            alarms,
        };
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(level.exit_code());
    }
    let counted = state
        .visible
        .iter()
        .filter(|&&i| {
            !state.marks[i].handled && state.rows[i].state != super::model::AlarmState::Ok
        })
        .count();
    writeln!(
        out,
        "ALARMS {} - {} shown, {counted} not acknowledged",
        level.label(),
        state.visible.len()
    )?;
    for s in &sources {
        if let Some(e) = &s.error {
            writeln!(out, "SOURCE   {:<28} DOWN: {e}", s.id)?;
        } else if let Some(d) = &s.degraded {
            writeln!(out, "SOURCE   {:<28} degraded: {d}", s.id)?;
        }
    }
    for &i in &state.visible {
        let a = &state.rows[i];
        let m = state.marks[i];
        let mark = if m.silenced {
            "silenced"
        } else if m.handled {
            "acked"
        } else {
            ""
        };
        writeln!(
            out,
            "{:<17} {} {:<8} {:<28} {:<40} {}",
            a.state.label(),
            a.priority.as_str(),
            mark,
            a.source.name(),
            a.name,
            a.reason
        )?;
    }
    Ok(level.exit_code())
}

/// `toban alarms`: opens the store (without it, no local alarms or acknowledgements), polls,
/// filters, prints.
pub fn main(
    cfg: &Config,
    data_dir: &Path,
    state_filter: Option<&str>,
    source_filter: Option<&str>,
    json: bool,
) -> i32 {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("toban: cannot start the runtime: {e}");
            return 3;
        }
    };
    rt.block_on(async {
        let store = match Store::open(cfg.database_url.as_deref(), data_dir).await {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("toban: no local alarms or acknowledgements: {e:#}");
                None
            }
        };
        let mut state = collect(cfg, store.as_ref()).await;
        let mut filter = String::new();
        if let Some(s) = state_filter {
            filter.push_str(&format!("state:{s} "));
        }
        if let Some(s) = source_filter {
            filter.push_str(&format!("source:{s}"));
        }
        state.set_filter(filter.trim());
        if let Some(p) = state.filter.problems.first() {
            eprintln!("toban: `{p}` is not a state (ALARM, INSUFFICIENT_DATA, OK)");
            return 3;
        }
        let mut out = std::io::stdout().lock();
        let code = write(&state, json, &mut out).unwrap_or(3);
        if let Some(s) = store {
            s.close().await;
        }
        code
    })
}

/// One line of `toban status` (kept free of `crate::cli` types so the two modules do not
/// import each other).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusLine {
    pub key: String,
    pub severity: Severity,
    pub message: String,
}

/// Remote alarms for `toban status`: one line per source (down, or how many fire) and one
/// per alarm firing unacknowledged. Nothing when no remote source is configured (local
/// alarms are already the host and backup checks).
pub fn status_lines(cfg: &Config, data_dir: &Path) -> Vec<StatusLine> {
    if cfg.alarms.cloudwatch.is_empty() && cfg.alarms.alertmanager.is_empty() {
        return Vec::new();
    }
    let Ok(rt) = tokio::runtime::Runtime::new() else {
        return Vec::new();
    };
    rt.block_on(async {
        let store = Store::open(cfg.database_url.as_deref(), data_dir)
            .await
            .ok();
        // Local alarms are skipped below: status's own checks report them.
        let state = collect(cfg, store.as_ref()).await;
        let mut out = Vec::new();
        for (id, e) in &state.sources {
            if *id == super::model::LOCAL {
                continue;
            }
            match e.health.as_ref().and_then(|h| h.down.as_ref()) {
                Some((_, reason)) => out.push(StatusLine {
                    key: format!("alarms.source:{id}"),
                    severity: Severity::Unknown,
                    message: format!("{id}: {reason}"),
                }),
                None => out.push(StatusLine {
                    key: format!("alarms.source:{id}"),
                    severity: Severity::Ok,
                    message: format!("{id}: {} alarms read", e.alarms.len()),
                }),
            }
        }
        for (a, m) in state.rows.iter().zip(&state.marks) {
            if a.source == super::model::LOCAL
                || m.handled
                || a.state == super::model::AlarmState::Ok
            {
                continue;
            }
            out.push(StatusLine {
                key: format!("alarm:{}", a.key),
                severity: a.level,
                message: format!(
                    "{} {} {}: {}",
                    a.priority.as_str(),
                    a.state.label(),
                    a.name,
                    a.reason
                ),
            });
        }
        if let Some(s) = store {
            s.close().await;
        }
        out
    })
}
