//! Snapshots of the alarms blocks at 80x24 and 160x48, in the default and monochrome themes:
//! the list of every source, the detail view with its chart and threshold line, history,
//! acknowledgement and runbook, the Alertmanager silences, and the top-bar summary.

mod alarms_fixtures;
mod common;

use alarms_fixtures::*;
use chrono::Duration;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

use toban::alarms::acks::{Ack, AckKind};
use toban::alarms::model::AlarmState;
use toban::alarms::{update, view, AlarmsMsg, AlarmsState};
use toban::config::theme::{load_theme, ColorSupport, Theme};

const TZ: chrono_tz::Tz = chrono_tz::Asia::Tokyo;

fn theme(name: &str) -> Theme {
    let (theme, problems) = load_theme(name, None, ColorSupport::Ansi16);
    assert!(problems.is_empty(), "{problems:?}");
    theme.expect("shipped theme")
}

type Draw = fn(&mut ratatui::Frame, Rect, &AlarmsState, &Theme);

fn snap(name: &str, s: &AlarmsState, draw: Draw) {
    for theme_name in ["default", "monochrome"] {
        for (w, h) in [(80u16, 24u16), (160, 48)] {
            let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
            let th = theme(theme_name);
            term.draw(|f| draw(f, f.area(), s, &th)).unwrap();
            let styles = theme_name != "default" || w == 80;
            let text = common::dump(term.backend().buffer(), styles);
            insta::assert_snapshot!(format!("{name}_{theme_name}_{w}x{h}"), text);
        }
    }
}

fn list(f: &mut ratatui::Frame, a: Rect, s: &AlarmsState, th: &Theme) {
    view::list::render(f, a, s, th, t0(), TZ);
}

fn detail(f: &mut ratatui::Frame, a: Rect, s: &AlarmsState, th: &Theme) {
    view::detail::render(f, a, s, th, t0(), TZ);
}

fn silences(f: &mut ratatui::Frame, a: Rect, s: &AlarmsState, th: &Theme) {
    view::silences::render(f, a, s, th, t0(), TZ);
}

fn acked(s: &mut AlarmsState, name: &str) {
    let a = s.rows.iter().find(|a| a.name == name).unwrap().clone();
    let ack = Ack {
        id: 1,
        key: a.key.clone(),
        name: a.name.clone(),
        kind: AckKind::Ack,
        note: "looking at the Lambda logs".into(),
        who: "ops@ops-1".into(),
        ssh_client: Some("192.0.2.10 port 52144".into()),
        at: t0() - Duration::minutes(5),
        until: None,
        state: a.state,
        state_since: a.since,
    };
    update(s, AlarmsMsg::Acked(Ok(ack)), t0());
    s.notice = None;
}

#[test]
fn list_busy() {
    let mut s = busy();
    acked(&mut s, "goal-mandala-production-high-error-rate");
    // A newly firing alarm after the first look.
    let mut rows = s.sources[&cw_id()].alarms.clone();
    rows.push(cw(
        "alb-5xx-error-rate",
        AlarmState::Firing,
        0,
        "Threshold Crossed: 5XX count 31 >= 10",
    ));
    update(&mut s, AlarmsMsg::Snapshot(cw_id(), snapshot(rows)), t0());
    snap("alarms_list_busy", &s, list);
}

#[test]
fn list_filtered_with_a_source_down() {
    let mut s = busy();
    let mut h = toban::providers::health::Health::new(std::time::Duration::from_secs(15));
    h.observe(toban::providers::health::HealthEvent::Ok {
        at: t0() - Duration::minutes(6),
    });
    h.observe(toban::providers::health::HealthEvent::Failed {
        at: t0() - Duration::minutes(4),
        reason: "Alertmanager at http://127.0.0.1:9093 not reachable (connection refused)".into(),
    });
    update(&mut s, AlarmsMsg::Health(am_id(), h), t0());
    s.set_filter("state:alarm source:cloudwatch bogus:word state:burning");
    snap("alarms_list_filtered_down", &s, list);
}

#[test]
fn list_empty() {
    let s = AlarmsState::new(&config(), t0());
    snap("alarms_list_starting", &s, list);
}

#[test]
fn detail_with_chart_history_ack_and_runbook() {
    let mut s = busy();
    s.set_filter("error-rate");
    acked(&mut s, "goal-mandala-production-high-error-rate");
    s.open_detail(t0());
    let key = s.detail.as_ref().unwrap().key.clone();
    update(
        &mut s,
        AlarmsMsg::History {
            key: key.clone(),
            result: Ok(history()),
        },
        t0(),
    );
    update(
        &mut s,
        AlarmsMsg::Chart {
            key,
            source: cw_id(),
            result: Ok(series(t0() - Duration::hours(3), 180)),
            metrics: 1,
        },
        t0(),
    );
    snap("alarms_detail_cloudwatch", &s, detail);
}

#[test]
fn detail_of_a_silenced_alert_while_its_chart_loads() {
    let mut s = busy();
    s.set_filter("DiskWill");
    s.open_detail(t0());
    snap("alarms_detail_alert_loading", &s, detail);
}

#[test]
fn detail_when_the_chart_is_unavailable() {
    let mut s = busy();
    s.set_filter("HighLatency");
    s.open_detail(t0());
    let key = s.detail.as_ref().unwrap().key.clone();
    update(
        &mut s,
        AlarmsMsg::Chart {
            key,
            source: am_id(),
            result: Err(
                "Prometheus at http://127.0.0.1:9090 not reachable: connection refused".into(),
            ),
            metrics: 0,
        },
        t0(),
    );
    snap("alarms_detail_chart_failed", &s, detail);
}

#[test]
fn silences_list() {
    let mut s = busy();
    s.open_silences();
    snap("alarms_silences", &s, silences);
}

#[test]
fn top_bar_names_the_newest_firing_alarm() {
    let mut s = busy();
    let mut rows = s.sources[&cw_id()].alarms.clone();
    rows.push(cw("ecs-cpu-high", AlarmState::Firing, 0, "CPU 93%"));
    update(
        &mut s,
        AlarmsMsg::Snapshot(cw_id(), snapshot(rows)),
        t0() - Duration::minutes(2),
    );
    let line = view::top_bar::line(&s, &theme("default"), t0(), 60);
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    assert_eq!(text, "6 firing P1 · new: ecs-cpu-high 2m ago");
    let quiet = AlarmsState::new(&config(), t0());
    assert!(view::top_bar::line(&quiet, &theme("default"), t0(), 60)
        .spans
        .is_empty());
}

#[test]
fn escape_sequences_from_a_source_are_not_drawn() {
    let mut s = AlarmsState::new(&config(), t0());
    let a = cw(
        "evil\x1b]0;pwned\x07-alarm",
        AlarmState::Firing,
        1,
        "\x1b[2Jreason\x1b[31m red",
    );
    update(
        &mut s,
        AlarmsMsg::Snapshot(cw_id(), snapshot(vec![a])),
        t0(),
    );
    let mut term = Terminal::new(TestBackend::new(100, 10)).unwrap();
    let th = theme("default");
    term.draw(|f| list(f, f.area(), &s, &th)).unwrap();
    let text = common::dump(term.backend().buffer(), false);
    assert!(text.contains("evil-alarm"), "{text}");
    assert!(text.contains("reason red"), "{text}");
    assert!(!text.contains('\x1b'));
}
