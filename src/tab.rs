//! The tabs, in display order: names and titles. What each tab shows and does with keys is
//! registered in `console::tabs`.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Tab {
    #[default]
    Overview,
    Alarms,
    Backups,
    Logs,
    Calendar,
    Services,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Overview,
        Tab::Alarms,
        Tab::Backups,
        Tab::Logs,
        Tab::Calendar,
        Tab::Services,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Alarms => "Alarms",
            Tab::Backups => "Backups",
            Tab::Logs => "Logs",
            Tab::Calendar => "Calendar",
            Tab::Services => "Services",
        }
    }

    pub fn key_name(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Alarms => "alarms",
            Tab::Backups => "backups",
            Tab::Logs => "logs",
            Tab::Calendar => "calendar",
            Tab::Services => "services",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn next(self) -> Tab {
        Tab::ALL[(self.index() + 1) % Tab::ALL.len()]
    }

    pub fn prev(self) -> Tab {
        Tab::ALL[(self.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
    }
}

impl FromStr for Tab {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tab::ALL
            .iter()
            .copied()
            .find(|t| t.key_name() == s || (t.index() + 1).to_string() == s)
            .ok_or(())
    }
}
