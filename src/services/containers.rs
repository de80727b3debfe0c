//! The container provider: one per engine, on the stream template. Each connection lists
//! the containers once (with an inspect each: restart count, health log, start time) and
//! then follows the engine's event stream, inspecting only the container an event is
//! about. Nothing is re-listed on a timer; the `exec_*` events health probes cause are
//! dropped before they cost a request. When the engine goes away the stream breaks, the
//! board shows it down with the age of the data, and the template reconnects with backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::query_parameters::{InspectContainerOptions, ListContainersOptions, StatsOptions};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::StreamExt;

use super::model::clean as strip_escapes;
use super::model::{Container, ContainerHealth, ContainerState, Death, Probe, StatsSample};
use crate::providers::docker::{Endpoint, Engine, EngineError};
use crate::providers::stream::Source;

/// The connected engine, shared with the effects (actions, stats) while it is up.
pub type SharedEngine = Arc<Mutex<Option<Engine>>>;

/// What the provider sends the console.
#[derive(Debug, Clone, PartialEq)]
pub enum ContainerUpdate {
    /// Every container, at (re)connection.
    Snapshot {
        engine: String,
        describe: String,
        containers: Vec<Container>,
    },
    /// An event and the container as it is after it.
    Changed {
        container: Box<Container>,
        action: String,
        at: DateTime<Utc>,
    },
    Removed {
        engine: String,
        id: String,
    },
    /// The deaths the engine remembers within the restart-loop window before the
    /// connection, per container id: a loop that began before toban looked is seen at once.
    PastDeaths {
        engine: String,
        deaths: Vec<(String, Death)>,
    },
}

pub struct ContainerSource {
    /// The engine's name in config (`local`).
    pub engine: String,
    /// None: `DOCKER_HOST`, then the usual sockets.
    pub endpoint: Option<Endpoint>,
    pub shared: SharedEngine,
    /// How far back the deaths are replayed at connection (the restart-loop window).
    pub loop_window: Duration,
}

/// The events that change what is shown. Podman's event filter matches its own names
/// (`died`, `remove`) though it reports Docker's (`die`, `destroy`): without them a
/// container dying in a loop on Podman is never seen dying. Docker ignores names it lacks.
const RELEVANT: &[&str] = &[
    "create",
    "start",
    "restart",
    "die",
    "died",
    "remove",
    "kill",
    "oom",
    "stop",
    "pause",
    "unpause",
    "health_status",
    "destroy",
    "rename",
    "update",
];

/// Events that change nothing shown (or come from health probes) are not looked up, also
/// when an engine ignores the event filter.
pub fn relevant(action: &str) -> bool {
    let verb = action.split(':').next().unwrap_or("").trim();
    RELEVANT.contains(&verb)
}

impl Source for ContainerSource {
    type Item = ContainerUpdate;

    fn connect(
        &mut self,
    ) -> BoxFuture<'_, anyhow::Result<BoxStream<'static, anyhow::Result<ContainerUpdate>>>> {
        Box::pin(async move {
            if let Ok(mut g) = self.shared.lock() {
                *g = None;
            }
            let engine = match &self.endpoint {
                Some(e) => Engine::connect_to(e).await?,
                None => Engine::connect().await?,
            };
            // Events from a moment before the listing: nothing falls between the two.
            let live_since = Utc::now() - chrono::Duration::seconds(1);
            let events = events(&engine, live_since);
            let containers = snapshot(&engine, &self.engine).await?;
            if let Ok(mut g) = self.shared.lock() {
                *g = Some(engine.clone());
            }
            let first = ContainerUpdate::Snapshot {
                engine: self.engine.clone(),
                describe: engine.describe(),
                containers,
            };
            let name = self.engine.clone();
            let past = {
                let (engine, name) = (engine.clone(), name.clone());
                let from = live_since
                    - chrono::Duration::from_std(self.loop_window)
                        .unwrap_or(chrono::Duration::minutes(10));
                futures::stream::once(async move {
                    Ok(ContainerUpdate::PastDeaths {
                        deaths: past_deaths(&engine, from, live_since).await,
                        engine: name,
                    })
                })
            };
            let rest = events
                .filter(|ev| {
                    let keep = match ev {
                        Ok(e) => relevant(&e.action),
                        Err(_) => true,
                    };
                    futures::future::ready(keep)
                })
                .then(move |ev| {
                    let engine = engine.clone();
                    let name = name.clone();
                    async move {
                        let ev = ev.map_err(anyhow::Error::from)?;
                        let at = ev.time.unwrap_or_else(Utc::now);
                        if ev.action == "destroy" {
                            return Ok::<_, anyhow::Error>(ContainerUpdate::Removed {
                                engine: name,
                                id: ev.id,
                            });
                        }
                        match inspect(&engine, &name, &ev.id).await {
                            Ok(container) => Ok(ContainerUpdate::Changed {
                                container: Box::new(container),
                                action: ev.action,
                                at,
                            }),
                            Err(EngineError::NoSuchContainer(_)) => Ok(ContainerUpdate::Removed {
                                engine: name,
                                id: ev.id,
                            }),
                            Err(e) => Err(anyhow::Error::from(e)),
                        }
                    }
                });
            Ok(futures::stream::once(async move { Ok(first) })
                .chain(past)
                .chain(rest)
                .boxed())
        })
    }
}

/// The engine's container events, only those [`relevant`] asks for: the engine filters
/// (`health_status` matches its `health_status: …` forms), so the `exec_*` events of every
/// health probe never cross the socket.
fn events(
    engine: &Engine,
    since: DateTime<Utc>,
) -> impl futures::Stream<Item = Result<crate::providers::docker::ContainerEvent, EngineError>> + use<>
{
    let endpoint = engine.endpoint.to_string();
    let mut filters = HashMap::new();
    filters.insert("type".to_string(), vec!["container".to_string()]);
    filters.insert(
        "event".to_string(),
        RELEVANT.iter().map(|s| s.to_string()).collect(),
    );
    engine
        .docker
        .events(Some(bollard::query_parameters::EventsOptions {
            since: Some(since.timestamp().to_string()),
            until: None,
            filters: Some(filters),
        }))
        .map(move |r| match r {
            Ok(ev) => {
                let actor = ev.actor.unwrap_or_default();
                let name = actor
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get("name"))
                    .cloned()
                    .unwrap_or_default();
                Ok(crate::providers::docker::ContainerEvent {
                    id: actor.id.unwrap_or_default(),
                    name: strip_escapes(name.trim_start_matches('/')),
                    action: strip_escapes(&ev.action.unwrap_or_default()),
                    time: ev.time.and_then(|t| DateTime::from_timestamp(t, 0)),
                })
            }
            Err(e) => Err(EngineError::Unreachable {
                endpoint: endpoint.clone(),
                reason: strip_escapes(&e.to_string()),
            }),
        })
}

/// The `die` events the engine recorded between `from` and `until` (whole seconds: the
/// live stream starts at `until`'s second, so the two meet without overlap), oldest first. Best
/// effort: an engine that cannot say (or takes over 5 s) gives none, and the loop rule
/// counts from the live events alone.
pub async fn past_deaths(
    engine: &Engine,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<(String, Death)> {
    let mut filters = HashMap::new();
    filters.insert("type".to_string(), vec!["container".to_string()]);
    // Podman's filter knows its own name for it, though it reports Docker's.
    filters.insert(
        "event".to_string(),
        vec!["die".to_string(), "died".to_string()],
    );
    // Podman 4 answers a past `until` with nothing at all: it is asked from `from` on and
    // read up to `until`, or until it goes quiet (its history comes at once, then it waits
    // for new events).
    let podman = engine.kind == crate::providers::docker::EngineKind::Podman;
    let end = until.timestamp();
    let mut replay = engine
        .docker
        .events(Some(bollard::query_parameters::EventsOptions {
            since: Some(from.timestamp().to_string()),
            until: (!podman).then(|| end.to_string()),
            filters: Some(filters),
        }))
        .boxed();
    let limit = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut deaths = Vec::new();
    let mut first = true;
    loop {
        // A busy Podman takes a while to start reading its log; then it sends it at once.
        let quiet = match (podman, first) {
            (false, _) => Duration::from_secs(5),
            (true, true) => Duration::from_secs(2),
            (true, false) => Duration::from_millis(500),
        };
        first = false;
        let wait = limit.min(tokio::time::Instant::now() + quiet);
        let Ok(Some(Ok(ev))) = tokio::time::timeout_at(wait, replay.next()).await else {
            break;
        };
        let Some(time) = ev.time else { continue };
        // The live stream starts at `until`'s second.
        if time >= end {
            break;
        }
        if !matches!(ev.action.as_deref(), Some("die" | "died")) {
            continue;
        }
        let Some(actor) = ev.actor else { continue };
        let exit_code = actor
            .attributes
            .as_ref()
            .and_then(|a| a.get("exitCode"))
            .and_then(|c| c.parse().ok());
        if let (Some(id), Some(at)) = (actor.id, DateTime::from_timestamp(time, 0)) {
            deaths.push((id, Death { at, exit_code }));
        }
    }
    deaths.sort_by_key(|(_, d)| d.at);
    deaths
}

/// Podman reports a container it is cleaning up after a kill as `stopped`, a state the
/// Docker API it speaks lacks, for a moment: an answer that does not parse is asked for
/// again (for up to 2 s) rather than the engine declared down for it.
async fn patiently<T, Fut>(mut call: impl FnMut() -> Fut) -> Result<T, bollard::errors::Error>
where
    Fut: std::future::Future<Output = Result<T, bollard::errors::Error>>,
{
    let mut tries = 0;
    loop {
        let r = call().await;
        let unparsed = matches!(
            r,
            Err(bollard::errors::Error::JsonDataError { .. }
                | bollard::errors::Error::JsonSerdeError { .. })
        );
        tries += 1;
        if !unparsed || tries >= 10 {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every container (stopped ones too), each inspected.
pub async fn snapshot(engine: &Engine, name: &str) -> Result<Vec<Container>, EngineError> {
    let list = patiently(|| {
        engine.docker.list_containers(Some(ListContainersOptions {
            all: true,
            ..Default::default()
        }))
    })
    .await
    .map_err(|e| EngineError::Unreachable {
        endpoint: engine.endpoint.to_string(),
        reason: strip_escapes(&e.to_string()),
    })?;
    let ids: Vec<String> = list.into_iter().filter_map(|c| c.id).collect();
    let found = futures::stream::iter(ids)
        .map(|id| async move { inspect(engine, name, &id).await })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let mut out = Vec::new();
    for r in found {
        match r {
            Ok(c) => out.push(c),
            // Removed between the listing and the inspect.
            Err(EngineError::NoSuchContainer(_)) => {}
            Err(e) => return Err(e),
        }
    }
    out.sort_by(|a, b| (a.group(), &a.name).cmp(&(b.group(), &b.name)));
    Ok(out)
}

fn time_of(s: Option<&str>) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s?).ok()?.with_timezone(&Utc);
    // The engine writes 0001-01-01 for "never".
    (t.timestamp() > 0).then_some(t)
}

pub async fn inspect(engine: &Engine, name: &str, id: &str) -> Result<Container, EngineError> {
    let answer = patiently(|| {
        engine
            .docker
            .inspect_container(id, None::<InspectContainerOptions>)
    })
    .await;
    let c = answer.map_err(|e| match &e {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        } => EngineError::NoSuchContainer(id.to_string()),
        other => EngineError::Unreachable {
            endpoint: engine.endpoint.to_string(),
            reason: strip_escapes(&other.to_string()),
        },
    })?;
    let state = c.state.unwrap_or_default();
    let config = c.config.unwrap_or_default();
    let labels = config.labels.unwrap_or_default();
    let label = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| labels.get(*k))
            .map(|v| strip_escapes(v))
    };
    let health = state.health.unwrap_or_default();
    let mut ports: Vec<String> = c
        .network_settings
        .and_then(|n| n.ports)
        .unwrap_or_default()
        .into_iter()
        .map(|(port, binds)| {
            let host: Vec<String> = binds
                .unwrap_or_default()
                .into_iter()
                .filter_map(|b| b.host_port)
                .filter(|p| !p.is_empty())
                .collect();
            let port = strip_escapes(&port);
            match host.first() {
                Some(h) => format!("{}->{port}", strip_escapes(h)),
                None => port,
            }
        })
        .collect();
    ports.sort();
    ports.dedup();
    Ok(Container {
        engine: name.to_string(),
        id: c.id.unwrap_or_else(|| id.to_string()),
        name: strip_escapes(c.name.unwrap_or_default().trim_start_matches('/')),
        project: label(&["com.docker.compose.project", "io.podman.compose.project"]),
        service: label(&["com.docker.compose.service", "io.podman.compose.service"]),
        image: strip_escapes(&config.image.unwrap_or_default()),
        state: ContainerState::parse(&state.status.map(|s| s.to_string()).unwrap_or_default()),
        health: health
            .status
            .map(|s| ContainerHealth::parse(s.as_ref()))
            .unwrap_or(ContainerHealth::None),
        restart_count: c.restart_count.unwrap_or(0),
        started_at: time_of(state.started_at.as_deref()),
        finished_at: time_of(state.finished_at.as_deref()),
        exit_code: state.exit_code,
        oom_killed: state.oom_killed.unwrap_or(false),
        ports,
        health_log: health
            .log
            .unwrap_or_default()
            .into_iter()
            .map(|p| Probe {
                at: time_of(p.start.as_deref()),
                exit_code: p.exit_code.unwrap_or(-1),
                output: strip_escapes(p.output.unwrap_or_default().trim()),
            })
            .collect(),
    })
}

/// One stats read (no stream): the counters CPU percent is computed from between reads.
pub async fn stats_once(engine: &Engine, id: &str) -> anyhow::Result<StatsSample> {
    let mut s = engine.docker.stats(
        id,
        Some(StatsOptions {
            stream: false,
            one_shot: true,
        }),
    );
    let r = tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .map_err(|_| anyhow::anyhow!("stats of {id}: no answer within 10s"))?
        .ok_or_else(|| anyhow::anyhow!("stats of {id}: nothing"))??;
    let cpu = r.cpu_stats.unwrap_or_default();
    let mem = r.memory_stats.unwrap_or_default();
    // As `docker stats`: the page cache is not the container's use.
    let cache = mem
        .stats
        .as_ref()
        .and_then(|s: &HashMap<String, u64>| s.get("inactive_file").or_else(|| s.get("cache")))
        .copied()
        .unwrap_or(0);
    Ok(StatsSample {
        at_ms: Utc::now().timestamp_millis(),
        cpu_total: cpu.cpu_usage.and_then(|u| u.total_usage).unwrap_or(0),
        system_total: cpu.system_cpu_usage.unwrap_or(0),
        online_cpus: cpu.online_cpus.unwrap_or(1),
        mem_used: mem.usage.unwrap_or(0).saturating_sub(cache),
        mem_limit: mem.limit.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_exec_events_are_not_looked_up() {
        assert!(!relevant("exec_create: /bin/sh -c true"));
        assert!(!relevant("exec_start: /bin/sh -c true"));
        assert!(!relevant("exec_die"));
        assert!(!relevant("attach"));
        assert!(relevant("health_status: unhealthy"));
        assert!(relevant("die"));
        assert!(relevant("start"));
    }

    #[test]
    fn never_is_no_time() {
        assert_eq!(time_of(Some("0001-01-01T00:00:00Z")), None);
        assert!(time_of(Some("2026-12-03T07:00:00.123456789Z")).is_some());
    }
}
