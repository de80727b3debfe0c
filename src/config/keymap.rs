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

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use toml::de::DeValue;
use toml::Spanned;

use super::error::{line_col, ConfigError};
use super::suggest::hint;
use crate::action::Action;

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

impl Key {
    /// As hints write it: `v`, `Enter`, `C-r`, `S-Tab`, `Space`.
    pub fn short(&self) -> String {
        let full = self.to_string();
        full.strip_prefix('<')
            .and_then(|r| r.strip_suffix('>'))
            .map(str::to_string)
            .unwrap_or(full)
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

/// The keymaps embedded in the binary.
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("vim", include_str!("../../keymaps/vim.toml")),
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

/// Names of all keymaps: shipped ones and `*.toml` in `keymaps_dir`, sorted.
pub fn keymap_names(keymaps_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = SHIPPED.iter().map(|(n, _)| n.to_string()).collect();
    names.extend(super::paths::toml_stems(keymaps_dir));
    names.sort();
    names.dedup();
    names
}

/// Loads keymap `name`: the shipped one, with the user's file of that name in `keymaps_dir`
/// layered over it, or a user file of a new name (standalone, or `inherits = "…"`). Bad
/// entries are reported and left out; `None` when there is no such keymap or nothing usable.
pub fn load_keymap(name: &str, keymaps_dir: Option<&Path>) -> (Option<Keymap>, Vec<ConfigError>) {
    let mut problems = Vec::new();
    let mut chain = Vec::new();
    let entries = resolve(name, keymaps_dir, true, &mut chain, &mut problems);
    let keymap = entries.map(|ctxs| {
        report_prefix_conflicts(&ctxs, &mut problems);
        let contexts = ctxs
            .into_iter()
            .map(|(ctx, entries)| (ctx, entries.into_iter().map(|e| e.binding).collect()))
            .collect();
        Keymap::from_bindings(name, contexts)
    });
    (keymap, problems)
}

/// Parses one keymap file on its own (no layering); the first problem is the error.
pub fn parse_simple(name: &str, src: &str) -> Result<Keymap, String> {
    let mut problems = Vec::new();
    let file = PathBuf::from(format!("{name}.toml"));
    let layer = parse_layer(&file, src, &mut problems);
    if let Some(p) = problems.first() {
        return Err(p.to_string());
    }
    let contexts = layer
        .map(|l| l.contexts)
        .unwrap_or_default()
        .into_iter()
        .map(|(ctx, entries)| (ctx, entries.into_iter().map(|e| e.binding).collect()))
        .collect();
    Ok(Keymap::from_bindings(name, contexts))
}

#[derive(Debug, Clone)]
struct Origin {
    file: PathBuf,
    line: usize,
    col: usize,
    field: String,
}

impl Origin {
    fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::new(&self.file, message)
            .at(self.line, self.col)
            .field(&self.field)
    }

    fn is_builtin(&self) -> bool {
        self.file.starts_with("<builtin>")
    }
}

#[derive(Debug, Clone)]
struct Entry {
    binding: Binding,
    origin: Origin,
}

type Contexts = Vec<(KeyContext, Vec<Entry>)>;

struct Layer {
    inherits: Option<(String, Origin)>,
    contexts: Contexts,
}

fn shipped_source(name: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

fn shipped_path(name: &str) -> PathBuf {
    PathBuf::from(format!("<builtin>/keymaps/{name}.toml"))
}

fn resolve(
    name: &str,
    dir: Option<&Path>,
    prefer_user: bool,
    chain: &mut Vec<(String, bool)>,
    problems: &mut Vec<ConfigError>,
) -> Option<Contexts> {
    let user_file = dir
        .filter(|_| prefer_user)
        .map(|d| d.join(format!("{name}.toml")))
        .filter(|p| p.is_file());
    let shipped = |problems: &mut Vec<ConfigError>| {
        shipped_source(name).and_then(|s| parse_layer(&shipped_path(name), s, problems))
    };

    let (layer, from_user) = match &user_file {
        Some(path) => {
            let layer = match std::fs::read_to_string(path) {
                Ok(src) => parse_layer(path, &src, problems),
                Err(e) => {
                    problems.push(ConfigError::new(path, format!("cannot read: {e}")));
                    None
                }
            };
            match layer {
                Some(l) => (l, true),
                // Unreadable user file: go on with the shipped keymap of that name, if any.
                None => (shipped(problems)?, false),
            }
        }
        None => (shipped(problems)?, false),
    };
    chain.push((name.to_string(), from_user));

    // What this layer builds on: its `inherits`, or the shipped keymap it shares a name with.
    let parent = match (&layer.inherits, from_user && shipped_source(name).is_some()) {
        (Some((p, origin)), _) => Some((p.clone(), Some(origin.clone()))),
        (None, true) => Some((name.to_string(), None)),
        (None, false) => None,
    };
    let mut base = Contexts::new();
    if let Some((parent, origin)) = parent {
        let parent_from_user = !(from_user && parent == name);
        let parent_is_user =
            parent_from_user && dir.is_some_and(|d| d.join(format!("{parent}.toml")).is_file());
        let exists = parent_is_user || shipped_source(&parent).is_some();
        let err = |msg: String| match &origin {
            Some(o) => o.error(msg),
            None => ConfigError::new(shipped_path(&parent), msg),
        };
        if chain.contains(&(parent.clone(), parent_is_user)) || chain.len() > 32 {
            let mut names: Vec<&str> = chain.iter().map(|(n, _)| n.as_str()).collect();
            names.push(&parent);
            problems.push(err(format!("inherits cycle: {}", names.join(" → "))));
        } else if !exists {
            let known = keymap_names(dir);
            problems.push(err(format!(
                "unknown keymap `{parent}`{}",
                hint(&parent, known.iter().map(String::as_str))
            )));
        } else if let Some(b) = resolve(&parent, dir, parent_from_user, chain, problems) {
            base = b;
        }
    }
    chain.pop();
    Some(merge(base, layer.contexts))
}

/// Layers `upper` over `base`: same `on` in the same context replaces, new keys are appended.
fn merge(mut base: Contexts, upper: Contexts) -> Contexts {
    for (ctx, entries) in upper {
        let idx = match base.iter().position(|(c, _)| *c == ctx) {
            Some(i) => i,
            None => {
                base.push((ctx, Vec::new()));
                base.len() - 1
            }
        };
        let list = &mut base[idx].1;
        for e in entries {
            match list.iter_mut().find(|old| old.binding.on == e.binding.on) {
                Some(old) => *old = e,
                None => list.push(e),
            }
        }
    }
    base
}

/// A key bound alone and also as the start of a sequence in one context: the sequence could
/// never be typed.
fn report_prefix_conflicts(ctxs: &Contexts, problems: &mut Vec<ConfigError>) {
    for (ctx, entries) in ctxs {
        let live: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.binding.action != Action::Noop)
            .collect();
        for short in &live {
            for long in &live {
                let (s, l) = (&short.binding.on, &long.binding.on);
                if s.len() >= l.len() || !l.starts_with(s) {
                    continue;
                }
                // Blame the entry the user wrote; between two of theirs, the later one.
                let (blame, other) = match (short.origin.is_builtin(), long.origin.is_builtin()) {
                    (true, false) => (long, short),
                    (false, true) => (short, long),
                    _ if short.origin.file == long.origin.file
                        && short.origin.line > long.origin.line =>
                    {
                        (short, long)
                    }
                    _ => (long, short),
                };
                problems.push(blame.origin.error(format!(
                    "in [{}], `{}` is bound alone and `{}` starts with it ({}:{}): the longer \
                     sequence can never be typed",
                    ctx.name(),
                    keys_text(s),
                    keys_text(l),
                    other.origin.file.display(),
                    other.origin.line,
                )));
            }
        }
    }
}

fn keys_text(keys: &[Key]) -> String {
    keys.iter()
        .map(Key::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads one keymap file. `None` only when it is not TOML at all; bad entries are reported
/// and skipped.
fn parse_layer(file: &Path, src: &str, problems: &mut Vec<ConfigError>) -> Option<Layer> {
    let doc = match super::locate::parse(src) {
        Ok(d) => d,
        Err(e) => {
            problems.push(ConfigError::from_toml(file, src, &e));
            return None;
        }
    };
    let origin = |span: Range<usize>, field: String| {
        let (line, col) = line_col(src, span.start);
        Origin {
            file: file.to_path_buf(),
            line,
            col,
            field,
        }
    };
    let mut layer = Layer {
        inherits: None,
        contexts: Vec::new(),
    };
    for (k, v) in doc.get_ref().iter() {
        let key: &str = k.get_ref();
        if key == "inherits" {
            let at = origin(k.span(), "inherits".into());
            match v.get_ref().as_str() {
                Some(s) => layer.inherits = Some((s.to_string(), at)),
                None => problems.push(at.error("must be a keymap name in quotes")),
            }
            continue;
        }
        let Ok(ctx) = key.parse::<KeyContext>() else {
            let names = KeyContext::ALL.iter().map(|c| c.name()).chain(["inherits"]);
            problems.push(
                origin(k.span(), key.to_string())
                    .error(format!("unknown context `[{key}]`{}", hint(key, names))),
            );
            continue;
        };
        let Some(section) = v.get_ref().as_table() else {
            problems.push(
                origin(v.span(), key.to_string())
                    .error("a context is a table: `[list]` followed by `keymap = [ … ]`"),
            );
            continue;
        };
        let mut entries: Vec<Entry> = Vec::new();
        for (sk, sv) in section.iter() {
            let field = format!("{key}.{}", sk.get_ref());
            if sk.get_ref() != "keymap" {
                problems.push(origin(sk.span(), field).error(format!(
                    "unknown field `{}`{}",
                    sk.get_ref(),
                    hint(sk.get_ref(), ["keymap"])
                )));
                continue;
            }
            let Some(items) = sv.get_ref().as_array() else {
                problems.push(
                    origin(sv.span(), field)
                        .error("must be a list of { on = …, run = …, desc = … }"),
                );
                continue;
            };
            for (i, item) in items.iter().enumerate() {
                let field = format!("{key}.keymap[{i}]");
                if let Some(e) = parse_entry(item, &field, &origin, problems) {
                    if let Some(first) = entries.iter().find(|f| f.binding.on == e.binding.on) {
                        problems.push(e.origin.error(format!(
                            "`{}` is bound twice in [{key}] (also on line {})",
                            keys_text(&e.binding.on),
                            first.origin.line
                        )));
                        continue;
                    }
                    entries.push(e);
                }
            }
        }
        match layer.contexts.iter_mut().find(|(c, _)| *c == ctx) {
            Some((_, list)) => list.extend(entries),
            None => layer.contexts.push((ctx, entries)),
        }
    }
    Some(layer)
}

fn parse_entry(
    item: &Spanned<DeValue<'_>>,
    field: &str,
    origin: &dyn Fn(Range<usize>, String) -> Origin,
    problems: &mut Vec<ConfigError>,
) -> Option<Entry> {
    let Some(t) = item.get_ref().as_table() else {
        problems.push(
            origin(item.span(), field.to_string())
                .error("an entry is { on = \"q\", run = \"quit\", desc = \"Quit\" }"),
        );
        return None;
    };
    let mut on = None;
    let mut action = None;
    let mut desc = String::new();
    let mut ok = true;
    for (k, v) in t.iter() {
        let name: &str = k.get_ref();
        let f = format!("{field}.{name}");
        let at = origin(v.span(), f.clone());
        match name {
            "on" => {
                let strings: Option<Vec<&str>> = match v.get_ref() {
                    DeValue::String(s) => Some(vec![s.as_ref()]),
                    DeValue::Array(a) if !a.is_empty() => {
                        a.iter().map(|x| x.get_ref().as_str()).collect()
                    }
                    _ => None,
                };
                let Some(strings) = strings else {
                    problems
                        .push(at.error("`on` is a key like \"q\" or a list like [\"g\", \"g\"]"));
                    ok = false;
                    continue;
                };
                match strings
                    .iter()
                    .map(|s| s.parse::<Key>())
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(keys) => on = Some(keys),
                    Err(e) => {
                        problems.push(at.error(e));
                        ok = false;
                    }
                }
            }
            "run" => match v.get_ref().as_str().map(str::parse::<Action>) {
                Some(Ok(a)) => action = Some(a),
                Some(Err(e)) => {
                    problems.push(at.error(e.to_string()));
                    ok = false;
                }
                None => {
                    problems.push(at.error("`run` is an action name in quotes, like \"quit\""));
                    ok = false;
                }
            },
            "desc" => match v.get_ref().as_str() {
                Some(s) => desc = s.to_string(),
                None => problems.push(at.error("`desc` is text in quotes")),
            },
            other => problems.push(origin(k.span(), f).error(format!(
                "unknown field `{other}`{}",
                hint(other, ["on", "run", "desc"])
            ))),
        }
    }
    let at = origin(item.span(), field.to_string());
    if ok && on.is_none() {
        problems.push(at.error("missing `on` (the key)"));
    }
    if ok && action.is_none() {
        problems.push(at.error("missing `run` (the action)"));
    }
    Some(Entry {
        binding: Binding {
            on: on?,
            action: action?,
            desc,
        },
        // Duplicates and conflicts are about the key: name the `on` field.
        origin: Origin {
            field: format!("{field}.on"),
            ..at
        },
    })
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
    fn shipped_files_have_no_duplicate_keys_per_context() {
        for (name, src) in SHIPPED {
            let mut problems = Vec::new();
            let layer = parse_layer(Path::new(name), src, &mut problems).unwrap();
            assert!(problems.is_empty(), "{problems:?}");
            for (ctx, entries) in &layer.contexts {
                let mut seen = std::collections::HashSet::new();
                for e in entries {
                    assert!(
                        seen.insert(e.binding.on.clone()),
                        "{name} [{}] {:?}",
                        ctx.name(),
                        e.binding.on
                    );
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
