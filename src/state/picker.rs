//! The runbook picker: a list of runbooks opened with `R` from anywhere, or from a backup or
//! an alarm with its context filled in.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct RunbookSummary {
    pub name: String,
    pub title: String,
    pub description: String,
    /// Can run as a restore drill against a scratch target.
    pub drillable: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PickerState {
    pub items: Vec<RunbookSummary>,
    pub selected: usize,
    /// Parameters the opener already knows (`backup = "/mnt/…"`, `service = "mail"`).
    pub params: BTreeMap<String, String>,
    /// Start the chosen runbook as a drill.
    pub drill: bool,
    /// What the picker was opened for, shown in its title.
    pub purpose: Option<String>,
}

impl PickerState {
    pub fn selected(&self) -> Option<&RunbookSummary> {
        self.items.get(self.selected)
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.items.is_empty() {
            return;
        }
        let last = self.items.len() as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, last) as usize;
    }
}
