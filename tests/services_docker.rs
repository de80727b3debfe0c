//! The container provider against the real Docker engine, with an image built here from
//! the static busybox (nothing pulled): the cases every engine passes
//! (`tests/services_cases`: healthy → unhealthy and its alarm; the restart-loop alarm; a
//! restart by keys, confirmed, audited and seen in the event stream; an alarm's
//! `restart-container` run on its engine), then Docker's own: the engine's socket going
//! away (provider down, keys still answered) and coming back (recovered without a
//! restart), and an engine answering garbage or hanging.

#[path = "services_cases/mod.rs"]
mod cases;
mod common;
#[path = "runbook_common.rs"]
mod rb;
mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::engine::{engine_or_skip, TestImage};
use toban::providers::docker::Endpoint;
use toban::providers::health::Freshness;
use toban::providers::stream::Reconnect;
use toban::state::Msg;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use common::services::{console, engine_down, engine_fresh, quick, until, watch};

/// Docker as the cases' engine `local` (the image removed when the test ends); None when
/// there is no engine here (a failure under CI).
async fn docker() -> Option<(cases::Under, TestImage)> {
    engine_or_skip().await?;
    let img = TestImage::build().unwrap_or_else(|e| panic!("building the test image: {e}"));
    Some((
        cases::Under {
            engine: "local",
            endpoint: None,
            cli: cases::Cli::Docker,
            image: img.tag.clone(),
            run_probes: false,
        },
        img,
    ))
}

#[tokio::test]
async fn healthy_then_unhealthy_is_seen_from_events_and_raises_the_alarm() {
    if let Some((u, _img)) = docker().await {
        cases::healthy_then_unhealthy_raises_the_alarm(&u).await;
    }
}

#[tokio::test]
async fn a_confirmed_restart_runs_as_an_effect_is_audited_and_seen_in_the_event_stream() {
    if let Some((u, _img)) = docker().await {
        cases::a_restart_by_keys_is_confirmed_audited_and_seen_in_the_events(&u).await;
    }
}

#[tokio::test]
async fn a_container_dying_in_a_loop_raises_the_restart_loop_alarm() {
    if let Some((u, _img)) = docker().await {
        cases::dying_in_a_loop_raises_the_restart_loop_alarm(&u).await;
    }
}

#[tokio::test]
async fn a_loop_that_began_before_toban_looked_is_seen_at_once() {
    if let Some((u, _img)) = docker().await {
        cases::a_loop_that_began_before_toban_looked_is_seen_at_once(&u).await;
    }
}

#[tokio::test]
async fn an_exited_containers_alarm_runs_restart_container_on_docker() {
    if let Some((u, _img)) = docker().await {
        cases::its_alarm_opens_restart_container_which_restarts_it_on_that_engine(&u).await;
    }
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
        support::service_unavailable("Docker on a unix socket", "the engine is not on one");
        return;
    };
    let path = support::engine::unique_tmp("toban-test-engine-").with_extension("sock");
    let proxy = Proxy::start(path.clone(), real.clone());
    let (tx, mut rx) = mpsc::channel(256);
    let cancel = CancellationToken::new();
    let _handles = watch(
        &[("local", Some(Endpoint::Unix(path.clone())))],
        quick(),
        &tx,
        &cancel,
    );
    let mut con = console(&["local"]);
    let id = toban::services::engine_provider("local");
    let fresh = |s: &toban::state::State| engine_fresh(s, "local");
    let down = |s: &toban::state::State| engine_down(s, "local");
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
        let (tx, mut rx) = mpsc::channel(256);
        let cancel = CancellationToken::new();
        let _handles = watch(
            &[("local", Some(Endpoint::Unix(path.clone())))],
            policy,
            &tx,
            &cancel,
        );
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
