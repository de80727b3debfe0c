//! Broken config, theme and keymap files: each mistake is reported with its file, line and
//! field, and toban still gets a usable config, theme and keymap.

use std::path::{Path, PathBuf};

use crossterm::event::KeyCode;
use ratatui::style::{Color, Modifier};
use toban::action::Action;
use toban::config::keymap::{load_keymap, Key, KeyContext, KeyResult};
use toban::config::theme::{load_theme, ColorSupport, ELEMENTS};
use toban::config::{check, load, Config, ConfigError, LoadOptions, Loaded, Paths};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
}

/// Options whose config folder is a fixture folder (data and state in a temp dir, unused).
fn opts_for(config_dir: PathBuf) -> LoadOptions {
    let mut paths = Paths::under(&std::env::temp_dir().join("toban-config-tests"));
    paths.config_dir = config_dir;
    LoadOptions::new(paths)
}

fn k(s: &str) -> Key {
    s.parse().unwrap()
}

fn only_problem(loaded: &Loaded) -> &ConfigError {
    assert_eq!(loaded.problems.len(), 1, "{:#?}", loaded.problems);
    &loaded.problems[0]
}

/// What any start with problems must still give: a theme that draws and a keymap that quits.
fn assert_usable(loaded: &Loaded) {
    assert_eq!(
        loaded.keymap.resolve(&[KeyContext::List], &[], k("<C-c>")),
        KeyResult::Action(Action::Quit)
    );
    assert!(loaded.theme.defines("tab.active"));
}

#[test]
fn toml_syntax_error_names_file_and_line_and_defaults_are_used() {
    let loaded = load(&opts_for(fixture("syntax")));
    let p = only_problem(&loaded);
    assert!(p.file.ends_with("syntax/config.toml"), "{p}");
    assert_eq!(p.line, Some(2), "{p}");
    assert!(p.to_string().contains("config.toml:2:"), "{p}");
    assert_eq!(loaded.config, Config::default());
    assert_eq!(loaded.theme.name, "default");
    assert_usable(&loaded);
}

#[test]
fn unknown_key_gets_line_field_and_suggestion() {
    let loaded = load(&opts_for(fixture("unknown_key")));
    let p = only_problem(&loaded);
    assert_eq!(p.line, Some(4));
    assert_eq!(p.field.as_deref(), Some("host.intervl"));
    assert!(p.message.contains("did you mean `interval`?"), "{p}");
    let text = p.to_string();
    assert!(
        text.contains("unknown_key/config.toml:4:1: `host.intervl`: unknown key"),
        "{text}"
    );
    assert_usable(&loaded);
}

#[test]
fn three_mistakes_in_three_sections_are_all_reported_and_the_rest_is_kept() {
    let loaded = load(&opts_for(fixture("three_mistakes")));
    let p = &loaded.problems;
    let found: Vec<(Option<usize>, Option<&str>)> =
        p.iter().map(|e| (e.line, e.field.as_deref())).collect();
    assert_eq!(
        found,
        [
            (Some(7), Some("host.intervall")),
            (Some(15), Some("backups.rpo")),
            (Some(20), Some("runbooks.connections.postgres")),
        ],
        "{p:#?}"
    );
    assert!(
        p[0].message.contains("did you mean `interval`?"),
        "{}",
        p[0]
    );
    assert!(p[1].message.contains("not a duration"), "{}", p[1]);
    assert!(p[2].message.contains("invalid type: integer"), "{}", p[2]);
    for e in p {
        assert!(e.file.ends_with("three_mistakes/config.toml"), "{e}");
    }

    let c = &loaded.config;
    let d = Config::default();
    assert_eq!(loaded.theme.name, "nord");
    assert_eq!(c.timezone.name(), "Asia/Tokyo");
    assert_eq!((c.host.raise_after, c.host.interval), (5, d.host.interval));
    assert_eq!((c.host.cpu.warn, c.host.cpu.crit), (70.0, d.host.cpu.crit));
    assert_eq!(c.backups.roots, [PathBuf::from("/mnt/backup-hdd")]);
    assert_eq!(c.backups.success_rate, 90.0);
    assert_eq!(c.backups.rpo, d.backups.rpo);
    assert_eq!(c.runbooks.dirs, [PathBuf::from("/srv/runbooks")]);
    assert!(c.runbooks.connections.is_empty());
    assert_usable(&loaded);
}

#[test]
fn warn_above_crit_points_at_crit_and_falls_back_to_the_default_levels() {
    let loaded = load(&opts_for(fixture("thresholds")));
    let p = only_problem(&loaded);
    assert_eq!(p.line, Some(6), "{p}");
    assert_eq!(p.field.as_deref(), Some("host.disk.crit"));
    assert!(p.message.contains("below the warning level 90"), "{p}");
    assert_eq!(loaded.config.host.disk, Config::default().host.disk);
    assert_usable(&loaded);
}

#[test]
fn missing_explicit_config_file_is_a_problem_but_absent_default_one_is_not() {
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = LoadOptions::new(Paths::under(tmp.path()));
    assert!(load(&opts).problems.is_empty());
    opts.config_path = Some(tmp.path().join("nope.toml"));
    let loaded = load(&opts);
    let p = only_problem(&loaded);
    assert!(p.file.ends_with("nope.toml"));
    assert!(p.message.contains("no such file"), "{p}");
    assert_usable(&loaded);
}

#[test]
fn unknown_theme_name_in_config_points_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::under(tmp.path());
    std::fs::create_dir_all(&paths.config_dir).unwrap();
    std::fs::write(paths.config_file(), "# mine\ntheme = \"nrod\"\n").unwrap();
    let loaded = load(&LoadOptions::new(paths));
    let p = only_problem(&loaded);
    assert_eq!((p.line, p.field.as_deref()), (Some(2), Some("theme")));
    assert!(p.message.contains("did you mean `nord`?"), "{p}");
    assert_eq!(loaded.theme.name, "default");
}

#[test]
fn unknown_colour_is_reported_and_the_rest_of_the_theme_applies() {
    let loaded = load(&opts_for(fixture("themes")));
    let p = only_problem(&loaded);
    assert!(p.file.ends_with("themes/bad-colour.toml"), "{p}");
    assert_eq!(p.line, Some(4));
    assert_eq!(p.field.as_deref(), Some("tab.active.bg"));
    assert!(p.message.contains("unknown colour `purpel`"), "{p}");
    assert_eq!(loaded.theme.name, "bad-colour");
    assert_eq!(loaded.theme.style("title").fg, Some(Color::Cyan));
    assert_eq!(loaded.theme.style("tab.active").fg, Some(Color::Black));
    // Inherited from default.
    assert_eq!(loaded.theme.style("status.ok").fg, Some(Color::Green));
}

#[test]
fn inherits_cycle_is_named_and_does_not_hang() {
    let dir = fixture("themes").join("themes");
    let (theme, problems) = load_theme("loop-a", Some(&dir), ColorSupport::Ansi16);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert!(p.file.ends_with("loop-b.toml"), "{p}");
    assert_eq!((p.line, p.field.as_deref()), (Some(1), Some("inherits")));
    assert!(p.message.contains("loop-a → loop-b → loop-a"), "{p}");
    assert_eq!(theme.unwrap().style("title").fg, Some(Color::Red));
}

#[test]
fn broken_keymap_reports_each_mistake_and_keeps_the_good_entries() {
    let loaded = load(&opts_for(fixture("keymaps")));
    let p = &loaded.problems;
    assert_eq!(p.len(), 3, "{p:#?}");
    for e in p {
        assert!(e.file.ends_with("keymaps/broken.toml"), "{e}");
    }
    assert_eq!(p[0].line, Some(5));
    assert_eq!(p[0].field.as_deref(), Some("list.keymap[0].run"));
    assert!(
        p[0].message
            .contains("unknown action `qiut` (did you mean `quit`?)"),
        "{}",
        p[0]
    );
    assert_eq!(p[1].line, Some(7));
    assert_eq!(p[1].field.as_deref(), Some("list.keymap[2].on"));
    assert!(
        p[1].message
            .contains("`z` is bound twice in [list] (also on line 6)"),
        "{}",
        p[1]
    );
    assert_eq!(p[2].line, Some(10));
    assert_eq!(p[2].field.as_deref(), Some("list.keymap[5].on"));
    assert!(
        p[2].message
            .contains("`w` is bound alone and `w w` starts with it"),
        "{}",
        p[2]
    );

    let km = &loaded.keymap;
    let list = [KeyContext::List];
    assert_eq!(
        km.resolve(&list, &[], k("z")),
        KeyResult::Action(Action::Top)
    );
    assert_eq!(
        km.resolve(&list, &[], k("<Home>")),
        KeyResult::Action(Action::Top)
    );
    assert_eq!(km.resolve(&list, &[], k("x")), KeyResult::Unbound);
    assert_usable(&loaded);
}

#[test]
fn check_reports_every_problem_in_every_file() {
    let problems = check(&opts_for(fixture("themes")));
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        text.iter().any(|t| t.contains("bad-colour.toml:4:")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|t| t.contains("inherits cycle")),
        "{text:#?}"
    );
    // Reported once each, though several themes reach the cycle.
    assert_eq!(
        text.iter().filter(|t| t.contains("inherits cycle")).count(),
        2,
        "{text:#?}"
    );

    let problems = check(&opts_for(fixture("keymaps")));
    assert_eq!(problems.len(), 3, "{problems:#?}");
}

#[test]
fn shipped_themes_and_keymaps_check_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let problems = check(&LoadOptions::new(Paths::under(tmp.path())));
    assert!(problems.is_empty(), "{problems:#?}");
    for name in ["default", "light", "high-contrast", "monochrome", "nord"] {
        let (theme, problems) = load_theme(name, None, ColorSupport::Ansi256);
        assert!(problems.is_empty(), "{name}: {problems:?}");
        let theme = theme.unwrap();
        for e in ELEMENTS {
            assert!(theme.defines(e), "{name} lacks {e}");
        }
    }
    for name in ["default", "vim"] {
        let (km, problems) = load_keymap(name, None);
        assert!(problems.is_empty(), "{name}: {problems:?}");
        assert!(km.is_some());
    }
}

#[test]
fn user_keymap_layers_over_the_shipped_one() {
    let mut opts = opts_for(fixture("layering"));
    opts.keymap = Some("default".into());
    let loaded = load(&opts);
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    let km = &loaded.keymap;
    let g = [KeyContext::Global];
    // Replaced, added, unbound; everything else still there.
    assert_eq!(km.resolve(&g, &[], k("q")), KeyResult::Action(Action::Help));
    assert_eq!(
        km.resolve(&g, &[], k("x")),
        KeyResult::Action(Action::Refresh)
    );
    assert_eq!(km.resolve(&g, &[], k("<C-r>")), KeyResult::Unbound);
    assert_eq!(
        km.resolve(&g, &[], k("<C-c>")),
        KeyResult::Action(Action::Quit)
    );
    let help = km.help_sections();
    let global = &help.iter().find(|(c, _)| *c == "global").unwrap().1;
    assert!(global.iter().all(|(keys, _)| keys != "<C-r>"));
    assert!(global.contains(&("x".to_string(), "Refresh".to_string())));
    assert!(global.contains(&("q".to_string(), "q shows help here".to_string())));
}

#[test]
fn no_color_picks_monochrome_unless_a_theme_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = LoadOptions::new(Paths::under(tmp.path()));
    opts.no_color = true;
    opts.color_support = ColorSupport::TrueColor;
    let loaded = load(&opts);
    assert!(loaded.problems.is_empty());
    assert_eq!(loaded.theme.name, "monochrome");
    for e in ELEMENTS {
        let s = loaded.theme.style(e);
        assert_eq!((s.fg, s.bg), (None, None), "{e}");
    }
    assert!(loaded
        .theme
        .style("selection")
        .add_modifier
        .contains(Modifier::REVERSED));

    opts.theme = Some("nord".into());
    let loaded = load(&opts);
    assert_eq!(loaded.theme.name, "nord");
    assert!(matches!(
        loaded.theme.style("title").fg,
        Some(Color::Rgb(..))
    ));
}

#[test]
fn key_names_round_trip() {
    for s in ["q", "<C-c>", "<S-Tab>", "<Enter>", "<F5>", "G"] {
        assert_eq!(k(s).to_string(), s);
    }
    assert_eq!(k("<Space>").code, KeyCode::Char(' '));
}
