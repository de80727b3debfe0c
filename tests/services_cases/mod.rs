//! The container tests every engine passes, Docker and Podman alike: a health check going
//! from healthy to unhealthy raises the alarm; a container dying in a loop raises the
//! restart-loop alarm; a restart asked for by keys is confirmed, run as toban's effect on
//! that engine, audited, and seen in its event stream; a container's alarm opens
//! `restart-container` for that engine, and the runbook restarts it there.
//! `tests/services_docker.rs` and `tests/services_podman.rs` run each against their engine.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use toban::providers::docker::Endpoint;
use toban::providers::stream::Reconnect;
use toban::runbook::engine::{RunOptions, RunStatus};
use toban::services::containers::ContainerUpdate;
use toban::services::model::{ContainerHealth, ContainerState};
use toban::services::{ServicesEffect, ServicesMsg};
use toban::state::{Effect, Msg};

use crate::common::services::{
    console, health_of, listed, started_at, until, watch, HEALTH_CHECK, IDLE,
};

/// How the test reaches the engine's own CLI (setup only; toban speaks the API).
#[derive(Clone)]
pub enum Cli {
    Docker,
    /// `podman` with the test's containers.conf.
    Podman {
        conf: PathBuf,
    },
}

impl Cli {
    pub fn run(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = match self {
            Cli::Docker => std::process::Command::new("docker"),
            Cli::Podman { conf } => {
                let mut c = std::process::Command::new("podman");
                c.env("CONTAINERS_CONF", conf);
                c
            }
        };
        let out = cmd
            .args(args)
            .output()
            .map_err(|e| format!("{args:?}: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(format!(
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

/// An engine under test: its name in toban, where it is, its CLI and an image on it.
pub struct Under {
    pub engine: &'static str,
    pub endpoint: Option<Endpoint>,
    pub cli: Cli,
    pub image: String,
    /// Podman runs its health probes from systemd timers, and this machine has no systemd:
    /// the test runs them (`podman healthcheck run`) each second, as the timer would.
    pub run_probes: bool,
}

impl Under {
    /// `toban services --json` against this engine, as a script would run it.
    pub fn services_json(&self) -> serde_json::Value {
        let engine = match &self.endpoint {
            Some(e) => format!(
                "[[services.engine]]\nname = \"{}\"\nhost = \"{e}\"\n",
                self.engine
            ),
            None => String::new(),
        };
        crate::support::toban_services_json(&engine).0
    }
}

/// A container removed on drop.
pub struct Running {
    pub name: String,
    cli: Cli,
}

impl Under {
    pub fn run(&self, extra: &[&str], cmd: &[&str]) -> Running {
        let name = format!("toban-test-{:012x}", rand::random::<u64>() >> 16);
        let mut args = vec!["run", "-d", "--name", &name];
        args.extend_from_slice(extra);
        args.push(&self.image);
        args.extend_from_slice(cmd);
        self.cli.run(&args).unwrap_or_else(|e| panic!("{e}"));
        Running {
            name,
            cli: self.cli.clone(),
        }
    }

    /// The engine's health probes of `names`, each second, until dropped (Podman only;
    /// Docker runs its own).
    fn probes(&self, names: &[&str]) -> Option<Probes> {
        if !self.run_probes {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (cli, names) = (
            self.cli.clone(),
            names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        );
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                for n in &names {
                    // Exits 1 when the probe fails: that is the point, not an error.
                    let _ = cli.run(&["healthcheck", "run", n]);
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        Some(Probes {
            stop,
            thread: Some(thread),
        })
    }

    fn started(&self, name: &str) -> String {
        self.cli
            .run(&["inspect", "-f", "{{.State.StartedAt}}", name])
            .unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.cli.run(&["rm", "-f", &self.name]);
    }
}

struct Probes {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Probes {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn single(
    u: &Under,
) -> (
    mpsc::Receiver<Msg>,
    toban::services::effects::Handles,
    CancellationToken,
) {
    let (tx, rx) = mpsc::channel(256);
    let cancel = CancellationToken::new();
    let handles = watch(
        &[(u.engine, u.endpoint.clone())],
        Reconnect::default(),
        &tx,
        &cancel,
    );
    (rx, handles, cancel)
}

pub async fn healthy_then_unhealthy_raises_the_alarm(u: &Under) {
    let mut extra = HEALTH_CHECK.to_vec();
    extra.extend_from_slice(&["--restart", "no"]);
    let cmd = ["sh", "-c", "touch /tmp/ok; exec sleep 600"];
    let passing = u.run(&extra, &cmd);
    let failing = u.run(&extra, &cmd);
    let _probes = u.probes(&[&passing.name, &failing.name]);
    let (mut rx, _handles, cancel) = single(u);
    let mut con = console(&[u.engine]);
    let (e, p, f) = (u.engine, passing.name.clone(), failing.name.clone());
    until(&mut rx, &mut con, "both healthy", |s| {
        health_of(s, e, &p) == Some(ContainerHealth::Healthy)
            && health_of(s, e, &f) == Some(ContainerHealth::Healthy)
    })
    .await;
    u.cli.run(&["exec", &f, "rm", "/tmp/ok"]).unwrap();
    until(&mut rx, &mut con, "the failing one unhealthy", |s| {
        health_of(s, e, &f) == Some(ContainerHealth::Unhealthy)
    })
    .await;
    assert_eq!(health_of(&con.s, e, &p), Some(ContainerHealth::Healthy));
    let key = format!("services.unhealthy:{e}/{f}");
    let alarm = con.s.alarms.active.get(&key).expect("the unhealthy alarm");
    assert_eq!(alarm.severity, toban::health::Severity::Critical);
    assert!(alarm.message.contains(&f), "{}", alarm.message);
    assert!(!con
        .s
        .alarms
        .active
        .contains_key(&format!("services.unhealthy:{e}/{p}")));
    // The detail shows the failing probes.
    let c = con
        .s
        .services
        .containers
        .iter()
        .find(|c| c.name == f)
        .unwrap();
    assert!(
        c.health_log.iter().any(|p| p.exit_code != 0),
        "{:?}",
        c.health_log
    );
    cancel.cancel();
}

pub async fn dying_in_a_loop_raises_the_restart_loop_alarm(u: &Under) {
    let looping = u.run(&["--restart", "always"], &["sh", "-c", "sleep 0.3; exit 3"]);
    let (mut rx, _handles, cancel) = single(u);
    let mut con = console(&[u.engine]);
    let key = format!("services.restart_loop:{}/{}", u.engine, looping.name);
    until(&mut rx, &mut con, "the restart-loop alarm", |s| {
        s.alarms.active.contains_key(&key)
    })
    .await;
    let a = &con.s.alarms.active[&key];
    // Three or more: deaths from before toban connected are replayed too.
    let exits: Option<u32> = a
        .message
        .split("restarting in a loop: ")
        .nth(1)
        .and_then(|rest| rest.strip_suffix(" exits within 10m"))
        .and_then(|n| n.parse().ok());
    assert!(exits.is_some_and(|n| n >= 3), "{}", a.message);
    cancel.cancel();
}

/// The loop began before toban looked (toban started, or the engine came back, mid-loop):
/// the deaths the engine remembers are replayed at connection, so the alarm is there with
/// the first screen of containers instead of three deaths later, and `toban services`
/// (one look, no event stream) says so too.
pub async fn a_loop_that_began_before_toban_looked_is_seen_at_once(u: &Under) {
    let looping = u.run(&["--restart", "no"], IDLE);
    for _ in 0..3 {
        u.cli.run(&["kill", &looping.name]).unwrap();
        u.cli.run(&["start", &looping.name]).unwrap();
    }
    // Past the second the live stream starts from: every death must come from the replay.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (mut rx, _handles, cancel) = single(u);
    let mut con = console(&[u.engine]);
    let key = format!("services.restart_loop:{}/{}", u.engine, looping.name);
    until(&mut rx, &mut con, "the replayed deaths", |s| {
        s.services
            .containers
            .iter()
            .find(|c| c.name == looping.name)
            .is_some_and(|c| s.services.recent_deaths(&c.id, chrono::Utc::now()) >= 3)
    })
    .await;
    let id = &con
        .s
        .services
        .containers
        .iter()
        .find(|c| c.name == looping.name)
        .unwrap()
        .id;
    assert_eq!(
        con.s.services.recent_deaths(id, chrono::Utc::now()),
        3,
        "{:?}",
        con.s.services.deaths.get(id)
    );
    assert!(
        con.s.alarms.active.contains_key(&key),
        "the loop alarm with the replay: {:?}",
        con.s.alarms.active.keys().collect::<Vec<_>>()
    );
    // One look, no event stream. The replay is best effort (a busy Podman may not answer
    // in time), so a script that looks again sees it.
    let mut report = serde_json::Value::Null;
    for _ in 0..5 {
        report = u.services_json();
        let found = report["findings"].as_array().cloned().unwrap_or_default();
        if found.iter().any(|f| {
            f["key"] == key.as_str()
                && f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("restarting in a loop: 3 exits"))
        }) {
            break;
        }
        eprintln!("toban services did not see the loop yet: {report}");
        report = serde_json::Value::Null;
    }
    assert!(!report.is_null(), "toban services never saw the loop");
    assert_eq!(report["exit_code"], 2, "a loop is critical: {report}");
    // A second connection (the engine back after an outage) replays the same deaths: not
    // counted twice.
    cancel.cancel();
    let (mut rx, _handles, cancel) = single(u);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let m = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the second connection's replay")
            .expect("the provider runs");
        let replay = matches!(&m, Msg::Services(ServicesMsg::Containers(v))
            if v.iter().any(|u| matches!(u, ContainerUpdate::PastDeaths { .. })));
        con.msg(m);
        if replay {
            break;
        }
    }
    let c = con
        .s
        .services
        .containers
        .iter()
        .find(|c| c.name == looping.name)
        .unwrap();
    assert_eq!(con.s.services.recent_deaths(&c.id, chrono::Utc::now()), 3);
    cancel.cancel();
}

pub async fn a_restart_by_keys_is_confirmed_audited_and_seen_in_the_events(u: &Under) {
    let target = u.run(&[], IDLE);
    let (mut rx, handles, cancel) = single(u);
    let mut con = console(&[u.engine]);
    let (e, name) = (u.engine, target.name.clone());
    until(&mut rx, &mut con, "the container listed", |s| {
        started_at(s, e, &name).is_some()
    })
    .await;
    let started = started_at(&con.s, e, &name).unwrap();
    // The Services tab, filtered to it, restart, move to the Restart button, press it.
    con.keys("6 /");
    con.type_text(&name);
    con.keys("<Enter> r");
    let confirm = con.s.services.confirm.clone().expect("a confirmation");
    assert_eq!(
        (confirm.engine.as_str(), confirm.name.as_str()),
        (e, name.as_str())
    );
    assert!(!confirm.yes_focused, "Cancel has the focus");
    let screen = con.screen(80, 24);
    assert!(
        screen.contains(&name[..20]),
        "the confirmation names it:\n{screen}"
    );
    con.keys("<Right> <Enter>");
    let act = con
        .fx
        .iter()
        .find_map(|e| match e {
            Effect::Services(a @ ServicesEffect::Act { .. }) => Some(a.clone()),
            _ => None,
        })
        .expect("the restart effect");
    let data = tempfile::tempdir().unwrap();
    let store = toban::store::Store::open(None, data.path()).await.unwrap();
    let answer = toban::services::effects::run(act, &handles, Some(store.clone()))
        .await
        .unwrap();
    assert!(
        matches!(&answer, ServicesMsg::Acted { result: Ok(()), .. }),
        "{answer:?}"
    );
    con.msg(Msg::Services(answer));
    until(&mut rx, &mut con, "the restart in the event stream", |s| {
        started_at(s, e, &name).is_some_and(|t| t > started)
    })
    .await;
    let audit = store
        .run_audit(&format!("services:{e}/{name}"))
        .await
        .unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].event, "container_restart");
    assert_eq!(audit[0].user, "operator");
    assert_eq!(
        audit[0].ssh_client.as_deref(),
        Some("203.0.113.7 port 52114")
    );
    assert!(audit[0].detail.contains("done"), "{}", audit[0].detail);
    cancel.cancel();
}

/// Exits 2 on its first start; started again, it stays up.
const EXITS_ONCE: &[&str] = &[
    "sh",
    "-c",
    "if test -f /tmp/ran; then trap 'exit 0' TERM; while true; do sleep 1; done; \
     else touch /tmp/ran; sleep 1; exit 2; fi",
];

pub async fn its_alarm_opens_restart_container_which_restarts_it_on_that_engine(u: &Under) {
    let target = u.run(&[], EXITS_ONCE);
    let (mut rx, _handles, cancel) = single(u);
    let mut con = console(&[u.engine]);
    let (e, name) = (u.engine, target.name.clone());
    let key = format!("services.exited:{e}/{name}");
    until(&mut rx, &mut con, "the exited alarm", |s| {
        s.alarms.active.contains_key(&key)
    })
    .await;
    let before = u.started(&name);
    // The Alarms tab, filtered to it, its runbook.
    con.keys("2 /");
    con.type_text(&name);
    con.keys("<Enter> r");
    let w = con
        .s
        .wizard
        .as_ref()
        .unwrap_or_else(|| panic!("no wizard:\n{}", con.screen(80, 24)));
    assert_eq!(w.engine.spec.name, "restart-container");
    let params = w.engine.state.params.clone();
    assert_eq!(params.get("container"), Some(&name));
    assert_eq!(params.get("engine").map(String::as_str), Some(e));
    let screen = con.screen(80, 24);
    assert!(screen.contains(&format!("on engine {e} stops")), "{screen}");

    // The runbook as the wizard starts it, with the engines the configuration names.
    let mut t = crate::rb::sqlite_env().await;
    t.env.engines = [(e.to_string(), Ok(u.endpoint.clone()))]
        .into_iter()
        .collect();
    let spec = crate::rb::shipped("restart-container");
    let kv: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let confirmed = |kv: &[(&str, &str)]| {
        let mut run = crate::rb::engine(&spec, kv, RunOptions::default());
        let env = t.env.clone();
        async move {
            let d = crate::rb::drive(
                &env,
                &mut run,
                vec![toban::runbook::engine::Event::Confirm(true)],
                true,
            )
            .await;
            (d, run)
        }
    };
    let (d, run) = confirmed(&kv).await;
    assert_eq!(d.status, Some(RunStatus::Succeeded), "{:#?}", run.state);
    assert_eq!(d.executed, ["restart", "healthy"]);
    assert_ne!(u.started(&name), before, "restarted on {e}");
    until(&mut rx, &mut con, "running again, the alarm gone", |s| {
        s.services
            .containers
            .iter()
            .any(|c| c.engine == e && c.name == name && c.state == ContainerState::Running)
            && !s.alarms.active.contains_key(&key)
    })
    .await;
    assert!(listed(&con.s, e, &name));

    // Named on an engine the configuration does not have: refused, nothing restarted.
    let mut kv2 = kv.clone();
    kv2.retain(|(k, _)| *k != "engine");
    kv2.push(("engine", "nowhere"));
    let (d, run) = confirmed(&kv2).await;
    assert_eq!(d.status, Some(RunStatus::Failed), "{:#?}", run.state);
    let said = format!("{:?}", run.state);
    assert!(said.contains("no engine named `nowhere`"), "{said}");
    cancel.cancel();
}
