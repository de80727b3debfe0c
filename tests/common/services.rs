//! The container tests' shared watch: one provider per engine feeding a console, as the app
//! wires them, and waits on what the operator would see (listed, healthy, an alarm).
//! The same tests run against Docker and Podman through these.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use toban::providers::docker::Endpoint;
use toban::providers::health::Freshness;
use toban::providers::stream::{self, Reconnect};
use toban::services::effects::Handles;
use toban::services::model::ContainerHealth;
use toban::services::{ContainerSource, SharedEngine};
use toban::state::{Msg, State};

use super::console::Console;

/// Long enough for a loaded CI machine; a pass takes seconds.
pub const WAIT: Duration = Duration::from_secs(90);

/// Exits at once on SIGTERM (a bare `sleep` as PID 1 ignores it and waits out the grace).
pub const IDLE: &[&str] = &[
    "sh",
    "-c",
    "trap 'exit 0' TERM; while true; do sleep 1; done",
];

/// A health check that passes while /tmp/ok exists, probed every second.
pub const HEALTH_CHECK: &[&str] = &[
    "--health-cmd",
    "test -f /tmp/ok",
    "--health-interval",
    "1s",
    "--health-retries",
    "1",
    "--health-timeout",
    "2s",
];

/// Reconnects within a second, for tests that stop an engine and start it again.
pub fn quick() -> Reconnect {
    Reconnect {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        batch: 64,
    }
}

/// One provider per engine (None: the local engine), all into `tx`; the handles are what
/// the effects (restart, stats) act through.
pub fn watch(
    engines: &[(&str, Option<Endpoint>)],
    policy: Reconnect,
    tx: &mpsc::Sender<Msg>,
    cancel: &CancellationToken,
) -> Handles {
    let mut handles = Handles::default();
    for (name, endpoint) in engines {
        let shared = SharedEngine::default();
        stream::spawn(
            toban::services::engine_provider(name),
            policy,
            ContainerSource {
                engine: name.to_string(),
                endpoint: endpoint.clone(),
                shared: shared.clone(),
                loop_window: Duration::from_secs(600),
            },
            tx.clone(),
            cancel.clone(),
        );
        handles.engines.insert(name.to_string(), shared);
    }
    handles
}

/// Feeds the providers' messages to the console until `done` holds.
pub async fn until(
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

/// A console watching `engines` (registered as providers), at 160x48, with the shipped
/// runbooks.
pub fn console(engines: &[&str]) -> Console {
    let mut con = Console::shipped();
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

pub fn listed(s: &State, engine: &str, name: &str) -> bool {
    s.services
        .containers
        .iter()
        .any(|c| c.engine == engine && c.name == name)
}

pub fn health_of(s: &State, engine: &str, name: &str) -> Option<ContainerHealth> {
    s.services
        .containers
        .iter()
        .find(|c| c.engine == engine && c.name == name)
        .map(|c| c.health)
}

pub fn started_at(s: &State, engine: &str, name: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    s.services
        .containers
        .iter()
        .find(|c| c.engine == engine && c.name == name)
        .and_then(|c| c.started_at)
}

/// Is engine `engine`'s provider fresh, or down?
pub fn engine_fresh(s: &State, engine: &str) -> bool {
    let id = toban::services::engine_provider(engine);
    s.providers
        .iter()
        .any(|(i, h)| *i == id && h.freshness(s.now) == Freshness::Fresh)
}

pub fn engine_down(s: &State, engine: &str) -> bool {
    let id = toban::services::engine_provider(engine);
    s.providers
        .iter()
        .any(|(i, h)| *i == id && matches!(h.freshness(s.now), Freshness::Down { .. }))
}
