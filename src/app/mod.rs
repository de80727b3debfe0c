//! The event loop: terminal events, provider reports and timers become messages on one
//! bounded channel; the loop owns the state, drains messages in batches, runs `update`,
//! hands effects to the runner and draws only when something changed.

pub mod effects;
pub mod log_file;
pub mod providers;
mod store_lane;
pub mod terminal;

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::keymap::Keymap;
use crate::config::theme::Theme;
use crate::config::Config;
use crate::console::{render, update};
use crate::state::{Msg, State};

pub struct AppContext {
    pub config: Config,
    pub theme: Theme,
    pub keymap: Keymap,
    /// Problems in the user's files, already formatted with file and line.
    pub problems: Vec<String>,
    pub data_dir: PathBuf,
    pub read_only: bool,
    pub demo: bool,
    pub runbooks: std::sync::Arc<Vec<crate::runbook::spec::Runbook>>,
}

pub async fn run(ctx: AppContext) -> anyhow::Result<()> {
    let cancel = CancellationToken::new();
    let (tx, mut rx) = mpsc::channel::<Msg>(256);
    let mut state = State::new(ctx.config.host.clone(), ctx.keymap, Utc::now());
    state.hostname = sysinfo::System::host_name().unwrap_or_default();
    state.session = crate::state::Session::from_env();
    state.read_only = ctx.read_only || ctx.config.read_only;
    state.demo = ctx.demo;
    state.problems = ctx.problems;
    let theme = ctx.theme;
    state.runbooks = ctx.runbooks.clone();
    state.drill_dir = ctx.data_dir.join("drills");
    state.backups.configured = !ctx.config.backups.roots.is_empty();
    // Resolved once (contexts read, sockets looked for), so the board, the providers and
    // the runbook runner agree on which engines there are.
    let engines = crate::services::engines(&ctx.config.services);
    state.providers = providers::Providers::board(&ctx.config, &engines);
    state.zone = ctx.config.timezone;
    state.backups.zone = ctx.config.timezone;
    state.connections = ctx.config.runbooks.connections.keys().cloned().collect();
    state.calendar = calendar_state(&ctx.config, state.now);
    state.alarm_list = crate::alarms::AlarmsState::new(&ctx.config.alarms, state.now);
    state.services = crate::services::ServicesState::new(
        &ctx.config.services,
        engines.iter().map(|(n, _)| n.clone()).collect(),
    );
    state.logs = crate::logs::LogsState::from_config(&ctx.config.logs);

    let mut guard = terminal::TerminalGuard::enter()?;
    // The first frame goes out before any provider has answered.
    guard.terminal.draw(|f| render(f, &state, &theme))?;

    spawn_input(tx.clone(), cancel.clone());
    spawn_signals(tx.clone(), cancel.clone());
    spawn_ticker(tx.clone(), cancel.clone());
    let effects = effects::spawn(
        effects::Runner {
            providers: providers::Providers::start(&ctx.config, &engines, &tx, &cancel),
            config: ctx.config,
            engines,
            data_dir: ctx.data_dir.clone(),
            runbooks: ctx.runbooks.clone(),
        },
        tx.clone(),
        cancel.clone(),
    );
    for e in state.alarm_list.init() {
        effects.submit(crate::state::Effect::Alarms(e));
    }

    while let Some(first) = rx.recv().await {
        let mut dirty = false;
        let mut next = Some(first);
        // Drain what is already queued so a burst of updates costs one frame.
        while let Some(msg) = next {
            let (d, fx) = update(&mut state, msg);
            dirty |= d;
            for e in fx {
                effects.submit(e);
            }
            if state.quit {
                break;
            }
            next = rx.try_recv().ok();
        }
        if state.quit {
            break;
        }
        if dirty {
            guard.terminal.draw(|f| render(f, &state, &theme))?;
        }
    }
    cancel.cancel();
    drop(guard);
    Ok(())
}

fn spawn_input(tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    tokio::spawn(async move {
        let mut events = EventStream::new();
        loop {
            let ev = tokio::select! {
                ev = events.next() => ev,
                _ = cancel.cancelled() => break,
            };
            let msg = match ev {
                Some(Ok(Event::Key(k))) => Msg::Key(k),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(Event::Paste(s))) => Msg::Paste(s),
                Some(Ok(_)) => continue,
                // The terminal is gone (the SSH session dropped): leave cleanly.
                Some(Err(_)) | None => Msg::Signal("input closed"),
            };
            let closing = matches!(msg, Msg::Signal(_));
            if tx.send(msg).await.is_err() || closing {
                break;
            }
        }
    });
}

fn spawn_signals(tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = hup.recv() => "SIGHUP",
            _ = int.recv() => "SIGINT",
            _ = cancel.cancelled() => return,
        };
        tracing::info!("{name}: leaving");
        let _ = tx.send(Msg::Signal(name)).await;
    });
}

fn spawn_ticker(tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = cancel.cancelled() => break,
            }
            if tx.send(Msg::Tick(Utc::now())).await.is_err() {
                break;
            }
        }
    });
}

/// The calendar's duties from the presets and config.toml, shown in the configured zone.
fn calendar_state(config: &Config, now: chrono::DateTime<Utc>) -> crate::calendar::CalendarState {
    let (duties, problems) = crate::calendar::model::duties_from_config(&config.calendar);
    crate::calendar::CalendarState::new(
        duties,
        problems,
        crate::calendar::cli::display_zone(config),
        chrono::Duration::from_std(config.calendar.grace).unwrap_or(chrono::Duration::hours(1)),
        config.calendar.agenda_days,
        now,
    )
}
