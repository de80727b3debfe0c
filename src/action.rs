//! Named actions that keys map to. The keymap files name these in `run = "..."`; an unknown
//! name is a config error with its line, never a silent no-op.

use std::fmt;
use std::str::FromStr;

use crate::tab::Tab;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    TabNext,
    TabPrev,
    Tab(Tab),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Previous button or choice; scroll left.
    Left,
    /// Next button or choice; scroll right.
    Right,
    Select,
    Back,
    Refresh,
    /// Verify the selected backup's checksums.
    Verify,
    /// Verify every backup (or every backup of the selected service).
    VerifyAll,
    Restore,
    Drill,
    /// Open the runbook list.
    Runbooks,
    DryRun,
    /// Interrupt the running step (asks for confirmation).
    Cancel,
    Confirm,
    Deny,
    /// Show or hide a secret the run generated (never shown unless asked).
    Reveal,
    /// Calendar: a week back.
    WeekPrev,
    /// Calendar: a week on.
    WeekNext,
    /// Calendar: a month back.
    MonthPrev,
    /// Calendar: a month on.
    MonthNext,
    /// Calendar: back to today.
    Today,
    /// Mark done (asks for a note).
    Done,
    /// Skip this time (asks why).
    Skip,
    /// Put off for a while.
    Snooze,
    /// Filter the list.
    Filter,
    /// Start the linked runbook.
    Run,
    /// Alarms: acknowledge (asks for a note).
    Acknowledge,
    /// Alarms: silence until a time (asks how long).
    Silence,
    /// Alarms: lift toban's silence or acknowledgement.
    Unsilence,
    /// Alarms: the list of Alertmanager silences.
    Silences,
    /// Services: restart the selected container (asks first).
    ContainerRestart,
    /// Services: stop the selected container (asks first).
    ContainerStop,
    /// Services: start the selected container (asks first).
    ContainerStart,
    /// Change the list's order.
    Sort,
    /// Logs: pause following new lines, or follow again from the end.
    Follow,
    /// Logs: wrap long lines, or cut them (and scroll sideways).
    Wrap,
    /// Logs: the next line matching the filter.
    SearchNext,
    /// Logs: the previous line matching the filter.
    SearchPrev,
    /// Logs: show only errors, warnings and up, info and up, or every line.
    Level,
    /// Logs: open a file by its path.
    Open,
    /// Logs: the next source.
    SourceNext,
    /// Logs: the Logs Insights queries (run one, see its results as a table).
    Insights,
    /// Logs: jump to a time (asks which).
    JumpTime,
    /// A container's or an alarm's detail: its logs in the Logs tab.
    OpenLogs,
    /// Explicitly unbinds a key a preset binds.
    Noop,
}

impl Action {
    /// Every action name, for suggestions in error messages.
    pub const NAMES: &'static [&'static str] = &[
        "quit",
        "help",
        "tab_next",
        "tab_prev",
        "tab",
        "up",
        "down",
        "page_up",
        "page_down",
        "top",
        "bottom",
        "left",
        "right",
        "select",
        "back",
        "refresh",
        "verify",
        "verify_all",
        "restore",
        "drill",
        "runbooks",
        "dry_run",
        "cancel",
        "confirm",
        "deny",
        "reveal",
        "week_prev",
        "week_next",
        "month_prev",
        "month_next",
        "today",
        "done",
        "skip",
        "snooze",
        "filter",
        "run",
        "acknowledge",
        "silence",
        "unsilence",
        "silences",
        "container_restart",
        "container_stop",
        "container_start",
        "sort",
        "follow",
        "wrap",
        "search_next",
        "search_prev",
        "level",
        "open",
        "source_next",
        "insights",
        "jump_time",
        "open_logs",
        "noop",
    ];

    /// True for actions that change something outside toban (read-only mode refuses them).
    /// Opening a runbook (restore, drill, the picker) is not one: in read-only mode every run
    /// is a dry run, which shows what it would do and changes nothing.
    pub fn is_mutating(self) -> bool {
        // Acknowledgements and silences are seen by the other operators (and an
        // Alertmanager silence stops notifications for everyone).
        // Container actions change what runs for everyone.
        matches!(
            self,
            Action::Acknowledge
                | Action::Silence
                | Action::Unsilence
                | Action::ContainerRestart
                | Action::ContainerStop
                | Action::ContainerStart
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAction {
    pub name: String,
    pub suggestion: Option<&'static str>,
}

impl fmt::Display for UnknownAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown action `{}`", self.name)?;
        if let Some(s) = self.suggestion {
            write!(f, " (did you mean `{s}`?)")?;
        }
        Ok(())
    }
}

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split_whitespace();
        let name = parts.next().unwrap_or("");
        let arg = parts.next();
        let extra = parts.next();
        let action = match (name, arg) {
            ("quit", None) => Action::Quit,
            ("help", None) => Action::Help,
            ("tab_next", None) => Action::TabNext,
            ("tab_prev", None) => Action::TabPrev,
            ("tab", Some(t)) => match t.parse::<Tab>() {
                Ok(tab) => Action::Tab(tab),
                Err(_) => return Err(unknown(s)),
            },
            ("up", None) => Action::Up,
            ("down", None) => Action::Down,
            ("page_up", None) => Action::PageUp,
            ("page_down", None) => Action::PageDown,
            ("top", None) => Action::Top,
            ("bottom", None) => Action::Bottom,
            ("left", None) => Action::Left,
            ("right", None) => Action::Right,
            ("reveal", None) => Action::Reveal,
            ("week_prev", None) => Action::WeekPrev,
            ("week_next", None) => Action::WeekNext,
            ("month_prev", None) => Action::MonthPrev,
            ("month_next", None) => Action::MonthNext,
            ("today", None) => Action::Today,
            ("done", None) => Action::Done,
            ("skip", None) => Action::Skip,
            ("snooze", None) => Action::Snooze,
            ("filter", None) => Action::Filter,
            ("run", None) => Action::Run,
            ("acknowledge", None) => Action::Acknowledge,
            ("silence", None) => Action::Silence,
            ("unsilence", None) => Action::Unsilence,
            ("silences", None) => Action::Silences,
            ("container_restart", None) => Action::ContainerRestart,
            ("container_stop", None) => Action::ContainerStop,
            ("container_start", None) => Action::ContainerStart,
            ("sort", None) => Action::Sort,
            ("select", None) => Action::Select,
            ("back", None) => Action::Back,
            ("refresh", None) => Action::Refresh,
            ("verify", None) => Action::Verify,
            ("verify_all", None) => Action::VerifyAll,
            ("restore", None) => Action::Restore,
            ("drill", None) => Action::Drill,
            ("runbooks", None) => Action::Runbooks,
            ("dry_run", None) => Action::DryRun,
            ("cancel", None) => Action::Cancel,
            ("confirm", None) => Action::Confirm,
            ("deny", None) => Action::Deny,
            ("follow", None) => Action::Follow,
            ("wrap", None) => Action::Wrap,
            ("search_next", None) => Action::SearchNext,
            ("search_prev", None) => Action::SearchPrev,
            ("level", None) => Action::Level,
            ("open", None) => Action::Open,
            ("source_next", None) => Action::SourceNext,
            ("insights", None) => Action::Insights,
            ("jump_time", None) => Action::JumpTime,
            ("open_logs", None) => Action::OpenLogs,
            ("noop", None) => Action::Noop,
            _ => return Err(unknown(s)),
        };
        if extra.is_some() {
            return Err(unknown(s));
        }
        Ok(action)
    }
}

fn unknown(s: &str) -> UnknownAction {
    let name = s.split_whitespace().next().unwrap_or("");
    let suggestion = Action::NAMES
        .iter()
        .map(|n| (strsim::jaro_winkler(n, name), *n))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n);
    UnknownAction {
        name: s.to_string(),
        suggestion,
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::TabNext => "tab_next",
            Action::TabPrev => "tab_prev",
            Action::Tab(t) => return write!(f, "tab {}", t.key_name()),
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Left => "left",
            Action::Right => "right",
            Action::Reveal => "reveal",
            Action::WeekPrev => "week_prev",
            Action::WeekNext => "week_next",
            Action::MonthPrev => "month_prev",
            Action::MonthNext => "month_next",
            Action::Today => "today",
            Action::Done => "done",
            Action::Skip => "skip",
            Action::Snooze => "snooze",
            Action::Filter => "filter",
            Action::Run => "run",
            Action::Acknowledge => "acknowledge",
            Action::Silence => "silence",
            Action::Unsilence => "unsilence",
            Action::Silences => "silences",
            Action::ContainerRestart => "container_restart",
            Action::ContainerStop => "container_stop",
            Action::ContainerStart => "container_start",
            Action::Sort => "sort",
            Action::Select => "select",
            Action::Back => "back",
            Action::Refresh => "refresh",
            Action::Verify => "verify",
            Action::VerifyAll => "verify_all",
            Action::Restore => "restore",
            Action::Drill => "drill",
            Action::Runbooks => "runbooks",
            Action::DryRun => "dry_run",
            Action::Cancel => "cancel",
            Action::Confirm => "confirm",
            Action::Deny => "deny",
            Action::Follow => "follow",
            Action::Wrap => "wrap",
            Action::SearchNext => "search_next",
            Action::SearchPrev => "search_prev",
            Action::Level => "level",
            Action::Open => "open",
            Action::SourceNext => "source_next",
            Action::Insights => "insights",
            Action::JumpTime => "jump_time",
            Action::OpenLogs => "open_logs",
            Action::Noop => "noop",
        };
        f.write_str(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in [Action::Quit, Action::Tab(Tab::Backups), Action::VerifyAll] {
            assert_eq!(a.to_string().parse::<Action>().unwrap(), a);
        }
    }

    #[test]
    fn unknown_name_suggests() {
        let e = "qiut".parse::<Action>().unwrap_err();
        assert_eq!(e.suggestion, Some("quit"));
    }
}
