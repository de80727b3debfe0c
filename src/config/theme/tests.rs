//! Shipped themes load cleanly; a user theme layers over its preset; every mistake is
//! reported with file, line and field.

use super::*;

#[test]
fn every_shipped_theme_loads_cleanly_and_defines_every_element() {
    for (name, _) in SHIPPED {
        let (theme, problems) = load_theme(name, None, ColorSupport::TrueColor);
        assert!(problems.is_empty(), "{name}: {problems:?}");
        let theme = theme.expect("shipped theme loads");
        for e in ELEMENTS {
            assert!(theme.defines(e), "theme `{name}` does not define `{e}`");
        }
    }
}

#[test]
fn default_theme_uses_only_the_16_ansi_colours() {
    let (theme, _) = load_theme("default", None, ColorSupport::TrueColor);
    let theme = theme.unwrap();
    for e in ELEMENTS {
        let s = theme.style(e);
        for c in [s.fg, s.bg].into_iter().flatten() {
            assert!(
                !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                "default `{e}` uses {c:?}"
            );
        }
    }
}

#[test]
fn monochrome_has_no_colours_but_still_marks_selection() {
    let (theme, problems) = load_theme("monochrome", None, ColorSupport::TrueColor);
    assert!(problems.is_empty());
    let theme = theme.unwrap();
    for e in ELEMENTS {
        let s = theme.style(e);
        assert_eq!((s.fg, s.bg), (None, None), "monochrome `{e}` has a colour");
    }
    assert!(theme
        .style("selection")
        .add_modifier
        .contains(Modifier::REVERSED));
    assert!(theme.style("tab.active").add_modifier != Modifier::empty());
}

#[test]
fn truecolour_theme_degrades_to_the_terminal() {
    let (t16, _) = load_theme("nord", None, ColorSupport::Ansi16);
    let (t256, _) = load_theme("nord", None, ColorSupport::Ansi256);
    let (none, _) = load_theme("nord", None, ColorSupport::NoColor);
    for e in ELEMENTS {
        for c in [
            t16.as_ref().unwrap().style(e).fg,
            t16.as_ref().unwrap().style(e).bg,
        ]
        .into_iter()
        .flatten()
        {
            assert!(
                !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                "{e}: {c:?}"
            );
        }
        for c in [t256.as_ref().unwrap().style(e).fg].into_iter().flatten() {
            assert!(!matches!(c, Color::Rgb(..)), "{e}: {c:?}");
        }
        let s = none.as_ref().unwrap().style(e);
        assert_eq!((s.fg, s.bg), (None, None));
    }
    // Modifiers survive NoColor.
    assert!(none
        .unwrap()
        .style("title")
        .add_modifier
        .contains(Modifier::BOLD));
}

#[test]
fn dotted_lookup_falls_back_to_parent_then_text() {
    let t = Theme::fallback();
    assert_eq!(t.style("status.crit.blinking"), t.style("status.crit"));
    assert_eq!(t.style("nothing.here"), t.style("text"));
}

#[test]
fn a_child_palette_recolours_the_parent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("base.toml"),
        "title = { fg = \"accent\" }\n[palette]\naccent = \"red\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("child.toml"),
        "inherits = \"base\"\n[palette]\naccent = \"#00ff00\"\n",
    )
    .unwrap();
    let (t, p) = load_theme("child", Some(dir.path()), ColorSupport::TrueColor);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(t.unwrap().style("title").fg, Some(Color::Rgb(0, 255, 0)));
}

#[test]
fn unknown_element_is_reported_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "inherits = \"default\"\n\"tab.activ\" = { fg = \"red\" }\n",
    )
    .unwrap();
    let (t, p) = load_theme("mine", Some(dir.path()), ColorSupport::Ansi16);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        (p[0].line, p[0].field.as_deref()),
        (Some(2), Some("tab.activ"))
    );
    assert!(
        p[0].message.contains("did you mean `tab.active`?"),
        "{}",
        p[0]
    );
    assert_eq!(t.unwrap().style("tab.active").bg, Some(Color::Cyan));
}

#[test]
fn a_user_file_named_like_a_shipped_theme_can_build_on_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("default.toml"),
        "inherits = \"default\"\n\"title\" = { fg = \"magenta\" }\n",
    )
    .unwrap();
    let (t, p) = load_theme("default", Some(dir.path()), ColorSupport::Ansi16);
    assert!(p.is_empty(), "{p:?}");
    let t = t.unwrap();
    assert_eq!(t.style("title").fg, Some(Color::Magenta));
    assert_eq!(t.style("tab.active").bg, Some(Color::Cyan));
}

#[test]
fn styles_placed_after_the_palette_header_get_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "[palette]\nx = \"red\"\n\"title\" = { fg = \"x\" }\n",
    )
    .unwrap();
    let (_, p) = load_theme("mine", Some(dir.path()), ColorSupport::Ansi16);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].message.contains("put [palette] last"), "{}", p[0]);
}
