//! The Services card on the Overview and the Services tab, drawn at 80x24 and 160x48 from
//! data sent as the providers send it and keys pressed through the keymap: a compose
//! project with a healthy, an unhealthy and an exited container, two checks (one failing
//! three times), certificates at 90, 20 and 5 days; the container's detail; the
//! confirmation with Cancel focused; read-only mode refusing the action at the gate; a name
//! with escape sequences and bidi controls drawn inert.

mod common;

use chrono::Duration;
use common::console::Console;
use common::{dump, t0};
use toban::config::services::{CheckConfig, ServicesConfig, SloConfig};
use toban::config::theme::{load_theme, ColorSupport, Theme};
use toban::services::model::{
    CertInfo, CheckOutcome, Container, ContainerHealth, ContainerState, Probe, StatsSample,
};
use toban::services::{ContainerUpdate, ServicesEffect, ServicesMsg, ServicesState};
use toban::state::{Effect, Msg};

fn theme() -> Theme {
    let (theme, problems) = load_theme("default", None, ColorSupport::Ansi16);
    assert!(problems.is_empty(), "{problems:?}");
    theme.unwrap()
}

fn container(
    name: &str,
    service: &str,
    state: ContainerState,
    health: ContainerHealth,
) -> Container {
    Container {
        engine: "local".into(),
        id: format!("{name}-0123456789abcdef"),
        name: name.into(),
        project: Some("backend".into()),
        service: Some(service.into()),
        image: format!("registry.example/{service}:1.4"),
        state,
        health,
        restart_count: 0,
        started_at: Some(t0() - Duration::hours(5)),
        finished_at: None,
        exit_code: None,
        oom_killed: false,
        ports: vec![],
        health_log: vec![],
    }
}

fn outcome(name: &str, i: i64, ok: bool, latency_ms: u64) -> CheckOutcome {
    CheckOutcome {
        name: name.into(),
        at: t0() - Duration::minutes(10) + Duration::seconds(30 * i),
        ok,
        status: Some(if ok { 200 } else { 503 }),
        latency_ms,
        error: (!ok).then(|| "status 503, expected 200".to_string()),
    }
}

fn cert(name: &str, days: i64) -> CertInfo {
    CertInfo {
        name: name.into(),
        source: format!("{name}.example.jp:443"),
        subject: format!("CN={name}.example.jp"),
        not_after: Some(t0() + Duration::days(days) + Duration::hours(1)),
        error: None,
        checked: t0(),
        warn_days: 30,
        critical_days: 7,
    }
}

/// The console after the providers reported a busy morning.
fn busy() -> Console {
    let mut con = Console::new(Vec::new());
    let cfg = ServicesConfig {
        checks: vec![
            CheckConfig {
                name: "api".into(),
                url: "https://api.example.jp/health/ready".into(),
                ..Default::default()
            },
            CheckConfig {
                name: "blog".into(),
                url: "https://blog.example.jp/".into(),
                ..Default::default()
            },
        ],
        slos: vec![SloConfig {
            service: "api".into(),
            availability: 99.9,
        }],
        ..Default::default()
    };
    con.s.services = ServicesState::new(&cfg, vec!["local".into()]);
    let mut web = container(
        "backend-web-1",
        "web",
        ContainerState::Running,
        ContainerHealth::Healthy,
    );
    web.ports = vec!["8080->80/tcp".into()];
    web.restart_count = 2;
    web.health_log = vec![Probe {
        at: Some(t0() - Duration::seconds(20)),
        exit_code: 0,
        output: "ok".into(),
    }];
    let mut celery = container(
        "backend-celery-1",
        "celery",
        ContainerState::Running,
        ContainerHealth::Unhealthy,
    );
    celery.health_log = vec![
        Probe {
            at: Some(t0() - Duration::seconds(40)),
            exit_code: 1,
            output: "celery ping: no reply".into(),
        },
        Probe {
            at: Some(t0() - Duration::seconds(10)),
            exit_code: 1,
            output: "celery ping: no reply".into(),
        },
    ];
    let mut beat = container(
        "backend-celery-beat-1",
        "celery-beat",
        ContainerState::Exited,
        ContainerHealth::None,
    );
    beat.exit_code = Some(1);
    beat.finished_at = Some(t0() - Duration::minutes(3));
    beat.started_at = None;
    let mut evil = container(
        "evil\u{1b}]0;pwned\u{7}\u{202e}name",
        "db",
        ContainerState::Running,
        ContainerHealth::None,
    );
    // What the provider does to every remote string.
    evil.name = toban::services::model::clean(&evil.name);
    con.s.now = t0();
    con.msg(Msg::Services(ServicesMsg::Containers(vec![
        ContainerUpdate::Snapshot {
            engine: "local".into(),
            describe: "Docker 27.3.1 at unix:///var/run/docker.sock".into(),
            containers: vec![web, celery, beat, evil],
        },
    ])));
    let sample = |cpu: u64, sys: u64, mem: u64| StatsSample {
        at_ms: 0,
        cpu_total: cpu,
        system_total: sys,
        online_cpus: 4,
        mem_used: mem,
        mem_limit: 8 << 30,
    };
    let id = "backend-web-1-0123456789abcdef".to_string();
    con.msg(Msg::Services(ServicesMsg::Stats(vec![(
        "local".into(),
        id.clone(),
        sample(1_000_000_000, 100_000_000_000, 200 << 20),
    )])));
    con.msg(Msg::Services(ServicesMsg::Stats(vec![(
        "local".into(),
        id,
        sample(1_500_000_000, 104_000_000_000, 210 << 20),
    )])));
    for i in 0..17 {
        con.msg(Msg::Services(ServicesMsg::Check(outcome(
            "api",
            i,
            i < 14,
            40 + (i as u64 % 5) * 12,
        ))));
        con.msg(Msg::Services(ServicesMsg::Check(outcome(
            "blog", i, true, 120,
        ))));
    }
    con.msg(Msg::Services(ServicesMsg::Certs(vec![
        cert("www", 90),
        cert("mail", 20),
        cert("blog", 5),
    ])));
    con
}

fn snap(con: &Console, name: &str) {
    let th = theme();
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let buf = common::draw(&con.s, &th, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), dump(&buf, w == 80));
    }
}

#[test]
fn the_overview_card_puts_troubles_first() {
    let con = busy();
    snap(&con, "services_card");
    let text = con.screen(160, 48);
    assert!(text.contains("Services — 6"), "{text}");
    assert!(!text.contains("pwned") || !text.contains('\u{1b}'));
}

#[test]
fn the_tab_lists_containers_checks_and_certificates_and_sorts() {
    let mut con = busy();
    con.keys("6");
    snap(&con, "services_tab");
    con.keys("o");
    let text = con.screen(160, 48);
    assert!(text.contains("sort: state"), "{text}");
    // Troubles first when sorted by state.
    let celery = text.find("backend-celery-1").unwrap();
    let web = text.find("backend-web-1").unwrap();
    assert!(celery < web, "{text}");
    con.keys("/");
    con.type_text("beat");
    con.keys("<Enter>");
    let text = con.screen(160, 48);
    assert!(text.contains("backend-celery-beat-1"), "{text}");
    assert!(!text.contains("backend-web-1"), "{text}");
}

#[test]
fn local_alarms_say_what_failed() {
    let con = busy();
    let keys: Vec<&String> = con.s.alarms.active.keys().collect();
    for k in [
        "services.unhealthy:local/backend-celery-1",
        "services.exited:local/backend-celery-beat-1",
        "services.check:api",
        "services.cert:mail",
        "services.cert:blog",
    ] {
        assert!(con.s.alarms.active.contains_key(k), "{k} not in {keys:?}");
    }
    assert!(!con.s.alarms.active.contains_key("services.check:blog"));
    assert!(!con.s.alarms.active.contains_key("services.cert:www"));
    let check = &con.s.alarms.active["services.check:api"];
    assert!(
        check
            .message
            .contains("failed 3 times in a row: status 503"),
        "{}",
        check.message
    );
}

#[test]
fn the_detail_shows_image_ports_probes_and_logs() {
    let mut con = busy();
    con.keys("6 <Down> <Enter>");
    let logs = con.fx.iter().find_map(|e| match e {
        Effect::Services(ServicesEffect::Logs { id, .. }) => Some(id.clone()),
        _ => None,
    });
    let id = logs.expect("the detail asks for the log tail");
    con.msg(Msg::Services(ServicesMsg::Logs {
        id,
        lines: Ok(vec![
            "[2026-11-23 02:59:40] worker: connection to redis lost".into(),
            "[2026-11-23 02:59:50] worker: retrying in 10s".into(),
        ]),
    }));
    snap(&con, "services_detail");
    con.keys("<Esc>");
    assert!(con.s.services.detail.is_none());
}

#[test]
fn an_action_asks_first_with_cancel_focused_and_enter_cancels() {
    let mut con = busy();
    con.keys("6 <Down> S");
    let c = con.s.services.confirm.clone().expect("asks first");
    assert_eq!(c.name, "backend-celery-beat-1");
    assert!(!c.yes_focused);
    snap(&con, "services_confirm");
    // Enter on Cancel: nothing happens.
    con.keys("<Enter>");
    assert!(con.s.services.confirm.is_none());
    assert!(!con
        .fx
        .iter()
        .any(|e| matches!(e, Effect::Services(ServicesEffect::Act { .. }))));
    // y confirms.
    con.keys("s y");
    let act = con.fx.iter().find_map(|e| match e {
        Effect::Services(ServicesEffect::Act {
            op,
            name,
            user,
            ssh_client,
            ..
        }) => Some((op.verb(), name.clone(), user.clone(), ssh_client.clone())),
        _ => None,
    });
    assert_eq!(
        act,
        Some((
            "start",
            "backend-celery-beat-1".to_string(),
            "operator".to_string(),
            Some("203.0.113.7 port 52114".to_string())
        ))
    );
}

#[test]
fn read_only_mode_refuses_container_actions_at_the_gate() {
    let mut con = busy();
    con.s.read_only = true;
    con.keys("6 r");
    assert!(con.s.services.confirm.is_none());
    let n = con.s.notice.clone().expect("a notice");
    assert!(n.text.contains("read-only"), "{}", n.text);
    assert!(!con
        .fx
        .iter()
        .any(|e| matches!(e, Effect::Services(ServicesEffect::Act { .. }))));
}

#[test]
fn stats_are_read_for_the_rows_on_screen_at_the_screens_pace() {
    let mut con = busy();
    con.keys("6");
    con.fx.clear();
    let stats = |con: &Console| {
        con.fx
            .iter()
            .filter_map(|e| match e {
                Effect::Services(ServicesEffect::Stats(rows)) => Some(rows.len()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    con.msg(Msg::Tick(t0() + Duration::seconds(1)));
    // Running containers on screen: web, celery, and the one with the odd name.
    assert_eq!(stats(&con), vec![3]);
    con.msg(Msg::Tick(t0() + Duration::seconds(6)));
    assert_eq!(stats(&con), vec![3], "not again within 10 s");
    con.msg(Msg::Tick(t0() + Duration::seconds(12)));
    assert_eq!(stats(&con), vec![3, 3]);
    // Another tab: nothing on screen, nothing read.
    con.keys("5");
    con.msg(Msg::Tick(t0() + Duration::seconds(30)));
    assert_eq!(stats(&con).len(), 2);
}
