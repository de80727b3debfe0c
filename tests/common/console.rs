//! Drives the console as an operator does: key presses through the active keymap (never an
//! action handed in directly, so a hint naming an unbound key fails), the runner's reports
//! as messages, and the whole screen drawn as it would be.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;

use crossterm::event::{KeyEvent, KeyEventKind, KeyEventState};
use toban::config::keymap::Key;
use toban::console::update;
use toban::runbook::runner::{Job, RunnerMsg};
use toban::runbook::spec::Runbook;
use toban::state::{Effect, Msg, State};

pub struct Console {
    pub s: State,
    /// Effects asked for so far, oldest first.
    pub fx: Vec<Effect>,
}

impl Console {
    pub fn new(runbooks: Vec<Runbook>) -> Console {
        let mut s = super::new_state();
        s.runbooks = Arc::new(runbooks);
        s.session.user = "operator".into();
        s.session.ssh_client = Some("203.0.113.7 port 52114".into());
        Console { s, fx: Vec::new() }
    }

    /// The shipped runbooks.
    pub fn shipped() -> Console {
        Console::new(toban::runbook::spec::load_all(&[]).0)
    }

    pub fn msg(&mut self, m: Msg) -> bool {
        let (dirty, fx) = update(&mut self.s, m);
        self.fx.extend(fx);
        dirty
    }

    /// Keys as the keymap files write them, separated by spaces: `R <Down> <Enter> y`.
    pub fn keys(&mut self, seq: &str) {
        for k in seq.split_whitespace() {
            let key = Key::from_str(k).unwrap_or_else(|e| panic!("{e}"));
            self.press(key);
        }
    }

    pub fn press(&mut self, key: Key) {
        let ev = KeyEvent {
            code: key.code,
            modifiers: key.mods,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        };
        self.msg(Msg::Key(ev));
    }

    /// Typed text, one key per character (spaces included).
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(Key::new(
                crossterm::event::KeyCode::Char(c),
                crossterm::event::KeyModifiers::NONE,
            ));
        }
    }

    /// Types `kv` into the parameter form, field by field, and starts the run.
    pub fn fill_form(&mut self, kv: &[(&str, &str)]) {
        let Some(form) = self.s.form.as_ref() else {
            return;
        };
        let names: Vec<String> = form.fields.iter().map(|f| f.param.name.clone()).collect();
        for name in names {
            if let Some((_, v)) = kv.iter().find(|(k, _)| *k == name) {
                self.keys("<C-u>");
                self.type_text(v);
            }
            self.keys("<Down>");
        }
        self.keys("<Enter>");
        assert!(
            self.s.form.is_none(),
            "the form did not start the run:\n{}",
            self.screen(80, 24)
        );
    }

    pub fn runner(&mut self, m: RunnerMsg) {
        self.msg(Msg::Runner(m));
    }

    /// The runner jobs asked for since the last call.
    pub fn take_jobs(&mut self) -> Vec<Job> {
        let mut jobs = Vec::new();
        for e in std::mem::take(&mut self.fx) {
            if let Effect::RunnerJobs(j) = e {
                jobs.extend(j);
            }
        }
        jobs
    }

    pub fn screen(&self, w: u16, h: u16) -> String {
        let theme = toban::config::theme::Theme::fallback();
        let buf = super::draw(&self.s, &theme, w, h);
        super::dump(&buf, false)
    }
}
