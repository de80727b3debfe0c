//! Podman beside Docker, both real: `podman system service` started by the test on its own
//! socket (support::podman), an image imported there from the static busybox. A container
//! in Podman is listed under the `podman` engine next to Docker's in the Services tab, is
//! restarted by keys (confirmed, run as toban's effect on the Podman engine, seen in its
//! event stream), shows in `toban services --json` under its engine; the service killed
//! mid-run is the engine down with its reason (keys still answered) and, started again,
//! is recovered without a restart of toban.

mod common;
mod support;

use std::time::Duration;

use support::engine::{docker_cli, engine_or_skip, TestImage};
use support::podman::Podman;
use toban::providers::docker::Endpoint;
use toban::providers::health::Freshness;
use toban::providers::stream::{self, Reconnect};
use toban::services::{ContainerSource, ServicesEffect, ServicesMsg, SharedEngine};
use toban::state::{Effect, Msg, State};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use common::console::Console;

const WAIT: Duration = Duration::from_secs(90);

/// Exits at once on SIGTERM (a bare `sleep` as PID 1 ignores it and waits out the grace).
const IDLE: &[&str] = &[
    "sh",
    "-c",
    "trap 'exit 0' TERM; while true; do sleep 1; done",
];

fn quick() -> Reconnect {
    Reconnect {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        batch: 64,
    }
}

/// One provider per engine, all into `tx`.
fn watch(
    engines: &[(&str, Option<Endpoint>)],
    tx: &mpsc::Sender<Msg>,
    cancel: &CancellationToken,
) -> toban::services::effects::Handles {
    let mut handles = toban::services::effects::Handles::default();
    for (name, endpoint) in engines {
        let shared = SharedEngine::default();
        stream::spawn(
            toban::services::engine_provider(name),
            quick(),
            ContainerSource {
                engine: name.to_string(),
                endpoint: endpoint.clone(),
                shared: shared.clone(),
            },
            tx.clone(),
            cancel.clone(),
        );
        handles.engines.insert(name.to_string(), shared);
    }
    handles
}

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
            Ok(None) => panic!("the providers stopped while waiting for {what}"),
            Err(_) => panic!("{what}: not seen within {WAIT:?}"),
        }
    }
}

fn console(engines: &[&str]) -> Console {
    let mut con = Console::new(Vec::new());
    con.s.services = toban::services::ServicesState::new(
        &Default::default(),
        engines.iter().map(|e| e.to_string()).collect(),
    );
    con.s.screen = (160, 48);
    for e in engines {
        con.s.providers.register(
            toban::services::engine_provider(e),
            toban::providers::Health::live(),
        );
    }
    con
}

fn listed(s: &State, engine: &str, name: &str) -> bool {
    s.services
        .containers
        .iter()
        .any(|c| c.engine == engine && c.name == name)
}

#[tokio::test]
async fn a_podman_container_is_listed_beside_dockers_and_restarted_by_keys() {
    let Some(podman) = Podman::start_or_skip().await else {
        return;
    };
    let Some(_docker) = engine_or_skip().await else {
        return;
    };
    let pimg = podman.image().unwrap();
    let pm = podman.run(&pimg, &[], IDLE).unwrap();
    let dimg = TestImage::build().unwrap();
    let dname = format!("toban-test-dk-{:012x}", rand::random::<u64>() >> 16);
    docker_cli(&["run", "-d", "--name", &dname, &dimg.tag, "sleep", "600"]).unwrap();
    struct Rm(String);
    impl Drop for Rm {
        fn drop(&mut self) {
            let _ = docker_cli(&["rm", "-f", &self.0]);
        }
    }
    let _dk = Rm(dname.clone());

    let (tx, mut rx) = mpsc::channel(256);
    let cancel = CancellationToken::new();
    let handles = watch(
        &[("docker", None), ("podman", Some(podman.endpoint()))],
        &tx,
        &cancel,
    );
    let mut con = console(&["docker", "podman"]);
    let (p, d) = (pm.name.clone(), dname.clone());
    until(&mut rx, &mut con, "both containers listed", |s| {
        listed(s, "podman", &p) && listed(s, "docker", &d)
    })
    .await;
    // Side by side: each under its own engine, and the tab names both engines.
    assert!(!listed(&con.s, "docker", &p) && !listed(&con.s, "podman", &d));
    con.keys("6");
    let screen = con.screen(160, 48);
    assert!(screen.contains("podman: Podman"), "{screen}");
    assert!(screen.contains("docker: Docker"), "{screen}");
    assert!(screen.contains(&p) && screen.contains(&d), "{screen}");

    let started = con
        .s
        .services
        .containers
        .iter()
        .find(|c| c.name == p)
        .and_then(|c| c.started_at)
        .unwrap();
    // Filtered to it, restart, move to the Restart button, press it.
    con.keys("/");
    con.type_text(&p);
    con.keys("<Enter> r");
    let confirm = con.s.services.confirm.clone().expect("a confirmation");
    assert_eq!(
        (confirm.engine.as_str(), confirm.name.as_str()),
        ("podman", p.as_str())
    );
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
    let answer = toban::services::effects::run(act, &handles, Some(store.clone()))
        .await
        .unwrap();
    assert!(
        matches!(&answer, ServicesMsg::Acted { result: Ok(()), .. }),
        "{answer:?}"
    );
    con.msg(Msg::Services(answer));
    until(
        &mut rx,
        &mut con,
        "the restart in Podman's event stream",
        |s| {
            s.services
                .containers
                .iter()
                .find(|c| c.name == p && c.engine == "podman")
                .and_then(|c| c.started_at)
                .is_some_and(|t| t > started)
        },
    )
    .await;
    let audit = store
        .run_audit(&format!("services:podman/{p}"))
        .await
        .unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].event, "container_restart");
    cancel.cancel();
}

#[tokio::test]
async fn toban_services_json_lists_the_podman_container_under_its_engine() {
    let Some(podman) = Podman::start_or_skip().await else {
        return;
    };
    let img = podman.image().unwrap();
    let pm = podman.run(&img, &[], IDLE).unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[services.engine]]\nname = \"podman\"\nhost = \"unix://{}\"\n",
            podman.socket.display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_toban"))
        .arg("--config")
        .arg(&config)
        .args(["services", "--json"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    let c = v["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == pm.name.as_str())
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(c["engine"], "podman");
    assert_eq!(c["state"], "running");
    // Not an unknown (3): the engine answered.
    assert!(matches!(out.status.code(), Some(0..=2)), "{text}");
}

#[tokio::test]
async fn podman_stopped_mid_run_is_down_with_its_reason_and_recovered_by_itself() {
    let Some(mut podman) = Podman::start_or_skip().await else {
        return;
    };
    let img = podman.image().unwrap();
    let pm = podman.run(&img, &[], IDLE).unwrap();
    let name = pm.name.clone();
    let (tx, mut rx) = mpsc::channel(256);
    let cancel = CancellationToken::new();
    let _handles = watch(&[("podman", Some(podman.endpoint()))], &tx, &cancel);
    let mut con = console(&["podman"]);
    con.s.screen = (80, 24);
    let id = toban::services::engine_provider("podman");
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
    until(&mut rx, &mut con, "listed", |s| listed(s, "podman", &name)).await;
    // The container outlives the service (conmon keeps it); only the engine goes away.
    podman.stop_service();
    until(&mut rx, &mut con, "the engine down", down).await;
    con.keys("6");
    assert_eq!(con.s.tab, toban::tab::Tab::Services);
    let screen = con.screen(80, 24);
    assert!(screen.contains("podman: down"), "{screen}");
    // The last data stays on screen while it is down.
    assert!(screen.contains(&name[..16]), "{screen}");
    con.keys("o");
    assert_eq!(con.s.services.sort.word(), "state");
    podman.start_service().await.unwrap();
    until(&mut rx, &mut con, "reconnected", fresh).await;
    until(&mut rx, &mut con, "listed again", |s| {
        listed(s, "podman", &name) && s.services.engines_down.is_empty()
    })
    .await;
    drop(pm);
    cancel.cancel();
}
