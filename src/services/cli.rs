//! `toban services [--json]` and the services' part of `toban status`: every engine listed
//! once, every check probed once, every certificate read once. A check failing this once
//! counts (a monitor calling toban does its own retrying). Exit codes as `toban status`:
//! 0 OK, 1 warning, 2 critical, 3 unknown (an engine that does not answer).

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::containers::{past_deaths, snapshot, ContainerUpdate};
use super::findings::findings;
use super::state::{ServicesMsg, ServicesState};
use crate::alarm_types::Finding;
use crate::config::Config;
use crate::health::Severity;
use crate::providers::docker::Engine;

/// Everything looked at once, and the engines that did not answer.
pub async fn collect(cfg: &Config) -> (ServicesState, Vec<(String, String)>) {
    let sc = &cfg.services;
    let engines = super::engines(sc);
    let mut state = ServicesState::new(sc, engines.iter().map(|(n, _)| n.clone()).collect());
    for c in &mut state.checks {
        c.threshold = 1;
    }
    let mut down = Vec::new();
    for (name, host) in engines {
        let connected = match host {
            Ok(Some(e)) => Engine::connect_to(&e).await,
            Err(why) => {
                down.push((name, why));
                continue;
            }
            Ok(None) => Engine::connect().await,
        };
        let got = match connected {
            Ok(e) => match snapshot(&e, &name).await {
                Ok(c) => {
                    // A restart loop shows in a one-shot look too: the engine remembers.
                    let now = Utc::now();
                    let window = chrono::Duration::from_std(sc.restart_loop.within)
                        .unwrap_or(chrono::Duration::minutes(10));
                    let deaths = past_deaths(&e, now - window, now).await;
                    Ok((e.describe(), c, deaths))
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match got {
            Ok((describe, containers, deaths)) => state.apply(ServicesMsg::Containers(vec![
                ContainerUpdate::Snapshot {
                    engine: name.clone(),
                    describe,
                    containers,
                },
                ContainerUpdate::PastDeaths {
                    engine: name,
                    deaths,
                },
            ])),
            Err(e) => down.push((name, e.to_string())),
        }
    }
    let probes = sc
        .checks
        .iter()
        .filter_map(|c| super::checks::CheckPoller::new(c.clone()).ok());
    let probes: Vec<_> = probes.collect();
    for o in futures::future::join_all(probes.iter().map(|p| p.probe())).await {
        state.apply(ServicesMsg::Check(o));
    }
    let certs = futures::future::join_all(sc.certificates.iter().map(super::certs::check)).await;
    state.apply(ServicesMsg::Certs(certs));
    (state, down)
}

/// The findings, plus an unknown one per engine that did not answer.
pub fn all_findings(
    state: &ServicesState,
    down: &[(String, String)],
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
) -> Vec<Finding> {
    let mut out = findings(state, now, zone);
    for (name, why) in down {
        out.push(Finding {
            key: format!("services.engine:{name}"),
            severity: Severity::Unknown,
            message: format!("container engine {name} not reachable: {why}"),
            value: 0.0,
            subject: name.clone(),
        });
    }
    out
}

/// For `toban status`: nothing when no engine, check or certificate is configured.
pub fn status_findings(cfg: &Config) -> Vec<Finding> {
    if super::engines(&cfg.services).is_empty()
        && cfg.services.checks.is_empty()
        && cfg.services.certificates.is_empty()
    {
        return Vec::new();
    }
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    let (state, down) = rt.block_on(collect(cfg));
    all_findings(&state, &down, Utc::now(), cfg.timezone.tz())
}

#[derive(Serialize)]
struct JsonContainer<'a> {
    engine: &'a str,
    name: &'a str,
    project: Option<&'a str>,
    service: Option<&'a str>,
    image: &'a str,
    state: &'a str,
    health: &'a str,
    restart_count: i64,
    exit_code: Option<i64>,
    started_at: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    key: &'a str,
    severity: Severity,
    message: &'a str,
}

/// An engine as a script sees it: up with what it is, or down with why.
#[derive(Serialize)]
struct JsonEngine<'a> {
    name: &'a str,
    up: bool,
    /// "Docker 27.3 at unix:///var/run/docker.sock" when up; the reason when down.
    detail: &'a str,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    status: Severity,
    exit_code: i32,
    engines: Vec<JsonEngine<'a>>,
    containers: Vec<JsonContainer<'a>>,
    checks: Vec<&'a super::model::CheckOutcome>,
    certificates: Vec<&'a super::model::CertInfo>,
    findings: Vec<JsonFinding<'a>>,
}

fn worst(found: &[Finding]) -> Severity {
    let rank = |s: Severity| match s {
        Severity::Ok => 0,
        Severity::Warning => 1,
        Severity::Unknown => 2,
        Severity::Critical => 3,
    };
    found
        .iter()
        .map(|f| f.severity)
        .max_by_key(|s| rank(*s))
        .unwrap_or(Severity::Ok)
}

/// `toban services`: prints, returns the exit code.
pub fn main(cfg: &Config, json: bool, out: &mut dyn Write) -> std::io::Result<i32> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (state, down) = rt.block_on(collect(cfg));
    let now = Utc::now();
    let found = all_findings(&state, &down, now, cfg.timezone.tz());
    let status = worst(&found);
    let code = status.exit_code();
    if json {
        let report = JsonReport {
            status,
            exit_code: code,
            engines: state
                .engines
                .iter()
                .map(|(name, how)| {
                    let reason = down.iter().find(|(n, _)| n == name).map(|(_, r)| r);
                    JsonEngine {
                        name,
                        up: how.is_some(),
                        detail: how
                            .as_deref()
                            .or(reason.map(String::as_str))
                            .unwrap_or("not reachable"),
                    }
                })
                .collect(),
            containers: state
                .containers
                .iter()
                .map(|c| JsonContainer {
                    engine: &c.engine,
                    name: &c.name,
                    project: c.project.as_deref(),
                    service: c.service.as_deref(),
                    image: &c.image,
                    state: c.state.as_str(),
                    health: c.health_word(),
                    restart_count: c.restart_count,
                    exit_code: c.exit_code,
                    started_at: c.started_at,
                })
                .collect(),
            checks: state
                .checks
                .iter()
                .filter_map(|c| c.last.as_ref())
                .collect(),
            certificates: state.certs.iter().collect(),
            findings: found
                .iter()
                .map(|f| JsonFinding {
                    key: &f.key,
                    severity: f.severity,
                    message: &f.message,
                })
                .collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(code);
    }
    writeln!(out, "SERVICES {}", status.label())?;
    for (name, how) in &state.engines {
        writeln!(
            out,
            "engine {name}: {}",
            how.as_deref().unwrap_or("not reachable")
        )?;
    }
    for c in &state.containers {
        writeln!(
            out,
            "{:<30} {:<16} {:<24} restarts {}",
            c.name,
            c.group(),
            super::view::state_text(c),
            c.restart_count
        )?;
    }
    for c in &state.checks {
        writeln!(out, "check {:<24} {}", c.name, super::view::check_text(c))?;
    }
    for c in &state.certs {
        writeln!(
            out,
            "cert {:<25} {}",
            c.name,
            super::view::cert_text(c, now)
        )?;
    }
    for f in &found {
        writeln!(out, "{}: {}", f.severity.label(), f.message)?;
    }
    Ok(code)
}
