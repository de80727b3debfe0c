//! Docker and Podman side by side on the Services tab and the Overview card, at 80x24 and
//! 160x48: each container under its engine, then Podman going away — shown down with the
//! reason and the age of its last data, its containers still listed — and back.

mod common;

use chrono::Duration;
use common::console::Console;
use common::{dump, t0};
use toban::config::theme::{load_theme, ColorSupport};
use toban::providers::HealthEvent;
use toban::services::model::{Container, ContainerHealth, ContainerState};
use toban::services::{ContainerUpdate, ServicesMsg, ServicesState};
use toban::state::Msg;

fn container(engine: &str, name: &str, service: &str) -> Container {
    Container {
        engine: engine.into(),
        id: format!("{engine}-{name}-0123456789abcdef"),
        name: name.into(),
        project: Some("backend".into()),
        service: Some(service.into()),
        image: format!("registry.example/{service}:1.4"),
        state: ContainerState::Running,
        health: ContainerHealth::Healthy,
        restart_count: 0,
        started_at: Some(t0() - Duration::hours(5)),
        finished_at: None,
        exit_code: None,
        oom_killed: false,
        ports: vec![],
        health_log: vec![],
    }
}

fn two_engines() -> Console {
    let mut con = Console::new(Vec::new());
    con.s.services =
        ServicesState::new(&Default::default(), vec!["docker".into(), "podman".into()]);
    con.s.now = t0();
    for e in ["docker", "podman"] {
        con.s.providers.register(
            toban::services::engine_provider(e),
            toban::providers::Health::live(),
        );
    }
    con.msg(Msg::Services(ServicesMsg::Containers(vec![
        ContainerUpdate::Snapshot {
            engine: "podman".into(),
            describe: "Podman 4.3.1 at unix:///run/podman/podman.sock".into(),
            containers: vec![
                container("podman", "backend-web-1", "web"),
                container("podman", "backend-db-1", "db"),
            ],
        },
        ContainerUpdate::Snapshot {
            engine: "docker".into(),
            describe: "Docker 27.3.1 at unix:///var/run/docker.sock".into(),
            containers: vec![container("docker", "mail-smtp-1", "smtp")],
        },
    ])));
    for e in ["docker", "podman"] {
        con.msg(Msg::Health(
            toban::services::engine_provider(e),
            HealthEvent::Ok { at: t0() },
        ));
    }
    con
}

fn snap(con: &Console, name: &str) {
    let (theme, _) = load_theme("default", None, ColorSupport::Ansi16);
    let theme = theme.unwrap();
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let buf = common::draw(&con.s, &theme, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), dump(&buf, false));
    }
}

#[test]
fn docker_and_podman_side_by_side_then_podman_down_and_back() {
    let mut con = two_engines();
    con.keys("6");
    snap(&con, "engines_side_by_side");
    let wide = con.screen(160, 48);
    assert!(
        wide.contains("podman/backend") && wide.contains("docker/backend"),
        "{wide}"
    );
    // Docker's rows first, then Podman's.
    assert!(
        wide.find("mail-smtp-1") < wide.find("backend-web-1"),
        "{wide}"
    );

    let id = toban::services::engine_provider("podman");
    con.msg(Msg::Tick(t0() + Duration::minutes(3)));
    con.msg(Msg::Health(
        id.clone(),
        HealthEvent::Failed {
            at: t0() + Duration::minutes(3),
            reason: "engine not reachable at unix:///run/podman/podman.sock: no socket there"
                .into(),
        },
    ));
    // Three minutes on, nothing new from it.
    con.msg(Msg::Tick(t0() + Duration::minutes(6)));
    snap(&con, "engines_podman_down");
    let text = con.screen(160, 48);
    assert!(
        text.contains("podman: down, data 3m old: engine not reachable at unix:///run/podman/podman.sock: no socket there"),
        "{text}"
    );
    let narrow = con.screen(80, 24);
    assert!(
        narrow.contains("podman: down, data 3m old: engine not reachable"),
        "{narrow}"
    );
    // The last data stays.
    assert!(text.contains("backend-db-1"), "{text}");
    con.keys("1");
    let card = con.screen(160, 48);
    assert!(card.contains("podman: down"), "{card}");

    con.msg(Msg::Health(
        id,
        HealthEvent::Ok {
            at: t0() + Duration::minutes(4),
        },
    ));
    assert!(con.s.services.engines_down.is_empty());
    assert!(!con.screen(160, 48).contains("podman: down"));
}
