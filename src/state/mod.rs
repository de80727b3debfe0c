//! The console's state: plain data, changed only by `console::update`. No I/O, no channels,
//! no terminal, no clock and no environment (time, the operator's name and id material come
//! in with messages or at start), so nearly all behaviour is tested without one.
//! Each capability keeps its own part (`backups::state`, the runbook wizard …); this is the
//! composition.

pub mod host;
pub mod local_alarms;
pub mod msg;
pub mod picker;
pub mod prompt;
pub mod session;
pub mod tabs;

use chrono::{DateTime, Utc};

use crate::config::keymap::{Key, Keymap};
use crate::config::HostConfig;
use crate::health::Severity;
use crate::providers::health::Freshness;
use crate::providers::{Board, Health, ProviderId};

pub use msg::{Effect, Msg};
pub use session::Session;

use host::HostView;
use local_alarms::LocalAlarms;
use tabs::Tab;

/// A one-line message at the bottom of the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub severity: Severity,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HelpState {
    pub scroll: u16,
    /// The keymap contexts in use where help was opened: shown first.
    pub contexts: Vec<crate::config::keymap::KeyContext>,
}

#[derive(Debug, Clone)]
pub struct State {
    pub tab: Tab,
    pub now: DateTime<Utc>,
    pub hostname: String,
    pub host: HostView,
    pub host_config: HostConfig,
    /// toban's own checks (host, backups, duties): the source of local alarms.
    pub alarms: LocalAlarms,
    /// Every alarm in one list: remote sources (CloudWatch, Alertmanager) and the local ones.
    pub alarm_list: crate::alarms::AlarmsState,
    /// The local alarms last handed to `alarm_list`, so it hears only of changes.
    pub local_sent: Vec<(String, Severity, DateTime<Utc>, String)>,
    pub backups: crate::backups::state::BackupsState,
    /// Every runbook (shipped and the user's), for the picker and for opening from context.
    pub runbooks: std::sync::Arc<Vec<crate::runbook::spec::Runbook>>,
    pub picker: Option<picker::PickerState>,
    /// The runbook wizard, a modal over every tab.
    pub wizard: Option<Box<crate::runbook::wizard::WizardState>>,
    /// The open run is out of sight (the operator left it with Esc to use the tabs); the
    /// top bar shows it and the runbooks key returns to it.
    pub wizard_hidden: bool,
    /// The parameters of a runbook about to start, asked before its first step.
    pub form: Option<crate::runbook::wizard::form::ParamForm>,
    /// Names of the database connections in config, offered for `connection` parameters.
    pub connections: Vec<String>,
    /// `q` was pressed once while a run is open: the next `q` quits.
    pub quit_armed: bool,
    /// The terminal's size (columns, rows), for what depends on it (help's last page).
    pub screen: (u16, u16),
    /// A one-line question over the screen (a note, a reason, a filter).
    pub prompt: Option<prompt::Prompt>,
    /// The zone times are shown in (config `timezone`, default the system's).
    pub zone: crate::time::Zone,
    /// The operations calendar: duties, their records, the month grid and the agenda.
    pub calendar: crate::calendar::CalendarState,
    /// The Logs tab: sources, lines, filter, follow.
    pub logs: crate::logs::LogsState,
    /// A duty whose runbook was opened from the calendar, and the run started for it: when
    /// the run succeeds the duty is marked done with a link to it.
    pub duty_run: Option<(crate::calendar::RunbookRequest, Option<String>)>,
    /// Containers, checks and certificates: the Services tab and card.
    pub services: crate::services::ServicesState,
    /// Who is at the keyboard and where from, and the material for new run ids: read from
    /// the environment once at start, so `update` never reads it.
    pub session: Session,
    /// Where drills restore to when the runbook has no scratch target of its own.
    pub drill_dir: std::path::PathBuf,
    pub providers: Board,
    pub help: Option<HelpState>,
    pub keymap: Keymap,
    /// Keys of a sequence typed so far (`g` of `g g`).
    pub pending: Vec<Key>,
    pub read_only: bool,
    pub notice: Option<Notice>,
    /// Problems found in the user's files at start: shown, never swallowed.
    pub problems: Vec<String>,
    pub demo: bool,
    pub quit: bool,
}

impl State {
    pub fn new(host_config: HostConfig, keymap: Keymap, now: DateTime<Utc>) -> Self {
        let history =
            host_config.history.as_secs_f64() / host_config.interval.as_secs_f64().max(0.1);
        let mut providers = Board::default();
        providers.register(ProviderId::HOST, Health::new(host_config.interval));
        State {
            tab: Tab::Overview,
            now,
            hostname: String::new(),
            host: HostView::new(history.ceil() as usize),
            host_config,
            alarms: LocalAlarms::default(),
            alarm_list: crate::alarms::AlarmsState::new(&Default::default(), now),
            local_sent: Vec::new(),
            backups: crate::backups::state::BackupsState::new(false),
            runbooks: Default::default(),
            picker: None,
            wizard: None,
            wizard_hidden: false,
            form: None,
            connections: Vec::new(),
            quit_armed: false,
            screen: (80, 24),
            prompt: None,
            zone: crate::time::Zone::UTC,
            calendar: crate::calendar::CalendarState::new(
                Vec::new(),
                Vec::new(),
                chrono_tz::Tz::UTC,
                chrono::Duration::hours(1),
                14,
                now,
            ),
            logs: Default::default(),
            duty_run: None,
            services: Default::default(),
            session: Session::default(),
            drill_dir: std::env::temp_dir().join("toban-drills"),
            providers,
            help: None,
            keymap,
            pending: Vec::new(),
            read_only: false,
            notice: None,
            problems: Vec::new(),
            demo: false,
            quit: false,
        }
    }

    /// Each provider's freshness without its age, to tell when the status bar must change.
    pub fn freshness_kinds(&self) -> Vec<(ProviderId, std::mem::Discriminant<Freshness>)> {
        self.providers
            .iter()
            .map(|(id, h)| (id.clone(), std::mem::discriminant(&h.freshness(self.now))))
            .collect()
    }
}
