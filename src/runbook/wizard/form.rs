//! The parameter form shown before a run's first step: every parameter that has no value
//! from where the run was opened (a backup, an alarm) and is not asked by a step of its own,
//! with defaults filled in, choices where the kind offers them, what is wrong with a value
//! said under it, and nothing started until every value is valid.

use std::collections::BTreeMap;

use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

use super::text;
use crate::action::Action;
use crate::runbook::spec::{Param, ParamKind, Runbook, StepAction};

#[derive(Debug, Clone)]
pub struct Field {
    pub param: Param,
    pub input: TextArea<'static>,
    /// Offered values (a choice's options, matching backups, configured connections);
    /// empty for a typed value.
    pub choices: Vec<String>,
    pub choice: usize,
    /// Whether the operator has been in the field (its problem is shown from then on).
    pub touched: bool,
}

impl Field {
    pub fn value(&self) -> String {
        if self.choices.is_empty() {
            text::value(&self.input)
        } else {
            self.choices.get(self.choice).cloned().unwrap_or_default()
        }
    }

    pub fn error(&self) -> Option<String> {
        self.param.validate(&self.value()).err()
    }

    /// The long description of the parameter, when it has one.
    pub fn label(&self) -> Option<&str> {
        self.param.label.as_deref()
    }
}

#[derive(Debug, Clone)]
pub struct ParamForm {
    pub runbook: String,
    pub title: String,
    pub fields: Vec<Field>,
    /// Index into `fields`; `fields.len()` is the start button.
    pub focus: usize,
    /// Values the opener supplied (kept, not asked).
    pub given: BTreeMap<String, String>,
    pub drill: bool,
    pub dry_run: bool,
    pub notice: Option<String>,
}

pub enum FormOutcome {
    Stay,
    Close,
    /// Every value is valid: start with these parameters.
    Start(BTreeMap<String, String>),
}

impl ParamForm {
    /// The form for `spec`, or `None` when nothing needs asking.
    pub fn new(
        spec: &Runbook,
        given: &BTreeMap<String, String>,
        drill: bool,
        dry_run: bool,
        backups: &[String],
        connections: &[String],
    ) -> Option<ParamForm> {
        // A dry run stops at no step, so it asks here for what a step would have asked.
        let asked_by_step = |name: &str| {
            !dry_run
                && spec
                    .steps
                    .iter()
                    .any(|s| matches!(&s.action, StepAction::Input(i) if i.param == name))
        };
        let set_by_drill = |name: &str| {
            drill
                && spec
                    .drill
                    .as_ref()
                    .is_some_and(|d| d.set.contains_key(name))
        };
        let fields: Vec<Field> = spec
            .params
            .iter()
            .filter(|p| !given.contains_key(&p.name))
            .filter(|p| !asked_by_step(&p.name) && !set_by_drill(&p.name))
            .map(|p| field_for(p, backups, connections))
            .collect();
        if fields.is_empty() {
            return None;
        }
        Some(ParamForm {
            runbook: spec.name.clone(),
            title: spec.title.clone(),
            fields,
            focus: 0,
            given: given.clone(),
            drill,
            dry_run,
            notice: None,
        })
    }

    pub fn focused(&self) -> Option<&Field> {
        self.fields.get(self.focus)
    }

    /// Editing keys for a typed field; false for keys the keymap should have.
    pub fn on_key(&mut self, key: KeyEvent) -> bool {
        let Some(f) = self.fields.get_mut(self.focus) else {
            return false;
        };
        if !f.choices.is_empty() {
            return false;
        }
        self.notice = None;
        text::edit(&mut f.input, key)
    }

    pub fn on_paste(&mut self, pasted: &str) -> bool {
        match self.fields.get_mut(self.focus) {
            Some(f) if f.choices.is_empty() => {
                text::paste(&mut f.input, pasted);
                true
            }
            _ => false,
        }
    }

    pub fn on_action(&mut self, action: Action) -> FormOutcome {
        let last = self.fields.len();
        match action {
            Action::Up => self.move_to(self.focus.saturating_sub(1)),
            Action::Down => self.move_to((self.focus + 1).min(last)),
            Action::Top => self.move_to(0),
            Action::Bottom => self.move_to(last),
            Action::Left | Action::Right => {
                if let Some(f) = self.fields.get_mut(self.focus) {
                    let n = f.choices.len();
                    if n > 0 {
                        f.choice = if action == Action::Left {
                            (f.choice + n - 1) % n
                        } else {
                            (f.choice + 1) % n
                        };
                        f.touched = true;
                    }
                }
            }
            Action::Back => return FormOutcome::Close,
            Action::Select if self.focus < last => self.move_to(self.focus + 1),
            Action::Select | Action::Confirm => return self.submit(),
            _ => {}
        }
        FormOutcome::Stay
    }

    fn move_to(&mut self, to: usize) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            f.touched = true;
        }
        self.focus = to;
    }

    /// Starts only when every value is valid; otherwise goes to the first bad field.
    fn submit(&mut self) -> FormOutcome {
        for f in &mut self.fields {
            f.touched = true;
        }
        let bad: Vec<usize> = (0..self.fields.len())
            .filter(|i| self.fields[*i].error().is_some())
            .collect();
        if let Some(first) = bad.first() {
            self.focus = *first;
            self.notice = Some(match bad.len() {
                1 => "one value needs fixing before the run can start".into(),
                n => format!("{n} values need fixing before the run can start"),
            });
            return FormOutcome::Stay;
        }
        let mut params = self.given.clone();
        for f in &self.fields {
            params.insert(f.param.name.clone(), f.value());
        }
        FormOutcome::Start(params)
    }
}

fn field_for(p: &Param, backups: &[String], connections: &[String]) -> Field {
    let default = p.default.clone().unwrap_or_default();
    let choices: Vec<String> = match p.kind {
        ParamKind::Choice => p.choices.clone(),
        // Only the backups this parameter accepts (a `*.sql.gz` dump for restore-postgres).
        ParamKind::Backup => backups
            .iter()
            .filter(|b| p.validate(b).is_ok())
            .cloned()
            .collect(),
        ParamKind::Connection if !connections.is_empty() => {
            let mut c = connections.to_vec();
            if !default.is_empty() && !c.contains(&default) {
                c.insert(0, default.clone());
            }
            c
        }
        _ => Vec::new(),
    };
    let choice = choices.iter().position(|c| *c == default).unwrap_or(0);
    Field {
        param: p.clone(),
        input: text::field(&default, p.kind == ParamKind::Secret),
        choices,
        choice,
        touched: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::spec::load_all;

    fn spec(name: &str) -> Runbook {
        load_all(&[])
            .0
            .into_iter()
            .find(|b| b.name == name)
            .unwrap()
    }

    #[test]
    fn the_form_asks_what_no_step_asks_and_keeps_what_was_given() {
        let s = spec("restore-postgres");
        let given = BTreeMap::from([("dump".to_string(), "/b/db/x.sql.gz".to_string())]);
        let f = ParamForm::new(&s, &given, false, false, &[], &[]).unwrap();
        let names: Vec<&str> = f.fields.iter().map(|f| f.param.name.as_str()).collect();
        assert!(names.contains(&"database") && names.contains(&"services"));
        assert!(!names.contains(&"dump"), "given by the opener");
        assert_eq!(f.fields[0].value(), "backup_mgmt", "defaults filled in");
    }

    #[test]
    fn backups_offered_are_the_ones_the_parameter_accepts() {
        let mut s = spec("restore-postgres");
        s.steps.retain(|st| st.id != "choose");
        let backups = vec!["/b/blog/daily/2026-11-20".into(), "/b/db/1.sql.gz".into()];
        let f = ParamForm::new(&s, &BTreeMap::new(), false, false, &backups, &[]).unwrap();
        let dump = f.fields.iter().find(|f| f.param.name == "dump").unwrap();
        assert_eq!(dump.choices, vec!["/b/db/1.sql.gz".to_string()]);
    }

    #[test]
    fn a_folder_restore_offers_dated_folders_not_dumps() {
        let mut s = spec("restore-files");
        s.steps.retain(|st| st.id != "choose");
        let backups = vec![
            "/b/blog/daily/2026-11-20".into(),
            "/b/db/20261120_030000.sql.gz".into(),
            "/b/blog/weekly/2026-11-16/".into(),
        ];
        let f = ParamForm::new(&s, &BTreeMap::new(), false, false, &backups, &[]).unwrap();
        let folder = f.fields.iter().find(|f| f.param.name == "backup").unwrap();
        assert_eq!(
            folder.choices,
            vec![
                "/b/blog/daily/2026-11-20".to_string(),
                "/b/blog/weekly/2026-11-16/".to_string()
            ]
        );
    }
}
