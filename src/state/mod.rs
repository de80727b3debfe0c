//! The console's state: plain data, changed only by [`update`]. No I/O, no channels, no
//! terminal, so nearly all behaviour is tested without one.

pub mod backups;
pub mod host;
pub mod local_alarms;
pub mod msg;
pub mod picker;
pub mod tabs;
mod update;
pub mod wizard;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::config::keymap::{Key, KeyContext, Keymap};
use crate::config::HostConfig;
use crate::health::Severity;
use crate::providers::health::Freshness;
use crate::providers::{Health, ProviderId};

pub use msg::{Effect, Msg};
pub use update::update;

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
}

#[derive(Debug, Clone)]
pub struct State {
    pub tab: Tab,
    pub now: DateTime<Utc>,
    pub hostname: String,
    pub host: HostView,
    pub host_config: HostConfig,
    pub alarms: LocalAlarms,
    pub alarm_selected: usize,
    pub backups: backups::BackupsState,
    /// Every runbook (shipped and the user's), for the picker and for opening from context.
    pub runbooks: std::sync::Arc<Vec<crate::runbook::spec::Runbook>>,
    pub picker: Option<picker::PickerState>,
    /// The runbook wizard, a modal over every tab.
    pub wizard: Option<Box<wizard::WizardState>>,
    /// Where drills restore to when the runbook has no scratch target of its own.
    pub drill_dir: std::path::PathBuf,
    /// Open follow-ups scheduled by runbooks (the access key to delete 7 days later).
    pub followups: Vec<crate::runbook::store::Followup>,
    pub providers: BTreeMap<ProviderId, Health>,
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
        let mut providers = BTreeMap::new();
        providers.insert(ProviderId::Host, Health::new(host_config.interval));
        State {
            tab: Tab::Overview,
            now,
            hostname: String::new(),
            host: HostView::new(history.ceil() as usize),
            host_config,
            alarms: LocalAlarms::default(),
            alarm_selected: 0,
            backups: backups::BackupsState::new(false),
            runbooks: Default::default(),
            picker: None,
            wizard: None,
            drill_dir: std::env::temp_dir().join("toban-drills"),
            followups: Vec::new(),
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
            .map(|(id, h)| (*id, std::mem::discriminant(&h.freshness(self.now))))
            .collect()
    }

    /// Where keys are looked up, most specific first (`Global` is always tried last).
    pub fn key_contexts(&self) -> Vec<KeyContext> {
        if self.help.is_some() {
            return vec![KeyContext::Help];
        }
        if self.wizard.is_some() {
            return vec![KeyContext::Wizard];
        }
        if self.picker.is_some() {
            return vec![KeyContext::List];
        }
        match self.tab {
            Tab::Backups => vec![KeyContext::Backups, KeyContext::List],
            Tab::Alarms => vec![KeyContext::List],
            _ => vec![KeyContext::List],
        }
    }
}
