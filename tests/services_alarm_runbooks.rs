//! A container's alarm leads to its runbook, by keys: unhealthy (or exited, or in a restart
//! loop) → `restart-container` with the container's name filled in; the database container
//! → `restore-postgres`. The shipped `restart-container` then restarts a real Docker
//! container after its confirmation and waits until it runs again.

mod common;
#[path = "runbook_common.rs"]
mod rb;
mod support;

use chrono::Duration;
use common::console::Console;
use toban::runbook::engine::{Event, RunOptions, RunStatus};
use toban::services::model::{Container, ContainerHealth, ContainerState};
use toban::services::{ContainerUpdate, ServicesMsg};
use toban::state::Msg;

fn container(name: &str, service: &str, image: &str) -> Container {
    Container {
        engine: "local".into(),
        id: format!("{name}-0123456789abcdef"),
        name: name.into(),
        project: Some("backend".into()),
        service: Some(service.into()),
        image: image.into(),
        state: ContainerState::Running,
        health: ContainerHealth::Healthy,
        restart_count: 0,
        started_at: None,
        finished_at: None,
        exit_code: None,
        oom_killed: false,
        ports: vec![],
        health_log: vec![],
    }
}

fn form_of(c: &Console) -> &toban::runbook::wizard::form::ParamForm {
    c.s.form
        .as_ref()
        .unwrap_or_else(|| panic!("no form; notice {:?}\n{}", c.s.notice, c.screen(80, 24)))
}

#[test]
fn an_unhealthy_container_leads_to_restart_container_with_its_name() {
    let mut c = Console::shipped();
    let now = c.s.now;
    let mut web = container("backend-web-1", "web", "registry.example/web:1.4");
    web.health = ContainerHealth::Unhealthy;
    c.msg(Msg::Services(ServicesMsg::Containers(vec![
        ContainerUpdate::Snapshot {
            engine: "local".into(),
            describe: "Docker 27 at unix:///var/run/docker.sock".into(),
            containers: vec![web],
        },
    ])));
    c.msg(Msg::Tick(now + Duration::seconds(1)));
    assert!(c
        .s
        .alarms
        .active
        .contains_key("services.unhealthy:local/backend-web-1"));
    c.keys("2 r");
    // Every parameter given: straight to the wizard, which asks before restarting.
    let w =
        c.s.wizard
            .as_ref()
            .unwrap_or_else(|| panic!("{}", c.screen(80, 24)));
    assert_eq!(w.engine.spec.name, "restart-container");
    assert_eq!(
        w.engine.state.params.get("container").map(String::as_str),
        Some("backend-web-1")
    );
    assert_eq!(
        w.engine.state.params.get("engine").map(String::as_str),
        Some("local")
    );
    let screen = c.screen(80, 24);
    assert!(screen.contains("Restart the container?"), "{screen}");
    assert!(
        screen.contains("backend-web-1 on engine local stops and starts again"),
        "{screen}"
    );
}

#[test]
fn the_database_container_exiting_leads_to_restore_postgres() {
    let mut c = Console::shipped();
    let now = c.s.now;
    let mut db = container("backend-db-1", "db", "postgres:16");
    db.state = ContainerState::Exited;
    db.health = ContainerHealth::None;
    db.exit_code = Some(1);
    c.msg(Msg::Services(ServicesMsg::Containers(vec![
        ContainerUpdate::Snapshot {
            engine: "local".into(),
            describe: "Docker 27".into(),
            containers: vec![db],
        },
    ])));
    c.msg(Msg::Tick(now + Duration::seconds(1)));
    assert!(c
        .s
        .alarms
        .active
        .contains_key("services.exited:local/backend-db-1"));
    c.keys("2 r");
    assert_eq!(form_of(&c).runbook, "restore-postgres");
}

#[tokio::test]
async fn restart_container_restarts_a_real_container_after_its_confirmation() {
    let Some(_engine) = support::engine::engine_or_skip().await else {
        return;
    };
    let img = support::engine::TestImage::build().unwrap();
    let target = support::engine::TestContainer::run(
        &img,
        &[],
        &[
            "sh",
            "-c",
            "trap 'exit 0' TERM; while true; do sleep 1; done",
        ],
    )
    .unwrap();
    let started = |name: &str| {
        support::engine::docker_cli(&["inspect", "-f", "{{.State.StartedAt}}", name]).unwrap()
    };
    let before = started(&target.name);
    let t = rb::sqlite_env().await;
    let spec = rb::shipped("restart-container");
    // Refused: no restart without the confirmation.
    let mut e = rb::engine(&spec, &[("container", &target.name)], RunOptions::default());
    let d = rb::drive(&t.env, &mut e, vec![Event::Confirm(false)], true).await;
    assert!(d.executed.is_empty(), "{:?}", d.executed);
    assert_eq!(started(&target.name), before);
    let mut e = rb::engine(&spec, &[("container", &target.name)], RunOptions::default());
    let d = rb::drive(&t.env, &mut e, vec![Event::Confirm(true)], true).await;
    assert_eq!(d.status, Some(RunStatus::Succeeded), "{:#?}", e.state);
    assert_eq!(d.executed, ["restart", "healthy"]);
    assert_ne!(started(&target.name), before, "restarted");
    // A name that is not one is refused by the parameter's pattern.
    let param = spec.params.iter().find(|p| p.name == "container").unwrap();
    assert!(param.validate("x; rm -rf /").is_err());
    assert!(param.validate("--privileged").is_err());
    assert!(param.validate("backend-web-1").is_ok());
}
