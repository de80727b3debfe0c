//! The container provider against the real engine, with an image built here from the
//! static busybox (nothing pulled): a container whose health check passes and one whose
//! check starts failing (healthy → unhealthy, and the local alarm); a restart asked for by
//! keys, confirmed, run as toban's effect, audited, and seen in the event stream; a
//! container dying in a loop (the restart-loop alarm); and the engine's socket going away
//! (provider down, keys still answered) and coming back (recovered without a restart).
//! Containers are named `toban-test-…` and removed at the end of each test.

mod common;
mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::engine::{docker_cli, engine_or_skip, TestImage};
use toban::providers::docker::Endpoint;
use toban::providers::health::Freshness;
use toban::providers::stream::{self, Reconnect};
use toban::services::model::ContainerHealth;
use toban::services::{ContainerSource, ServicesEffect, ServicesMsg, SharedEngine};
use toban::state::{Effect, Msg, State};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use common::console::Console;

const WAIT: Duration = Duration::from_secs(90);

fn image() -> TestImage {
    TestImage::build().unwrap_or_else(|e| panic!("building the test image: {e}"))
}

/// A container removed on drop.
struct Running(String);

impl Running {
    fn start(image: &TestImage, extra: &[&str], cmd: &[&str]) -> Running {
        let name = format!("toban-test-svc-{:012x}", rand::random::<u64>() >> 16);
        let mut args = vec!["run", "-d", "--name", &name];
        args.extend_from_slice(extra);
        args.push(&image.tag);
        args.extend_from_slice(cmd);
        docker_cli(&args).unwrap_or_else(|e| panic!("{e}"));
        Running(name)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = docker_cli(&["rm", "-f", &self.0]);
    }
}

fn healthy_check(extra: &mut Vec<&'static str>) {
    extra.extend_from_slice(&[
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "1s",
        "--health-retries",
        "1",
        "--health-timeout",
        "2s",
    ]);
}

/// The provider of engine `local` at `endpoint`, its messages on `rx`.
fn watch(
    endpoint: Option<Endpoint>,
    policy: Reconnect,
) -> (mpsc::Receiver<Msg>, SharedEngine, CancellationToken) {
    let (tx, rx) = mpsc::channel(256);
    let shared = SharedEngine::default();
    let cancel = CancellationToken::new();
    stream::spawn(
        toban::services::engine_provider("local"),
        policy,
        ContainerSource {
            engine: "local".into(),
            endpoint,
            shared: shared.clone(),
        },
        tx,
        cancel.clone(),
    );
    (rx, shared, cancel)
}

/// Feeds the provider's messages to the console until `done` holds.
async fn until(
    rx: &mut mpsc::Receiver<Msg>,
    con: &mut Console,
    what: &str,
    done: impl Fn(&State) -> bool,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done(&con.s) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(m)) => {
                con.msg(m);
            }
            Ok(None) => panic!("the provider stopped while waiting for {what}"),
            Err(_) => panic!("{what}: not seen within {WAIT:?}"),
        }
    }
}

fn console() -> Console {
    let mut con = Console::new(Vec::new());
    con.s.services = toban::services::ServicesState::new(&Default::default(), vec!["local".into()]);
    con.s.screen = (160, 48);
    con
}

fn health_of(s: &State, name: &str) -> Option<ContainerHealth> {
    s.services
        .containers
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.health)
}

#[tokio::test]
async fn healthy_then_unhealthy_is_seen_from_events_and_raises_the_alarm() {
    let Some(_engine) = engine_or_skip().await else {
        return;
    };
    let img = image();
    let mut extra = Vec::new();
    healthy_check(&mut extra);
    let passing = Running::start(&img, &extra, &["sh", "-c", "touch /tmp/ok; exec sleep 600"]);
    let failing = Running::start(&img, &extra, &["sh", "-c", "touch /tmp/ok; exec sleep 600"]);
    let (mut rx, _shared, cancel) = watch(None, Reconnect::default());
    let mut con = console();
    let (p, f) = (passing.0.clone(), failing.0.clone());
    until(&mut rx, &mut con, "both healthy", |s| {
        health_of(s, &p) == Some(ContainerHealth::Healthy)
            && health_of(s, &f) == Some(ContainerHealth::Healthy)
    })
    .await;
    docker_cli(&["exec", &failing.0, "rm", "/tmp/ok"]).unwrap();
    until(&mut rx, &mut con, "the failing one unhealthy", |s| {
        health_of(s, &f) == Some(ContainerHealth::Unhealthy)
    })
    .await;
    assert_eq!(health_of(&con.s, &p), Some(ContainerHealth::Healthy));
    let key = format!("services.unhealthy:local/{f}");
    let alarm = con.s.alarms.active.get(&key).expect("the unhealthy alarm");
    assert_eq!(alarm.severity, toban::health::Severity::Critical);
    assert!(alarm.message.contains(&f), "{}", alarm.message);
    assert!(!con
        .s
        .alarms
        .active
        .contains_key(&format!("services.unhealthy:local/{p}")));
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

#[tokio::test]
async fn a_confirmed_restart_runs_as_an_effect_is_audited_and_seen_in_the_event_stream() {
    let Some(_engine) = engine_or_skip().await else {
        return;
    };
    let img = image();
    let target = Running::start(&img, &[], &["sleep", "600"]);
    let (mut rx, shared, cancel) = watch(None, Reconnect::default());
    let mut con = console();
    let name = target.0.clone();
    until(&mut rx, &mut con, "the container listed", |s| {
        s.services.containers.iter().any(|c| c.name == name)
    })
    .await;
    let started = con
        .s
        .services
        .containers
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.started_at)
        .unwrap();
    // The Services tab, filtered to it, restart, move to the Restart button, press it.
    con.keys("6 /");
    con.type_text(&name);
    con.keys("<Enter> r");
    let confirm = con.s.services.confirm.clone().expect("a confirmation");
    assert_eq!(confirm.name, name);
    assert!(!confirm.yes_focused, "Cancel has the focus");
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
    let handles = toban::services::effects::Handles {
        engines: [("local".to_string(), shared)].into_iter().collect(),
    };
    let answer = toban::services::effects::run(act, &handles, Some(store.clone()))
        .await
        .unwrap();
    assert!(
        matches!(&answer, ServicesMsg::Acted { result: Ok(()), .. }),
        "{answer:?}"
    );
    con.msg(Msg::Services(answer));
    until(&mut rx, &mut con, "the restart in the event stream", |s| {
        s.services
            .containers
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.started_at)
            .is_some_and(|t| t > started)
    })
    .await;
    let audit = store
        .run_audit(&format!("services:local/{name}"))
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

#[tokio::test]
async fn a_container_dying_in_a_loop_raises_the_restart_loop_alarm() {
    let Some(_engine) = engine_or_skip().await else {
        return;
    };
    let img = image();
    let looping = Running::start(
        &img,
        &["--restart", "always"],
        &["sh", "-c", "sleep 0.3; exit 3"],
    );
    let (mut rx, _shared, cancel) = watch(None, Reconnect::default());
    let mut con = console();
    let key = format!("services.restart_loop:local/{}", looping.0);
    until(&mut rx, &mut con, "the restart-loop alarm", |s| {
        s.alarms.active.contains_key(&key)
    })
    .await;
    let a = &con.s.alarms.active[&key];
    assert!(
        a.message
            .contains("restarting in a loop: 3 exits within 10m"),
        "{}",
        a.message
    );
    cancel.cancel();
}

/// A unix socket forwarding to the engine's: stopping it is the engine going away.
struct Proxy {
    path: PathBuf,
    tasks: tokio::task::JoinHandle<()>,
}

impl Proxy {
    fn start(path: PathBuf, engine: PathBuf) -> Proxy {
        let _ = std::fs::remove_file(&path);
        let l = tokio::net::UnixListener::bind(&path).unwrap();
        let tasks = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut s, _)) = l.accept().await {
                let engine = engine.clone();
                conns.spawn(async move {
                    if let Ok(mut e) = tokio::net::UnixStream::connect(&engine).await {
                        let _ = tokio::io::copy_bidirectional(&mut s, &mut e).await;
                    }
                });
            }
        });
        Proxy { path, tasks }
    }

    /// Every connection dropped, the socket gone.
    fn stop(self) {
        // Aborting the accept task drops its JoinSet, which aborts every connection.
        self.tasks.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

#[tokio::test]
async fn the_engine_going_away_is_shown_down_and_recovered_without_a_restart() {
    let Some(engine) = engine_or_skip().await else {
        return;
    };
    let Endpoint::Unix(real) = engine.endpoint.clone() else {
        support::skipped("engine socket test", "the engine is not on a unix socket");
        return;
    };
    let path = support::engine::unique_tmp("toban-test-engine-").with_extension("sock");
    let proxy = Proxy::start(path.clone(), real.clone());
    let policy = Reconnect {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        batch: 64,
    };
    let (mut rx, _shared, cancel) = watch(Some(Endpoint::Unix(path.clone())), policy);
    let mut con = console();
    let id = toban::services::engine_provider("local");
    con.s
        .providers
        .register(id.clone(), toban::providers::Health::live());
    let fresh = |s: &State| {
        s.providers
            .iter()
            .any(|(i, h)| *i == id && h.freshness(s.now) == Freshness::Fresh)
    };
    let down = |s: &State| {
        s.providers
            .iter()
            .any(|(i, h)| *i == id && matches!(h.freshness(s.now), Freshness::Down { .. }))
    };
    until(&mut rx, &mut con, "connected", |s| {
        fresh(s) && s.services.engines.iter().any(|(_, d)| d.is_some())
    })
    .await;
    proxy.stop();
    until(&mut rx, &mut con, "the engine down", down).await;
    let (_, h) = con.s.providers.iter().find(|(i, _)| *i == id).unwrap();
    let Freshness::Down { reason, .. } = h.freshness(con.s.now) else {
        unreachable!()
    };
    assert!(!reason.is_empty());
    // Keys are still answered while it is down.
    con.keys("6");
    assert_eq!(con.s.tab, toban::tab::Tab::Services);
    con.keys("o");
    assert_eq!(con.s.services.sort.word(), "state");
    let before = con.s.services.containers.len();
    let proxy = Proxy::start(path.clone(), real);
    until(&mut rx, &mut con, "reconnected", fresh).await;
    assert!(con.s.services.containers.len() >= before.min(1));
    proxy.stop();
    cancel.cancel();
}

/// A unix socket that answers every request with `reply` (or never, when None).
fn fake_engine(path: PathBuf, reply: Option<&'static [u8]>) -> tokio::task::JoinHandle<()> {
    let _ = std::fs::remove_file(&path);
    let l = tokio::net::UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = l.accept().await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            match reply {
                Some(r) => {
                    let _ = s.write_all(r).await;
                }
                None => held.push(s),
            }
        }
    })
}

#[tokio::test]
async fn an_engine_answering_garbage_or_hanging_is_down_with_its_reason() {
    for (what, reply) in [
        (
            "garbage",
            Some(&b"\x00\x01 this is not HTTP \x1b[31m\r\n\r\n"[..]),
        ),
        ("a hang", None),
    ] {
        let path = support::engine::unique_tmp("toban-test-fake-").with_extension("sock");
        let server = fake_engine(path.clone(), reply);
        let policy = Reconnect {
            connect_timeout: Duration::from_secs(8),
            ..Reconnect::default()
        };
        let (mut rx, _shared, cancel) = watch(Some(Endpoint::Unix(path.clone())), policy);
        let first = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("{what}: no report"))
            .unwrap();
        match first {
            Msg::Health(id, toban::providers::HealthEvent::Failed { reason, .. }) => {
                assert_eq!(id, toban::services::engine_provider("local"));
                assert!(!reason.is_empty(), "{what}");
                assert!(!reason.contains('\u{1b}'), "{what}: {reason:?}");
            }
            other => panic!("{what}: expected the provider down, got {other:?}"),
        }
        cancel.cancel();
        server.abort();
        let _ = std::fs::remove_file(&path);
    }
}
