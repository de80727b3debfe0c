//! Rendering snapshots of every tab at 80x24 and 160x48 in the default and monochrome
//! themes, plus the help overlay.

mod common;

use common::{busy_state, draw, dump, new_state};
use toban::config::theme::{load_theme, ColorSupport, Theme};
use toban::state::tabs::Tab;
use toban::state::HelpState;

fn theme(name: &str) -> Theme {
    let (theme, problems) = load_theme(name, None, ColorSupport::Ansi16);
    assert!(problems.is_empty(), "{problems:?}");
    theme.expect("shipped theme")
}

fn snap(name: &str, state: &toban::state::State, theme_name: &str, w: u16, h: u16) {
    let buf = draw(state, &theme(theme_name), w, h);
    let styles = theme_name != "default" || w == 80;
    insta::assert_snapshot!(format!("{name}_{theme_name}_{w}x{h}"), dump(&buf, styles));
}

#[test]
fn every_tab_at_both_sizes() {
    for theme_name in ["default", "monochrome"] {
        for (w, h) in [(80, 24), (160, 48)] {
            for tab in Tab::ALL {
                let mut s = busy_state();
                s.tab = tab;
                snap(tab.key_name(), &s, theme_name, w, h);
            }
        }
    }
}

#[test]
fn overview_before_the_first_sample() {
    snap("overview_starting", &new_state(), "default", 80, 24);
}

#[test]
fn help_overlay() {
    let mut s = busy_state();
    s.help = Some(HelpState::default());
    snap("help", &s, "default", 80, 24);
}

/// Read-only mode's one behaviour (README): every run is a dry run — a runbook opened from
/// the list (or a backup) shows what it would do and changes nothing.
#[test]
fn read_only_runs_are_dry_runs() {
    let mut c = common::console::Console::shipped();
    c.s.read_only = true;
    c.keys("R <Enter>");
    let text = c.screen(80, 24);
    assert!(text.contains("[DRY RUN]"), "{text}");
    assert!(text.contains("RO "), "{text}");
}

#[test]
fn calendar_lists_follow_ups_that_runbooks_scheduled() {
    let mut s = busy_state();
    s.tab = Tab::Calendar;
    let followup = toban::calendar::Followup {
        id: 1,
        title: "Delete the old access key AKIAOLD of ci-cd-user".into(),
        note: Some("scheduled by rotate-access-key (seed 002: 7 days after rotation)".into()),
        due: s.now + chrono::Duration::days(7),
        created: s.now,
        created_by_run: Some("20261123T030000Z-abc123".into()),
        done: None,
        action: None,
    };
    // What the calendar's provider sends after reading the store.
    toban::console::update(
        &mut s,
        toban::state::Msg::Calendar(toban::calendar::CalendarMsg::Records(
            toban::calendar::store::CalendarRecords {
                followups: vec![followup],
                ..Default::default()
            },
        )),
    );
    let text = dump(&draw(&s, &theme("default"), 80, 24), false);
    assert!(text.contains("Delete the old access key"), "{text}");
    snap("calendar_followups", &s, "default", 80, 24);
}
