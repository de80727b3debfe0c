//! Key bindings: keys map to named [`Action`]s per context, read from yazi-style TOML files.
//!
//! ```toml
//! inherits = "default"            # optional
//! [list]
//! keymap = [
//!   { on = ["g", "g"], run = "top", desc = "First item" },
//!   { on = "<Home>", run = "noop" },          # unbinds <Home> in this context
//! ]
//! ```
//! A user file with the name of a shipped keymap layers over it: an entry with the same `on`
//! in the same context replaces the shipped one, others are added.

mod key;
mod load;

use std::collections::HashMap;
use std::str::FromStr;

use crate::action::Action;

pub use key::Key;
pub use load::{keymap_names, load_keymap, parse_simple};
/// Where a key is pressed. Lookups try the most specific context first, `Global` last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyContext {
    Global,
    List,
    Overview,
    Alarms,
    Backups,
    Logs,
    Calendar,
    Services,
    Picker,
    Form,
    Wizard,
    Help,
    Input,
}

impl KeyContext {
    pub const ALL: [KeyContext; 13] = [
        KeyContext::Global,
        KeyContext::List,
        KeyContext::Overview,
        KeyContext::Alarms,
        KeyContext::Backups,
        KeyContext::Logs,
        KeyContext::Calendar,
        KeyContext::Services,
        KeyContext::Picker,
        KeyContext::Form,
        KeyContext::Wizard,
        KeyContext::Help,
        KeyContext::Input,
    ];

    pub fn name(self) -> &'static str {
        match self {
            KeyContext::Global => "global",
            KeyContext::List => "list",
            KeyContext::Overview => "overview",
            KeyContext::Alarms => "alarms",
            KeyContext::Backups => "backups",
            KeyContext::Logs => "logs",
            KeyContext::Calendar => "calendar",
            KeyContext::Services => "services",
            KeyContext::Picker => "picker",
            KeyContext::Form => "form",
            KeyContext::Wizard => "wizard",
            KeyContext::Help => "help",
            KeyContext::Input => "input",
        }
    }
}

impl FromStr for KeyContext {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        KeyContext::ALL
            .iter()
            .copied()
            .find(|c| c.name() == s)
            .ok_or(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub on: Vec<Key>,
    pub action: Action,
    pub desc: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Keymap {
    pub name: String,
    contexts: HashMap<KeyContext, Vec<Binding>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyResult {
    Action(Action),
    /// The keys so far are the start of a longer binding: wait for more.
    Pending,
    Unbound,
}

/// The keymaps embedded in the binary.
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../../keymaps/default.toml")),
    ("vim", include_str!("../../../keymaps/vim.toml")),
];

impl Keymap {
    pub fn from_bindings(name: &str, contexts: HashMap<KeyContext, Vec<Binding>>) -> Self {
        Keymap {
            name: name.into(),
            contexts,
        }
    }

    /// The bindings of one context in file order, including `noop` ones (which shadow a
    /// key of a less specific context).
    pub fn bindings(&self, ctx: KeyContext) -> &[Binding] {
        self.contexts.get(&ctx).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Resolves `pending` + `key` in the given contexts (most specific first); `Global` is
    /// always tried last.
    pub fn resolve(&self, contexts: &[KeyContext], pending: &[Key], key: Key) -> KeyResult {
        let mut seq: Vec<Key> = pending.to_vec();
        seq.push(key);
        let order = contexts
            .iter()
            .copied()
            .filter(|c| *c != KeyContext::Global)
            .chain(std::iter::once(KeyContext::Global));
        for ctx in order {
            for b in self.bindings(ctx) {
                if b.on == seq {
                    return if b.action == Action::Noop {
                        KeyResult::Unbound
                    } else {
                        KeyResult::Action(b.action)
                    };
                }
            }
            if self
                .bindings(ctx)
                .iter()
                .any(|b| b.on.len() > seq.len() && b.on.starts_with(&seq))
            {
                return KeyResult::Pending;
            }
        }
        KeyResult::Unbound
    }

    /// The keys that reach `action` in these contexts (most specific first, `Global` last),
    /// written short (`v`, `Enter`, `C-r`, `g g`), in binding order. A key a more specific
    /// context binds to something else is left out: it would not do what a hint says.
    pub fn keys_for(&self, contexts: &[KeyContext], action: Action) -> Vec<String> {
        let order = contexts
            .iter()
            .copied()
            .filter(|c| *c != KeyContext::Global)
            .chain(std::iter::once(KeyContext::Global));
        let mut out = Vec::new();
        for ctx in order {
            for b in self.bindings(ctx) {
                if b.action != action || b.on.is_empty() {
                    continue;
                }
                let (last, pending) = b.on.split_last().expect("not empty");
                if self.resolve(contexts, pending, *last) == KeyResult::Action(action) {
                    let keys: Vec<String> = b.on.iter().map(Key::short).collect();
                    let k = keys.join(" ");
                    if !out.contains(&k) {
                        out.push(k);
                    }
                }
            }
        }
        out
    }

    /// The first key of [`Keymap::keys_for`]: what a one-line hint names.
    pub fn key_for(&self, contexts: &[KeyContext], action: Action) -> Option<String> {
        self.keys_for(contexts, action).into_iter().next()
    }

    /// What the help overlay shows: per context (in [`KeyContext::ALL`] order, empty ones left
    /// out) the keys as written (`g g`, `<C-c>`) and their description, in file order.
    /// Unbound (`noop`) keys are omitted.
    pub fn help_sections(&self) -> Vec<(&'static str, Vec<(String, String)>)> {
        KeyContext::ALL
            .iter()
            .filter_map(|ctx| {
                let rows: Vec<(String, String)> = self
                    .bindings(*ctx)
                    .iter()
                    .filter(|b| b.action != Action::Noop)
                    .map(|b| {
                        let keys: Vec<String> = b.on.iter().map(Key::to_string).collect();
                        let desc = if b.desc.is_empty() {
                            b.action.to_string()
                        } else {
                            b.desc.clone()
                        };
                        (keys.join(" "), desc)
                    })
                    .collect();
                (!rows.is_empty()).then_some((ctx.name(), rows))
            })
            .collect()
    }

    /// The shipped default keymap (embedded).
    pub fn builtin_default() -> Keymap {
        load_keymap("default", None).0.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Key {
        s.parse().unwrap()
    }

    #[test]
    fn every_shipped_keymap_loads_cleanly() {
        for (name, _) in SHIPPED {
            let (km, problems) = load_keymap(name, None);
            assert!(problems.is_empty(), "{name}: {problems:#?}");
            let km = km.unwrap();
            assert_eq!(
                km.resolve(&[KeyContext::List], &[], k("q")),
                KeyResult::Action(Action::Quit)
            );
        }
    }

    #[test]
    fn shipped_keymaps_leave_tmux_and_screen_prefixes_free() {
        for (name, _) in SHIPPED {
            let km = load_keymap(name, None).0.unwrap();
            for ctx in KeyContext::ALL {
                for b in km.bindings(ctx) {
                    for key in &b.on {
                        assert!(
                            *key != k("<C-b>") && *key != k("<C-a>"),
                            "{name} binds {key} in {}",
                            ctx.name()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn builtin_default_equals_the_shipped_file() {
        let km = Keymap::builtin_default();
        let simple = parse_simple("default", SHIPPED[0].1).unwrap();
        assert_eq!(km, simple);
        assert_eq!(
            km.resolve(&[KeyContext::List], &[], k("<Tab>")),
            KeyResult::Action(Action::TabNext)
        );
    }

    #[test]
    fn vim_adds_sequences_and_keeps_default_bindings() {
        let km = load_keymap("vim", None).0.unwrap();
        let list = [KeyContext::List];
        assert_eq!(km.resolve(&list, &[], k("g")), KeyResult::Pending);
        assert_eq!(
            km.resolve(&list, &[k("g")], k("g")),
            KeyResult::Action(Action::Top)
        );
        assert_eq!(
            km.resolve(&list, &[], k("G")),
            KeyResult::Action(Action::Bottom)
        );
        assert_eq!(
            km.resolve(&list, &[], k("j")),
            KeyResult::Action(Action::Down)
        );
        assert_eq!(
            km.resolve(&list, &[], k("<Down>")),
            KeyResult::Action(Action::Down)
        );
        assert_eq!(
            km.resolve(&list, &[], k("<C-d>")),
            KeyResult::Action(Action::PageDown)
        );
    }

    #[test]
    fn help_sections_follow_context_order_and_show_sequences() {
        let km = load_keymap("vim", None).0.unwrap();
        let help = km.help_sections();
        let names: Vec<&str> = help.iter().map(|(c, _)| *c).collect();
        assert_eq!(names[0], "global");
        assert!(names.windows(2).all(|w| {
            let pos = |n| KeyContext::ALL.iter().position(|c| c.name() == n);
            pos(w[0]) < pos(w[1])
        }));
        let list = &help.iter().find(|(c, _)| *c == "list").unwrap().1;
        assert!(list
            .iter()
            .any(|(keys, desc)| keys == "g g" && desc == "First item"));
        let global = &help[0].1;
        assert!(global.iter().any(|(keys, _)| keys == "<C-c>"));
    }

    #[test]
    fn a_new_user_keymap_can_inherit_vim_and_bad_sections_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            "inherits = \"vim\"\n[lsit]\nkeymap = []\n[list]\nkeymap = [{ on = \"<C-y>\", run = \"top\" }]\n",
        )
        .unwrap();
        let (km, p) = load_keymap("mine", Some(dir.path()));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].line, p[0].field.as_deref()), (Some(2), Some("lsit")));
        assert!(p[0].message.contains("did you mean `list`?"), "{}", p[0]);
        let km = km.unwrap();
        let list = [KeyContext::List];
        assert_eq!(
            km.resolve(&list, &[], k("<C-y>")),
            KeyResult::Action(Action::Top)
        );
        assert_eq!(
            km.resolve(&list, &[], k("j")),
            KeyResult::Action(Action::Down)
        );
        assert_eq!(
            km.resolve(&list, &[], k("q")),
            KeyResult::Action(Action::Quit)
        );
    }

    #[test]
    fn keymap_inherits_cycle_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), "inherits = \"b\"\n").unwrap();
        std::fs::write(dir.path().join("b.toml"), "inherits = \"a\"\n").unwrap();
        let (km, p) = load_keymap("a", Some(dir.path()));
        assert!(km.is_some());
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].message.contains("inherits cycle: a → b → a"),
            "{}",
            p[0]
        );
    }
}
