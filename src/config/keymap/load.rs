//! Reading keymap files: shipped presets, a user file layered over the preset of its name,
//! and every problem reported with file, line and field.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::DeValue;
use toml::Spanned;

use super::super::error::{line_col, ConfigError};
use super::super::suggest::hint;
use crate::action::Action;

use super::*;
/// Names of all keymaps: shipped ones and `*.toml` in `keymaps_dir`, sorted.
pub fn keymap_names(keymaps_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = SHIPPED.iter().map(|(n, _)| n.to_string()).collect();
    names.extend(crate::config::paths::toml_stems(keymaps_dir));
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
    let doc = match crate::config::locate::parse(src) {
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
}
