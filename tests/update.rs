//! `update` as a user would notice it: tabs switch, alarms raise on the third breaching
//! sample, hold under hysteresis, and clear.

mod common;

use common::{host_sample, new_state, sample};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use toban::console::update;
use toban::health::Severity;
use toban::state::tabs::Tab;
use toban::state::{Effect, Msg, State};

fn key(state: &mut State, code: KeyCode, mods: KeyModifiers) -> bool {
    update(state, Msg::Key(KeyEvent::new(code, mods))).0
}

fn cpu(state: &mut State, i: i64, v: f64) -> Vec<Effect> {
    host_sample(state, sample(i, v, 30.0, &[("/", 40.0)]))
}

fn transitions(fx: &[Effect]) -> Vec<(Severity, Severity)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::RecordTransition(t) => Some((t.from, t.to)),
            _ => None,
        })
        .collect()
}

#[test]
fn number_keys_tab_and_backtab_switch_tabs() {
    let mut s = new_state();
    assert_eq!(s.tab, Tab::Overview);
    key(&mut s, KeyCode::Char('3'), KeyModifiers::NONE);
    assert_eq!(s.tab, Tab::Backups);
    key(&mut s, KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(s.tab, Tab::Logs);
    key(&mut s, KeyCode::Tab, KeyModifiers::NONE);
    key(&mut s, KeyCode::Tab, KeyModifiers::NONE);
    key(&mut s, KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(s.tab, Tab::Overview, "Tab wraps around");
    key(&mut s, KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(s.tab, Tab::Services, "Shift-Tab goes back and wraps");
    key(&mut s, KeyCode::Char('2'), KeyModifiers::NONE);
    assert_eq!(s.tab, Tab::Alarms);
}

#[test]
fn help_opens_and_closes_and_q_quits() {
    let mut s = new_state();
    key(&mut s, KeyCode::Char('?'), KeyModifiers::NONE);
    assert!(s.help.is_some());
    key(&mut s, KeyCode::Char('3'), KeyModifiers::NONE);
    assert_eq!(
        s.tab,
        Tab::Overview,
        "keys under the help overlay do not reach the tabs"
    );
    key(&mut s, KeyCode::Esc, KeyModifiers::NONE);
    assert!(s.help.is_none());
    key(&mut s, KeyCode::Char('q'), KeyModifiers::NONE);
    assert!(s.quit);
}

#[test]
fn ctrl_c_quits_even_inside_help() {
    let mut s = new_state();
    key(&mut s, KeyCode::Char('?'), KeyModifiers::NONE);
    key(&mut s, KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(s.quit);
}

#[test]
fn cpu_alarm_is_raised_on_the_third_breaching_sample_only() {
    let mut s = new_state();
    assert!(transitions(&cpu(&mut s, 0, 85.0)).is_empty());
    assert!(transitions(&cpu(&mut s, 1, 86.0)).is_empty());
    assert!(s.alarms.active.is_empty(), "not raised after two samples");
    let t = transitions(&cpu(&mut s, 2, 87.0));
    assert_eq!(t, vec![(Severity::Ok, Severity::Warning)]);
    assert_eq!(s.alarms.count(Severity::Warning), 1);
    assert!(s.alarms.active["host.cpu"].message.contains("warning 80%"));
}

#[test]
fn a_single_spike_does_not_raise() {
    let mut s = new_state();
    for (i, v) in [99.0, 10.0, 99.0, 99.0, 10.0].into_iter().enumerate() {
        cpu(&mut s, i as i64, v);
    }
    assert!(s.alarms.active.is_empty());
}

#[test]
fn hysteresis_keeps_the_alarm_until_five_points_below() {
    let mut s = new_state();
    for i in 0..3 {
        cpu(&mut s, i, 90.0);
    }
    for i in 3..10 {
        assert!(
            transitions(&cpu(&mut s, i, 77.0)).is_empty(),
            "77 % is within the hysteresis band"
        );
    }
    assert_eq!(s.alarms.count(Severity::Warning), 1);
}

#[test]
fn alarm_clears_after_three_calm_samples_and_is_recorded() {
    let mut s = new_state();
    for i in 0..3 {
        cpu(&mut s, i, 96.0);
    }
    assert_eq!(s.alarms.count(Severity::Critical), 1);
    cpu(&mut s, 3, 30.0);
    cpu(&mut s, 4, 30.0);
    assert_eq!(s.alarms.count(Severity::Critical), 1);
    let t = transitions(&cpu(&mut s, 5, 30.0));
    assert_eq!(t, vec![(Severity::Critical, Severity::Ok)]);
    assert!(s.alarms.active.is_empty());
    assert_eq!(
        s.alarms.recent.len(),
        2,
        "raise and clear are both in the history"
    );
}

#[test]
fn per_mount_override_changes_the_disk_threshold() {
    let mut s = new_state();
    s.host_config.mounts.push(toban::config::MountOverride {
        path: "/".into(),
        warn: Some(95.0),
        crit: Some(99.0),
        enabled: None,
    });
    for i in 0..5 {
        host_sample(&mut s, sample(i, 5.0, 5.0, &[("/", 90.0), ("/data", 90.0)]));
    }
    assert!(!s.alarms.active.contains_key("host.disk:/"));
    assert_eq!(
        s.alarms.active["host.disk:/data"].severity,
        Severity::Critical
    );
}

#[test]
fn idle_ticks_do_not_redraw_within_a_minute() {
    let mut s = new_state();
    cpu(&mut s, 0, 10.0);
    let base = s.now;
    let (dirty, _) = update(&mut s, Msg::Tick(base + chrono::Duration::seconds(1)));
    assert!(
        !dirty,
        "a tick that changes nothing visible must not redraw"
    );
}

#[test]
fn a_failing_provider_is_shown_down() {
    let mut s = new_state();
    cpu(&mut s, 0, 10.0);
    let at = s.now;
    update(
        &mut s,
        Msg::Health(
            toban::providers::ProviderId::HOST,
            toban::providers::HealthEvent::Failed {
                at,
                reason: "no answer within 5s".into(),
            },
        ),
    );
    let h = &s.providers[&toban::providers::ProviderId::HOST];
    assert!(matches!(
        h.freshness(s.now),
        toban::providers::health::Freshness::Down { .. }
    ));
}
