//! Podman beside Docker, both real: `podman system service` started by the test on its own
//! socket (support::podman), an image imported there from the static busybox. The cases
//! every engine passes (`tests/services_cases`) run here on Podman; then Podman's own: a
//! container listed under the `podman` engine next to Docker's in the Services tab, shown
//! in `toban services --json` under its engine; the service killed mid-run is the engine
//! down with its reason (keys still answered) and, started again, is recovered without a
//! restart of toban.

#[path = "services_cases/mod.rs"]
mod cases;
mod common;
#[path = "runbook_common.rs"]
mod rb;
mod support;

use support::engine::{docker_cli, engine_or_skip, TestImage};
use support::podman::{Podman, PodmanImage};
use toban::state::{Msg, State};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use common::services::{console, engine_down, engine_fresh, listed, quick, until, IDLE};

fn watch(
    engines: &[(&str, Option<toban::providers::docker::Endpoint>)],
    tx: &mpsc::Sender<Msg>,
    cancel: &CancellationToken,
) -> toban::services::effects::Handles {
    common::services::watch(engines, quick(), tx, cancel)
}

/// Podman as the cases' engine `podman`, with the image imported there; None when Podman
/// is not installed (a failure under CI).
async fn podman() -> Option<(cases::Under, Podman, PodmanImage)> {
    let podman = Podman::start_or_skip().await?;
    let img = podman.image().unwrap();
    Some((
        cases::Under {
            engine: "podman",
            endpoint: Some(podman.endpoint()),
            cli: cases::Cli::Podman {
                conf: podman.conf_path(),
            },
            image: img.tag.clone(),
            run_probes: true,
        },
        podman,
        img,
    ))
}

#[tokio::test]
async fn podman_healthy_then_unhealthy_raises_the_alarm() {
    if let Some((u, _podman, _img)) = podman().await {
        cases::healthy_then_unhealthy_raises_the_alarm(&u).await;
    }
}

#[tokio::test]
async fn podman_dying_in_a_loop_raises_the_restart_loop_alarm() {
    if let Some((u, _podman, _img)) = podman().await {
        cases::dying_in_a_loop_raises_the_restart_loop_alarm(&u).await;
    }
}

#[tokio::test]
async fn podman_a_loop_that_began_before_toban_looked_is_seen_at_once() {
    if let Some((u, _podman, _img)) = podman().await {
        cases::a_loop_that_began_before_toban_looked_is_seen_at_once(&u).await;
    }
}

#[tokio::test]
async fn podman_restart_by_keys_is_confirmed_audited_and_seen_in_its_events() {
    if let Some((u, _podman, _img)) = podman().await {
        cases::a_restart_by_keys_is_confirmed_audited_and_seen_in_the_events(&u).await;
    }
}

#[tokio::test]
async fn an_exited_podman_containers_alarm_runs_restart_container_on_podman() {
    if let Some((u, _podman, _img)) = podman().await {
        cases::its_alarm_opens_restart_container_which_restarts_it_on_that_engine(&u).await;
    }
}

#[tokio::test]
async fn a_podman_container_is_listed_beside_dockers() {
    let Some(podman) = Podman::start_or_skip().await else {
        return;
    };
    let Some(_docker) = engine_or_skip().await else {
        return;
    };
    let pimg = podman.image().unwrap();
    let pm = podman.run(&pimg, &[], IDLE).unwrap();
    let dimg = TestImage::build().unwrap();
    let dname = format!("toban-test-dk-{:012x}", rand::random::<u64>() >> 16);
    docker_cli(&["run", "-d", "--name", &dname, &dimg.tag, "sleep", "600"]).unwrap();
    struct Rm(String);
    impl Drop for Rm {
        fn drop(&mut self) {
            let _ = docker_cli(&["rm", "-f", &self.0]);
        }
    }
    let _dk = Rm(dname.clone());

    let (tx, mut rx) = mpsc::channel(256);
    let cancel = CancellationToken::new();
    let _handles = watch(
        &[("docker", None), ("podman", Some(podman.endpoint()))],
        &tx,
        &cancel,
    );
    let mut con = console(&["docker", "podman"]);
    let (p, d) = (pm.name.clone(), dname.clone());
    until(&mut rx, &mut con, "both containers listed", |s| {
        listed(s, "podman", &p) && listed(s, "docker", &d)
    })
    .await;
    // Side by side: each under its own engine, and the tab names both engines.
    assert!(!listed(&con.s, "docker", &p) && !listed(&con.s, "podman", &d));
    con.keys("6");
    let screen = con.screen(160, 48);
    assert!(screen.contains("podman: Podman"), "{screen}");
    assert!(screen.contains("docker: Docker"), "{screen}");
    assert!(screen.contains(&p) && screen.contains(&d), "{screen}");

    // Filtered by the engine's name, only Podman's containers remain.
    con.keys("/");
    con.type_text("podman");
    con.keys("<Enter>");
    let screen = con.screen(160, 48);
    assert!(screen.contains(&p) && !screen.contains(&d), "{screen}");
    cancel.cancel();
}

#[tokio::test]
async fn toban_services_json_lists_the_podman_container_under_its_engine() {
    let Some(podman) = Podman::start_or_skip().await else {
        return;
    };
    let img = podman.image().unwrap();
    let pm = podman.run(&img, &[], IDLE).unwrap();
    let (v, code) = support::toban_services_json(&format!(
        "[[services.engine]]\nname = \"podman\"\nhost = \"unix://{}\"\n",
        podman.socket.display()
    ));
    let text = v.to_string();
    let c = support::report_container(&v, &pm.name);
    assert_eq!(c["engine"], "podman");
    assert_eq!(c["state"], "running");
    // Not an unknown (3): the engine answered.
    assert!(matches!(code, Some(0..=2)), "{text}");
}

#[tokio::test]
async fn podman_stopped_mid_run_is_down_with_its_reason_and_recovered_by_itself() {
    let Some(mut podman) = Podman::start_or_skip().await else {
        return;
    };
    let img = podman.image().unwrap();
    let pm = podman.run(&img, &[], IDLE).unwrap();
    let name = pm.name.clone();
    let (tx, mut rx) = mpsc::channel(256);
    let cancel = CancellationToken::new();
    let _handles = watch(&[("podman", Some(podman.endpoint()))], &tx, &cancel);
    let mut con = console(&["podman"]);
    con.s.screen = (80, 24);
    let fresh = |s: &State| engine_fresh(s, "podman");
    let down = |s: &State| engine_down(s, "podman");
    until(&mut rx, &mut con, "listed", |s| listed(s, "podman", &name)).await;
    // The container outlives the service (conmon keeps it); only the engine goes away.
    podman.stop_service();
    until(&mut rx, &mut con, "the engine down", down).await;
    con.keys("6");
    assert_eq!(con.s.tab, toban::tab::Tab::Services);
    let screen = con.screen(80, 24);
    assert!(screen.contains("podman: down"), "{screen}");
    // The last data stays on screen while it is down.
    assert!(screen.contains(&name[..16]), "{screen}");
    con.keys("o");
    assert_eq!(con.s.services.sort.word(), "state");
    podman.start_service().await.unwrap();
    until(&mut rx, &mut con, "reconnected", fresh).await;
    until(&mut rx, &mut con, "listed again", |s| {
        listed(s, "podman", &name) && s.services.engines_down.is_empty()
    })
    .await;
    drop(pm);
    cancel.cancel();
}
