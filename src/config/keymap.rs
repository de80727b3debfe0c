//! Key bindings: keys map to named [`Action`]s per context.
//! (Interface stub: user layering, `inherits`, conflict reports to be filled in.)

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use crate::action::Action;

/// Where a key is pressed. Lookups try the most specific context first, `Global` last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyContext {
    Global,
    List,
    Backups,
    Wizard,
    Help,
    Input,
}

impl KeyContext {
    pub const ALL: [KeyContext; 6] = [
        KeyContext::Global,
        KeyContext::List,
        KeyContext::Backups,
        KeyContext::Wizard,
        KeyContext::Help,
        KeyContext::Input,
    ];

    pub fn name(self) -> &'static str {
        match self {
            KeyContext::Global => "global",
            KeyContext::List => "list",
            KeyContext::Backups => "backups",
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

/// One key press: code plus modifiers, written like `q`, `<C-c>`, `<S-Tab>`, `<Enter>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Self {
        // Shift is implied by the character itself; BackTab is Shift-Tab.
        let mods = match code {
            KeyCode::Char(_) => mods - KeyModifiers::SHIFT,
            KeyCode::BackTab => mods - KeyModifiers::SHIFT,
            _ => mods,
        };
        Key { code, mods }
    }
}

impl From<KeyEvent> for Key {
    fn from(e: KeyEvent) -> Self {
        Key::new(e.code, e.modifiers)
    }
}

impl FromStr for Key {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.chars().count() == 1 {
            return Ok(Key::new(
                KeyCode::Char(s.chars().next().unwrap()),
                KeyModifiers::NONE,
            ));
        }
        let inner = s
            .strip_prefix('<')
            .and_then(|r| r.strip_suffix('>'))
            .ok_or_else(|| format!("`{s}` is not a key: write `q`, `<C-c>`, `<Enter>`"))?;
        let mut mods = KeyModifiers::NONE;
        let mut rest = inner;
        while rest.len() > 2 && rest.as_bytes()[1] == b'-' {
            match &rest[..1] {
                "C" => mods |= KeyModifiers::CONTROL,
                "S" => mods |= KeyModifiers::SHIFT,
                "A" | "M" => mods |= KeyModifiers::ALT,
                m => return Err(format!("unknown modifier `{m}` in `{s}` (use C, S, A)")),
            }
            rest = &rest[2..];
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "cr" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" | "bs" => KeyCode::Backspace,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "delete" | "del" => KeyCode::Delete,
            "insert" => KeyCode::Insert,
            "lt" => KeyCode::Char('<'),
            "gt" => KeyCode::Char('>'),
            f if f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().unwrap())
            }
            _ if rest.chars().count() == 1 => KeyCode::Char(rest.chars().next().unwrap()),
            _ => return Err(format!("unknown key `{rest}` in `{s}`")),
        };
        Ok(Key::new(code, mods))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) if self.mods.is_empty() => return write!(f, "{c}"),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Backspace => "BS".into(),
            KeyCode::Up => "Up".into(),
            KeyCode::Down => "Down".into(),
            KeyCode::Left => "Left".into(),
            KeyCode::Right => "Right".into(),
            KeyCode::PageUp => "PageUp".into(),
            KeyCode::PageDown => "PageDown".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        let mut prefix = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            prefix.push_str("C-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            prefix.push_str("A-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            prefix.push_str("S-");
        }
        write!(f, "<{prefix}{name}>")
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

impl Keymap {
    pub fn from_bindings(name: &str, contexts: HashMap<KeyContext, Vec<Binding>>) -> Self {
        Keymap {
            name: name.into(),
            contexts,
        }
    }

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

    /// The shipped default keymap (embedded).
    pub fn builtin_default() -> Keymap {
        parse_simple("default", include_str!("../../keymaps/default.toml"))
            .expect("shipped default keymap parses")
    }
}

#[derive(Deserialize)]
struct RawEntry {
    on: OneOrMany,
    run: String,
    #[serde(default)]
    desc: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Minimal parser of a keymap file (no layering).
pub fn parse_simple(name: &str, src: &str) -> Result<Keymap, String> {
    let raw: HashMap<String, HashMap<String, Vec<RawEntry>>> =
        toml::from_str(src).map_err(|e| e.to_string())?;
    let mut contexts = HashMap::new();
    for (ctx_name, section) in raw {
        let ctx: KeyContext = ctx_name
            .parse()
            .map_err(|_| format!("unknown context `{ctx_name}`"))?;
        let mut list = Vec::new();
        for e in section.into_values().flatten() {
            let on = match e.on {
                OneOrMany::One(s) => vec![s.parse::<Key>()?],
                OneOrMany::Many(v) => v.iter().map(|s| s.parse()).collect::<Result<_, _>>()?,
            };
            let action = e.run.parse::<Action>().map_err(|e| e.to_string())?;
            list.push(Binding {
                on,
                action,
                desc: e.desc,
            });
        }
        contexts.insert(ctx, list);
    }
    Ok(Keymap::from_bindings(name, contexts))
}
