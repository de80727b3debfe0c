//! Every provider is started here, and only here: each gets its schedule from config, its
//! health entry on the board, and a refresh handle the console's `refresh` action reaches.
//! Providers that need the state store (the backup catalog keeps verification results in
//! it) start once the store is open; the others start with the first frame.
//!
//! Adding a provider: spawn it in [`Providers::start`] (or [`Providers::attach_store`]) with
//! the poller or stream template, and `register` it.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::backups::provider::BackupsHandle;
use crate::config::Config;
use crate::providers::host::{DiskFilter, HostPoller};
use crate::providers::poller::{self, Refresh, Schedule};
use crate::providers::{Board, Health, HealthEvent, ProviderId};
use crate::services::EngineTarget;
use crate::state::Msg;
use crate::store::Store;

/// Handles of the running providers.
#[derive(Default)]
pub struct Providers {
    refresh: Vec<(ProviderId, Refresh)>,
    pub backups: Option<BackupsHandle>,
    /// The calendar's store and its poller's refresh (completions are written, then read).
    pub calendar: Option<crate::calendar::effects::Handles>,
    /// The alarms' effect queue: its task owns the sources' clients once they are built.
    pub alarms: Option<mpsc::Sender<crate::alarms::AlarmsEffect>>,
    /// The engines the container providers connected, for stats, logs and actions.
    pub services: crate::services::effects::Handles,
}

impl Providers {
    /// The providers' health entries as the first frame shows them (before any report).
    pub fn board(config: &Config, engines: &[(String, EngineTarget)]) -> Board {
        let mut b = Board::default();
        b.register(ProviderId::HOST, Health::new(config.host.interval));
        if !config.backups.roots.is_empty() {
            b.register(
                ProviderId::BACKUPS,
                Health::new(config.backups.rescan_interval),
            );
        }
        // Registered up front with its interval: an entry made by its first report has no
        // interval and shows as stale a moment later.
        b.register(
            crate::calendar::provider::PROVIDER,
            Health::new(config.calendar.refresh),
        );
        for (id, interval) in crate::alarms::schedules(&config.alarms) {
            b.register(id, Health::new(interval));
        }
        let sc = &config.services;
        for (name, _) in engines {
            b.register(crate::services::engine_provider(name), Health::live());
        }
        for c in &sc.checks {
            b.register(
                crate::services::checks::provider_id(&c.name),
                Health::new(c.interval),
            );
        }
        if !sc.certificates.is_empty() {
            b.register(
                crate::services::certs::PROVIDER,
                Health::new(sc.cert_interval),
            );
        }
        b
    }

    /// Starts the providers that need nothing but their config.
    pub fn start(
        config: &Config,
        engines: &[(String, EngineTarget)],
        tx: &mpsc::Sender<Msg>,
        cancel: &CancellationToken,
    ) -> Self {
        let host = &config.host;
        let host_refresh = poller::spawn(
            ProviderId::HOST,
            Schedule {
                interval: host.interval,
                timeout: (host.interval * 5).max(Duration::from_secs(5)),
                backoff_max: Duration::from_secs(60),
            },
            HostPoller::new(DiskFilter {
                ignore_fs_types: host.ignore_fs_types.clone(),
                ignore_mounts: host.ignore_mounts.clone(),
            }),
            tx.clone(),
            cancel.clone(),
        );
        // Each configured log file is followed by its own thread, source `i` of the tab.
        for (i, src) in crate::logs::sources::configured(&config.logs)
            .into_iter()
            .enumerate()
        {
            crate::logs::provider::spawn_source(
                i,
                src.path,
                config.logs.max_lines,
                &config.logs.aws,
                {
                    let tx = tx.clone();
                    move |m| tx.blocking_send(Msg::Logs(m)).is_ok()
                },
                cancel.clone(),
            );
        }
        let mut p = Providers {
            refresh: vec![(ProviderId::HOST, host_refresh)],
            backups: None,
            calendar: None,
            alarms: None,
            services: Default::default(),
        };
        p.start_services(config, engines, tx, cancel);
        p
    }

    /// One container provider per engine (list, then the event stream), one poller per
    /// HTTP check, one for the certificates.
    fn start_services(
        &mut self,
        config: &Config,
        engines: &[(String, EngineTarget)],
        tx: &mpsc::Sender<Msg>,
        cancel: &CancellationToken,
    ) {
        use crate::providers::stream;
        let sc = &config.services;
        for (name, host) in engines.iter().cloned() {
            let id = crate::services::engine_provider(&name);
            let endpoint = match host {
                Ok(e) => e,
                Err(why) => {
                    let at = chrono::Utc::now();
                    let _ = tx.try_send(Msg::Health(id, HealthEvent::Failed { at, reason: why }));
                    continue;
                }
            };
            let shared = crate::services::SharedEngine::default();
            self.services.engines.insert(name.clone(), shared.clone());
            let source = crate::services::ContainerSource {
                engine: name,
                endpoint,
                shared,
                loop_window: sc.restart_loop.within,
            };
            let r = stream::spawn(
                id.clone(),
                stream::Reconnect::default(),
                source,
                tx.clone(),
                cancel.clone(),
            );
            self.refresh.push((id, r));
        }
        for c in &sc.checks {
            match crate::services::checks::spawn(c.clone(), tx.clone(), cancel.clone()) {
                Ok((id, r)) => self.refresh.push((id, r)),
                Err(e) => tracing::warn!("check {}: {e:#}", c.name),
            }
        }
        if !sc.certificates.is_empty() {
            let r = crate::services::certs::spawn(
                sc.certificates.clone(),
                sc.cert_interval,
                tx.clone(),
                cancel.clone(),
            );
            self.refresh.push((crate::services::certs::PROVIDER, r));
        }
    }

    /// Starts the providers that keep records in the store (or run without it).
    pub fn attach_store(
        &mut self,
        config: &Config,
        store: Option<Store>,
        tx: &mpsc::Sender<Msg>,
        cancel: &CancellationToken,
    ) {
        if let Some(store) = &store {
            let (duties, _) = crate::calendar::model::duties_from_config(&config.calendar);
            let ids = duties.iter().map(|d| d.id.clone()).collect();
            let refresh = crate::calendar::provider::spawn(
                store.clone(),
                ids,
                config.calendar.refresh,
                tx.clone(),
                cancel.clone(),
            );
            self.refresh
                .push((crate::calendar::provider::PROVIDER, refresh.clone()));
            self.calendar = Some(crate::calendar::effects::Handles {
                store: store.clone(),
                refresh,
                // Given by the effect runner, which holds the runbooks.
                actions: None,
            });
        }
        self.alarms = Some(spawn_alarms(
            config,
            store.clone(),
            tx.clone(),
            cancel.clone(),
        ));
        if !config.backups.roots.is_empty() {
            self.backups = Some(spawn_backups(config, store, tx.clone(), cancel.clone()));
        }
    }

    /// Asks a provider for new data now (at most one request is queued).
    pub fn refresh(&self, id: &ProviderId) {
        if *id == ProviderId::BACKUPS {
            if let Some(b) = &self.backups {
                b.rescan();
            }
            return;
        }
        if matches!(id.kind(), "cloudwatch" | "alertmanager") {
            if let Some(a) = &self.alarms {
                let _ = a.try_send(crate::alarms::AlarmsEffect::Refresh(id.clone()));
            }
            return;
        }
        for (i, r) in &self.refresh {
            if i == id {
                r.request();
            }
        }
    }
}

/// The catalog provider sends on its own channel; its updates are forwarded as messages,
/// each new catalog with the provider's health.
fn spawn_backups(
    config: &Config,
    store: Option<Store>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) -> BackupsHandle {
    let (btx, mut brx) = mpsc::channel(64);
    let handle = crate::backups::provider::spawn(config.backups.clone(), store, btx, cancel);
    tokio::spawn(async move {
        while let Some(u) = brx.recv().await {
            if matches!(u, crate::backups::provider::BackupsUpdate::Catalog(_)) {
                let ok = HealthEvent::Ok {
                    at: chrono::Utc::now(),
                };
                if tx.send(Msg::Health(ProviderId::BACKUPS, ok)).await.is_err() {
                    break;
                }
            }
            if tx.send(Msg::Backups(u)).await.is_err() {
                break;
            }
        }
    });
    handle
}

/// The alarm sources' pollers start in their own task (building a CloudWatch client reads
/// credentials); effects asked for meanwhile wait in the queue. Each effect runs in its own
/// task, so a slow Alertmanager never holds up an acknowledgement.
fn spawn_alarms(
    config: &Config,
    store: Option<Store>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) -> mpsc::Sender<crate::alarms::AlarmsEffect> {
    let (etx, mut erx) = mpsc::channel(256);
    let cfg = config.alarms.clone();
    tokio::spawn(async move {
        let handles = crate::alarms::spawn::<Msg>(&cfg, store, tx.clone(), cancel.clone()).await;
        loop {
            let e = tokio::select! {
                e = erx.recv() => match e { Some(e) => e, None => break },
                _ = cancel.cancelled() => break,
            };
            let (h, tx) = (handles.clone(), tx.clone());
            tokio::spawn(async move {
                if let Some(m) = crate::alarms::effects::run(e, &h).await {
                    let _ = tx.send(Msg::Alarms(m)).await;
                }
            });
        }
    });
    etx
}
