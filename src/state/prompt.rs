//! A one-line question over the screen (a note for a completion, a reason to skip, a
//! filter): what it is for, the text typed so far, and whether an answer is required.

use ratatui_textarea::TextArea;

/// What the answer is for; the console carries it out when Enter is pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptFor {
    /// Mark the calendar's selected duty done, with this note.
    DutyDone,
    /// Skip it, for this reason.
    DutySkip,
    /// Put it off for this long (`1h`, `30m`).
    DutySnooze,
    /// Filter the calendar's agenda.
    CalendarFilter,
    /// Acknowledge the selected alarm with this note.
    AlarmAck,
    /// Silence it for this long (`2h`, `30m`), with an optional note after the duration.
    AlarmSilence,
    /// Filter the alarms list.
    AlarmFilter,
    /// Filter the Services tab.
    ServicesFilter,
    /// Filter the log lines (applied as it is typed).
    LogsFilter,
    /// Open a log file by path.
    LogsOpen,
    /// Jump the log view to a time.
    LogsJump,
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub title: String,
    pub label: String,
    pub input: TextArea<'static>,
    pub purpose: PromptFor,
    /// An empty answer is refused (a reason to skip must be given).
    pub required: bool,
    /// Why the last answer was refused.
    pub error: Option<String>,
}

impl Prompt {
    pub fn new(purpose: PromptFor, title: String, label: &str, value: &str) -> Prompt {
        Prompt {
            title,
            label: label.to_string(),
            input: crate::runbook::wizard::text::field(value, false),
            purpose,
            required: false,
            error: None,
        }
    }

    pub fn required(mut self) -> Prompt {
        self.required = true;
        self
    }

    pub fn value(&self) -> String {
        crate::runbook::wizard::text::value(&self.input)
    }
}
