//! Colour themes: named styles per element (`tab.active`, `gauge.warn` …), read from TOML
//! files with `inherits` and a `[palette]`, and degraded to the terminal's colours.
//!
//! ```toml
//! inherits = "default"
//! "tab.active" = { fg = "black", bg = "frost", modifiers = ["bold"] }
//! "text.dim" = "dark_gray"          # a plain string is the foreground
//! [palette]                         # last: TOML puts every later key in this table
//! frost = "#88c0d0"
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use toml::de::DeValue;
use toml::Spanned;

pub use super::color::ColorSupport;
use super::color::{color_names, parse_color_name};
use super::error::{line_col, ConfigError};
use super::suggest::hint;

/// Every element the UI draws with `theme.style(..)`. Each shipped theme defines all of them
/// (itself or through `inherits`); a theme file naming anything else is a mistake.
pub const ELEMENTS: &[&str] = &[
    "text",
    "text.dim",
    "title",
    "border",
    "border.focus",
    "tab",
    "tab.active",
    "status.ok",
    "status.warn",
    "status.crit",
    "status.unknown",
    "status.stale",
    "gauge.ok",
    "gauge.warn",
    "gauge.crit",
    "sparkline",
    "selection",
    "header",
    "help.key",
    "help.desc",
    "help.context",
    "footer",
    "footer.key",
    "popup",
    "popup.title",
    "empty",
    "danger",
    "input",
    "input.invalid",
    "wizard.step.pending",
    "wizard.step.running",
    "wizard.step.done",
    "wizard.step.failed",
    "wizard.step.skipped",
    "wizard.command",
    // Calendar
    "calendar.today",
    "calendar.overdue",
    "calendar.due",
    "calendar.missed",
    "calendar.done",
    "calendar.upcoming",
    "calendar.outside",
    // Alarms
    "alarm.firing",
    "alarm.nodata",
    "alarm.ok",
    "alarm.handled",
    "alarm.new",
    "alarm.p1",
    "alarm.p2",
    "alarm.p3",
    "alarm.p4",
    "alarm.runbook",
    "chart.axis",
    "chart.line",
    "chart.line.2",
    "chart.line.3",
    "chart.line.4",
    "chart.threshold",
];

/// The themes embedded in the binary.
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../../themes/default.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    (
        "monochrome",
        include_str!("../../../themes/monochrome.toml"),
    ),
    ("nord", include_str!("../../../themes/nord.toml")),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    styles: HashMap<String, Style>,
}

impl Theme {
    /// The style of an element; `a.b.c` falls back to `a.b`, then `a`, then `text`.
    pub fn style(&self, key: &str) -> Style {
        let mut k = key;
        loop {
            if let Some(s) = self.styles.get(k) {
                return *s;
            }
            match k.rfind('.') {
                Some(i) => k = &k[..i],
                None => break,
            }
        }
        self.styles.get("text").copied().unwrap_or_default()
    }

    pub fn from_styles(name: &str, styles: HashMap<String, Style>) -> Self {
        Theme {
            name: name.into(),
            styles,
        }
    }

    /// True when the element has its own style (not a fallback).
    pub fn defines(&self, element: &str) -> bool {
        self.styles.contains_key(element)
    }

    /// The shipped default theme for a 16-colour terminal (tests, and the last resort).
    pub fn fallback() -> Self {
        match load_theme("default", None, ColorSupport::Ansi16) {
            (Some(t), _) => t,
            // Unreachable while the shipped-theme tests pass; still never panic on it.
            (None, _) => {
                let mut s = HashMap::new();
                s.insert("text".into(), Style::default());
                s.insert(
                    "selection".into(),
                    Style::default().add_modifier(Modifier::REVERSED),
                );
                Theme::from_styles("default", s)
            }
        }
    }
}

/// Names of all themes: shipped ones and `*.toml` in `themes_dir`, sorted.
pub fn theme_names(themes_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = SHIPPED.iter().map(|(n, _)| n.to_string()).collect();
    names.extend(super::paths::toml_stems(themes_dir));
    names.sort();
    names.dedup();
    names
}

/// Loads theme `name` (a user file in `themes_dir` wins over a shipped one) for a terminal
/// with `support`. `None` when there is no such theme or it cannot be read at all; the
/// problems say why. A theme with a few bad entries still loads, without those entries.
pub fn load_theme(
    name: &str,
    themes_dir: Option<&Path>,
    support: ColorSupport,
) -> (Option<Theme>, Vec<ConfigError>) {
    let mut problems = Vec::new();
    let mut chain = Vec::new();
    let merged = resolve(name, themes_dir, true, &mut chain, &mut problems);
    let theme = merged.map(|raw| build(name, raw, support, &mut problems));
    (theme, problems)
}

#[derive(Debug, Clone)]
struct Origin {
    file: PathBuf,
    line: usize,
    col: usize,
}

impl Origin {
    fn error(&self, field: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::new(&self.file, message)
            .at(self.line, self.col)
            .field(field)
    }
}

#[derive(Debug, Clone)]
enum ColorSpec {
    Name(String),
    Index(i64),
}

#[derive(Debug, Clone, Default)]
struct RawStyle {
    fg: Option<(ColorSpec, Origin)>,
    bg: Option<(ColorSpec, Origin)>,
    modifiers: Modifier,
}

#[derive(Debug, Clone, Default)]
struct RawTheme {
    inherits: Option<(String, Origin)>,
    palette: HashMap<String, Color>,
    elements: HashMap<String, RawStyle>,
}

fn shipped_source(name: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

fn shipped_path(name: &str) -> PathBuf {
    PathBuf::from(format!("<builtin>/themes/{name}.toml"))
}

/// The theme with its parents merged in (palette and elements of the child win).
fn resolve(
    name: &str,
    themes_dir: Option<&Path>,
    prefer_user: bool,
    chain: &mut Vec<(String, bool)>,
    problems: &mut Vec<ConfigError>,
) -> Option<RawTheme> {
    let user_file = themes_dir
        .filter(|_| prefer_user)
        .map(|d| d.join(format!("{name}.toml")))
        .filter(|p| p.is_file());
    let mut parsed = None;
    let mut from_user = false;
    if let Some(path) = &user_file {
        match std::fs::read_to_string(path) {
            Ok(src) => match parse_theme(path, &src, problems) {
                Some(raw) => {
                    parsed = Some(raw);
                    from_user = true;
                }
                None => {
                    if shipped_source(name).is_some() {
                        problems.push(ConfigError::new(
                            path,
                            format!("ignored; using the shipped theme `{name}` instead"),
                        ));
                    }
                }
            },
            Err(e) => problems.push(ConfigError::new(path, format!("cannot read: {e}"))),
        }
    }
    if parsed.is_none() {
        let src = shipped_source(name)?;
        parsed = parse_theme(&shipped_path(name), src, problems);
    }
    let raw = parsed?;
    chain.push((name.to_string(), from_user));

    let mut base = RawTheme::default();
    if let Some((parent, origin)) = &raw.inherits {
        // A user file inheriting its own name builds on the shipped theme of that name.
        let parent_from_user = !(from_user && parent == name);
        let parent_is_user = parent_from_user
            && themes_dir.is_some_and(|d| d.join(format!("{parent}.toml")).is_file());
        let parent_exists = parent_is_user || shipped_source(parent).is_some();
        let cyclic = chain.contains(&(parent.clone(), parent_is_user)) || chain.len() > 32;
        if cyclic {
            let mut names: Vec<&str> = chain.iter().map(|(n, _)| n.as_str()).collect();
            names.push(parent);
            problems
                .push(origin.error("inherits", format!("inherits cycle: {}", names.join(" → "))));
        } else if !parent_exists {
            let known = theme_names(themes_dir);
            problems.push(origin.error(
                "inherits",
                format!(
                    "unknown theme `{parent}`{}",
                    hint(parent, known.iter().map(String::as_str))
                ),
            ));
        } else if let Some(b) = resolve(parent, themes_dir, parent_from_user, chain, problems) {
            base = b;
        }
    }
    chain.pop();
    base.palette.extend(raw.palette);
    base.elements.extend(raw.elements);
    base.inherits = None;
    Some(base)
}

/// Reads one theme file. `None` only when it is not TOML at all.
fn parse_theme(file: &Path, src: &str, problems: &mut Vec<ConfigError>) -> Option<RawTheme> {
    let doc = match super::locate::parse(src) {
        Ok(d) => d,
        Err(e) => {
            problems.push(ConfigError::from_toml(file, src, &e));
            return None;
        }
    };
    let origin = |span: std::ops::Range<usize>| {
        let (line, col) = line_col(src, span.start);
        Origin {
            file: file.to_path_buf(),
            line,
            col,
        }
    };
    let mut raw = RawTheme::default();
    for (k, v) in doc.get_ref().iter() {
        let key = k.get_ref().as_ref();
        let at = origin(k.span());
        match key {
            "inherits" => match v.get_ref().as_str() {
                Some(s) => raw.inherits = Some((s.to_string(), at)),
                None => problems.push(at.error("inherits", "must be a theme name in quotes")),
            },
            "palette" => match v.get_ref().as_table() {
                Some(t) => {
                    for (pk, pv) in t.iter() {
                        let field = format!("palette.{}", pk.get_ref());
                        let at = origin(pv.span());
                        match color_spec(pv) {
                            Some(spec) => match literal_color(&spec) {
                                Ok(c) => {
                                    raw.palette.insert(pk.get_ref().to_string(), c);
                                }
                                Err(msg) => problems.push(at.error(&field, msg)),
                            },
                            None if pv.get_ref().is_table() && is_element(pk.get_ref()) => problems
                                .push(at.error(
                                    &field,
                                    "this element style is inside [palette]: in TOML every key \
                                     after a [table] header belongs to it, so put [palette] last",
                                )),
                            None => {
                                problems.push(at.error(
                                    &field,
                                    "a palette colour is a name, \"#rrggbb\" or 0-255",
                                ))
                            }
                        }
                    }
                }
                None => problems.push(at.error("palette", "must be a table of named colours")),
            },
            element if is_element(element) => {
                if let Some(style) = parse_style(element, v, &origin, problems) {
                    raw.elements.insert(element.to_string(), style);
                }
            }
            other => {
                let candidates = ELEMENTS.iter().copied().chain(["inherits", "palette"]);
                problems.push(at.error(
                    other,
                    format!("unknown theme element `{other}`{}", hint(other, candidates)),
                ));
            }
        }
    }
    Some(raw)
}

/// Elements, and their dotted parents (`status`, `wizard.step`) which set a shared fallback.
fn is_element(name: &str) -> bool {
    ELEMENTS
        .iter()
        .any(|e| *e == name || (e.starts_with(name) && e[name.len()..].starts_with('.')))
}

fn color_spec(v: &Spanned<DeValue<'_>>) -> Option<ColorSpec> {
    match v.get_ref() {
        DeValue::String(s) => Some(ColorSpec::Name(s.to_string())),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(ColorSpec::Index),
        _ => None,
    }
}

fn literal_color(spec: &ColorSpec) -> Result<Color, String> {
    match spec {
        ColorSpec::Index(i) => u8::try_from(*i)
            .map(Color::Indexed)
            .map_err(|_| format!("colour index {i} is not in 0-255")),
        ColorSpec::Name(n) => parse_color_name(n).ok_or_else(|| {
            format!(
                "unknown colour `{n}`{}; use a name, \"#rrggbb\" or 0-255",
                hint(n, color_names())
            )
        }),
    }
}

const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("underline", Modifier::UNDERLINED),
    ("slow_blink", Modifier::SLOW_BLINK),
    ("rapid_blink", Modifier::RAPID_BLINK),
    ("reversed", Modifier::REVERSED),
    ("reverse", Modifier::REVERSED),
    ("hidden", Modifier::HIDDEN),
    ("crossed_out", Modifier::CROSSED_OUT),
];

fn parse_style(
    element: &str,
    v: &Spanned<DeValue<'_>>,
    origin: &dyn Fn(std::ops::Range<usize>) -> Origin,
    problems: &mut Vec<ConfigError>,
) -> Option<RawStyle> {
    let mut style = RawStyle::default();
    let table = match v.get_ref() {
        DeValue::String(_) | DeValue::Integer(_) => {
            style.fg = color_spec(v).map(|c| (c, origin(v.span())));
            return Some(style);
        }
        DeValue::Table(t) => t,
        _ => {
            problems.push(origin(v.span()).error(
                element,
                "a style is a colour or a table like { fg = \"black\", bg = \"cyan\", modifiers = [\"bold\"] }",
            ));
            return None;
        }
    };
    for (k, fv) in table.iter() {
        let field = format!("{element}.{}", k.get_ref());
        match k.get_ref().as_ref() {
            "fg" | "bg" => {
                let at = origin(fv.span());
                match color_spec(fv) {
                    Some(c) if k.get_ref() == "fg" => style.fg = Some((c, at)),
                    Some(c) => style.bg = Some((c, at)),
                    None => {
                        problems.push(at.error(&field, "a colour is a name, \"#rrggbb\" or 0-255"))
                    }
                }
            }
            "modifiers" => match fv.get_ref().as_array() {
                Some(items) => {
                    for item in items.iter() {
                        let at = origin(item.span());
                        let name = item.get_ref().as_str().unwrap_or("");
                        match MODIFIERS.iter().find(|(n, _)| *n == name) {
                            Some((_, m)) => style.modifiers |= *m,
                            None => problems.push(at.error(
                                &field,
                                format!(
                                    "unknown modifier `{name}`{}",
                                    hint(name, MODIFIERS.iter().map(|m| m.0))
                                ),
                            )),
                        }
                    }
                }
                None => problems.push(
                    origin(fv.span())
                        .error(&field, "must be a list such as [\"bold\", \"reversed\"]"),
                ),
            },
            other => problems.push(origin(k.span()).error(
                &field,
                format!(
                    "unknown style field `{other}`{}",
                    hint(other, ["fg", "bg", "modifiers"])
                ),
            )),
        }
    }
    Some(style)
}

/// Resolves palette names and degrades colours; bad colour references are reported and left out.
fn build(
    name: &str,
    raw: RawTheme,
    support: ColorSupport,
    problems: &mut Vec<ConfigError>,
) -> Theme {
    let mut styles = HashMap::new();
    let palette = raw.palette;
    let mut elements: Vec<_> = raw.elements.into_iter().collect();
    elements.sort_by(|a, b| a.0.cmp(&b.0));
    for (element, rs) in elements {
        let mut color = |slot: Option<(ColorSpec, Origin)>, which: &str| -> Option<Color> {
            let (spec, origin) = slot?;
            if let ColorSpec::Name(n) = &spec {
                if let Some(c) = palette.get(n) {
                    return Some(*c);
                }
            }
            match literal_color(&spec) {
                Ok(c) => Some(c),
                Err(_) => {
                    let n = match &spec {
                        ColorSpec::Name(n) => n.clone(),
                        ColorSpec::Index(i) => i.to_string(),
                    };
                    let mut candidates: Vec<&str> = color_names().collect::<Vec<&'static str>>();
                    candidates.extend(palette.keys().map(String::as_str));
                    problems.push(origin.error(
                        &format!("{element}.{which}"),
                        format!(
                            "unknown colour `{n}`{}; use a palette name, a colour name, \"#rrggbb\" or 0-255",
                            hint(&n, candidates)
                        ),
                    ));
                    None
                }
            }
        };
        let fg = color(rs.fg, "fg");
        let bg = color(rs.bg, "bg");
        let style = Style {
            fg,
            bg,
            add_modifier: rs.modifiers,
            ..Style::default()
        };
        styles.insert(element, support.degrade_style(style));
    }
    Theme::from_styles(name, styles)
}

#[cfg(test)]
mod tests;
