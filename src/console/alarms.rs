//! The Alarms tab's keys and what the alarms hand the rest of the console: toban's own
//! alarms joined to the remote ones, notes and silences asked in a prompt, the detail view,
//! and the runbook that fixes an alarm opened with its parameters (a backup alarm: a drill
//! on that service's newest good backup; a full disk: rotate-logs; a certificate near its
//! end: renew-certificate; a remote alarm: its tag, annotation or config mapping).

use chrono::Duration;

use crate::action::Action;
use crate::alarms::model::{AlarmKind, RunbookLink};
use crate::alarms::{Alarm, AlarmsEffect, AlarmsMsg};
use crate::health::Severity;
use crate::state::prompt::{Prompt, PromptFor};
use crate::state::{Effect, Notice, State};

/// Hands a message to the alarms state; its effects go to the dispatcher.
pub fn feed(state: &mut State, msg: AlarmsMsg, fx: &mut Vec<Effect>) {
    let out = crate::alarms::update(&mut state.alarm_list, msg, state.now);
    push(fx, out);
}

fn push(fx: &mut Vec<Effect>, out: Vec<AlarmsEffect>) {
    fx.extend(out.into_iter().map(Effect::Alarms));
}

/// toban's own alarms join the list when they change (after every message that can change
/// them), each with the runbook it leads to.
pub fn sync_local(state: &mut State, fx: &mut Vec<Effect>) {
    let now: Vec<_> = state
        .alarms
        .sorted()
        .into_iter()
        .map(|a| (a.key.clone(), a.severity, a.since, a.message.clone()))
        .collect();
    if now == state.local_sent {
        return;
    }
    let rows: Vec<Alarm> = now
        .iter()
        .map(|(key, sev, since, message)| {
            let mut a = Alarm::local(key, *sev, *since, message);
            a.runbook = local_runbook(state, key);
            a
        })
        .collect();
    state.local_sent = now;
    feed(state, AlarmsMsg::Local(rows), fx);
}

/// The runbook a local alarm leads to (shown in its detail; `r` fills in the backup).
fn local_runbook(state: &State, key: &str) -> Option<RunbookLink> {
    let link = |name: &str| RunbookLink {
        name: name.to_string(),
        params: Default::default(),
        from: "toban".into(),
    };
    if key.starts_with("backup.") {
        let service = key.split_once(':').map(|(_, s)| s).unwrap_or("");
        let path = newest_good(state, service)?;
        let spec = crate::runbook::runner::restore_runbook_for(&state.runbooks, &path)?;
        let mut l = link(&spec.name);
        l.params = crate::runbook::runner::params_for_backup(spec, &path);
        return Some(l);
    }
    let shipped = |name: &str| state.runbooks.iter().any(|r| r.name == name);
    if key.starts_with("host.disk") && shipped("rotate-logs") {
        return Some(link("rotate-logs"));
    }
    if let Some(l) = container_runbook(state, key) {
        return Some(l);
    }
    if let Some(cert) = key.strip_prefix("services.cert:") {
        if shipped("renew-certificate") {
            let mut l = link("renew-certificate");
            l.params.insert("cert_name".into(), cert.to_string());
            // Where the certificate was seen: the server to check, or the file to show.
            if let Some(info) = state.services.certs.iter().find(|c| c.name == cert) {
                match crate::tls_cert::split_addr(&info.source) {
                    Ok((host, port)) if !info.source.contains('/') => {
                        l.params.insert("host".into(), host.to_string());
                        l.params.insert("port".into(), port.to_string());
                        l.params.insert("server_name".into(), host.to_string());
                    }
                    _ => {
                        l.params.insert("cert_file".into(), info.source.clone());
                    }
                }
            }
            return Some(l);
        }
    }
    None
}

/// A container unhealthy, exited or in a restart loop: the database container leads to
/// restore-postgres (its newest good dump filled in when there is one), any other to
/// restart-container with its name.
fn container_runbook(state: &State, key: &str) -> Option<RunbookLink> {
    let subject = [
        "services.unhealthy:",
        "services.exited:",
        "services.restart_loop:",
    ]
    .iter()
    .find_map(|p| key.strip_prefix(p))?;
    let (engine, name) = subject.split_once('/')?;
    let c = state
        .services
        .containers
        .iter()
        .find(|c| c.engine == engine && c.name == name)?;
    let shipped = |n: &str| state.runbooks.iter().any(|r| r.name == n);
    let mut l = RunbookLink {
        name: String::new(),
        params: Default::default(),
        from: "toban".into(),
    };
    let db =
        c.service.as_deref() == Some("db") || c.image.split(['/', ':']).any(|p| p == "postgres");
    if db && shipped("restore-postgres") {
        l.name = "restore-postgres".into();
        if let Some(path) = state
            .backups
            .rows()
            .filter(|b| b.newest_good && b.path.to_string_lossy().ends_with(".sql.gz"))
            .map(|b| b.path.display().to_string())
            .next()
        {
            l.params.insert("dump".into(), path);
        }
        return Some(l);
    }
    if shipped("restart-container") {
        l.name = "restart-container".into();
        l.params.insert("container".into(), name.to_string());
        l.params.insert("engine".into(), engine.to_string());
        return Some(l);
    }
    None
}

fn newest_good(state: &State, service: &str) -> Option<String> {
    state
        .backups
        .rows()
        .filter(|b| b.newest_good && b.service == service)
        .map(|b| b.path.display().to_string())
        .next()
}

pub fn on_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) -> bool {
    let a = &mut state.alarm_list;
    if a.silences_open.is_some() {
        match action {
            Action::Back | Action::Silences => a.close_silences(),
            Action::Up => a.select_prev(),
            Action::Down => a.select_next(),
            Action::Unsilence => {
                let out = a.expire_selected_silence();
                push(fx, out);
            }
            _ => return false,
        }
        return true;
    }
    let page = state.screen.1.saturating_sub(8).max(1) as usize;
    match action {
        Action::Up => a.select_prev(),
        Action::Down => a.select_next(),
        Action::PageUp => a.page_up(page),
        Action::PageDown => a.page_down(page),
        Action::Top => a.top(),
        Action::Bottom => a.bottom(),
        Action::Select if a.detail.is_none() => {
            let out = a.open_detail(state.now);
            push(fx, out);
        }
        Action::Select | Action::Back if a.detail.is_some() => a.close_detail(),
        Action::OpenLogs => {
            let alarm = a.detail_alarm().or_else(|| a.selected());
            match alarm.and_then(logs_source) {
                Some(src) => super::logs::show_source(state, &src, fx),
                None => {
                    state.notice = Some(Notice {
                        text: "this alarm has no logs in toban (log and container alarms do)"
                            .into(),
                        severity: Severity::Unknown,
                    })
                }
            }
        }
        Action::Back if !a.filter_text.is_empty() => a.set_filter(""),
        Action::Silences => a.open_silences(),
        Action::Unsilence => {
            let out = a.unsilence();
            push(fx, out);
        }
        Action::Filter => {
            let current = a.filter_text.clone();
            state.prompt = Some(Prompt::new(
                PromptFor::AlarmFilter,
                "Filter the alarms".into(),
                "Words, p1…p4, firing, source:NAME, -acked (empty: every alarm)",
                &current,
            ));
        }
        Action::Acknowledge | Action::Silence => ask(state, action),
        Action::Run => run_linked(state, fx),
        _ => return false,
    }
    true
}

/// The Logs tab source behind an alarm: the log source of `logs.errors:SOURCE`, the
/// container of a Services alarm (`services.KIND:ENGINE/NAME`).
pub fn logs_source(a: &crate::alarms::model::Alarm) -> Option<String> {
    let key = a.key.strip_prefix("local/")?;
    if let Some(src) = key.strip_prefix("logs.errors:") {
        return Some(src.to_string());
    }
    let (kind, subject) = key.strip_prefix("services.")?.split_once(':')?;
    if !matches!(kind, "unhealthy" | "exited" | "restart_loop") {
        return None;
    }
    let name = subject.rsplit('/').next()?;
    Some(format!("{}{name}", crate::logs::container::PREFIX))
}

/// Acknowledge and silence ask first: a note; how long.
fn ask(state: &mut State, action: Action) {
    let target = state
        .alarm_list
        .detail_alarm()
        .or_else(|| state.alarm_list.selected());
    let Some(a) = target else {
        state.notice = Some(Notice {
            text: "no alarm selected".into(),
            severity: Severity::Unknown,
        });
        return;
    };
    let name = a.name.clone();
    state.prompt = Some(if action == Action::Acknowledge {
        Prompt::new(
            PromptFor::AlarmAck,
            format!("Acknowledge: {name}"),
            "A note for the others on call (who is on it, what you found)",
            "",
        )
        .required()
    } else {
        Prompt::new(
            PromptFor::AlarmSilence,
            format!("Silence: {name}"),
            "For how long, then a note (2h deploy in progress)",
            "1h ",
        )
        .required()
    });
}

/// The prompt's answer for one of the alarms' questions.
pub fn answer(
    state: &mut State,
    purpose: PromptFor,
    text: &str,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    let a = &mut state.alarm_list;
    let out = match purpose {
        PromptFor::AlarmAck => a.acknowledge(text.trim()),
        PromptFor::AlarmSilence => {
            let text = text.trim();
            let (dur, note) = text.split_once(' ').unwrap_or((text, ""));
            let d = humantime::parse_duration(dur)
                .map_err(|e| format!("`{dur}` is not a duration like 30m or 2h: {e}"))?;
            let d = Duration::from_std(d).map_err(|e| e.to_string())?;
            a.silence(state.now + d, note.trim())
        }
        PromptFor::AlarmFilter => {
            a.set_filter(text.trim());
            Vec::new()
        }
        _ => return Ok(()),
    };
    push(fx, out);
    Ok(())
}

/// Opens the runbook that fixes the selected alarm, with its parameters filled in: a
/// backup alarm's drill runs on a scratch target, never over the live data.
fn run_linked(state: &mut State, fx: &mut Vec<Effect>) {
    let target = state
        .alarm_list
        .detail_alarm()
        .or_else(|| state.alarm_list.selected())
        .cloned();
    let Some(alarm) = target else {
        state.notice = Some(Notice {
            text: "no alarm selected".into(),
            severity: Severity::Unknown,
        });
        return;
    };
    let local_key = (alarm.kind == AlarmKind::Local).then(|| alarm.name.clone());
    if let Some(key) = local_key.as_deref().filter(|k| k.starts_with("backup.")) {
        let service = key.split_once(':').map(|(_, s)| s).unwrap_or("");
        let Some(path) = newest_good(state, service) else {
            state.notice = Some(Notice {
                text: format!("no good backup of `{service}` is in the catalog to drill on"),
                severity: Severity::Warning,
            });
            return;
        };
        super::runbooks::drill_backup(state, &path, service, fx);
        return;
    }
    let link = match &local_key {
        Some(key) => local_runbook(state, key),
        None => alarm.runbook.clone(),
    };
    let Some(link) = link else {
        state.notice = Some(Notice {
            text: format!(
                "`{}` leads to no runbook (tag it toban:runbook=NAME or map it in [alarms])",
                alarm.name
            ),
            severity: Severity::Unknown,
        });
        return;
    };
    super::runbooks::open_runbook(state, &link.name, link.params, false, false, fx);
}

/// Health of the alarm sources goes to the alarms state too (its list shows each source).
pub fn on_health(state: &mut State, id: &crate::providers::ProviderId, fx: &mut Vec<Effect>) {
    if !state.alarm_list.sources.contains_key(id) {
        return;
    }
    if let Some(h) = state.providers.get(id).cloned() {
        feed(state, AlarmsMsg::Health(id.clone(), h), fx);
    }
}

/// The clock for silences that end.
pub fn on_tick(state: &mut State) {
    state.alarm_list.tick(state.now);
}
