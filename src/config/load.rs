//! Loading config.toml, the theme and the keymap at start. Never fails: every mistake becomes
//! a [`ConfigError`] in [`Loaded::problems`] and toban goes on with the presets.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::DeTable;
use toml::Spanned;

use super::error::{line_col, ConfigError};
use super::keymap::{keymap_names, load_keymap, Keymap};
use super::lenient;
use super::locate;
use super::paths::Paths;
use super::suggest::hint;
use super::theme::{load_theme, theme_names, ColorSupport, Theme};
use super::validate::FieldProblem;
use super::Config;

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `--config PATH`; otherwise `<config_dir>/config.toml` (which may be absent).
    pub config_path: Option<PathBuf>,
    /// `--theme NAME`: wins over config.toml and over `NO_COLOR`.
    pub theme: Option<String>,
    /// `--keymap NAME`: wins over config.toml.
    pub keymap: Option<String>,
    /// `NO_COLOR` is set (and not empty).
    pub no_color: bool,
    /// What the terminal can show; see [`ColorSupport::detect`].
    pub color_support: ColorSupport,
    pub paths: Paths,
}

impl LoadOptions {
    /// No overrides, a 16-colour terminal, files under `paths`.
    pub fn new(paths: Paths) -> Self {
        LoadOptions {
            config_path: None,
            theme: None,
            keymap: None,
            no_color: false,
            color_support: ColorSupport::Ansi16,
            paths,
        }
    }

    /// `NO_COLOR`, `COLORTERM` and `TERM` from the environment.
    pub fn from_env(paths: Paths) -> Self {
        LoadOptions {
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            color_support: ColorSupport::detect(),
            ..LoadOptions::new(paths)
        }
    }
}

#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub theme: Theme,
    pub keymap: Keymap,
    /// Everything wrong, in the order found; empty when all is well.
    pub problems: Vec<ConfigError>,
}

/// The config file, as read: kept so later problems (an unknown theme name) can point at
/// their line.
struct ConfigSource {
    path: PathBuf,
    text: String,
}

impl ConfigSource {
    fn error_at(&self, field: &str, message: String) -> ConfigError {
        let mut e = ConfigError::new(&self.path, message).field(field);
        if let Ok(doc) = locate::parse(&self.text) {
            if let Some(span) = locate::nearest_key_span(doc.get_ref(), field) {
                let (l, c) = line_col(&self.text, span.start);
                e = e.at(l, c);
            }
        }
        e
    }
}

/// Loads config, theme and keymap. Never fails and never panics on bad files.
pub fn load(opts: &LoadOptions) -> Loaded {
    let (config, source, mut problems) = read_config(opts);
    let user_error = |field: &str, origin: &str, msg: String| match (origin, &source) {
        ("config", Some(src)) => src.error_at(field, msg),
        _ => ConfigError::new(origin, msg).field(field),
    };

    // Theme: --theme, config.toml, monochrome for NO_COLOR, default. A named theme beats
    // NO_COLOR (https://no-color.org).
    let themes_dir = opts.paths.themes_dir();
    let (theme_name, theme_origin) = match (&opts.theme, &config.theme) {
        (Some(t), _) => (t.clone(), "--theme"),
        (None, Some(t)) => (t.clone(), "config"),
        (None, None) if opts.no_color => ("monochrome".to_string(), ""),
        (None, None) => ("default".to_string(), ""),
    };
    let support = if opts.no_color && theme_origin.is_empty() {
        ColorSupport::NoColor
    } else {
        opts.color_support
    };
    let preset = if opts.no_color {
        "monochrome"
    } else {
        "default"
    };
    let (theme, theme_problems) = load_theme(&theme_name, Some(&themes_dir), support);
    problems.extend(theme_problems);
    let theme = match theme {
        Some(t) => t,
        None => {
            let known = theme_names(Some(&themes_dir));
            if !known.contains(&theme_name) {
                problems.push(user_error(
                    "theme",
                    theme_origin,
                    format!(
                        "unknown theme `{theme_name}`{}; using `{preset}`",
                        hint(&theme_name, known.iter().map(String::as_str))
                    ),
                ));
            }
            load_theme(preset, None, support)
                .0
                .unwrap_or_else(Theme::fallback)
        }
    };

    let keymaps_dir = opts.paths.keymaps_dir();
    let (keymap_name, keymap_origin) = match &opts.keymap {
        Some(k) => (k.clone(), "--keymap"),
        None => (config.keymap.clone(), "config"),
    };
    let (keymap, keymap_problems) = load_keymap(&keymap_name, Some(&keymaps_dir));
    problems.extend(keymap_problems);
    let keymap = match keymap {
        Some(k) => k,
        None => {
            let known = keymap_names(Some(&keymaps_dir));
            if !known.contains(&keymap_name) {
                problems.push(user_error(
                    "keymap",
                    keymap_origin,
                    format!(
                        "unknown keymap `{keymap_name}`{}; using `default`",
                        hint(&keymap_name, known.iter().map(String::as_str))
                    ),
                ));
            }
            Keymap::builtin_default()
        }
    };

    Loaded {
        config,
        theme,
        keymap,
        problems,
    }
}

/// Reads and validates config.toml. Bad values are reported and replaced by their defaults;
/// a file that cannot be parsed at all gives the default config.
fn read_config(opts: &LoadOptions) -> (Config, Option<ConfigSource>, Vec<ConfigError>) {
    let explicit = opts.config_path.is_some();
    let path = opts
        .config_path
        .clone()
        .unwrap_or_else(|| opts.paths.config_file());
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return (Config::default(), None, Vec::new())
        }
        Err(e) => {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "no such file (given with --config); using the defaults".to_string()
            } else {
                format!("cannot read: {e}; using the defaults")
            };
            return (Config::default(), None, vec![ConfigError::new(&path, why)]);
        }
    };
    let (config, problems) = parse_config(&path, &text);
    (config, Some(ConfigSource { path, text }), problems)
}

/// Parses config.toml text. A syntax error (all are reported) gives the default config, as
/// the file's structure cannot be trusted. Otherwise every unknown key and wrong type is
/// reported and only that entry falls back to its default (see [`super::lenient`]); then
/// every value that makes no sense is reported and reset the same way.
pub fn parse_config(path: &Path, text: &str) -> (Config, Vec<ConfigError>) {
    let (doc, syntax) = toml::de::DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        let problems = syntax
            .iter()
            .map(|e| ConfigError::from_toml(path, text, e))
            .collect();
        return (Config::default(), problems);
    }
    let original = doc.get_ref();
    let mut work = doc.clone();
    let (mut config, rejected) = lenient::read::<Config>(original, &mut work);
    let mut problems: Vec<ConfigError> = rejected
        .into_iter()
        .map(|r| {
            let mut e = ConfigError::new(path, explain_serde_message(&r.message));
            if let Some(span) = r.span {
                let (l, c) = line_col(text, span.start);
                e = e.at(l, c);
            }
            e.field = r.field;
            e
        })
        .collect();

    // Semantic checks. Resetting a field can leave a conflict with another one (a warning
    // level above the default critical level): then the written part of the enclosing
    // table goes too, never a whole top-level section. Each field is reported once.
    let mut reported: Vec<String> = Vec::new();
    for _round in 0..8 {
        let found = config.validate();
        if found.is_empty() {
            break;
        }
        let mut progress = false;
        for p in &found {
            let target = reset_target(work.get_ref(), &p.field);
            if !reported.contains(&p.field) {
                reported.push(p.field.clone());
                problems.push(semantic_error(path, text, original, &work, p, &target));
            }
            if let Some((span, _)) = target {
                progress |= locate::remove_at(work.get_mut(), span.start);
            }
        }
        if !progress {
            break;
        }
        // Entries removed above may leave a required field missing (a mount override
        // without its path): that entry goes too, silently — its problem is reported.
        config = lenient::read::<Config>(original, &mut work).0;
    }
    (config, problems)
}

/// What to take out of the document so `field` gets its default: the field itself when it is
/// written, else its nearest written enclosing table below the top level. With the length of
/// the part of `field` that names it.
fn reset_target(doc: &DeTable<'_>, field: &str) -> Option<(Range<usize>, usize)> {
    let mut p = field;
    loop {
        if let Some(span) = locate::exact_span(doc, p) {
            return Some((span, p.len()));
        }
        let cut = p.rfind(['.', '['])?;
        p = &p[..cut];
        if !p.contains(['.', '[']) {
            return None;
        }
    }
}

/// A semantic problem with the file's line and the field as the file numbers it (`work`
/// may have lost array items, which shifts the indices validation sees).
fn semantic_error(
    path: &Path,
    text: &str,
    original: &DeTable<'_>,
    work: &Spanned<DeTable<'_>>,
    p: &FieldProblem,
    target: &Option<(Range<usize>, usize)>,
) -> ConfigError {
    let mut e =
        ConfigError::new(path, format!("{}; using the default", p.message)).field(p.field.clone());
    let at = match target {
        Some((span, matched)) => {
            if let Some(written) = locate::path_at(original, span.start) {
                e.field = Some(format!("{written}{}", &p.field[*matched..]));
            }
            Some(span.clone())
        }
        None => locate::nearest_key_span(work.get_ref(), &p.field),
    };
    if let Some(at) = at {
        let (l, c) = line_col(text, at.start);
        e = e.at(l, c);
    }
    e
}

/// serde's "unknown field `intervl`, expected one of `interval`, …" becomes
/// "unknown key `intervl` (did you mean `interval`?); valid keys: …".
fn explain_serde_message(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return msg.to_string();
    };
    let Some((name, tail)) = rest.split_once('`') else {
        return msg.to_string();
    };
    let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
    if expected.is_empty() {
        return format!("unknown key `{name}`");
    }
    format!(
        "unknown key `{name}`{}; valid keys: {}",
        hint(name, expected.iter().copied()),
        expected.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HostConfig;

    #[test]
    fn serde_unknown_field_message_gets_a_suggestion() {
        let m = explain_serde_message(
            "unknown field `intervl`, expected one of `interval`, `history`, `raise_after`",
        );
        assert_eq!(
            m,
            "unknown key `intervl` (did you mean `interval`?); valid keys: interval, history, raise_after"
        );
    }

    #[test]
    fn a_bad_value_is_replaced_by_its_default_and_the_rest_is_kept() {
        let text = "keymap = \"vim\"\n[host]\ninterval = \"5s\"\nraise_after = 0\n[host.cpu]\nwarn = 99\ncrit = 90\n";
        let (c, p) = parse_config(Path::new("c.toml"), text);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(c.keymap, "vim");
        assert_eq!(c.host.interval, std::time::Duration::from_secs(5));
        assert_eq!(c.host.raise_after, 3);
        assert_eq!(c.host.cpu, HostConfig::default().cpu);
    }

    #[test]
    fn a_threshold_table_fills_the_gaps_from_its_own_metric() {
        let (c, p) = parse_config(Path::new("c.toml"), "[host.disk]\nwarn = 75.0\n");
        assert!(p.is_empty(), "{p:?}");
        assert_eq!((c.host.disk.warn, c.host.disk.crit), (75.0, 85.0));
    }

    #[test]
    fn a_semantic_problem_names_the_field_as_the_file_numbers_it() {
        // The first override lacks its path (dropped), so validation sees the second one as
        // mount[0]; the report must still say mount[1], on its own line.
        let text = "[[host.mount]]\nwarn = 1.0\n[[host.mount]]\npath = \"/data\"\nwarn = 120.0\n";
        let (c, p) = parse_config(Path::new("c.toml"), text);
        assert_eq!(p.len(), 2, "{p:#?}");
        assert_eq!(p[0].field.as_deref(), Some("host.mount[0]"));
        assert!(p[0].message.contains("missing field `path`"), "{}", p[0]);
        assert_eq!(
            (p[1].line, p[1].field.as_deref()),
            (Some(5), Some("host.mount[1].warn")),
            "{}",
            p[1]
        );
        assert_eq!(c.host.mounts.len(), 1);
        assert_eq!(c.host.mounts[0].path, Path::new("/data"));
        assert_eq!(c.host.mounts[0].warn, None);
    }

    #[test]
    fn a_conflict_with_an_unwritten_default_keeps_the_section_and_says_where() {
        let text = "read_only = true\n[host]\ninterval = \"20m\"\nraise_after = 4\n";
        let (c, p) = parse_config(Path::new("c.toml"), text);
        assert_eq!(p.len(), 1, "{p:#?}");
        assert_eq!(
            (p[0].line, p[0].field.as_deref()),
            (Some(2), Some("host.history"))
        );
        assert!(c.read_only);
        assert_eq!(c.host.interval, std::time::Duration::from_secs(1200));
        assert_eq!(c.host.raise_after, 4);
    }
}

#[cfg(test)]
mod type_error_tests {
    use super::*;

    fn first(text: &str) -> ConfigError {
        let (_, p) = parse_config(Path::new("c.toml"), text);
        assert_eq!(p.len(), 1, "{p:#?}");
        p.into_iter().next().expect("a problem")
    }

    #[test]
    fn wrong_type_names_field_and_line() {
        let e = first("[host]\ninterval = 5\n");
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(2), Some("host.interval")),
            "{e}"
        );
        let e = first("[host.cpu]\nwarn = \"high\"\n");
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(2), Some("host.cpu.warn")),
            "{e}"
        );
        let e = first("[host]\ninterval = \"soon\"\n");
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(2), Some("host.interval")),
            "{e}"
        );
        assert!(e.message.contains("not a duration"), "{e}");
    }

    #[test]
    fn unknown_top_level_and_array_keys_get_suggestions() {
        let e = first("thme = \"nord\"\n");
        assert_eq!((e.line, e.field.as_deref()), (Some(1), Some("thme")), "{e}");
        assert!(e.message.contains("did you mean `theme`?"), "{e}");
        let e = first("[[host.mount]]\npath = \"/\"\ncrti = 90\n");
        assert_eq!(e.line, Some(3), "{e}");
        assert_eq!(e.field.as_deref(), Some("host.mount[0].crti"), "{e}");
        assert!(e.message.contains("did you mean `crit`?"), "{e}");
    }
}
